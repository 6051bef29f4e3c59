/*
 * convert.c — Python objects to wire messages and back, in one interpreter.
 *
 * Plain data (exact None, bool, int, float, str, bytes, tuple, list, dict,
 * set) is written tag by tag; anything else — subclasses included, so a
 * namedtuple or an IntEnum keeps its type — is pickled (protocol 5). The
 * decoder reads the message through the core's checked reader: malformed
 * bytes raise ValueError, never crash.
 */
#include "bridge.h"
#include "error.h"

/* ---- encoding ---------------------------------------------------------- */

static int ensure_pickle(mc_module_state *st)
{
    if (st->pickle_dumps)
        return 0;
    PyObject *mod = PyImport_ImportModule("pickle");
    if (!mod)
        return -1;
    st->pickle_dumps = PyObject_GetAttrString(mod, "dumps");
    st->pickle_loads = PyObject_GetAttrString(mod, "loads");
    Py_DECREF(mod);
    if (!st->pickle_dumps || !st->pickle_loads) {
        Py_CLEAR(st->pickle_dumps);
        Py_CLEAR(st->pickle_loads);
        return -1;
    }
    return 0;
}

static int nomem(void)
{
    PyErr_NoMemory();
    return -1;
}

static int put_pickle(mc_module_state *st, mc_buf *b, PyObject *o)
{
    if (ensure_pickle(st) < 0)
        return -1;
    PyObject *data = PyObject_CallFunction(st->pickle_dumps, "Oi", o, 5);
    if (!data) {
        /* Say which object could not travel, keeping pickle's reason. */
        PyObject *cause = PyErr_GetRaisedException();
        PyErr_Format(PyExc_TypeError,
                     "cannot send an object of type %.200s to or from a worker: it is not plain "
                     "data and cannot be pickled (%S)",
                     Py_TYPE(o)->tp_name, cause);
        PyObject *exc = PyErr_GetRaisedException();
        PyException_SetCause(exc, cause);
        PyErr_SetRaisedException(exc);
        return -1;
    }
    int rc = mc_wire_put_blob(b, MC_TAG_PICKLE, PyBytes_AS_STRING(data), (size_t)PyBytes_GET_SIZE(data));
    Py_DECREF(data);
    return rc == 0 ? 0 : nomem();
}

static int put_bigint(mc_buf *b, PyObject *o, int neg)
{
    /* Minimal two's complement: n = (bit_length(y) + 8) // 8, y = o or ~o. */
    PyObject *y = neg ? PyNumber_Invert(o) : Py_NewRef(o);
    if (!y)
        return -1;
    PyObject *bits = PyObject_CallMethod(y, "bit_length", NULL);
    Py_DECREF(y);
    if (!bits)
        return -1;
    Py_ssize_t n = (PyLong_AsSsize_t(bits) + 8) / 8;
    Py_DECREF(bits);
    if (n <= 0 && PyErr_Occurred())
        return -1;
    PyObject *raw = PyObject_CallMethod(o, "to_bytes", "nsO", n, "little", Py_True);
    if (!raw) {
        /* to_bytes(length, byteorder, signed): signed is keyword-only. */
        PyErr_Clear();
        PyObject *meth = PyObject_GetAttrString(o, "to_bytes");
        if (!meth)
            return -1;
        PyObject *args = Py_BuildValue("(ns)", n, "little");
        PyObject *kw = Py_BuildValue("{s:O}", "signed", Py_True);
        raw = args && kw ? PyObject_Call(meth, args, kw) : NULL;
        Py_XDECREF(args);
        Py_XDECREF(kw);
        Py_DECREF(meth);
        if (!raw)
            return -1;
    }
    int rc = mc_wire_put_blob(b, MC_TAG_BIGINT, PyBytes_AS_STRING(raw), (size_t)PyBytes_GET_SIZE(raw));
    Py_DECREF(raw);
    return rc == 0 ? 0 : nomem();
}

static int put_obj(mc_module_state *st, mc_buf *b, PyObject *o, int depth);

static int put_items(mc_module_state *st, mc_buf *b, int tag, PyObject *const *items, Py_ssize_t n,
                     int depth)
{
    if (mc_wire_put_container(b, tag, (uint64_t)n) != 0)
        return nomem();
    for (Py_ssize_t i = 0; i < n; i++)
        if (put_obj(st, b, items[i], depth + 1) < 0)
            return -1;
    return 0;
}

