/*
 * shared_types.c — how shared memory and the host look from Python, in
 * every interpreter: SharedArray (buffers and arrays, with atomics), the
 * `shared` mapping of a pool's published objects, and the `host` namespace
 * of its host functions.
 *
 * A SharedArray object is this interpreter's own wrapper around a C-level
 * mc_buffer it holds one reference to; the bytes are never copied. The
 * buffer protocol hands out the mc_buffer's own data, shape and strides.
 */
#include <string.h>

#include "bridge.h"
#include "error.h"
#include "pool.h"
#include "shared.h"
#include "value.h"

typedef struct {
    PyObject_HEAD
    mc_shared *obj;
} SharedObject;

static mc_buffer *buf_of(PyObject *self)
{
    return (mc_buffer *)((SharedObject *)self)->obj;
}

PyObject *mc_py_wrap_shared(mc_module_state *st, mc_shared *obj)
{
    PyTypeObject *tp = obj->kind == MC_SHARED_CHANNEL ? st->channel_type : st->array_type;
    SharedObject *self = PyObject_GC_New(SharedObject, tp);
    if (!self)
        return NULL;
    self->obj = mc_shared_incref(obj);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

mc_shared *mc_py_shared_of(mc_module_state *st, PyObject *o)
{
    if (Py_IS_TYPE(o, st->array_type) || Py_IS_TYPE(o, st->channel_type))
        return ((SharedObject *)o)->obj;
    return NULL;
}

int mc_py_shared_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

void mc_py_shared_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    mc_shared *obj = ((SharedObject *)self)->obj;
    PyObject_GC_Del(self);
    /* The last reference may run a host release callback: not under our GIL. */
    if (obj) {
        Py_BEGIN_ALLOW_THREADS
        mc_shared_decref(obj);
        Py_END_ALLOW_THREADS
    }
    Py_DECREF(tp);
}

/* ---- SharedArray --------------------------------------------------------- */

static int is_typecode(int c)
{
    return c && strchr("bBhHiIlLqQfd", c) != NULL;
}

static PyObject *array_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"typecode", "init", NULL};
    int typecode;
    PyObject *init;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "CO:SharedArray", kwlist, &typecode, &init))
        return NULL;
    if (!is_typecode(typecode))
        return PyErr_Format(PyExc_ValueError, "typecode must be one of b B h H i I l L q Q f d, not %R",
                            PyTuple_GET_ITEM(args, 0));
    PyObject *items = NULL;
    Py_ssize_t n;
    if (PyLong_Check(init)) {
        n = PyLong_AsSsize_t(init);
        if (n < 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "size must be >= 0");
            return NULL;
        }
    } else {
        /* Any iterable: array.array does the conversion and range checks. */
        PyObject *array_mod = PyImport_ImportModule("array");
        items = array_mod ? PyObject_CallMethod(array_mod, "array", "CO", typecode, init) : NULL;
        Py_XDECREF(array_mod);
        if (!items)
            return NULL;
        n = PyObject_Length(items);
    }
    mc_shared *obj;
    int rc = mc_array_new((char)typecode, (size_t)n, &obj);
    if (rc != MC_OK) {
        Py_XDECREF(items);
        return rc == MC_ENOMEM ? PyErr_NoMemory() : PyErr_Format(PyExc_ValueError, "%s", mc_errmsg());
    }
    if (items) {
        Py_buffer view;
        if (PyObject_GetBuffer(items, &view, PyBUF_SIMPLE) < 0) {
            mc_shared_decref(obj);
            Py_DECREF(items);
            return NULL;
        }
        memcpy(((mc_buffer *)obj)->data, view.buf, (size_t)view.len);
        PyBuffer_Release(&view);
        Py_DECREF(items);
    }
    SharedObject *self = (SharedObject *)type->tp_alloc(type, 0);
    if (!self) {
        mc_shared_decref(obj);
        return NULL;
    }
    self->obj = obj;
    return (PyObject *)self;
}

static int array_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    mc_buffer *b = buf_of(self);
    if ((flags & PyBUF_WRITABLE) && b->readonly) {
        PyErr_SetString(PyExc_BufferError, "this shared buffer is read-only");
        return -1;
    }
    view->obj = Py_NewRef(self);
    view->buf = b->data;
    view->len = (Py_ssize_t)b->len;
    view->readonly = b->readonly;
    view->itemsize = (Py_ssize_t)b->itemsize;
    view->format = (flags & PyBUF_FORMAT) ? b->format : NULL;
    view->ndim = b->ndim;
    view->shape = (flags & PyBUF_ND) ? b->shape : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? b->strides : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    if (!(flags & PyBUF_ND) && b->ndim > 1 && !(flags & PyBUF_FORMAT))
        view->itemsize = 1, view->len = (Py_ssize_t)b->len;
    return 0;
}

