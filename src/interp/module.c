/*
 * module.c — the _manycore extension module, one instance per interpreter.
 *
 * Multi-phase init, per-module state, heap types, and the declaration that
 * it supports a per-interpreter GIL: every interpreter — the main one of a
 * Python program and each worker — gets its own module object, its own state
 * and its own types, so no PyObject is shared.
 *
 * Inside a worker it tells the code where it runs (worker_id). In a Python
 * program it also offers the low-level Pool and Future types that the
 * manycore package and the benchmarks build on: arguments are encoded to wire
 * messages in the caller's interpreter and decoded in the worker's.
 */
#include <string.h>

#include "bridge.h"
#include "error.h"
#include "future.h"
#include "pool.h"
#include "channel.h"
#include "shared.h"
#include "value.h"

mc_module_state *mc_module_get_state(PyObject *module)
{
    return PyModule_GetState(module);
}

static mc_module_state *state_of_type(PyTypeObject *tp)
{
    return PyType_GetModuleState(tp);
}

/* ---- Future ------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    mc_future *fut;
} FutureObject;

static PyObject *future_new_from(mc_module_state *st, mc_future *fut)
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

static int wait_released(mc_future *fut, double timeout)
{
    int rc;
    long ms = timeout < 0 ? -1 : (long)(timeout * 1000.0 + 0.5);
    Py_BEGIN_ALLOW_THREADS
    rc = mc_future_wait(fut, ms);
    Py_END_ALLOW_THREADS
    return rc;
}

static int parse_timeout(PyObject *arg, double *out)
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
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:result", kwlist, &t) || parse_timeout(t, &timeout) < 0)
        return NULL;
    mc_future *fut = ((FutureObject *)self)->fut;
    mc_module_state *st = state_of_type(Py_TYPE(self));
    int rc = wait_released(fut, timeout);
    switch (rc) {
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
    if (!PyArg_ParseTuple(args, "|O:wait", &t) || parse_timeout(t, &timeout) < 0)
        return NULL;
    return PyBool_FromLong(wait_released(((FutureObject *)self)->fut, timeout) != MC_ETIMEDOUT);
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
    mc_module_state *st = state_of_type(Py_TYPE(self));
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

static PyType_Spec future_spec = {
    .name = "_manycore.Future",
    .basicsize = sizeof(FutureObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = future_slots,
};

/* ---- Pool -------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    mc_pool *pool;
} PoolObject;

static PyObject *raise_mc(int rc)
{
    PyObject *cls = rc == MC_ENOMEM ? PyExc_MemoryError
                    : rc == MC_EINVAL ? PyExc_ValueError
                                      : PyExc_RuntimeError;
    PyErr_Format(cls, "%s", mc_errmsg()[0] ? mc_errmsg() : mc_strerror(rc));
    return NULL;
}

static char **path_list(PyObject *seq)
{
    if (!seq || seq == Py_None)
        return NULL;
    PyObject *fast = PySequence_Fast(seq, "sys_path must be a sequence of str");
    if (!fast)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    char **out = calloc((size_t)n + 1, sizeof *out);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
        const char *s = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : NULL;
        if (!s) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "sys_path items must be str");
            for (Py_ssize_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            Py_DECREF(fast);
            return NULL;
        }
        out[i] = strdup(s);
    }
    Py_DECREF(fast);
    if (!out)
        PyErr_NoMemory();
    return out;
}

/* Pools still open when the interpreter exits are shut down by an atexit
 * callback: atexit runs before finalization, while later the workers'
 * threads would be stopped mid-way and the exit would hang. */
