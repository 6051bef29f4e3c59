/*
 * error.c — mc_strerror's table and the thread-local detail of mc_errmsg.
 */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

static _Thread_local char last_detail[1024];

const char *mc_strerror(int code)
{
    switch (code) {
    case MC_OK: return "success";
    case MC_EINVAL: return "invalid argument";
    case MC_ENOMEM: return "out of memory";
    case MC_ECLOSED: return "closed (a shut-down pool or a closed channel)";
    case MC_ETIMEDOUT: return "timed out";
    case MC_ECANCELLED: return "task was cancelled";
    case MC_EPYTHON: return "task raised a Python exception";
    case MC_ENOTFOUND: return "callable or key not found";
    case MC_ESYNTAX: return "source code does not compile";
    case MC_EENCODE: return "value cannot be encoded in the wire format";
    case MC_EWIRE: return "malformed wire message";
    case MC_ETYPE: return "value has another type";
    case MC_ERANGE: return "index or number out of range";
    case MC_EBUSY: return "object is busy";
    case MC_EPENDING: return "task has not finished";
    case MC_ESTART: return "Python or a worker could not start";
    case MC_ESYSTEM: return "operating-system call failed";
    default: return "unknown error code";
    }
}

const char *mc_errmsg(void)
{
    return last_detail;
}

static int set_detail(int code, const char *fmt, va_list ap)
{
    vsnprintf(last_detail, sizeof last_detail, fmt, ap);
    return code;
}

int mc_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = set_detail(code, fmt, ap);
    va_end(ap);
    return code;
}

void mc_clear_error(void)
{
    last_detail[0] = '\0';
}

/* The public face of mc_fail, for host functions (see manycore.h). */
int mc_host_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    code = set_detail(code, fmt, ap);
    va_end(ap);
    return code;
}
