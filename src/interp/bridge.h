/*
 * bridge.h — what the interpreter bridge's files share.
 *
 * Everything under src/interp includes Python.h; nothing under src/core does.
 * Layers never reach upward: the bridge calls the core, never the reverse
 * (the core calls the bridge only through the mc_engine it is given).
 */
#ifndef MC_BRIDGE_H
#define MC_BRIDGE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "manycore.h"
#include "wire.h"

/* Per-interpreter state of the _manycore module (one per interpreter, so no
 * PyObject here is ever seen by another interpreter). */
typedef struct mc_module_state {
    PyObject *pickle_dumps;       /* pickle.dumps, imported on first use */
    PyObject *pickle_loads;
    PyObject *format_exception;   /* traceback.format_exception */
    PyTypeObject *pool_type;      /* _manycore.Pool (low-level) */
    PyTypeObject *future_type;    /* _manycore.Future (low-level) */
    PyObject *remote_error;       /* _manycore.RemoteError */
    int worker_id;                /* index of this interpreter's worker, -1 if none */
    mc_pool *pool;                /* the pool of this worker, NULL if none */
    PyTypeObject *array_type;     /* _manycore.SharedArray */
    PyTypeObject *channel_type;   /* _manycore.Channel */
    PyTypeObject *host_function_type;
    PyObject *host_error;         /* _manycore.HostError */
    PyObject *channel_closed;     /* _manycore.ChannelClosed */
    PyObject *live_pools;         /* weakref.WeakSet of open Pools, shut at exit */
} mc_module_state;

/* ---- module.c ---- */
extern PyModuleDef mc_module_def;
/* Creates and executes a _manycore module for the current interpreter and
 * puts it in sys.modules (workers: there is no importable file for it).
 * Returns a new reference or NULL with an exception set. */
PyObject *mc_module_install(void);
mc_module_state *mc_module_get_state(PyObject *module);
/* The module state of a type's defining module (its own interpreter's). */
static inline mc_module_state *mc_state_of_type(PyTypeObject *tp)
{
    return PyType_GetModuleState(tp);
}

/* ---- future_type.c: waiting from Python ---- */
/* A blocking core wait, e.g. mc_future_wait or a channel receive. */
typedef int (*mc_py_wait_fn)(void *ctx, long timeout_ms);
#define MC_PY_SIGNALLED (-1000) /* a signal handler raised: exception set */
/* Runs fn with the GIL released in slices of at most 100 ms, running the
 * interpreter's signal handlers between them, so Ctrl-C stops a wait on a
 * task or a channel instead of waiting for it. Returns fn's code, or
 * MC_PY_SIGNALLED with the handler's exception set. */
int mc_py_wait(mc_py_wait_fn fn, void *ctx, long timeout_ms);

/* ---- future_type.c, pool_type.c: the low-level Future and Pool ---- */
extern PyType_Spec mc_future_spec, mc_pool_spec;
struct mc_future;
/* A new _manycore.Future owning the caller's reference to fut (freed on failure). */
PyObject *mc_py_future_new(mc_module_state *st, struct mc_future *fut);
/* None -> -1 (for ever), else seconds >= 0; -1 with ValueError otherwise. */
int mc_py_parse_timeout(PyObject *arg, double *out);
/* _manycore._shutdown_all(): shuts down every Pool still open (at exit). */
PyObject *mc_py_shutdown_all(PyObject *module, PyObject *unused);

/* ---- shared_types.c, channel_type.c: shared objects seen from Python ---- */
extern PyType_Spec mc_array_spec, mc_shared_map_spec, mc_host_function_spec, mc_host_namespace_spec,
    mc_channel_spec;
/* _manycore.select(channels, timeout=None) */
PyObject *mc_py_select(PyObject *module, PyObject *args, PyObject *kw);
struct mc_shared;
/* This interpreter's new wrapper for obj (a SharedArray or a Channel). */
PyObject *mc_py_wrap_shared(mc_module_state *st, struct mc_shared *obj);
/* The shared object a wrapper holds (borrowed), or NULL if o is none. */
struct mc_shared *mc_py_shared_of(mc_module_state *st, PyObject *o);
int mc_py_shared_traverse(PyObject *self, visitproc visit, void *arg);
void mc_py_shared_dealloc(PyObject *self);

/* ---- convert.c: Python objects <-> wire messages ---- */
/* Appends a whole message (version byte and value). -1 with an exception
 * set on failure. */
int mc_py_encode(mc_module_state *st, PyObject *obj, mc_buf *out);
/* Decodes a whole message (handles become this interpreter's wrappers);
 * NULL with an exception (ValueError for malformed bytes, with the detail). */
PyObject *mc_py_decode(mc_module_state *st, const mc_msg *msg);
/* Encodes obj as a whole message; -1 with an exception set. */
int mc_py_encode_msg(mc_module_state *st, PyObject *obj, mc_msg *out);

/* ---- runtime.c: the process's Python ---- */
/* Makes sure Python runs and is ready for workers (starting it if nobody
 * has), and counts one more open pool. 0, or MC_ESTART/MC_ECLOSED with the
 * detail set. */
int mc_runtime_acquire(void);
/* The sys.path the main interpreter got from site when manycore started
 * Python (workers skip site and append what they lack of it); NULL when the
 * host started Python. NULL-terminated; lives until mc_shutdown. */
const char *const *mc_runtime_site_path(void);
/* Counts one pool fewer. */
void mc_runtime_release(void);

/* ---- worker.c: the blocking hooks the core runs around its waits (a
 * thread holding a GIL releases it meanwhile; see src/core/blocking.h) ---- */
void *mc_py_block_begin(void);
void mc_py_block_end(void *token);

/* ---- worker.c: the engine that gives each worker a subinterpreter ---- */
typedef struct mc_py_engine_config {
    char *init_source;
    char **sys_path;   /* NULL-terminated */
} mc_py_engine_config;
/* Frees a config that never became a pool's (no runtime reference). */
void mc_py_engine_config_free(mc_py_engine_config *cfg);
/* Creates the pool's core with the Python engine. Takes ownership of cfg;
 * freeing cfg (with the pool, or on failure) releases the runtime reference
 * the caller took with mc_runtime_acquire. */
int mc_py_pool_create(mc_py_engine_config *cfg, int workers, mc_pool **out);

/* ---- api.c ---- */
/* Queues a task whose arguments are already wire messages (either may be
 * NULL); takes the messages' contents in every case (they are left empty). */
int mc_pool_submit_encoded(mc_pool *pool, int kind, const char *target, mc_msg *args, mc_msg *kwargs,
                           long timeout_ms, mc_future **out);

/* Fills an outcome from the exception being raised (clearing it). */
struct mc_outcome;
void mc_py_outcome_from_exception(mc_module_state *st, int code, struct mc_outcome *out);

/* Builds "module.qualname" of an exception type ("ValueError" for builtins). */
char *mc_py_type_name(PyTypeObject *tp);

#endif /* MC_BRIDGE_H */
