/*
 * api.c — the public pool functions of manycore.h: check arguments, encode,
 * delegate to the core pool and the Python engine.
 */
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "error.h"
#include "pool.h"
#include "value.h"

const char *mc_version(void)
{
    return MC_VERSION_STRING;
}

static void free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static char **copy_strv(const char *const *v, int *ok)
{
    *ok = 1;
    if (!v)
        return NULL;
    size_t n = 0;
    while (v[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    if (!out) {
        *ok = 0;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(out[i] = strdup(v[i]))) {
            free_strv(out);
            *ok = 0;
            return NULL;
        }
    }
    return out;
}

int mc_pool_open(const mc_pool_options *options, mc_pool **out)
{
    mc_clear_error();
    static const mc_pool_options defaults = {0};
    if (!out)
        return mc_fail(MC_EINVAL, "mc_pool_open: out is NULL");
    if (!options)
        options = &defaults;
    if (options->workers < 0 || options->workers > 4096)
        return mc_fail(MC_EINVAL, "mc_pool_open: workers must be 0 (one per CPU) to 4096, not %d",
                       options->workers);
    int workers = options->workers ? options->workers : mc_cpu_count();

    mc_py_engine_config *cfg = calloc(1, sizeof *cfg);
    int ok = cfg != NULL;
    if (ok && options->init_source && !(cfg->init_source = strdup(options->init_source)))
        ok = 0;
    if (ok)
        cfg->sys_path = copy_strv(options->sys_path, &ok);
    if (!ok) {
        mc_py_engine_config_free(cfg);
        return mc_fail(MC_ENOMEM, "out of memory copying pool options");
    }
    int rc = mc_runtime_acquire();
    if (rc != MC_OK) {
        mc_py_engine_config_free(cfg);
        return rc;
    }
    return mc_py_pool_create(cfg, workers, out);
}

/* "pkg.module:Qual.name": dotted identifiers on both sides of one colon. */
static int valid_dotted(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    int at_start = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (at_start)
                return 0;
            at_start = 1;
        } else if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ||
                   (!at_start && c >= '0' && c <= '9')) {
            at_start = 0;
        } else {
            return 0;
        }
    }
    return !at_start;
}

static int check_callable_name(const char *name)
{
    if (!name)
        return mc_fail(MC_EINVAL, "callable name is NULL");
    const char *colon = strchr(name, ':');
    if (!colon)
        return mc_fail(MC_EINVAL, "callable name '%.200s' has no ':' (write 'module:qualname', "
                                  "e.g. 'math:factorial')", name);
    if (!valid_dotted(name, (size_t)(colon - name)) || !valid_dotted(colon + 1, strlen(colon + 1)))
        return mc_fail(MC_EINVAL, "callable name '%.200s' is not 'module:qualname' (dotted Python "
                                  "identifiers around one ':', e.g. 'pkg.mod:Class.method')", name);
    return MC_OK;
}

int mc_pool_submit_encoded(mc_pool *pool, int kind, const char *target, mc_msg *args, mc_msg *kwargs,
                           long timeout_ms, mc_future **out)
{
    mc_msg none = {0};
    if (!args)
        args = &none;
    if (!kwargs)
        kwargs = &none;
    int rc = MC_OK;
    if (!mc_pool_valid(pool))
        rc = mc_fail(MC_EINVAL, "not a pool (NULL or freed handle)");
    else if (!out)
        rc = mc_fail(MC_EINVAL, "the future out-pointer is NULL");
    else if (kind == MC_TASK_CALL)
        rc = check_callable_name(target);
    else if (!target)
        rc = mc_fail(MC_EINVAL, "source is NULL");
    mc_task *task = NULL;
    mc_future *fut = NULL;
    if (rc == MC_OK && (!(task = calloc(1, sizeof *task)) || !(task->target = strdup(target)) ||
                        mc_future_create(&fut) != MC_OK))
        rc = mc_fail(MC_ENOMEM, "out of memory queueing a task");
    if (rc != MC_OK) {
        if (task)
            free(task->target);
        free(task);
        mc_msg_clear(args);
        mc_msg_clear(kwargs);
        return rc;
    }
    task->kind = (mc_task_kind)kind;
    task->timeout_ms = timeout_ms;
    task->future = fut;
    task->args = *args;
    task->kwargs = *kwargs;
    memset(args, 0, sizeof *args);
    memset(kwargs, 0, sizeof *kwargs);
    rc = mc_pool_enqueue(pool, task); /* frees the task (and its future ref) on failure */
    if (rc != MC_OK) {
        mc_future_release(fut);
        return rc;
    }
    *out = fut;
    return MC_OK;
}

int mc_pool_submit_call(mc_pool *pool, const char *callable, const mc_value *args,
                        const mc_value *kwargs, mc_future **out)
{
    return mc_pool_submit_call_ex(pool, callable, args, kwargs, NULL, out);
}

int mc_pool_submit_call_ex(mc_pool *pool, const char *callable, const mc_value *args,
                           const mc_value *kwargs, const mc_call_options *options, mc_future **out)
{
    mc_clear_error();
    long timeout_ms = options ? options->timeout_ms : 0;
    if (timeout_ms < 0)
        return mc_fail(MC_EINVAL, "timeout_ms must be >= 0 (0: none), not %ld", timeout_ms);
    if (!mc_pool_valid(pool))
        return mc_fail(MC_EINVAL, "mc_pool_submit_call: not a pool (NULL or freed handle)");
    if (args && mc_value_type(args) != MC_TYPE_TUPLE && mc_value_type(args) != MC_TYPE_LIST)
        return mc_fail(MC_EINVAL, "args must be a tuple or list value, not %s",
                       mc_type_name(mc_value_type(args)));
    if (kwargs && mc_value_type(kwargs) != MC_TYPE_DICT)
        return mc_fail(MC_EINVAL, "kwargs must be a dict value, not %s",
                       mc_type_name(mc_value_type(kwargs)));
    int rc = check_callable_name(callable);
    if (rc != MC_OK)
        return rc;
    if (!mc_pool_workers(pool))
        return mc_fail(MC_ECLOSED, "the pool is shut down: it takes no more tasks");
    mc_msg a = {0}, k = {0};
    if (args && (rc = mc_value_to_msg(args, &a)) != MC_OK)
        return rc;
    if (kwargs && (rc = mc_value_to_msg(kwargs, &k)) != MC_OK) {
        mc_msg_clear(&a);
        return rc;
    }
    return mc_pool_submit_encoded(pool, MC_TASK_CALL, callable, &a, &k, timeout_ms, out);
}

int mc_pool_submit_exec(mc_pool *pool, const char *source, mc_future **out)
{
    mc_clear_error();
    return mc_pool_submit_encoded(pool, MC_TASK_EXEC, source, NULL, NULL, 0, out);
}
