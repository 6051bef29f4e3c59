/*
 * shared.c — shared objects' reference counting, buffers and arrays, and
 * atomic operations on their integer elements.
 *
 * Atomics use the compiler's __atomic builtins on the element's own memory,
 * so host memory wrapped with mc_buffer_wrap gets them too, and every
 * interpreter's operations on one element are indivisible with each other.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "error.h"
#include "shared.h"

#define MC_SHARED_MAGIC 0x6d635368u /* "mcSh" */
#define MC_SHARED_DEAD 0xdead5ea1u

void mc_shared_init(mc_shared *obj, int kind, void (*destroy)(mc_shared *))
{
    obj->magic = MC_SHARED_MAGIC;
    obj->kind = kind;
    atomic_init(&obj->refs, 1);
    obj->destroy = destroy;
}

int mc_shared_valid(const mc_shared *obj, int kind)
{
    return obj && obj->magic == MC_SHARED_MAGIC && (kind == 0 || obj->kind == kind);
}

mc_shared *mc_shared_incref(mc_shared *obj)
{
    atomic_fetch_add_explicit(&obj->refs, 1, memory_order_relaxed);
    return obj;
}

void mc_shared_decref(mc_shared *obj)
{
    if (!obj || atomic_fetch_sub_explicit(&obj->refs, 1, memory_order_acq_rel) != 1)
        return;
    obj->magic = MC_SHARED_DEAD;
    obj->destroy(obj);
}

int mc_shared_ref(mc_shared *obj, mc_shared **out)
{
    if (!mc_shared_valid(obj, 0) || !out)
        return mc_fail(MC_EINVAL, "mc_shared_ref: not a shared object, or out is NULL");
    *out = mc_shared_incref(obj);
    return MC_OK;
}

void mc_shared_free(mc_shared *obj)
{
    if (mc_shared_valid(obj, 0))
        mc_shared_decref(obj);
}

int mc_shared_get_kind(const mc_shared *obj)
{
    return mc_shared_valid(obj, 0) ? obj->kind : 0;
}

/* ---- formats ----------------------------------------------------------- */

static size_t native_size(char c)
{
    switch (c) {
    case 'x': case 'c': case 'b': case 'B': case '?': return 1;
    case 'h': case 'H': case 'e': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': return sizeof(long);
    case 'q': case 'Q': case 'd': return 8;
    case 'n': case 'N': return sizeof(size_t);
    case 'P': return sizeof(void *);
    default: return 0;
    }
}

static size_t standard_size(char c)
{
    switch (c) {
    case 'l': case 'L': return 4;
    case 'n': case 'N': case 'P': return 0; /* native only */
    default: return native_size(c);
    }
}

size_t mc_format_itemsize(const char *format)
{
    const char *p = format;
    int native = 1;
    if (*p == '@' || *p == '=' || *p == '<' || *p == '>' || *p == '!') {
        native = *p == '@';
        p++;
    }
    size_t total = 0;
    if (!*p)
        return 0;
    while (*p) {
        size_t count = 1;
        if (*p >= '0' && *p <= '9') {
            count = 0;
            while (*p >= '0' && *p <= '9') {
                count = count * 10 + (size_t)(*p - '0');
                if (count > (1u << 20))
                    return 0;
                p++;
            }
        }
        size_t sz = native ? native_size(*p) : standard_size(*p);
        if (!sz)
            return 0;
        if (native) /* native alignment, as struct does */
            total = (total + sz - 1) / sz * sz;
        total += count * sz;
        p++;
    }
    return total;
}

/* The single integer code a format stands for, if atomics can use it. */
static char atomic_code(const char *format)
{
    const char *p = format;
    if (*p == '@' || *p == '=')
        p++;
    if (p[0] && !p[1] && strchr("bBhHiIlLqQ", p[0]))
        return p[0];
    return 0;
}

/* ---- buffers ----------------------------------------------------------- */

/* Arrays of at least this many bytes are mapped from the kernel, whose
 * pages are zero and become resident only when first touched: a 1 GiB array
 * costs nothing until used (a memset made it resident at once: 0.5-3.5 s). */