static int track_pool(PyTypeObject *type, PyObject *pool)
{
    mc_module_state *st = state_of_type(type);
    if (!st->live_pools) {
        PyObject *weakref = PyImport_ImportModule("weakref");
        PyObject *atexit = weakref ? PyImport_ImportModule("atexit") : NULL;
        PyObject *module = PyType_GetModule(type); /* borrowed */
        PyObject *hook = module && atexit ? PyObject_GetAttrString(module, "_shutdown_all") : NULL;
        PyObject *r = hook ? PyObject_CallMethod(atexit, "register", "O", hook) : NULL;
        st->live_pools = r ? PyObject_CallMethod(weakref, "WeakSet", NULL) : NULL;
        Py_XDECREF(r);
        Py_XDECREF(hook);
        Py_XDECREF(atexit);
        Py_XDECREF(weakref);
        if (!st->live_pools)
            return -1;
    }
    PyObject *r = PyObject_CallMethod(st->live_pools, "add", "O", pool);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

static PyObject *pool_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"workers", "init_source", "sys_path", NULL};
    int workers = 0;
    const char *init_source = NULL;
    PyObject *sys_path = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|izO:Pool", kwlist, &workers, &init_source, &sys_path))
        return NULL;
    char **paths = path_list(sys_path);
    if (!paths && PyErr_Occurred())
        return NULL;
    mc_pool_options opts = {.workers = workers, .init_source = init_source,
                            .sys_path = (const char *const *)paths};
    mc_pool *pool = NULL;
    int rc;
    /* Workers start without the caller's GIL: they never need it. */
    Py_BEGIN_ALLOW_THREADS
    rc = mc_pool_open(&opts, &pool);
    Py_END_ALLOW_THREADS
    if (paths) {
        for (char **p = paths; *p; p++)
            free(*p);
        free(paths);
    }
    if (rc != MC_OK)
        return raise_mc(rc);
    PoolObject *self = (PoolObject *)type->tp_alloc(type, 0);
    if (!self) {
        mc_pool_close(pool, MC_CLOSE_CANCEL);
        return NULL;
    }
    self->pool = pool;
    if (track_pool(type, (PyObject *)self) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int pool_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void pool_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    PyObject_ClearWeakRefs(self);
    mc_pool *pool = ((PoolObject *)self)->pool;
    if (pool) {
        Py_BEGIN_ALLOW_THREADS
        mc_pool_close(pool, MC_CLOSE_CANCEL);
        Py_END_ALLOW_THREADS
    }
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *pool_submit(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"callable", "args", "kwargs", "timeout", NULL};
    const char *name;
    PyObject *a = NULL, *k = NULL, *t = NULL;
    double timeout;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|OOO:submit", kwlist, &name, &a, &k, &t) ||
        parse_timeout(t, &timeout) < 0)
        return NULL;
    long timeout_ms = timeout < 0 ? 0 : (timeout * 1000.0 < 1.0 ? 1 : (long)(timeout * 1000.0 + 0.5));
    mc_module_state *st = state_of_type(Py_TYPE(self));
    mc_msg am = {0}, km = {0};
    if (a && a != Py_None && mc_py_encode_msg(st, a, &am) < 0)
        return NULL;
    if (k && k != Py_None && mc_py_encode_msg(st, k, &km) < 0) {
        mc_msg_clear(&am);
        return NULL;
    }
    mc_future *fut;
    int rc = mc_pool_submit_encoded(((PoolObject *)self)->pool, MC_TASK_CALL, name, &am, &km, timeout_ms, &fut);
    if (rc != MC_OK)
        return raise_mc(rc);
    return future_new_from(st, fut);
}

static PyObject *pool_exec(PyObject *self, PyObject *args)
{
    const char *source;
    if (!PyArg_ParseTuple(args, "s:exec", &source))
        return NULL;
    mc_future *fut;
    int rc = mc_pool_submit_exec(((PoolObject *)self)->pool, source, &fut);
    if (rc != MC_OK)
        return raise_mc(rc);
    return future_new_from(state_of_type(Py_TYPE(self)), fut);
}

static PyObject *pool_shutdown(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"cancel", NULL};
    int cancel = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|p:shutdown", kwlist, &cancel))
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = mc_pool_shutdown(((PoolObject *)self)->pool, cancel ? MC_CLOSE_CANCEL : MC_CLOSE_WAIT);
    Py_END_ALLOW_THREADS
    if (rc != MC_OK)
        return raise_mc(rc);
    Py_RETURN_NONE;
}

static PyObject *pool_publish(PyObject *self, PyObject *args)
{
    const char *name;
    PyObject *obj;
    if (!PyArg_ParseTuple(args, "sO:publish", &name, &obj))
        return NULL;
    mc_shared *shared = mc_py_shared_of(state_of_type(Py_TYPE(self)), obj);
    if (!shared)
        return PyErr_Format(PyExc_TypeError, "only a SharedArray or a Channel can be published, not %.100s",
                            Py_TYPE(obj)->tp_name);
    int rc = mc_pool_publish(((PoolObject *)self)->pool, name, shared);
    if (rc != MC_OK)
        return raise_mc(rc);
    Py_RETURN_NONE;
}

