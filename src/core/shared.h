/*
 * shared.h — reference-counted objects every interpreter reaches in place:
 * buffers (host memory or manycore-owned arrays) and channels.
 *
 * A shared object never moves and is never copied; interpreters and the
 * host each hold references (the Python wrappers in each interpreter hold
 * one apiece, a message in flight holds one per handle it carries). The last
 * reference destroys it, on whatever thread drops it.
 */
#ifndef MC_SHARED_H
#define MC_SHARED_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "manycore.h"

struct mc_shared {
    uint32_t magic;
    int kind;                          /* mc_shared_kind */
    atomic_long refs;
    void (*destroy)(mc_shared *self);  /* frees everything, self included */
};

/* Sets up the header of a new object with one reference. */
void mc_shared_init(mc_shared *obj, int kind, void (*destroy)(mc_shared *));
/* Checks a handle (non-NULL, live, and of `kind` unless kind is 0). */
int mc_shared_valid(const mc_shared *obj, int kind);
mc_shared *mc_shared_incref(mc_shared *obj);
void mc_shared_decref(mc_shared *obj);

/* A buffer: what the buffer protocol needs, kept stable for the life of
 * the object (shape and strides are ssize_t, which is Py_ssize_t). */
typedef struct mc_buffer {
    mc_shared base;
    void *data;
    size_t len;
    char format[32];
    size_t itemsize;
    int ndim;
    ssize_t shape[MC_MAX_DIMS];
    ssize_t strides[MC_MAX_DIMS];
    int readonly;
    int owned;                 /* mc_array_new's data: 1 malloc'd, 2 mapped */
    char atomic_type;          /* integer code usable by atomics, or 0 */
    mc_release_fn release;
    void *release_ctx;
} mc_buffer;

/* The size of one element of a struct-module format, or 0 if the format is
 * not one manycore understands (native or standard sizes, repeat counts,
 * pad bytes; no 's'/'p' strings, no nested brackets). */
size_t mc_format_itemsize(const char *format);

/* The buffer of a valid handle, or NULL. */
mc_buffer *mc_buffer_of(mc_shared *obj);

/* The value of element i of a single-typed buffer (integers and floats),
 * for indexing from Python without atomics. */
int mc_buffer_get_number(const mc_buffer *b, size_t i, int64_t *iv, double *dv, int *is_float);

#endif /* MC_SHARED_H */
