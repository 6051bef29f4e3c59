/*
 * pool.h — the core of a pool: worker threads, the task queue, lifecycle.
 *
 * The core knows nothing of Python. What a worker does with a task is an
 * engine's business: src/interp/worker.c supplies the engine that gives each
 * worker thread its own subinterpreter; tests supply plain-C engines, so the
 * threading and lifecycle run under ThreadSanitizer without Python.
 *
 * Threads: each worker thread calls engine->start once, then engine->run for
 * each task it takes (with no lock held), then engine->stop, all on that same
 * thread, which is what one-interpreter-per-thread needs.
 */
#ifndef MC_POOL_H
#define MC_POOL_H

#include "task_queue.h"

typedef struct mc_engine {
    /* Prepares worker `index` of `pool` on its own thread. Returns 0 and
     * sets *state, or an MC_E* code and a malloc'd message in *errmsg. */
    int (*start)(void *ctx, mc_pool *pool, int index, void **state, char **errmsg);
    /* Runs one task; must call mc_future_finish on task->future exactly once
     * (the core frees the task afterwards). */
    void (*run)(void *state, mc_task *task);
    /* Ends the worker, on the same thread as start. */
    void (*stop)(void *state);
    /* Frees ctx when the pool is freed (may be NULL). */
    void (*destroy)(void *ctx);
    /* Makes the task of `fut`, if worker `state` is still running it, stop:
     * reason MC_ECANCELLED (mc_future_interrupt) or MC_ETIMEDOUT (its
     * timeout). Called from any thread; MC_OK if delivered, MC_EBUSY if the
     * task was no longer running there. May be NULL (not supported). */
    int (*interrupt)(void *state, mc_future *fut, int reason);
} mc_engine;

/* Creates a pool of `workers` threads driven by engine, returns once all are
 * started (or shuts the others down and fails with the first error). On
 * failure engine->destroy(ctx) has been called. */
int mc_pool_create(const mc_engine *engine, void *ctx, int workers, mc_pool **out);

/* Queues a task (taking ownership of it in every case). MC_ECLOSED when the
 * pool is shut down: the task's future is then left unfinished and freed
 * with the task. */
int mc_pool_enqueue(mc_pool *pool, mc_task *task);

/* Interrupts the running task of fut (see mc_engine.interrupt). */
int mc_pool_interrupt(mc_pool *pool, mc_future *fut, int reason);

/* Index of the pool worker running on this thread, or -1. */
int mc_pool_current_worker(void);
/* The pool whose worker runs on this thread, or NULL. */
mc_pool *mc_pool_current(void);

/* Checks a handle; 0 if it is not a live pool. */
int mc_pool_valid(const mc_pool *pool);

/* The engine context of a pool (for the interp bridge). */
void *mc_pool_engine_ctx(mc_pool *pool);

/* A new reference to the object published under name, or MC_ENOTFOUND. */
int mc_pool_lookup(mc_pool *pool, const char *name, mc_shared **out);
/* The published names, as a malloc'd NULL-terminated array of malloc'd
 * strings (free each, then the array). */
int mc_pool_names(mc_pool *pool, char ***out);
/* The host function registered under name, or MC_ENOTFOUND. */
int mc_pool_host_function(mc_pool *pool, const char *name, mc_host_fn *fn, void **ctx);

/* Number of online CPUs (at least 1). */
int mc_cpu_count(void);

#endif /* MC_POOL_H */
