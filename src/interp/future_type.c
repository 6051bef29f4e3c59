/*
 * future_type.c — _manycore.Future: a task's outcome seen from Python.
 *
 * result() waits on the C future with the caller's GIL released, then
 * decodes the result into this interpreter, or raises the worker's
 * exception rebuilt here (its pickle, else RemoteError) with the worker's
 * traceback attached as a note. _notify() posts a token to a channel when
 * the task ends, from the ending thread, without any GIL.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "channel.h"
#include "error.h"
#include "future.h"
#include "shared.h"
#include "value.h"

typedef struct {
    PyObject_HEAD
    mc_future *fut;
} FutureObject;

PyObject *mc_py_future_new(mc_module_state *st, mc_future *fut)
{
    FutureObject *self = PyObject_GC_New(FutureObject, st->future_type);
    if (!self) {
        mc_future_free(fut);
        return NULL;
    }
    self->fut = fut;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static int future_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void future_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    mc_future_free(((FutureObject *)self)->fut);
    PyObject_GC_Del(self);
    Py_DECREF(tp);
}

#define MC_PY_WAIT_SLICE_MS 100

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mc_py_wait(mc_py_wait_fn fn, void *ctx, long timeout_ms)
{
    long long deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
    for (;;) {
        long slice = MC_PY_WAIT_SLICE_MS;
        if (deadline >= 0) {
            long long left = deadline - monotonic_ms();
            slice = left < 0 ? 0 : left < slice ? (long)left : slice;
        }
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = fn(ctx, slice);
        Py_END_ALLOW_THREADS
        if (rc != MC_ETIMEDOUT || (deadline >= 0 && monotonic_ms() >= deadline))
            return rc;
        if (PyErr_CheckSignals() < 0)
            return MC_PY_SIGNALLED;
    }
}

static int wait_future(void *fut, long timeout_ms)
{
    return mc_future_wait(fut, timeout_ms);
}

static int wait_released(mc_future *fut, double timeout)
{
    return mc_py_wait(wait_future, fut, timeout < 0 ? -1 : (long)(timeout * 1000.0 + 0.5));
}

int mc_py_parse_timeout(PyObject *arg, double *out)
{
    if (arg == NULL || arg == Py_None) {
        *out = -1.0;
        return 0;
    }
    *out = PyFloat_AsDouble(arg);
    if (*out == -1.0 && PyErr_Occurred())
        return -1;
    if (*out < 0) {
        PyErr_SetString(PyExc_ValueError, "timeout must be None or >= 0");
        return -1;
    }
    return 0;
}

static PyObject *raise_cf(const char *name, const char *msg)
{
    PyObject *mod = PyImport_ImportModule("concurrent.futures");
    PyObject *cls = mod ? PyObject_GetAttrString(mod, name) : NULL;
    Py_XDECREF(mod);
    if (cls) {
        PyErr_SetString(cls, msg);
        Py_DECREF(cls);
    }
    return NULL;
}

/* Raises the task's exception in this interpreter: the worker's exception
 * rebuilt from its pickle when that works, else RemoteError; either way
 * with the worker's formatted traceback attached as a note. */
