/*
 * manycore.h — Python on every core of one process.
 *
 * manycore runs a pool of isolated CPython interpreters, one per worker
 * thread, each with its own GIL, so pure-Python code runs truly in parallel
 * inside one process. A C or C++ host uses it through this header alone: it
 * never includes Python.h, never holds a GIL and never counts a Python
 * reference.
 *
 * The pieces:
 *
 *   mc_pool    a set of worker threads, each owning one subinterpreter.
 *   mc_future  the pending outcome of one task submitted to a pool.
 *   mc_value   a plain-data value (None, bool, int, float, str, bytes, list,
 *              tuple, dict, set) that a host builds for arguments and reads
 *              back from results. Values travel to and from the workers in
 *              manycore's wire format; no Python object ever crosses from
 *              one interpreter to another.
 *
 * Conventions (they hold for every function below unless it says otherwise):
 *
 *   - Functions return an int: 0 (MC_OK) on success, a negative MC_E* code on
 *     failure. mc_strerror() names a code; mc_errmsg() gives the detailed
 *     message of the last failure on the calling thread.
 *   - Objects come back through an out-parameter, which is set only on
 *     success; nothing returns a half-made object.
 *   - *_new / *_open hand you a reference you must *_free / *_close. *_get
 *     borrows: the pointer stays valid as long as the object it came from.
 *   - Every function checks its arguments: NULL or foreign handles give
 *     MC_EINVAL, never a crash.
 *   - Unless a function says otherwise it may be called from any thread.
 *
 * A minimal host:
 *
 *     mc_pool *pool;
 *     mc_future *fut;
 *     mc_value *args;
 *     const mc_value *res;
 *     int64_t n;
 *     mc_pool_open(NULL, &pool);                        // one worker per CPU
 *     mc_value_pack(&args, "(i)", (int64_t)30);
 *     mc_pool_submit_call(pool, "math:factorial", args, NULL, &fut);
 *     mc_value_free(args);
 *     if (mc_future_wait(fut, -1) == MC_OK && mc_future_result(fut, &res) == MC_OK)
 *         mc_value_get_int(res, &n);                    // or mc_value_get_bigint
 *     mc_future_free(fut);
 *     mc_pool_close(pool, MC_CLOSE_WAIT);
 */
#ifndef MANYCORE_H
#define MANYCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(MC_STATIC)
#define MC_API __attribute__((visibility("default")))
#else
#define MC_API
#endif

/* ------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------ */

#define MC_VERSION_MAJOR 0
#define MC_VERSION_MINOR 1
#define MC_VERSION_PATCH 0
#define MC_VERSION_STRING "0.1.0"
/* MC_VERSION_NUMBER is MAJOR*10000 + MINOR*100 + PATCH. */
#define MC_VERSION_NUMBER (MC_VERSION_MAJOR * 10000 + MC_VERSION_MINOR * 100 + MC_VERSION_PATCH)

/* The version of the library actually linked, as "MAJOR.MINOR.PATCH". */
MC_API const char *mc_version(void);

/* The version of CPython the library was built against, e.g. "3.13.5". */
MC_API const char *mc_python_version(void);

/* ------------------------------------------------------------------------
 * Result codes
 * ------------------------------------------------------------------------ */

#define MC_OK          0   /* success */
#define MC_EINVAL     -1   /* a NULL, malformed or foreign argument */
#define MC_ENOMEM     -2   /* out of memory */
#define MC_ECLOSED    -3   /* the pool has been shut down */
#define MC_ETIMEDOUT  -4   /* the wait ended before the task did */
#define MC_ECANCELLED -5   /* the task was cancelled before it started */
#define MC_EPYTHON    -6   /* the task raised a Python exception (see mc_future_error) */
#define MC_ENOTFOUND  -7   /* the named callable could not be imported or found */
#define MC_ESYNTAX    -8   /* the submitted source code does not compile */
#define MC_EENCODE    -9   /* a value cannot be carried in the wire format */
#define MC_EWIRE     -10   /* a message in the wire format is malformed */
#define MC_ETYPE     -11   /* a value has another type than the call expects */
#define MC_ERANGE    -12   /* an index or number is out of range */
#define MC_EBUSY     -13   /* the object is in use (a running task, an open pool) */
#define MC_EPENDING  -14   /* the task has not finished yet */
#define MC_ESTART    -15   /* Python or a worker interpreter could not start */
#define MC_ESYSTEM   -16   /* an operating-system call failed (threads, clocks) */