static Py_ssize_t array_length(PyObject *self)
{
    return buf_of(self)->shape[0];
}

static int checked_index(mc_buffer *b, PyObject *index, size_t *out)
{
    Py_ssize_t i = PyNumber_AsSsize_t(index, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred())
        return -1;
    if (i < 0)
        i += b->shape[0];
    if (i < 0 || i >= b->shape[0]) {
        PyErr_Format(PyExc_IndexError, "index out of range for a shared array of %zd elements", b->shape[0]);
        return -1;
    }
    *out = (size_t)i;
    return 0;
}

static PyObject *array_subscript(PyObject *self, PyObject *index)
{
    mc_buffer *b = buf_of(self);
    size_t i;
    if (PySlice_Check(index)) {
        PyErr_SetString(PyExc_TypeError, "slice a shared array through memoryview(x)[a:b] (no copy)");
        return NULL;
    }
    if (checked_index(b, index, &i) < 0)
        return NULL;
    int64_t iv = 0;
    double dv = 0;
    int is_float = 0;
    if (mc_buffer_get_number(b, i, &iv, &dv, &is_float) != MC_OK)
        return PyErr_Format(PyExc_TypeError, "cannot index a buffer of format '%s': use memoryview(x)", b->format);
    if (is_float)
        return PyFloat_FromDouble(dv);
    if (strchr(b->format, 'Q') || strchr(b->format, 'L'))
        return PyLong_FromUnsignedLongLong((unsigned long long)iv);
    return PyLong_FromLongLong(iv);
}

static int array_ass_subscript(PyObject *self, PyObject *index, PyObject *value)
{
    mc_buffer *b = buf_of(self);
    if (!value) {
        PyErr_SetString(PyExc_TypeError, "cannot delete elements of a shared array");
        return -1;
    }
    if (b->readonly) {
        PyErr_SetString(PyExc_TypeError, "cannot modify read-only memory");
        return -1;
    }
    /* memoryview does the conversion and range checks for every format. */
    PyObject *mv = PyMemoryView_FromObject(self);
    if (!mv)
        return -1;
    int rc = PyObject_SetItem(mv, index, value);
    Py_DECREF(mv);
    return rc;
}

static int check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t want)
{
    if (nargs == want)
        return 1;
    PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, want, nargs);
    return 0;
}

/* Atomics: parse (index, ...), run, turn the result into a Python int. */
static int atomic_error(mc_buffer *b, int rc)
{
    if (rc == MC_ETYPE)
        PyErr_Format(PyExc_TypeError, "atomic operations need an integer array, and this one holds '%s'",
                     b->format);
    else if (rc == MC_EINVAL && b->readonly)
        PyErr_SetString(PyExc_TypeError, "cannot modify read-only memory");
    else if (rc == MC_ERANGE)
        PyErr_SetString(PyExc_IndexError, mc_errmsg());
    else
        PyErr_SetString(PyExc_ValueError, mc_errmsg());
    return -1;
}

static PyObject *int_result(mc_buffer *b, int64_t v)
{
    if (b->atomic_type == 'Q' || (b->atomic_type == 'L' && sizeof(long) == 8))
        return PyLong_FromUnsignedLongLong((unsigned long long)v);
    return PyLong_FromLongLong(v);
}

static int to_int64(PyObject *o, int64_t *out)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(o);
        if (u == (unsigned long long)-1 && PyErr_Occurred())
            return -1;
        *out = (int64_t)u;
        return 0;
    }
    if (overflow < 0) {
        PyErr_SetString(PyExc_OverflowError, "value does not fit 64 bits");
        return -1;
    }
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = v;
    return 0;
}

static PyObject *array_load(PyObject *self, PyObject *arg)
{
    mc_buffer *b = buf_of(self);
    if (!b->atomic_type) {
        atomic_error(b, MC_ETYPE);
        return NULL;
    }
    size_t i;
    int64_t v;
    if (checked_index(b, arg, &i) < 0)
        return NULL;
    int rc = mc_atomic_load(&b->base, i, &v);
    return rc == MC_OK ? int_result(b, v) : (atomic_error(b, rc), NULL);
}

static int store_op(mc_shared *buf, size_t i, int64_t v, int64_t *old)
{
    *old = 0;
    return mc_atomic_store(buf, i, v);
}