#define MC_ARRAY_MAP_BYTES ((size_t)1 << 20)

static void buffer_destroy(mc_shared *obj)
{
    mc_buffer *b = (mc_buffer *)obj;
    if (b->release)
        b->release(b->release_ctx, b->data);
    if (b->owned == 2)
        munmap(b->data, b->len);
    else if (b->owned)
        free(b->data);
    free(b);
}

mc_buffer *mc_buffer_of(mc_shared *obj)
{
    return mc_shared_valid(obj, MC_SHARED_BUFFER) ? (mc_buffer *)obj : NULL;
}

static int set_layout(mc_buffer *b, const char *format, int ndim, const size_t *shape)
{
    if (strlen(format) >= sizeof b->format)
        return mc_fail(MC_EINVAL, "buffer format '%.40s' is too long (at most %zu characters)", format,
                       sizeof b->format - 1);
    b->itemsize = mc_format_itemsize(format);
    if (!b->itemsize)
        return mc_fail(MC_EINVAL, "buffer format '%s' is not a struct format manycore understands "
                                  "(e.g. 'B', 'f', '<i', '3f')", format);
    strcpy(b->format, format);
    if (ndim < 0 || ndim > MC_MAX_DIMS)
        return mc_fail(MC_EINVAL, "ndim %d is out of 0..%d", ndim, MC_MAX_DIMS);
    if (ndim > 0 && !shape)
        return mc_fail(MC_EINVAL, "ndim is %d but shape is NULL", ndim);
    if (ndim == 0) {
        if (b->len % b->itemsize)
            return mc_fail(MC_EINVAL, "buffer length %zu is not a multiple of the item size %zu of '%s'",
                           b->len, b->itemsize, format);
        b->ndim = 1;
        b->shape[0] = (ssize_t)(b->len / b->itemsize);
    } else {
        size_t n = 1;
        for (int i = 0; i < ndim; i++) {
            if (shape[i] && n > SIZE_MAX / shape[i])
                return mc_fail(MC_EINVAL, "shape overflows");
            n *= shape[i];
            b->shape[i] = (ssize_t)shape[i];
        }
        if (n * b->itemsize != b->len)
            return mc_fail(MC_EINVAL, "shape gives %zu elements of %zu bytes = %zu bytes, but the buffer has %zu",
                           n, b->itemsize, n * b->itemsize, b->len);
        b->ndim = ndim;
    }
    /* C-contiguous strides. */
    ssize_t stride = (ssize_t)b->itemsize;
    for (int i = b->ndim - 1; i >= 0; i--) {
        b->strides[i] = stride;
        stride *= b->shape[i];
    }
    b->atomic_type = b->ndim == 1 ? atomic_code(format) : 0;
    return MC_OK;
}

int mc_buffer_wrap(const mc_buffer_options *o, mc_shared **out)
{
    mc_clear_error();
    if (!o || !out)
        return mc_fail(MC_EINVAL, "mc_buffer_wrap: options or out is NULL");
    if (!o->data && o->len)
        return mc_fail(MC_EINVAL, "mc_buffer_wrap: data is NULL but len is %zu", o->len);
    mc_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return mc_fail(MC_ENOMEM, "out of memory allocating a buffer");
    b->data = o->data;
    b->len = o->len;
    b->readonly = o->readonly != 0;
    int rc = set_layout(b, o->format ? o->format : "B", o->ndim, o->shape);
    if (rc != MC_OK) {
        free(b);
        return rc;
    }
    b->release = o->release;
    b->release_ctx = o->release_ctx;
    mc_shared_init(&b->base, MC_SHARED_BUFFER, buffer_destroy);
    *out = &b->base;
    return MC_OK;
}