/* A short, static, English description of a result code ("timed out").
 * Never NULL: unknown codes give "unknown error code". */
MC_API const char *mc_strerror(int code);

/* The detailed message of the last failing manycore call on this thread,
 * e.g. "callable name 'mathfactorial' has no ':' (write 'module:qualname')".
 * Thread-local, valid until the next manycore call on this thread; "" when
 * the last call succeeded or set no detail. Never NULL. */
MC_API const char *mc_errmsg(void);

/* ------------------------------------------------------------------------
 * Values: building arguments and reading results without Python
 * ------------------------------------------------------------------------ */

typedef struct mc_value mc_value;
struct mc_shared;

typedef enum mc_type {
    MC_TYPE_NONE = 0,
    MC_TYPE_BOOL,
    MC_TYPE_INT,     /* any size: read with mc_value_get_int or _get_bigint */
    MC_TYPE_FLOAT,
    MC_TYPE_STR,     /* UTF-8 */
    MC_TYPE_BYTES,
    MC_TYPE_LIST,
    MC_TYPE_TUPLE,
    MC_TYPE_DICT,
    MC_TYPE_SET,
    MC_TYPE_OBJECT,  /* another Python object, carried pickled; opaque to C */
    MC_TYPE_SHARED   /* a shared buffer, array or channel, carried by handle */
} mc_type;

/* Scalars. Each makes a new value in *out, which the caller frees with
 * mc_value_free (or hands to a container, which then owns it). */
MC_API int mc_value_new_none(mc_value **out);
MC_API int mc_value_new_bool(int truth, mc_value **out);
MC_API int mc_value_new_int(int64_t v, mc_value **out);
/* An integer of any size from its decimal text: optional sign, then digits
 * ("-123456789012345678901234567890"). MC_EINVAL on anything else. */
MC_API int mc_value_new_bigint(const char *decimal, mc_value **out);
MC_API int mc_value_new_float(double v, mc_value **out);
/* A str from UTF-8 text. len is in bytes; pass MC_NUL_TERMINATED to use
 * strlen(utf8). Invalid UTF-8 (or surrogates) gives MC_EINVAL. The bytes are
 * copied. */
MC_API int mc_value_new_str(const char *utf8, size_t len, mc_value **out);
#define MC_NUL_TERMINATED ((size_t)-1)
/* A bytes value; the len bytes at data are copied (data may be NULL if len
 * is 0). */
MC_API int mc_value_new_bytes(const void *data, size_t len, mc_value **out);

/* Empty containers; fill them with mc_value_append / mc_value_dict_set. */
MC_API int mc_value_new_list(mc_value **out);
MC_API int mc_value_new_tuple(mc_value **out);
MC_API int mc_value_new_dict(mc_value **out);
MC_API int mc_value_new_set(mc_value **out);

/* Appends item to a list, tuple or set. Takes ownership of item in every
 * case, also on failure (so `mc_value_append(l, x)` never leaks x). A value
 * may be in only one container: adding it twice is MC_EINVAL. */
MC_API int mc_value_append(mc_value *container, mc_value *item);

/* Adds key: val to a dict (keys are not checked for uniqueness here; the
 * receiving interpreter keeps the last). Takes ownership of key and val in
 * every case. */
MC_API int mc_value_dict_set(mc_value *dict, mc_value *key, mc_value *val);