static int put_dict(mc_module_state *st, mc_buf *b, PyObject *o, int depth)
{
    Py_ssize_t n = PyDict_GET_SIZE(o), pos = 0, done = 0;
    PyObject *k, *v;
    if (mc_wire_put_container(b, MC_TAG_DICT, (uint64_t)n) != 0)
        return nomem();
    while (done < n && PyDict_Next(o, &pos, &k, &v)) {
        Py_INCREF(k);
        Py_INCREF(v);
        int rc = put_obj(st, b, k, depth + 1);
        if (rc == 0)
            rc = put_obj(st, b, v, depth + 1);
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc < 0)
            return -1;
        done++;
    }
    if (done != n || PyDict_GET_SIZE(o) != n) {
        PyErr_SetString(PyExc_RuntimeError, "dictionary changed size while it was being sent");
        return -1;
    }
    return 0;
}

static int put_set(mc_module_state *st, mc_buf *b, PyObject *o, int depth)
{
    /* A snapshot: pickling an item may run code that mutates the set. */
    PyObject *items = PySequence_Tuple(o);
    if (!items)
        return -1;
    int rc = put_items(st, b, MC_TAG_SET, &PyTuple_GET_ITEM(items, 0), PyTuple_GET_SIZE(items), depth);
    Py_DECREF(items);
    return rc;
}

static int put_obj(mc_module_state *st, mc_buf *b, PyObject *o, int depth)
{
    if (depth > MC_WIRE_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "cannot send data nested deeper than %d levels", MC_WIRE_MAX_DEPTH);
        return -1;
    }
    PyTypeObject *tp = Py_TYPE(o);
    int rc;
    if (o == Py_None)
        rc = mc_wire_put_tag(b, MC_TAG_NONE);
    else if (o == Py_True)
        rc = mc_wire_put_tag(b, MC_TAG_TRUE);
    else if (o == Py_False)
        rc = mc_wire_put_tag(b, MC_TAG_FALSE);
    else if (tp == &PyLong_Type) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow)
            return put_bigint(b, o, overflow < 0);
        if (v == -1 && PyErr_Occurred())
            return -1;
        rc = mc_wire_put_int(b, v);
    } else if (tp == &PyFloat_Type)
        rc = mc_wire_put_float(b, PyFloat_AS_DOUBLE(o));
    else if (tp == &PyUnicode_Type) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (!s) {
            /* Lone surrogates are not UTF-8: let pickle carry the str. */
            PyErr_Clear();
            return put_pickle(st, b, o);
        }
        rc = mc_wire_put_blob(b, MC_TAG_STR, s, (size_t)n);
    } else if (tp == &PyBytes_Type)
        rc = mc_wire_put_blob(b, MC_TAG_BYTES, PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o));
    else if (tp == &PyTuple_Type)
        return put_items(st, b, MC_TAG_TUPLE, &PyTuple_GET_ITEM(o, 0), PyTuple_GET_SIZE(o), depth);
    else if (tp == &PyList_Type) {
        /* A snapshot, for the same reason as sets. */
        PyObject *items = PyList_AsTuple(o);
        if (!items)
            return -1;
        rc = put_items(st, b, MC_TAG_LIST, &PyTuple_GET_ITEM(items, 0), PyTuple_GET_SIZE(items), depth);
        Py_DECREF(items);
        return rc;
    } else if (tp == &PyDict_Type)
        return put_dict(st, b, o, depth);
    else if (tp == &PySet_Type)
        return put_set(st, b, o, depth);
    else if (mc_py_shared_of(st, o))
        rc = mc_wire_put_handle(b, mc_py_shared_of(st, o));
    else
        return put_pickle(st, b, o);
    return rc == 0 ? 0 : nomem();
}

int mc_py_encode(mc_module_state *st, PyObject *obj, mc_buf *out)
{
    if (mc_wire_put_version(out) != 0)
        return nomem();
    return put_obj(st, out, obj, 0);
}

int mc_py_encode_msg(mc_module_state *st, PyObject *obj, mc_msg *out)
{
    mc_buf b = {0};
    if (mc_py_encode(st, obj, &b) < 0) {
        mc_buf_free(&b);
        return -1;
    }
    mc_buf_to_msg(&b, out);
    return 0;
}

/* ---- decoding ---------------------------------------------------------- */

static PyObject *wire_error(void)
{
    PyErr_Format(PyExc_ValueError, "malformed manycore message: %s", mc_errmsg());
    return NULL;
}

static PyObject *get_obj(mc_module_state *st, mc_wire_reader *r);