int mc_array_new(char typecode, size_t length, mc_shared **out)
{
    mc_clear_error();
    if (!out)
        return mc_fail(MC_EINVAL, "mc_array_new: out is NULL");
    char format[2] = {typecode, 0};
    if (!typecode || !strchr("bBhHiIlLqQfd", typecode))
        return mc_fail(MC_EINVAL, "array typecode '%c' is not one of b B h H i I l L q Q f d", typecode ? typecode : '?');
    size_t itemsize = native_size(typecode);
    if (length > SIZE_MAX / itemsize)
        return mc_fail(MC_ENOMEM, "an array of %zu elements of %zu bytes is too large", length, itemsize);
    mc_buffer *b = calloc(1, sizeof *b);
    size_t bytes = length * itemsize;
    void *data = NULL;
    int owned = 1;
    if (b && bytes >= MC_ARRAY_MAP_BYTES) {
        data = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (data == MAP_FAILED)
            data = NULL;
        owned = 2;
    } else if (b && posix_memalign(&data, 64, bytes ? (bytes + 63) / 64 * 64 : 64) == 0) {
        /* 64-byte alignment: elements never straddle a cache line, so every
         * atomic is lock-free, and separate arrays never share one. */
        memset(data, 0, bytes);
    } else {
        data = NULL;
    }
    if (!data) {
        free(b);
        return mc_fail(MC_ENOMEM, "out of memory allocating an array of %zu bytes", bytes);
    }
    b->data = data;
    b->len = bytes;
    b->owned = owned;
    set_layout(b, format, 0, NULL);
    mc_shared_init(&b->base, MC_SHARED_BUFFER, buffer_destroy);
    *out = &b->base;
    return MC_OK;
}

int mc_buffer_info(const mc_shared *obj, void **data, size_t *len, const char **format, size_t *itemsize,
                   size_t *count)
{
    if (!mc_shared_valid(obj, MC_SHARED_BUFFER))
        return mc_fail(MC_EINVAL, "mc_buffer_info: not a buffer");
    const mc_buffer *b = (const mc_buffer *)obj;
    if (data)
        *data = b->data;
    if (len)
        *len = b->len;
    if (format)
        *format = b->format;
    if (itemsize)
        *itemsize = b->itemsize;
    if (count)
        *count = b->len / b->itemsize;
    return MC_OK;
}