static PyObject *raise_remote(mc_module_state *st, mc_future *fut)
{
    const mc_outcome *o = &fut->out;
    PyObject *exc = NULL;
    if (o->err_pickle.data) {
        exc = mc_py_decode(st, &o->err_pickle);
        if (exc && !PyExceptionInstance_Check(exc))
            Py_CLEAR(exc);
        PyErr_Clear();
    }
    if (!exc)
        exc = PyObject_CallFunction(st->remote_error, "sss", o->err_type ? o->err_type : "",
                                    o->err_message ? o->err_message : "",
                                    o->err_traceback ? o->err_traceback : "");
    if (!exc)
        return NULL;
    PyObject *note = PyUnicode_FromFormat("\nTraceback from manycore worker:\n%s",
                                          o->err_traceback ? o->err_traceback : "");
    if (note) {
        PyObject *r = PyObject_CallMethod(exc, "add_note", "O", note);
        Py_XDECREF(r);
        Py_DECREF(note);
    }
    PyErr_Clear();
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

static PyObject *future_result(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *t = NULL;
    double timeout;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:result", kwlist, &t) || mc_py_parse_timeout(t, &timeout) < 0)
        return NULL;
    mc_future *fut = ((FutureObject *)self)->fut;
    mc_module_state *st = mc_state_of_type(Py_TYPE(self));
    int rc = wait_released(fut, timeout);
    switch (rc) {
    case MC_PY_SIGNALLED:
        return NULL;
    case MC_OK:
        return mc_py_decode(st, &fut->out.result);
    case MC_ETIMEDOUT:
        return raise_cf("TimeoutError", "the task did not finish in time");
    case MC_ECANCELLED:
        return raise_cf("CancelledError", "the task was cancelled");
    case MC_EINVAL:
        PyErr_SetString(PyExc_RuntimeError, mc_errmsg());
        return NULL;
    default:
        return raise_remote(st, fut);
    }
}

static PyObject *future_wait(PyObject *self, PyObject *args)
{
    PyObject *t = NULL;
    double timeout;
    if (!PyArg_ParseTuple(args, "|O:wait", &t) || mc_py_parse_timeout(t, &timeout) < 0)
        return NULL;
    int rc = wait_released(((FutureObject *)self)->fut, timeout);
    if (rc == MC_PY_SIGNALLED)
        return NULL;
    return PyBool_FromLong(rc != MC_ETIMEDOUT);
}

static PyObject *future_done(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(mc_future_done(((FutureObject *)self)->fut));
}

static PyObject *future_running(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    mc_future *fut = ((FutureObject *)self)->fut;
    return PyBool_FromLong(atomic_load(&fut->state) == MC_FUTURE_RUNNING);
}

static PyObject *future_cancelled(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    mc_future *fut = ((FutureObject *)self)->fut;
    return PyBool_FromLong(mc_future_done(fut) && mc_future_wait(fut, 0) == MC_ECANCELLED);
}

static PyObject *future_cancel(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(mc_future_cancel(((FutureObject *)self)->fut) == MC_OK);
}

static PyObject *future_interrupt(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = mc_future_interrupt(((FutureObject *)self)->fut);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(rc == MC_OK);
}

/* The completion notice of _notify: sends token to a channel, on the thread
 * that ends the task (no GIL needed: the channel is C). */
typedef struct notice {
    mc_shared *channel;
    int64_t token;
} notice;

static void send_notice(mc_future *fut, void *ctx)
{
    (void)fut;
    notice *n = ctx;
    mc_value *v;
    mc_msg msg = {0};
    if (mc_value_new_int(n->token, &v) == MC_OK) {
        if (mc_value_to_msg(v, &msg) == MC_OK && mc_channel_send_msg(n->channel, &msg, -1) != MC_OK)
            mc_msg_clear(&msg);
        mc_value_free(v);
    }
    mc_shared_decref(n->channel);
    free(n);
}

static PyObject *future_notify(PyObject *self, PyObject *args)
{
    PyObject *ch;
    long long token;
    if (!PyArg_ParseTuple(args, "OL:_notify", &ch, &token))
        return NULL;
    mc_module_state *st = mc_state_of_type(Py_TYPE(self));
    mc_shared *obj = mc_py_shared_of(st, ch);
    if (!obj || mc_shared_get_kind(obj) != MC_SHARED_CHANNEL)
        return PyErr_Format(PyExc_TypeError, "_notify needs a Channel");
    notice *n = malloc(sizeof *n);
    if (!n)
        return PyErr_NoMemory();
    n->channel = mc_shared_incref(obj);
    n->token = token;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = mc_future_on_done(((FutureObject *)self)->fut, send_notice, n);
    Py_END_ALLOW_THREADS
    if (rc != MC_OK) {
        mc_shared_decref(n->channel);
        free(n);
        PyErr_SetString(PyExc_RuntimeError, "this future already notifies a channel");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef future_methods[] = {
    {"result", (PyCFunction)(void (*)(void))future_result, METH_VARARGS | METH_KEYWORDS,
     "result(timeout=None)\n--\n\nWait for the task; return its value or raise its exception."},
    {"wait", future_wait, METH_VARARGS, "wait(timeout=None)\n--\n\nWait; True if the task ended."},
    {"done", future_done, METH_NOARGS, "done()\n--\n\nTrue if the task has ended."},
    {"running", future_running, METH_NOARGS, "running()\n--\n\nTrue while a worker runs the task."},
    {"cancelled", future_cancelled, METH_NOARGS,
     "cancelled()\n--\n\nTrue if the task was cancelled before it started."},
    {"cancel", future_cancel, METH_NOARGS, "cancel()\n--\n\nCancel if not started; True if cancelled."},
    {"interrupt", future_interrupt, METH_NOARGS,
     "interrupt()\n--\n\nCancel if queued, else raise CancelledError inside the running task;\n"
     "False if it had already ended."},
    {"_notify", future_notify, METH_VARARGS,
     "_notify(channel, token)\n--\n\nSend token to channel when the task ends (once)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot future_slots[] = {
    {Py_tp_doc, "A task's pending outcome (low-level; see manycore.Pool)."},
    {Py_tp_dealloc, future_dealloc},
    {Py_tp_traverse, future_traverse},
    {Py_tp_methods, future_methods},
    {0, NULL},
};

PyType_Spec mc_future_spec = {
    .name = "_manycore.Future",
    .basicsize = sizeof(FutureObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = future_slots,
};