static PyObject *pool_get_workers(PyObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLong(mc_pool_workers(((PoolObject *)self)->pool));
}

static PyMethodDef pool_methods[] = {
    {"submit", (PyCFunction)(void (*)(void))pool_submit, METH_VARARGS | METH_KEYWORDS,
     "submit(callable, args=None, kwargs=None, timeout=None)\n--\n\n"
     "Queue a call of 'module:qualname'; return a Future. With a timeout (seconds),\n"
     "TimeoutError is raised inside the call once it has run that long."},
    {"exec", pool_exec, METH_VARARGS,
     "exec(source)\n--\n\nQueue source code for one worker's __main__; return a Future."},
    {"publish", pool_publish, METH_VARARGS,
     "publish(name, obj)\n--\n\nMake a SharedArray or Channel reachable as manycore.shared[name] in the workers."},
    {"shutdown", (PyCFunction)(void (*)(void))pool_shutdown, METH_VARARGS | METH_KEYWORDS,
     "shutdown(cancel=False)\n--\n\nStop the workers (running or cancelling queued tasks)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef pool_getset[] = {
    {"workers", pool_get_workers, NULL, "number of workers (0 once shut down)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot pool_slots[] = {
    {Py_tp_doc, "Pool(workers=0, init_source=None, sys_path=None)\n--\n\n"
                "A pool of worker threads, each with its own subinterpreter (low-level)."},
    {Py_tp_new, pool_new},
    {Py_tp_dealloc, pool_dealloc},
    {Py_tp_traverse, pool_traverse},
    {Py_tp_methods, pool_methods},
    {Py_tp_getset, pool_getset},
    {0, NULL},
};

static PyType_Spec pool_spec = {
    .name = "_manycore.Pool",
    .basicsize = sizeof(PoolObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_MANAGED_WEAKREF,
    .slots = pool_slots,
};

/* ---- module ------------------------------------------------------------ */

static PyObject *mod_worker_id(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    mc_module_state *st = mc_module_get_state(module);
    if (st->worker_id < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(st->worker_id);
}

static PyObject *mod_shutdown_all(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    mc_module_state *st = mc_module_get_state(module);
    PyObject *pools = st->live_pools ? PySequence_List(st->live_pools) : PyList_New(0);
    if (!pools)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(pools); i++) {
        mc_pool *pool = ((PoolObject *)PyList_GET_ITEM(pools, i))->pool;
        Py_BEGIN_ALLOW_THREADS
        mc_pool_shutdown(pool, MC_CLOSE_CANCEL);
        Py_END_ALLOW_THREADS
    }
    Py_DECREF(pools);
    Py_RETURN_NONE;
}

static PyObject *mod_cpu_count(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    return PyLong_FromLong(mc_cpu_count());
}

static PyMethodDef module_methods[] = {
    {"worker_id", mod_worker_id, METH_NOARGS,
     "worker_id()\n--\n\nIndex of the worker running this code, or None outside a worker."},
    {"cpu_count", mod_cpu_count, METH_NOARGS, "cpu_count()\n--\n\nNumber of online CPUs."},
    {"_shutdown_all", mod_shutdown_all, METH_NOARGS,
     "_shutdown_all()\n--\n\nShut down every pool still open (run at exit)."},
    {"select", (PyCFunction)(void (*)(void))mc_py_select, METH_VARARGS | METH_KEYWORDS,
     "select(channels, timeout=None)\n--\n\n"
     "Receive from whichever channel has a message first; return (channel, obj).\n"
     "Raises ChannelClosed when every channel is closed and drained, TimeoutError on timeout."},
    {NULL, NULL, 0, NULL},
};

/* Creates a heap type from spec into *slot and adds it to the module
 * (under `name`, or its own name when name is NULL). */
static int add_type(PyObject *m, PyType_Spec *spec, PyTypeObject **slot)
{
    *slot = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL);
    return *slot && PyModule_AddType(m, *slot) == 0 ? 0 : -1;
}

/* An instance of a namespace type (shared, host), added as module attribute. */
static int add_instance(PyObject *m, PyType_Spec *spec, const char *attr)
{
    PyTypeObject *tp = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL);
    if (!tp)
        return -1;
    PyObject *obj = (PyObject *)PyObject_GC_New(PyObject, tp);
    Py_DECREF(tp);
    if (!obj)
        return -1;
    PyObject_GC_Track(obj);
    int rc = PyModule_AddObjectRef(m, attr, obj);
    Py_DECREF(obj);
    return rc;
}

static int module_exec(PyObject *m)
{
    mc_module_state *st = mc_module_get_state(m);
    st->worker_id = -1;
    st->future_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &future_spec, NULL);
    if (!st->future_type || PyModule_AddType(m, st->future_type) < 0)
        return -1;
    st->pool_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &pool_spec, NULL);
    if (!st->pool_type || PyModule_AddType(m, st->pool_type) < 0)
        return -1;
    st->remote_error = PyErr_NewExceptionWithDoc(
        "_manycore.RemoteError",
        "An exception raised in a worker whose type could not be rebuilt here.\n"
        "args: (type name, message, formatted traceback).",
        PyExc_Exception, NULL);
    if (!st->remote_error || PyModule_AddObjectRef(m, "RemoteError", st->remote_error) < 0)
        return -1;
    if (add_type(m, &mc_array_spec, &st->array_type) < 0 || add_type(m, &mc_channel_spec, &st->channel_type) < 0 ||
        add_type(m, &mc_host_function_spec, &st->host_function_type) < 0)
        return -1;
    if (add_instance(m, &mc_shared_map_spec, "shared") < 0 || add_instance(m, &mc_host_namespace_spec, "host") < 0)
        return -1;
    st->host_error = PyErr_NewExceptionWithDoc("_manycore.HostError",
                                               "A host function reported a failure; the message is the host's.",
                                               PyExc_RuntimeError, NULL);
    if (!st->host_error || PyModule_AddObjectRef(m, "HostError", st->host_error) < 0)
        return -1;
    st->channel_closed = PyErr_NewExceptionWithDoc("_manycore.ChannelClosed",
                                                   "The channel is closed (and, for receivers, drained).",
                                                   PyExc_Exception, NULL);
    if (!st->channel_closed || PyModule_AddObjectRef(m, "ChannelClosed", st->channel_closed) < 0)
        return -1;
    if (PyModule_AddStringConstant(m, "__version__", MC_VERSION_STRING) < 0)
        return -1;
    return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    mc_module_state *st = mc_module_get_state(m);
    if (!st)
        return 0;
    Py_VISIT(st->pickle_dumps);
    Py_VISIT(st->pickle_loads);
    Py_VISIT(st->format_exception);
    Py_VISIT(st->pool_type);
    Py_VISIT(st->future_type);
    Py_VISIT(st->remote_error);
    Py_VISIT(st->array_type);
    Py_VISIT(st->channel_type);
    Py_VISIT(st->host_function_type);
    Py_VISIT(st->host_error);
    Py_VISIT(st->channel_closed);
    Py_VISIT(st->live_pools);
    return 0;
}