static PyObject *get_container(mc_module_state *st, mc_wire_reader *r, int tag)
{
    uint64_t count;
    if (mc_wire_read_count(r, tag, &count) != 0)
        return wire_error();
    Py_ssize_t n = (Py_ssize_t)count;
    PyObject *c = NULL;
    if (tag == MC_TAG_TUPLE)
        c = PyTuple_New(n);
    else if (tag == MC_TAG_LIST)
        c = PyList_New(n);
    else if (tag == MC_TAG_SET)
        c = PySet_New(NULL);
    else
        c = PyDict_New();
    if (!c)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = get_obj(st, r);
        if (!item)
            goto fail;
        if (tag == MC_TAG_TUPLE)
            PyTuple_SET_ITEM(c, i, item);
        else if (tag == MC_TAG_LIST)
            PyList_SET_ITEM(c, i, item);
        else if (tag == MC_TAG_SET) {
            int rc = PySet_Add(c, item);
            Py_DECREF(item);
            if (rc < 0)
                goto fail;
        } else {
            PyObject *val = get_obj(st, r);
            int rc = val ? PyDict_SetItem(c, item, val) : -1;
            Py_DECREF(item);
            Py_XDECREF(val);
            if (rc < 0)
                goto fail;
        }
    }
    mc_wire_leave(r);
    return c;
fail:
    mc_wire_leave(r);
    Py_XDECREF(c);
    return NULL;
}

static PyObject *get_obj(mc_module_state *st, mc_wire_reader *r)
{
    int tag;
    if (mc_wire_read_tag(r, &tag) != 0)
        return wire_error();
    const unsigned char *p;
    size_t n;
    switch (tag) {
    case MC_TAG_NONE: Py_RETURN_NONE;
    case MC_TAG_TRUE: Py_RETURN_TRUE;
    case MC_TAG_FALSE: Py_RETURN_FALSE;
    case MC_TAG_INT: {
        int64_t v;
        if (mc_wire_read_int(r, &v) != 0)
            return wire_error();
        return PyLong_FromLongLong(v);
    }
    case MC_TAG_FLOAT: {
        double v;
        if (mc_wire_read_float(r, &v) != 0)
            return wire_error();
        return PyFloat_FromDouble(v);
    }
    case MC_TAG_STR:
        if (mc_wire_read_blob(r, tag, &p, &n) != 0)
            return wire_error();
        return PyUnicode_DecodeUTF8((const char *)p, (Py_ssize_t)n, "strict");
    case MC_TAG_BYTES:
        if (mc_wire_read_blob(r, tag, &p, &n) != 0)
            return wire_error();
        return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
    case MC_TAG_BIGINT: {
        if (mc_wire_read_blob(r, tag, &p, &n) != 0)
            return wire_error();
        PyObject *raw = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
        if (!raw)
            return NULL;
        PyObject *args = Py_BuildValue("(Os)", raw, "little");
        PyObject *kw = Py_BuildValue("{s:O}", "signed", Py_True);
        PyObject *from_bytes = PyObject_GetAttrString((PyObject *)&PyLong_Type, "from_bytes");
        PyObject *v = args && kw && from_bytes ? PyObject_Call(from_bytes, args, kw) : NULL;
        Py_XDECREF(from_bytes);
        Py_XDECREF(args);
        Py_XDECREF(kw);
        Py_DECREF(raw);
        return v;
    }
    case MC_TAG_PICKLE: {
        if (mc_wire_read_blob(r, tag, &p, &n) != 0)
            return wire_error();
        if (ensure_pickle(st) < 0)
            return NULL;
        PyObject *raw = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)n);
        if (!raw)
            return NULL;
        PyObject *v = PyObject_CallOneArg(st->pickle_loads, raw);
        Py_DECREF(raw);
        return v;
    }
    case MC_TAG_HANDLE: {
        struct mc_shared *obj;
        if (mc_wire_read_handle(r, &obj) != 0)
            return wire_error();
        return mc_py_wrap_shared(st, obj);
    }
    case MC_TAG_TUPLE:
    case MC_TAG_LIST:
    case MC_TAG_SET:
    case MC_TAG_DICT:
        return get_container(st, r, tag);
    default:
        PyErr_Format(PyExc_ValueError, "malformed manycore message: unknown tag 0x%02x", tag);
        return NULL;
    }
}

PyObject *mc_py_decode(mc_module_state *st, const mc_msg *msg)
{
    mc_wire_reader r;
    if (mc_wire_reader_init_msg(&r, msg) != 0)
        return wire_error();
    PyObject *o = get_obj(st, &r);
    if (o && mc_wire_reader_finish(&r) != 0) {
        Py_DECREF(o);
        return wire_error();
    }
    return o;
}