/* Builds a value from a format, like Python's Py_BuildValue:
 *
 *   n  None                 b  bool from int          i  int from int64_t
 *   d  float from double    s  str from const char* (UTF-8, NUL-terminated)
 *   y  bytes from (const void*, size_t)               I  int from decimal text
 *   (...)  tuple            [...]  list               {k:v, ...}  dict
 *   V  an mc_value* the result takes ownership of (even on failure)
 *
 * Spaces, commas and colons are ignored. The format must describe exactly
 * one value, e.g. mc_value_pack(&v, "(is{s:d})", (int64_t)1, "a", "x", 2.0).
 * Integers for 'i' must be passed as int64_t and 'b' as int. */
MC_API int mc_value_pack(mc_value **out, const char *format, ...);

/* A value that carries a shared object (buffer, array, channel) by handle:
 * the value takes its own reference, the caller keeps theirs. Such values
 * travel in task arguments, results, host-function calls and channel
 * messages; mc_value_encode refuses them (MC_EENCODE), as plain bytes cannot
 * hold a reference. */
MC_API int mc_value_new_shared(struct mc_shared *obj, mc_value **out);
/* Borrows the shared object of an MC_TYPE_SHARED value (valid while the
 * value lives; take your own with mc_shared_ref). */
MC_API int mc_value_get_shared(const mc_value *v, struct mc_shared **obj);

/* Frees a value and everything it contains. NULL is a no-op. Do not free a
 * value a container owns, nor one borrowed from a future. */
MC_API void mc_value_free(mc_value *v);

/* The type of v; MC_TYPE_NONE for NULL. */
MC_API mc_type mc_value_type(const mc_value *v);

/* The name of a type ("int", "dict", ...). */
MC_API const char *mc_type_name(mc_type t);

/* Readers. Each checks the type and returns MC_ETYPE on a mismatch. */
MC_API int mc_value_get_bool(const mc_value *v, int *out);
/* MC_ERANGE if the int does not fit int64_t (read it with _get_bigint). */
MC_API int mc_value_get_int(const mc_value *v, int64_t *out);
/* The decimal text of any int, borrowed from v (valid while v lives). */
MC_API int mc_value_get_bigint(const mc_value *v, const char **decimal);
/* A float, or an int converted to double (MC_ERANGE if it overflows). */
MC_API int mc_value_get_float(const mc_value *v, double *out);
/* Borrowed UTF-8 text, NUL-terminated; *len (if not NULL) gets its length
 * in bytes, which counts embedded NULs. */
MC_API int mc_value_get_str(const mc_value *v, const char **utf8, size_t *len);
MC_API int mc_value_get_bytes(const mc_value *v, const void **data, size_t *len);

/* Number of items in a list, tuple, set or dict (pairs); 0 for others. */
MC_API size_t mc_value_len(const mc_value *v);
/* Borrows item i of a list, tuple or set. MC_ERANGE past the end. */
MC_API int mc_value_get_item(const mc_value *v, size_t i, const mc_value **out);
/* Borrows pair i of a dict, in insertion order. */
MC_API int mc_value_get_pair(const mc_value *dict, size_t i,
                             const mc_value **key, const mc_value **val);
/* Borrows the value for a str key in a dict; MC_ENOTFOUND if absent. */
MC_API int mc_value_dict_get(const mc_value *dict, const char *key, const mc_value **out);

/* Encodes v in the wire format into a new malloc'd buffer *data of *len
 * bytes (free it with mc_free). Mostly for tools and tests. */
MC_API int mc_value_encode(const mc_value *v, void **data, size_t *len);
/* Decodes one wire-format message. Untrusted input is fine: every length is
 * checked and nesting is bounded (MC_EWIRE with a detail in mc_errmsg). */
MC_API int mc_value_decode(const void *data, size_t len, mc_value **out);

/* Frees memory manycore handed to the caller (mc_value_encode's buffer). */
MC_API void mc_free(void *p);

/* ------------------------------------------------------------------------
 * Pools
 * ------------------------------------------------------------------------ */

typedef struct mc_pool mc_pool;
typedef struct mc_future mc_future;

