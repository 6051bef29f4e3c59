/*
 * channel_type.c — manycore.Channel and manycore.select, in every
 * interpreter: this interpreter's wrapper around a C-level channel.
 *
 * Objects are encoded into a message in the sender's interpreter and decoded
 * into fresh objects in the receiver's; blocking waits release the caller's
 * GIL and sleep on the channel's condition variables.
 */
#include "bridge.h"
#include "channel.h"
#include "error.h"
#include "shared.h"

typedef struct {
    PyObject_HEAD
    mc_shared *obj;
} ChannelObject;

static mc_shared *ch_of(PyObject *self)
{
    return ((ChannelObject *)self)->obj;
}

static int timeout_ms(PyObject *arg, long *out)
{
    if (!arg || arg == Py_None) {
        *out = -1;
        return 0;
    }
    double t = PyFloat_AsDouble(arg);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    if (t < 0) {
        PyErr_SetString(PyExc_ValueError, "timeout must be None or >= 0");
        return -1;
    }
    *out = t > 1e9 ? -1 : (long)(t * 1000.0 + 0.5);
    return 0;
}

/* The blocking calls, shaped for mc_py_wait (Ctrl-C between slices). */
typedef struct channel_op {
    mc_shared *ch;
    mc_msg *msg;
    mc_shared *const *chs;
    size_t n;
    size_t *index;
} channel_op;

static int op_send(void *ctx, long timeout_ms)
{
    channel_op *op = ctx;
    return mc_channel_send_msg(op->ch, op->msg, timeout_ms);
}

static int op_recv(void *ctx, long timeout_ms)
{
    channel_op *op = ctx;
    return mc_channel_recv_msg(op->ch, op->msg, timeout_ms);
}

static int op_select(void *ctx, long timeout_ms)
{
    channel_op *op = ctx;
    return mc_channel_select_msg(op->chs, op->n, timeout_ms, op->index, op->msg);
}

static PyObject *channel_error(mc_module_state *st, int rc, const char *what)
{
    if (rc == MC_PY_SIGNALLED)
        return NULL; /* the signal handler's exception is set */
    if (rc == MC_ECLOSED)
        PyErr_Format(st->channel_closed, "%s: the channel is closed", what);
    else if (rc == MC_ETIMEDOUT)
        PyErr_Format(PyExc_TimeoutError, "%s: timed out", what);
    else if (rc == MC_ENOMEM)
        PyErr_NoMemory();
    else
        PyErr_Format(PyExc_ValueError, "%s: %s", what, mc_errmsg());
    return NULL;
}

static PyObject *channel_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"maxsize", NULL};
    Py_ssize_t maxsize = 1024;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|n:Channel", kwlist, &maxsize))
        return NULL;
    if (maxsize < 1)
        return PyErr_Format(PyExc_ValueError, "maxsize must be >= 1, not %zd", maxsize);
    mc_shared *obj;
    int rc = mc_channel_new((size_t)maxsize, &obj);
    if (rc != MC_OK)
        return rc == MC_ENOMEM ? PyErr_NoMemory() : PyErr_Format(PyExc_ValueError, "%s", mc_errmsg());
    ChannelObject *self = (ChannelObject *)type->tp_alloc(type, 0);
    if (!self) {
        mc_shared_decref(obj);
        return NULL;
    }
    self->obj = obj;
    return (PyObject *)self;
}

static PyObject *channel_send(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"obj", "timeout", NULL};
    PyObject *obj, *t = NULL;
    long ms;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:send", kwlist, &obj, &t) || timeout_ms(t, &ms) < 0)
        return NULL;
    mc_module_state *st = PyType_GetModuleState(Py_TYPE(self));
    mc_msg msg = {0};
    if (mc_py_encode_msg(st, obj, &msg) < 0)
        return NULL;
    int rc;
    /* Try without letting go of the GIL first: most sends find room. */
    rc = mc_channel_send_msg(ch_of(self), &msg, 0);
    if (rc == MC_ETIMEDOUT && ms != 0) {
        channel_op op = {.ch = ch_of(self), .msg = &msg};
        rc = mc_py_wait(op_send, &op, ms);
    }
    if (rc != MC_OK) {
        mc_msg_clear(&msg);
        return channel_error(st, rc, "send");
    }
    Py_RETURN_NONE;
}

static PyObject *recv_impl(PyObject *self, long ms, int for_iter)
{
    mc_module_state *st = PyType_GetModuleState(Py_TYPE(self));
    mc_msg msg = {0};
    int rc = mc_channel_recv_msg(ch_of(self), &msg, 0);
    if (rc == MC_ETIMEDOUT && ms != 0) {
        channel_op op = {.ch = ch_of(self), .msg = &msg};
        rc = mc_py_wait(op_recv, &op, ms);
    }
    if (rc != MC_OK) {
        if (rc == MC_ECLOSED && for_iter)
            return NULL; /* StopIteration */
        return channel_error(st, rc, "recv");
    }
    PyObject *v = mc_py_decode(st, &msg);
    mc_msg_clear(&msg);
    return v;
}

static PyObject *channel_recv(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *t = NULL;
    long ms;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:recv", kwlist, &t) || timeout_ms(t, &ms) < 0)
        return NULL;
    return recv_impl(self, ms, 0);
}