static int module_clear(PyObject *m)
{
    mc_module_state *st = mc_module_get_state(m);
    if (!st)
        return 0;
    Py_CLEAR(st->pickle_dumps);
    Py_CLEAR(st->pickle_loads);
    Py_CLEAR(st->format_exception);
    Py_CLEAR(st->pool_type);
    Py_CLEAR(st->future_type);
    Py_CLEAR(st->remote_error);
    Py_CLEAR(st->array_type);
    Py_CLEAR(st->channel_type);
    Py_CLEAR(st->host_function_type);
    Py_CLEAR(st->host_error);
    Py_CLEAR(st->channel_closed);
    Py_CLEAR(st->live_pools);
    return 0;
}

static void module_free(void *m)
{
    module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

PyModuleDef mc_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_manycore",
    .m_doc = "manycore's low-level interface (use the manycore package).",
    .m_size = sizeof(mc_module_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyObject *mc_module_install(void)
{
    PyObject *machinery = PyImport_ImportModule("importlib.machinery");
    PyObject *spec = machinery ? PyObject_CallMethod(machinery, "ModuleSpec", "sO", "_manycore", Py_None)
                               : NULL;
    Py_XDECREF(machinery);
    if (!spec)
        return NULL;
    PyObject *m = PyModule_FromDefAndSpec(&mc_module_def, spec);
    Py_DECREF(spec);
    if (!m)
        return NULL;
    if (PyModule_ExecDef(m, &mc_module_def) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    if (PyDict_SetItemString(modules, "_manycore", m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* The entry point the _manycore extension file forwards to. */
MC_API PyObject *mc_module_init(void);
PyObject *mc_module_init(void)
{
    return PyModuleDef_Init(&mc_module_def);
}
