/*
 * module.c — the _manycore extension module, one instance per interpreter.
 *
 * Multi-phase init, per-module state, heap types, and the declaration that
 * it supports a per-interpreter GIL: every interpreter — the main one of a
 * Python program and each worker — gets its own module object, its own state
 * and its own types, so no PyObject is shared.
 *
 * Inside a worker it tells the code where it runs (worker_id). The types
 * live in their own files: Future (future_type.c), Pool (pool_type.c),
 * SharedArray and the shared/host namespaces (shared_types.c), Channel
 * (channel_type.c).
 */
#include "bridge.h"
#include "pool.h"

mc_module_state *mc_module_get_state(PyObject *module)
{
    return PyModule_GetState(module);
}


static PyObject *mod_worker_id(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    mc_module_state *st = mc_module_get_state(module);
    if (st->worker_id < 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(st->worker_id);
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
    {"_shutdown_all", mc_py_shutdown_all, METH_NOARGS,
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
    st->future_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &mc_future_spec, NULL);
    if (!st->future_type || PyModule_AddType(m, st->future_type) < 0)
        return -1;
    st->pool_type = (PyTypeObject *)PyType_FromModuleAndSpec(m, &mc_pool_spec, NULL);
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