/* Options for mc_pool_open. Zero-initialise the struct (`mc_pool_options o =
 * {0};`) and set what you need; new fields are added at the end and zero
 * always means the default. */
typedef struct mc_pool_options {
    /* Number of worker threads, each with its own interpreter.
     * 0: one per online CPU. */
    int workers;
    /* Python source run once in every worker's __main__ when it starts,
     * before any task (imports, globals, helper functions). NULL: none. If it
     * raises in any worker, mc_pool_open fails with MC_ESTART and mc_errmsg
     * holds the worker's traceback. */
    const char *init_source;
    /* Extra directories put in front of sys.path in every worker,
     * NULL-terminated array. NULL: none. */
    const char *const *sys_path;
} mc_pool_options;

/* Opens a pool: starts the workers, each on its own thread and in parallel,
 * each creating an isolated subinterpreter with its own GIL, and returns
 * once every one is ready to run tasks (or one failed: MC_ESTART, and no
 * pool is returned).
 *
 * If the process has not started Python, manycore starts it (with the host's
 * signal handlers left alone) and keeps it running until mc_shutdown(). If
 * the host or a Python program already started Python, that interpreter is
 * used. The calling thread may hold a GIL: every blocking manycore call
 * (mc_pool_open, mc_pool_shutdown, mc_future_wait once it stops spinning)
 * releases it while it waits and takes it back before returning, because
 * workers need the main interpreter's GIL for a moment when they first
 * import some built-in modules. Another thread must not hold the main GIL
 * for ever.
 *
 * options may be NULL for all defaults. Returns MC_EINVAL for bad options,
 * MC_ESTART when Python or a worker cannot start (see mc_errmsg). */
MC_API int mc_pool_open(const mc_pool_options *options, mc_pool **out);

/* What mc_pool_shutdown / mc_pool_close do with tasks still queued. */
typedef enum mc_close_mode {
    MC_CLOSE_WAIT = 0,   /* run every queued task, then stop */
    MC_CLOSE_CANCEL = 1  /* cancel queued tasks (they end MC_ECANCELLED) */
} mc_close_mode;

/* Stops the pool: new submissions fail with MC_ECLOSED from now on; queued
 * tasks run or are cancelled as mode says; running tasks finish; each worker
 * then ends its interpreter and its thread is joined. The handle stays
 * valid (for mc_pool_* calls that then return MC_ECLOSED) until
 * mc_pool_close. Calling it twice is harmless. Must not be called from
 * inside a task. */
MC_API int mc_pool_shutdown(mc_pool *pool, mc_close_mode mode);

/* mc_pool_shutdown(pool, mode) if not done yet, then frees the handle.
 * Futures already handed out stay valid until each is freed. NULL is a
 * no-op returning MC_OK. */
MC_API int mc_pool_close(mc_pool *pool, mc_close_mode mode);

/* Number of workers of an open pool (0 for NULL or a closed pool). */
MC_API int mc_pool_workers(const mc_pool *pool);

/* Submits a call of a Python callable, named "package.module:qualname"
 * ("math:factorial", "mypkg.shapes:Mesh.area"; "__main__:f" names a
 * function defined by init_source or an mc_pool_submit_exec). The worker
 * imports the module once and caches the callable.
 *
 * args is a tuple or list of positional arguments, or NULL for none; kwargs
 * a dict with str keys, or NULL. Both are only read (encoded at once): the
 * caller still owns them and may free them when this returns.
 *
 * On success *out gets a future the caller must mc_future_free. Errors:
 * MC_EINVAL (malformed name, args not a tuple/list, kwargs not a dict),
 * MC_ECLOSED, MC_ENOMEM. A name that is well formed but cannot be imported
 * or found is reported by the future: mc_future_wait returns MC_ENOTFOUND. */
MC_API int mc_pool_submit_call(mc_pool *pool, const char *callable,
                               const mc_value *args, const mc_value *kwargs,
                               mc_future **out);

