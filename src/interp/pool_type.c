/*
 * pool_type.c — _manycore.Pool: a pool opened from Python (the low-level
 * type the manycore package builds on). Arguments are encoded into wire
 * messages in the caller's interpreter; pools still open at exit are shut
 * down by an atexit callback, before finalization would stop their workers
 * mid-way.
 */
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "error.h"
#include "pool.h"
#include "shared.h"

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
    mc_module_state *st = mc_state_of_type(type);
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
        mc_py_parse_timeout(t, &timeout) < 0)
        return NULL;
    long timeout_ms = timeout < 0 ? 0 : (timeout * 1000.0 < 1.0 ? 1 : (long)(timeout * 1000.0 + 0.5));
    mc_module_state *st = mc_state_of_type(Py_TYPE(self));
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
    return mc_py_future_new(st, fut);
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
    return mc_py_future_new(mc_state_of_type(Py_TYPE(self)), fut);
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
    mc_shared *shared = mc_py_shared_of(mc_state_of_type(Py_TYPE(self)), obj);
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

PyType_Spec mc_pool_spec = {
    .name = "_manycore.Pool",
    .basicsize = sizeof(PoolObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_MANAGED_WEAKREF,
    .slots = pool_slots,
};

PyObject *mc_py_shutdown_all(PyObject *module, PyObject *Py_UNUSED(ignored))
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