static PyObject *channel_iternext(PyObject *self)
{
    return recv_impl(self, -1, 1);
}

static PyObject *channel_close(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    mc_channel_close(ch_of(self));
    Py_RETURN_NONE;
}

static Py_ssize_t channel_length(PyObject *self)
{
    return (Py_ssize_t)mc_channel_len(ch_of(self));
}

static PyObject *channel_get_maxsize(PyObject *self, void *Py_UNUSED(c))
{
    return PyLong_FromSize_t(mc_channel_capacity(ch_of(self)));
}

static PyObject *channel_get_closed(PyObject *self, void *Py_UNUSED(c))
{
    return PyBool_FromLong(mc_channel_is_closed(ch_of(self)));
}

static PyObject *channel_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<manycore.Channel %zu/%zu%s at %p>", mc_channel_len(ch_of(self)),
                                mc_channel_capacity(ch_of(self)), mc_channel_is_closed(ch_of(self)) ? " closed" : "",
                                (void *)ch_of(self));
}

static PyObject *channel_richcompare(PyObject *a, PyObject *b, int op)
{
    /* Two wrappers (in one interpreter or not) are equal if they are one channel. */
    if (Py_TYPE(a) != Py_TYPE(b) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    int eq = ch_of(a) == ch_of(b);
    return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static Py_hash_t channel_hash(PyObject *self)
{
    /* Equal wrappers hash alike: hash the channel's address. */
    Py_hash_t h = (Py_hash_t)((uintptr_t)ch_of(self) >> 4);
    return h == -1 ? -2 : h;
}

static PyMethodDef channel_methods[] = {
    {"send", (PyCFunction)(void (*)(void))channel_send, METH_VARARGS | METH_KEYWORDS,
     "send(obj, timeout=None)\n--\n\nQueue obj (encoded now); wait while the channel is full.\n"
     "Raises ChannelClosed if it is closed, TimeoutError on timeout."},
    {"recv", (PyCFunction)(void (*)(void))channel_recv, METH_VARARGS | METH_KEYWORDS,
     "recv(timeout=None)\n--\n\nTake the next object; wait while the channel is empty.\n"
     "Raises ChannelClosed once it is closed and drained, TimeoutError on timeout."},
    {"close", channel_close, METH_NOARGS,
     "close()\n--\n\nRefuse further sends; receivers drain what is queued, then stop."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef channel_getset[] = {
    {"maxsize", channel_get_maxsize, NULL, "capacity in messages", NULL},
    {"closed", channel_get_closed, NULL, "True once closed", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot channel_slots[] = {
    {Py_tp_doc, "Channel(maxsize=1024)\n--\n\n"
                "A bounded multi-producer multi-consumer queue shared by every interpreter.\n"
                "Send it to tasks or through other channels; iterate to receive until closed."},
    {Py_tp_new, channel_new},
    {Py_tp_dealloc, mc_py_shared_dealloc},
    {Py_tp_traverse, mc_py_shared_traverse},
    {Py_tp_repr, channel_repr},
    {Py_tp_richcompare, channel_richcompare},
    {Py_tp_hash, channel_hash},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, channel_iternext},
    {Py_tp_methods, channel_methods},
    {Py_tp_getset, channel_getset},
    {Py_sq_length, channel_length},
    {0, NULL},
};

PyType_Spec mc_channel_spec = {
    .name = "_manycore.Channel",
    .basicsize = sizeof(ChannelObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = channel_slots,
};

PyObject *mc_py_select(PyObject *module, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"channels", "timeout", NULL};
    PyObject *seq, *t = NULL;
    long ms;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:select", kwlist, &seq, &t) || timeout_ms(t, &ms) < 0)
        return NULL;
    mc_module_state *st = PyModule_GetState(module);
    PyObject *fast = PySequence_Fast(seq, "select() takes a sequence of channels");
    if (!fast)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n == 0) {
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "select() needs at least one channel");
        return NULL;
    }
    mc_shared **chs = PyMem_Calloc((size_t)n, sizeof *chs);
    if (!chs) {
        Py_DECREF(fast);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *c = PySequence_Fast_GET_ITEM(fast, i);
        if (!Py_IS_TYPE(c, st->channel_type)) {
            PyMem_Free(chs);
            Py_DECREF(fast);
            return PyErr_Format(PyExc_TypeError, "select() item %zd is a %.100s, not a Channel", i,
                                Py_TYPE(c)->tp_name);
        }
        chs[i] = ch_of(c);
    }
    size_t index = 0;
    mc_msg msg = {0};
    int rc;
    channel_op op = {.msg = &msg, .chs = chs, .n = (size_t)n, .index = &index};
    rc = mc_py_wait(op_select, &op, ms);
    PyMem_Free(chs);
    PyObject *result = NULL;
    if (rc == MC_OK) {
        PyObject *v = mc_py_decode(st, &msg);
        if (v)
            result = PyTuple_Pack(2, PySequence_Fast_GET_ITEM(fast, (Py_ssize_t)index), v);
        Py_XDECREF(v);
    } else {
        channel_error(st, rc, "select");
    }
    mc_msg_clear(&msg);
    Py_DECREF(fast);
    return result;
}