/* store, add, exchange: (index, value) in, the previous value out (None
 * for store). */
static PyObject *atomic_pair(PyObject *self, PyObject *const *args, Py_ssize_t nargs, const char *name,
                             int (*op)(mc_shared *, size_t, int64_t, int64_t *))
{
    mc_buffer *b = buf_of(self);
    if (!b->atomic_type) {
        atomic_error(b, MC_ETYPE);
        return NULL;
    }
    size_t i;
    int64_t v, old;
    if (!check_nargs(name, nargs, 2) || checked_index(b, args[0], &i) < 0 || to_int64(args[1], &v) < 0)
        return NULL;
    int rc = op(&b->base, i, v, &old);
    if (rc != MC_OK) {
        atomic_error(b, rc);
        return NULL;
    }
    return op == store_op ? Py_NewRef(Py_None) : int_result(b, old);
}

static PyObject *array_store(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return atomic_pair(self, args, nargs, "store", store_op);
}

static PyObject *array_add(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return atomic_pair(self, args, nargs, "add", mc_atomic_add);
}

static PyObject *array_exchange(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    return atomic_pair(self, args, nargs, "exchange", mc_atomic_exchange);
}

static PyObject *array_compare_exchange(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    mc_buffer *b = buf_of(self);
    if (!b->atomic_type) {
        atomic_error(b, MC_ETYPE);
        return NULL;
    }
    size_t i;
    int64_t expected, desired;
    int swapped;
    if (!check_nargs("compare_exchange", nargs, 3) || checked_index(b, args[0], &i) < 0 ||
        to_int64(args[1], &expected) < 0 || to_int64(args[2], &desired) < 0)
        return NULL;
    int rc = mc_atomic_compare_exchange(&b->base, i, &expected, desired, &swapped);
    return rc == MC_OK ? int_result(b, expected) : (atomic_error(b, rc), NULL);
}

static PyObject *array_get_address(PyObject *self, void *Py_UNUSED(c))
{
    return PyLong_FromVoidPtr(buf_of(self)->data);
}

static PyObject *array_get_format(PyObject *self, void *Py_UNUSED(c))
{
    return PyUnicode_FromString(buf_of(self)->format);
}

static PyObject *array_get_readonly(PyObject *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(buf_of(self)->readonly);
}

static PyObject *array_get_nbytes(PyObject *self, void *Py_UNUSED(c))
{
    return PyLong_FromSize_t(buf_of(self)->len);
}

static PyObject *array_get_shape(PyObject *self, void *Py_UNUSED(c))
{
    mc_buffer *b = buf_of(self);
    PyObject *t = PyTuple_New(b->ndim);
    for (int i = 0; t && i < b->ndim; i++)
        PyTuple_SET_ITEM(t, i, PyLong_FromSsize_t(b->shape[i]));
    return t;
}

static PyObject *array_repr(PyObject *self)
{
    mc_buffer *b = buf_of(self);
    return PyUnicode_FromFormat("<manycore.SharedArray format='%s' len=%zd nbytes=%zu%s at %p>", b->format,
                                b->shape[0], b->len, b->readonly ? " read-only" : "", b->data);
}