/* Options for mc_pool_submit_call_ex. Zero-initialise; zero means default. */
typedef struct mc_call_options {
    /* > 0: once the task has run this many milliseconds, TimeoutError is
     * raised inside its Python code (at its next bytecode boundary: a
     * blocking C call such as time.sleep finishes first). The worker
     * survives and takes the next task. */
    long timeout_ms;
} mc_call_options;

/* mc_pool_submit_call with options (options may be NULL). */
MC_API int mc_pool_submit_call_ex(mc_pool *pool, const char *callable, const mc_value *args,
                                  const mc_value *kwargs, const mc_call_options *options,
                                  mc_future **out);

/* Submits Python source code, run in the executing worker's __main__
 * namespace (so definitions persist in that worker). If the last statement
 * is an expression its value is the task's result, as in an interactive
 * session ("import os\nos.cpu_count()" gives the CPU count); otherwise the
 * result is None. Source that does not compile ends the task with MC_ESYNTAX; the
 * SyntaxError's details are in mc_future_error. */
MC_API int mc_pool_submit_exec(mc_pool *pool, const char *source, mc_future **out);

/* Finalizes the Python interpreter manycore started, if it started one and no
 * pool is open (MC_EBUSY otherwise); afterwards no pool can be opened again
 * in this process (MC_ECLOSED). Call it, if at all, at the end of the
 * program from the thread that opened the first pool; it is a no-op when the
 * host started Python itself. */
MC_API int mc_shutdown(void);

/* ------------------------------------------------------------------------
 * Futures
 * ------------------------------------------------------------------------ */

/* Waits until the task ends or timeout_ms milliseconds pass (a negative
 * timeout waits for ever, 0 only polls). Returns the task's outcome:
 *
 *   MC_OK         it returned; read the value with mc_future_result
 *   MC_EPYTHON    it raised; read it with mc_future_error
 *   MC_ENOTFOUND  its callable could not be imported or found (details in
 *                 mc_future_error, e.g. ModuleNotFoundError)
 *   MC_ESYNTAX    its source did not compile (details in mc_future_error)
 *   MC_EENCODE    its result could not be sent back (details likewise)
 *   MC_ECANCELLED it was cancelled before it started
 *   MC_ETIMEDOUT  it has not ended yet
 *
 * Any number of threads may wait on one future at once. */
MC_API int mc_future_wait(mc_future *fut, long timeout_ms);

/* Non-zero when the task has ended (in any way). */
MC_API int mc_future_done(const mc_future *fut);

/* Borrows the task's result (decoded once, owned by the future). MC_EPENDING
 * if it has not ended; otherwise the outcome code as mc_future_wait gives it
 * when there is no result. */
MC_API int mc_future_result(mc_future *fut, const mc_value **result);

/* Borrows the error of a task that failed: the exception's type name
 * ("ZeroDivisionError", "mypkg.errors.PlanError"), its message (str(exc))
 * and the traceback formatted in the worker, as Python prints it. Any out
 * pointer may be NULL. MC_EPENDING if the task has not ended, MC_EINVAL if
 * it succeeded or was cancelled (nothing to report). */
MC_API int mc_future_error(const mc_future *fut, const char **type,
                           const char **message, const char **traceback);

/* Cancels a task that has not started: it will never run and the future
 * ends with MC_ECANCELLED. MC_EBUSY if it is already running or has ended. */
MC_API int mc_future_cancel(mc_future *fut);

/* Stops a task that is already running: concurrent.futures.CancelledError
 * is raised inside its Python code (at its next bytecode boundary; code that
 * catches it goes on), so it ends with MC_EPYTHON unless it handles the
 * exception; its worker survives. A task still queued is cancelled as by
 * mc_future_cancel. MC_EBUSY if it has already ended. It waits for the
 * worker's interpreter to let go of its GIL: the next switch interval
 * (5 ms), or longer while a C call in the task holds the GIL. Safe against
 * the task ending and against mc_pool_shutdown; not to be called
 * concurrently with mc_pool_close, which frees the pool. */