int mc_buffer_get_number(const mc_buffer *b, size_t i, int64_t *iv, double *dv, int *is_float)
{
    const char *f = b->format;
    if (*f == '@' || *f == '=')
        f++;
    if (!f[0] || f[1] || b->ndim != 1)
        return mc_fail(MC_ETYPE, "format '%s' is not a single number per element", b->format);
    if (i >= (size_t)b->shape[0])
        return mc_fail(MC_ERANGE, "index %zu out of range for %zd elements", i, b->shape[0]);
    const char *p = (const char *)b->data + i * b->itemsize;
    *is_float = 0;
    switch (f[0]) {
    case 'b': *iv = __atomic_load_n((const int8_t *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'B': *iv = __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'h': *iv = __atomic_load_n((const int16_t *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'H': *iv = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'i': *iv = __atomic_load_n((const int32_t *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'I': *iv = __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'l': *iv = __atomic_load_n((const long *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'L': *iv = (int64_t)__atomic_load_n((const unsigned long *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'q': *iv = __atomic_load_n((const int64_t *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'Q': *iv = (int64_t)__atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED); return MC_OK;
    case 'f': {
        float v;
        memcpy(&v, p, sizeof v);
        *dv = v;
        *is_float = 1;
        return MC_OK;
    }
    case 'd':
        memcpy(dv, p, sizeof *dv);
        *is_float = 1;
        return MC_OK;
    default:
        return mc_fail(MC_ETYPE, "format '%s' is not a number", b->format);
    }
}

/* ---- atomics ----------------------------------------------------------- */

enum atomic_op { OP_LOAD, OP_STORE, OP_ADD, OP_XCHG, OP_CAS };

static int atomic_target(mc_shared *obj, size_t i, int writes, mc_buffer **out)
{
    mc_buffer *b = mc_buffer_of(obj);
    if (!b)
        return mc_fail(MC_EINVAL, "atomic operation on something that is not a shared buffer");
    if (!b->atomic_type)
        return mc_fail(MC_ETYPE, "atomic operations need a one-dimensional integer array, not format '%s'",
                       b->format);
    if (writes && b->readonly)
        return mc_fail(MC_EINVAL, "the buffer is read-only");
    if (i >= (size_t)b->shape[0])
        return mc_fail(MC_ERANGE, "index %zu out of range for %zd elements", i, b->shape[0]);
    if (((uintptr_t)b->data + i * b->itemsize) % b->itemsize)
        return mc_fail(MC_EINVAL, "element %zu is not aligned for atomic access", i);
    *out = b;
    return MC_OK;
}

/* One macro body per width keeps the five operations in one place. */
#define MC_ATOMIC_CASE(T)                                                                   \
    {                                                                                       \
        T *p = (T *)((char *)b->data + i * b->itemsize);                                    \
        T val = (T)v, exp;                                                                  \
        switch (op) {                                                                       \
        case OP_LOAD: *old = (int64_t)__atomic_load_n(p, __ATOMIC_SEQ_CST); break;          \
        case OP_STORE: __atomic_store_n(p, val, __ATOMIC_SEQ_CST); break;                   \
        case OP_ADD: *old = (int64_t)__atomic_fetch_add(p, val, __ATOMIC_SEQ_CST); break;   \
        case OP_XCHG: *old = (int64_t)__atomic_exchange_n(p, val, __ATOMIC_SEQ_CST); break; \
        case OP_CAS:                                                                        \
            exp = (T)*old;                                                                  \
            *swapped = __atomic_compare_exchange_n(p, &exp, (T)desired, 0, __ATOMIC_SEQ_CST, \
                                                   __ATOMIC_SEQ_CST);                       \
            *old = (int64_t)exp;                                                            \
            break;                                                                          \
        }                                                                                   \
        return MC_OK;                                                                       \
    }

static int atomic_apply(mc_shared *obj, size_t i, enum atomic_op op, int64_t v, int64_t desired, int64_t *old,
                        int *swapped)
{
    mc_buffer *b = NULL;
    int rc = atomic_target(obj, i, op != OP_LOAD, &b);
    if (rc != MC_OK)
        return rc;
    int64_t ignored = 0;
    int ignored_swap = 0;
    if (!old)
        old = &ignored;
    if (!swapped)
        swapped = &ignored_swap;
    switch (b->atomic_type) {
    case 'b': MC_ATOMIC_CASE(int8_t)
    case 'B': MC_ATOMIC_CASE(uint8_t)
    case 'h': MC_ATOMIC_CASE(int16_t)
    case 'H': MC_ATOMIC_CASE(uint16_t)
    case 'i': MC_ATOMIC_CASE(int32_t)
    case 'I': MC_ATOMIC_CASE(uint32_t)
    case 'l': MC_ATOMIC_CASE(long)
    case 'L': MC_ATOMIC_CASE(unsigned long)
    case 'q': MC_ATOMIC_CASE(int64_t)
    case 'Q': MC_ATOMIC_CASE(uint64_t)
    default: return mc_fail(MC_ETYPE, "no atomics for format '%s'", b->format);
    }
}

int mc_atomic_load(mc_shared *buf, size_t i, int64_t *out)
{
    if (!out)
        return mc_fail(MC_EINVAL, "mc_atomic_load: out is NULL");
    return atomic_apply(buf, i, OP_LOAD, 0, 0, out, NULL);
}

int mc_atomic_store(mc_shared *buf, size_t i, int64_t v)
{
    return atomic_apply(buf, i, OP_STORE, v, 0, NULL, NULL);
}

int mc_atomic_add(mc_shared *buf, size_t i, int64_t delta, int64_t *old)
{
    return atomic_apply(buf, i, OP_ADD, delta, 0, old, NULL);
}

int mc_atomic_exchange(mc_shared *buf, size_t i, int64_t v, int64_t *old)
{
    return atomic_apply(buf, i, OP_XCHG, v, 0, old, NULL);
}

int mc_atomic_compare_exchange(mc_shared *buf, size_t i, int64_t *expected, int64_t desired, int *swapped)
{
    if (!expected || !swapped)
        return mc_fail(MC_EINVAL, "mc_atomic_compare_exchange: expected or swapped is NULL");
    return atomic_apply(buf, i, OP_CAS, 0, desired, expected, swapped);
}