static PyMethodDef array_methods[] = {
    {"load", array_load, METH_O, "load(i)\n--\n\nAtomically read element i."},
    {"store", (PyCFunction)(void (*)(void))array_store, METH_FASTCALL,
     "store(i, v)\n--\n\nAtomically write v to element i."},
    {"add", (PyCFunction)(void (*)(void))array_add, METH_FASTCALL,
     "add(i, delta)\n--\n\nAtomically add delta to element i; return the previous value."},
    {"exchange", (PyCFunction)(void (*)(void))array_exchange, METH_FASTCALL,
     "exchange(i, v)\n--\n\nAtomically replace element i by v; return the previous value."},
    {"compare_exchange", (PyCFunction)(void (*)(void))array_compare_exchange, METH_FASTCALL,
     "compare_exchange(i, expected, new)\n--\n\n"
     "Atomically set element i to new if it equals expected; return the previous value\n"
     "(equal to expected exactly when the exchange happened)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef array_getset[] = {
    {"address", array_get_address, NULL, "address of the first byte (the same in every interpreter)", NULL},
    {"format", array_get_format, NULL, "element format in struct notation", NULL},
    {"readonly", array_get_readonly, NULL, "True if workers cannot write", NULL},
    {"nbytes", array_get_nbytes, NULL, "size in bytes", NULL},
    {"shape", array_get_shape, NULL, "extents of each dimension", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot array_slots[] = {
    {Py_tp_doc, "SharedArray(typecode, size_or_iterable)\n--\n\n"
                "A typed array in memory shared by every interpreter of the process (never copied).\n"
                "Typecodes as the array module's: b B h H i I l L q Q f d. Supports the buffer\n"
                "protocol, len(), indexing, and atomic load/store/add/exchange/compare_exchange\n"
                "on integer elements. Host buffers published with mc_pool_publish are of this type too."},
    {Py_tp_new, array_new},
    {Py_tp_dealloc, mc_py_shared_dealloc},
    {Py_tp_traverse, mc_py_shared_traverse},
    {Py_tp_repr, array_repr},
    {Py_tp_methods, array_methods},
    {Py_tp_getset, array_getset},
    {Py_bf_getbuffer, array_getbuffer},
    {Py_mp_length, array_length},
    {Py_sq_length, array_length},
    {Py_mp_subscript, array_subscript},
    {Py_mp_ass_subscript, array_ass_subscript},
    {0, NULL},
};

PyType_Spec mc_array_spec = {
    .name = "_manycore.SharedArray",
    .basicsize = sizeof(SharedObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = array_slots,
};

/* ---- shared: the pool's published objects ------------------------------- */

typedef struct {
    PyObject_HEAD
} NamespaceObject;

static mc_pool *worker_pool(PyObject *self, int for_host)
{
    mc_module_state *st = PyType_GetModuleState(Py_TYPE(self));
    if (!st->pool) {
        PyErr_Format(PyExc_RuntimeError, "manycore.%s is only available inside a worker of a pool",
                     for_host ? "host" : "shared");
        return NULL;
    }
    return st->pool;
}

static PyObject *shared_getitem(PyObject *self, PyObject *key)
{
    mc_pool *pool = worker_pool(self, 0);
    if (!pool)
        return NULL;
    const char *name = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
    if (!name) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "shared names are str");
        return NULL;
    }
    mc_shared *obj;
    if (mc_pool_lookup(pool, name, &obj) != MC_OK) {
        PyErr_Format(PyExc_KeyError, "%R: nothing is published under this name (the host publishes with "
                                     "mc_pool_publish)", key);
        return NULL;
    }
    PyObject *w = mc_py_wrap_shared(PyType_GetModuleState(Py_TYPE(self)), obj);
    mc_shared_decref(obj);
    return w;
}

static PyObject *shared_keys(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    mc_pool *pool = worker_pool(self, 0);
    char **names;
    if (!pool)
        return NULL;
    if (mc_pool_names(pool, &names) != MC_OK)
        return PyErr_NoMemory();
    PyObject *list = PyList_New(0);
    for (char **p = names; *p; p++) {
        PyObject *s = list ? PyUnicode_FromString(*p) : NULL;
        if (!s || PyList_Append(list, s) < 0)
            Py_CLEAR(list);
        Py_XDECREF(s);
        free(*p);
    }
    free(names);
    return list;
}

static int shared_contains(PyObject *self, PyObject *key)
{
    PyObject *v = shared_getitem(self, key);
    if (v) {
        Py_DECREF(v);
        return 1;
    }
    if (PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

static PyObject *shared_iter(PyObject *self)
{
    PyObject *keys = shared_keys(self, NULL);
    PyObject *it = keys ? PyObject_GetIter(keys) : NULL;
    Py_XDECREF(keys);
    return it;
}

static int namespace_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void namespace_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    PyObject_GC_Del(self);
    Py_DECREF(tp);
}

static PyMethodDef shared_methods[] = {
    {"keys", shared_keys, METH_NOARGS, "keys()\n--\n\nNames published on this worker's pool."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot shared_slots[] = {
    {Py_tp_doc, "The objects the host published on this worker's pool, by name (read-only mapping)."},
    {Py_tp_dealloc, namespace_dealloc},
    {Py_tp_traverse, namespace_traverse},
    {Py_tp_iter, shared_iter},
    {Py_tp_methods, shared_methods},
    {Py_mp_subscript, shared_getitem},
    {Py_sq_contains, shared_contains},
    {0, NULL},
};

PyType_Spec mc_shared_map_spec = {
    .name = "_manycore.SharedNamespace",
    .basicsize = sizeof(NamespaceObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = shared_slots,
};

/* ---- host: the pool's host functions ------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *name;
} HostFunctionObject;

/* Calls a host function: Python args -> message -> mc_value, the callback
 * with this interpreter's GIL released, then mc_value -> message -> Python. */
static PyObject *host_function_call(PyObject *self, PyObject *args, PyObject *kw)
{
    mc_module_state *st = PyType_GetModuleState(Py_TYPE(self));
    if (kw && PyDict_GET_SIZE(kw)) {
        PyErr_SetString(PyExc_TypeError, "host functions take positional arguments only");
        return NULL;
    }
    if (!st->pool) {
        PyErr_SetString(PyExc_RuntimeError, "manycore.host is only available inside a worker of a pool");
        return NULL;
    }
    const char *name = PyUnicode_AsUTF8(((HostFunctionObject *)self)->name);
    mc_host_fn fn;
    void *ctx;
    if (!name)
        return NULL;
    if (mc_pool_host_function(st->pool, name, &fn, &ctx) != MC_OK)
        return PyErr_Format(PyExc_AttributeError, "no host function '%s' is registered on this pool "
                                                  "(the host registers them with mc_pool_register)", name);
    mc_msg msg = {0};
    if (mc_py_encode_msg(st, args, &msg) < 0)
        return NULL;
    mc_value *in = NULL, *out = NULL;
    int rc = mc_value_from_msg(&msg, &in);
    mc_msg_clear(&msg);
    if (rc != MC_OK)
        return PyErr_Format(PyExc_TypeError, "cannot pass these arguments to a host function: %s", mc_errmsg());
    Py_BEGIN_ALLOW_THREADS
    mc_clear_error();
    rc = fn(ctx, in, &out);
    Py_END_ALLOW_THREADS
    mc_value_free(in);
    if (rc != MC_OK) {
        mc_value_free(out);
        const char *detail = mc_errmsg();
        return PyErr_Format(st->host_error, "host function '%s' failed: %s", name,
                            detail[0] ? detail : mc_strerror(rc));
    }
    if (!out)
        Py_RETURN_NONE;
    rc = mc_value_to_msg(out, &msg);
    mc_value_free(out);
    if (rc != MC_OK)
        return PyErr_Format(st->host_error, "host function '%s' returned a value that cannot be sent: %s", name,
                            mc_errmsg());
    PyObject *res = mc_py_decode(st, &msg);
    mc_msg_clear(&msg);
    return res;
}

static int host_function_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((HostFunctionObject *)self)->name);
    return 0;
}

static void host_function_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_CLEAR(((HostFunctionObject *)self)->name);
    PyObject_GC_Del(self);
    Py_DECREF(tp);
}

static PyObject *host_function_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<manycore host function %S>", ((HostFunctionObject *)self)->name);
}

static PyType_Slot host_function_slots[] = {
    {Py_tp_doc, "A native function of the host, called with the worker's GIL released."},
    {Py_tp_call, host_function_call},
    {Py_tp_dealloc, host_function_dealloc},
    {Py_tp_traverse, host_function_traverse},
    {Py_tp_repr, host_function_repr},
    {0, NULL},
};

PyType_Spec mc_host_function_spec = {
    .name = "_manycore.HostFunction",
    .basicsize = sizeof(HostFunctionObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = host_function_slots,
};

static PyObject *host_getattr(PyObject *self, PyObject *name)
{
    PyObject *found = PyObject_GenericGetAttr(self, name);
    if (found || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return found;
    PyErr_Clear();
    mc_module_state *st = PyType_GetModuleState(Py_TYPE(self));
    mc_pool *pool = worker_pool(self, 1);
    mc_host_fn fn;
    void *ctx;
    const char *s = PyUnicode_AsUTF8(name);
    if (!pool || !s)
        return NULL;
    if (mc_pool_host_function(pool, s, &fn, &ctx) != MC_OK)
        return PyErr_Format(PyExc_AttributeError, "no host function '%s' is registered on this pool "
                                                  "(the host registers them with mc_pool_register)", s);
    HostFunctionObject *f = PyObject_GC_New(HostFunctionObject, st->host_function_type);
    if (!f)
        return NULL;
    f->name = Py_NewRef(name);
    PyObject_GC_Track(f);
    return (PyObject *)f;
}

static PyType_Slot host_slots[] = {
    {Py_tp_doc, "The host's native functions: manycore.host.name(*args)."},
    {Py_tp_dealloc, namespace_dealloc},
    {Py_tp_traverse, namespace_traverse},
    {Py_tp_getattro, host_getattr},
    {0, NULL},
};

PyType_Spec mc_host_namespace_spec = {
    .name = "_manycore.HostNamespace",
    .basicsize = sizeof(NamespaceObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = host_slots,
};