MC_API int mc_future_interrupt(mc_future *fut);

/* Releases the caller's reference. A task still queued or running goes on;
 * its outcome is dropped. NULL is a no-op. */
MC_API void mc_future_free(mc_future *fut);


/* ------------------------------------------------------------------------
 * Shared objects: memory and channels every interpreter reaches in place
 * ------------------------------------------------------------------------
 *
 * An mc_shared is a reference-counted C object: a buffer (host memory, or an
 * array manycore allocated) or a channel. It is never copied: each
 * interpreter that receives one wraps the same object in a fresh Python
 * object of its own, so a 1 GiB buffer costs 1 GiB whatever the number of
 * workers. All mc_shared functions may be called from any thread. */

typedef struct mc_shared mc_shared;

typedef enum mc_shared_kind {
    MC_SHARED_BUFFER = 1,
    MC_SHARED_CHANNEL = 2
} mc_shared_kind;

/* Called exactly once, on whichever thread drops the last reference (a host
 * thread or a worker), after no interpreter can reach the memory any more. */
typedef void (*mc_release_fn)(void *ctx, void *data);

#define MC_MAX_DIMS 8

/* Describes host memory to share. Zero-initialise, then set what you need. */
typedef struct mc_buffer_options {
    void *data;            /* first byte; NULL only if len is 0 */
    size_t len;            /* bytes */
    /* One element in `struct` notation ("B", "f", "<i", "3f", "=fff"):
     * what memoryview(x).format reports. NULL: "B" (bytes). */
    const char *format;
    int ndim;              /* 0: one dimension of len / itemsize elements */
    const size_t *shape;   /* ndim extents whose product * itemsize == len */
    int readonly;          /* non-zero: workers cannot write */
    mc_release_fn release; /* may be NULL: the host frees the memory itself */
    void *release_ctx;
} mc_buffer_options;

/* Wraps host memory in a shared buffer (no copy). The host must keep the
 * memory valid until `release` runs (or, without one, until every
 * reference is gone). MC_EINVAL if the format is not a valid struct format,
 * the shape does not match len, or ndim is out of 0..MC_MAX_DIMS. */
MC_API int mc_buffer_wrap(const mc_buffer_options *options, mc_shared **out);

/* A new zero-filled array owned by manycore: `length` elements of the
 * `array`-module typecode b B h H i I l L q Q f d (signed/unsigned 8- to
 * 64-bit integers, 32- and 64-bit floats), writable and aligned for
 * atomics. */
MC_API int mc_array_new(char typecode, size_t length, mc_shared **out);

/* Another reference to obj (for another owner); free each with
 * mc_shared_free. */
MC_API int mc_shared_ref(mc_shared *obj, mc_shared **out);
/* Drops one reference; the last one destroys the object (and runs a
 * buffer's release callback). NULL is a no-op. */
MC_API void mc_shared_free(mc_shared *obj);
/* The kind of obj, or 0 for NULL/foreign pointers. */
MC_API int mc_shared_get_kind(const mc_shared *obj);

/* A buffer's memory: data pointer, length in bytes, element format, item
 * size and number of elements (len / itemsize). Any out pointer may be NULL. */
MC_API int mc_buffer_info(const mc_shared *buf, void **data, size_t *len, const char **format,
                          size_t *itemsize, size_t *count);

/* Atomic operations on element i of a writable buffer whose format is a
 * single native integer ("b", "B", "h", "H", "i", "I", "l", "L", "q", "Q",
 * optionally with "@" or "="), sequentially consistent. Values are carried
 * in int64_t (unsigned 64-bit elements are reinterpreted). MC_ETYPE for
 * float or structured formats, MC_EINVAL for read-only buffers, MC_ERANGE
 * for i out of range. */
MC_API int mc_atomic_load(mc_shared *buf, size_t i, int64_t *out);
MC_API int mc_atomic_store(mc_shared *buf, size_t i, int64_t v);
/* Adds delta (wrapping at the element's width); *old (may be NULL) gets the
 * previous value. */
