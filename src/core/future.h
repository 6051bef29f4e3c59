/*
 * future.h — the shared state of one task's outcome, between the thread that
 * submitted it and the worker that runs it.
 *
 * A future is reference-counted: the submitter holds one reference (dropped
 * by mc_future_free) and the queued task another (dropped when the task is
 * done or cancelled). Its life is PENDING → RUNNING → DONE, or PENDING →
 * DONE when cancelled; each step is one compare-and-swap, so a task ends
 * exactly once whichever thread gets there first.
 */
#ifndef MC_FUTURE_H
#define MC_FUTURE_H

#include <stdatomic.h>
#include <pthread.h>
#include <stddef.h>

#include "manycore.h"
#include "wire.h"

enum mc_future_state { MC_FUTURE_PENDING = 0, MC_FUTURE_RUNNING = 1, MC_FUTURE_DONE = 2 };

/* What a finished task left behind. The strings and byte blobs are malloc'd
 * and owned by the future once handed over. */
typedef struct mc_outcome {
    int code;                 /* MC_OK or an MC_E* outcome code */
    mc_msg result;            /* wire message when code == MC_OK */
    char *err_type;           /* when code is an error raised in the worker */
    char *err_message;
    char *err_traceback;
    mc_msg err_pickle;        /* the exception as a message, when it pickles */
} mc_outcome;

/* Called once, on the thread that ends the task, after the outcome is
 * published (used by the Python package to resolve concurrent.futures). */
typedef void (*mc_future_done_fn)(mc_future *fut, void *ctx);

struct mc_future {
    uint32_t magic;
    atomic_int refs;
    atomic_int state;
    atomic_int waiters;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    mc_outcome out;
    mc_value *decoded;        /* out.result decoded on first mc_future_result */
    mc_future_done_fn on_done;
    void *on_done_ctx;
    atomic_int running_worker; /* worker index while RUNNING, else -1 */
    mc_pool *pool;             /* set when queued; valid while the task runs */
    /* An interrupt asked for (MC_ECANCELLED or MC_ETIMEDOUT), 0 if none: set
     * before the engine is asked, so a worker that has not yet entered the
     * task's code raises it as it enters (no request can fall between). */
    atomic_int interrupt_reason;
};

/* A new PENDING future with two references: the caller's and the task's. */
int mc_future_create(mc_future **out);
/* Drops one reference; frees at zero. */
void mc_future_release(mc_future *fut);

/* PENDING → RUNNING by worker `worker`; 0 if the task was cancelled first. */
int mc_future_start(mc_future *fut, int worker);
/* Publishes the outcome (taking ownership of its buffers) and wakes waiters.
 * Called once per future, by whoever ends it. */
void mc_future_finish(mc_future *fut, mc_outcome *out);
/* PENDING → DONE(MC_ECANCELLED); 1 if it was cancelled by this call. */
int mc_future_try_cancel(mc_future *fut);
/* Sets the completion callback (one per future: MC_EBUSY, and fn not
 * called, if one is set already); if the future is already done the
 * callback runs at once on this thread. */
int mc_future_on_done(mc_future *fut, mc_future_done_fn fn, void *ctx);

/* Frees an outcome's buffers. */
void mc_outcome_clear(mc_outcome *out);

/* Sets *out to an error outcome with a copy of the strings (NULL allowed). */
void mc_outcome_set_error(mc_outcome *out, int code, const char *type,
                          const char *message, const char *traceback);

#endif /* MC_FUTURE_H */