MC_API int mc_atomic_add(mc_shared *buf, size_t i, int64_t delta, int64_t *old);
MC_API int mc_atomic_exchange(mc_shared *buf, size_t i, int64_t v, int64_t *old);
/* If element i equals *expected, stores desired and returns MC_OK with
 * *swapped = 1; otherwise *expected gets the current value and *swapped 0. */
MC_API int mc_atomic_compare_exchange(mc_shared *buf, size_t i, int64_t *expected, int64_t desired,
                                      int *swapped);

/* Publishes obj in a pool under name: every worker then reaches it as
 * manycore.shared["name"]. The pool takes its own reference (replacing and
 * dropping a previous object of that name). Names are 1-200 bytes. */
MC_API int mc_pool_publish(mc_pool *pool, const char *name, mc_shared *obj);
/* Removes a name (MC_ENOTFOUND if absent); workers that already hold the
 * object keep it. */
MC_API int mc_pool_unpublish(mc_pool *pool, const char *name);

/* ------------------------------------------------------------------------
 * Host functions: native callbacks Python code calls in the workers
 * ------------------------------------------------------------------------ */

/* A host function. args is the tuple of positional arguments (borrowed);
 * on success set *result to a new value (or leave it NULL for None) and
 * return MC_OK; on failure return an MC_E* code, optionally with a message
 * set through mc_host_fail, and the Python caller gets manycore.HostError
 * with that message.
 *
 * Contract: callbacks run on worker threads, several at once (one per
 * worker calling it), with that worker's GIL released: make them
 * thread-safe, and never call back into manycore's pool functions for the
 * same pool from them (waiting on a task of the same pool may deadlock). */
typedef int (*mc_host_fn)(void *ctx, const mc_value *args, mc_value **result);

/* Registers fn under name (a Python identifier); workers call it as
 * manycore.host.name(*args). Re-registering a name replaces it for later
 * calls. ctx is passed to every call. */
MC_API int mc_pool_register(mc_pool *pool, const char *name, mc_host_fn fn, void *ctx);

/* Inside a host function: records the message the Python caller will see
 * and returns code, e.g. `return mc_host_fail(MC_EINVAL, "z %g is above the
 * mesh", z);`. */
MC_API int mc_host_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ------------------------------------------------------------------------
 * Channels: bounded multi-producer multi-consumer queues of values
 * ------------------------------------------------------------------------
 *
 * A channel is a shared object: send it to tasks, publish it, put it in
 * another channel. Blocking calls sleep on a condition variable (never a
 * polling loop) and release a GIL the caller holds. Timeouts are in
 * milliseconds, negative for ever, 0 to try once. */

/* A new channel holding at most capacity (>= 1) messages. */
MC_API int mc_channel_new(size_t capacity, mc_shared **out);
/* Sends a copy of v (encoded at once; v stays the caller's). MC_ECLOSED if
 * the channel is closed, MC_ETIMEDOUT if it stayed full. */
MC_API int mc_channel_send(mc_shared *ch, const mc_value *v, long timeout_ms);
/* Receives the next message into a new value (*out, free it). MC_ECLOSED
 * once the channel is closed and drained, MC_ETIMEDOUT if it stayed empty. */
MC_API int mc_channel_recv(mc_shared *ch, mc_value **out, long timeout_ms);
/* Closes: later sends fail, receivers drain what is queued and then get
 * MC_ECLOSED; every blocked sender and receiver wakes. Idempotent. */
MC_API int mc_channel_close(mc_shared *ch);
/* Receives from whichever of n channels has a message first (*index says
 * which). MC_ECLOSED only when every channel is closed and drained. */
MC_API int mc_channel_select(mc_shared *const *chs, size_t n, long timeout_ms, size_t *index,
                             mc_value **out);
/* Messages queued now (a snapshot). */
MC_API size_t mc_channel_len(const mc_shared *ch);

#ifdef __cplusplus
}
#endif

#endif /* MANYCORE_H */
