/*
 * pool.c — worker threads and the lifecycle of a pool, engine-agnostic.
 *
 * Who owns what: the pool owns its threads and its queue; each worker thread
 * owns its engine state (for Python: its subinterpreter) from start to stop;
 * a queued task owns one reference to its future. Every task ends exactly
 * once: run by a worker, or cancelled by mc_future_cancel or by a shutdown
 * with MC_CLOSE_CANCEL; a submission that loses the race with shutdown is
 * refused with MC_ECLOSED, never silently queued.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spin.h"
#include "blocking.h"
#include "error.h"
#include "pool.h"
#include "registry.h"
#include "shared.h"

#define MC_POOL_MAGIC 0x6d63506fu /* "mcPo" */
#define MC_POOL_DEAD 0xdeadbeefu
#define MC_WORKER_STACK (8u << 20)

typedef struct worker_slot {
    mc_pool *pool;
    int index;
    void *state;
    /* The running task's deadline, for the watchdog (under watch_lock). */
    mc_future *timed;          /* referenced while set */
    long long deadline_ns;
    /* Interrupts in flight into this worker, and whether it is ending (both
     * under watch_lock): a worker waits for interrupts to leave before it
     * ends its interpreter, and none may enter afterwards. */
    int interrupting;
    int stopping;
} worker_slot;

struct mc_pool {
    uint32_t magic;
    mc_engine engine;
    void *ctx;
    int nworkers;
    pthread_t *threads;
    worker_slot *slots;
    mc_task_queue queue;
    atomic_int shut_down;         /* set once shutdown has begun */
    pthread_mutex_t life_lock;    /* start barrier; serialises shutdown */
    pthread_cond_t life_cond;
    int reported;                 /* workers that finished start (ok or not) */
    int start_rc;                 /* first start failure */
    char *start_errmsg;
    int joined;
    mc_registry names;            /* published objects, host functions */
    /* The watchdog interrupts tasks that outlive their timeout. Started on
     * the first task that has one, so pools that never time out pay
     * nothing. */
    pthread_mutex_t watch_lock;
    pthread_cond_t watch_cond;
    pthread_t watchdog;
    int watchdog_started;
    int watchdog_stop;
};

static _Thread_local worker_slot *current_slot;

int mc_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int mc_pool_valid(const mc_pool *pool)
{
    return pool && pool->magic == MC_POOL_MAGIC;
}

int mc_pool_current_worker(void)
{
    return current_slot ? current_slot->index : -1;
}

mc_pool *mc_pool_current(void)
{
    return current_slot ? current_slot->pool : NULL;
}

void *mc_pool_engine_ctx(mc_pool *pool)
{
    return pool->ctx;
}

static void report_start(mc_pool *pool, int rc, char *errmsg)
{
    pthread_mutex_lock(&pool->life_lock);
    if (rc != MC_OK && pool->start_rc == MC_OK) {
        pool->start_rc = rc;
        pool->start_errmsg = errmsg;
        errmsg = NULL;
    }
    pool->reported++;
    pthread_cond_broadcast(&pool->life_cond);
    pthread_mutex_unlock(&pool->life_lock);
    free(errmsg);
}

static void *watchdog_main(void *arg);

/* Records the request in the future, then asks the engine; the caller has
 * counted itself in slot->interrupting. */
static int deliver(mc_pool *pool, worker_slot *slot, mc_future *fut, int reason)
{
    int none = 0;
    atomic_compare_exchange_strong(&fut->interrupt_reason, &none, reason);
    return pool->engine.interrupt ? pool->engine.interrupt(slot->state, fut, reason) : MC_EBUSY;
}

/* Arms (fut != NULL) or disarms this worker's deadline. */
static void watch(worker_slot *slot, mc_future *fut, long timeout_ms)
{
    mc_pool *pool = slot->pool;
    mc_future *old;
    pthread_mutex_lock(&pool->watch_lock);
    old = slot->timed;
    slot->timed = fut;
    if (fut) {
        atomic_fetch_add(&fut->refs, 1);
        slot->deadline_ns = mc_now_ns() + (long long)timeout_ms * 1000000LL;
        if (!pool->watchdog_started &&
            pthread_create(&pool->watchdog, NULL, watchdog_main, pool) == 0)
            pool->watchdog_started = 1;
        pthread_cond_broadcast(&pool->watch_cond);
    }
    pthread_mutex_unlock(&pool->watch_lock);
    if (old)
        mc_future_release(old);
}

static void *watchdog_main(void *arg)
{
    mc_pool *pool = arg;
    pthread_mutex_lock(&pool->watch_lock);
    while (!pool->watchdog_stop) {
        long long now = mc_now_ns(), next = 0;
        worker_slot *due = NULL;
        for (int i = 0; i < pool->nworkers; i++) {
            worker_slot *s = &pool->slots[i];
            if (!s->timed)
                continue;
            if (s->deadline_ns <= now) {
                due = s;
                break;
            }
            if (!next || s->deadline_ns < next)
                next = s->deadline_ns;
        }
        if (due) {
            /* Interrupt outside the lock: it may wait for the worker's GIL. */
            mc_future *fut = due->timed;
            due->timed = NULL;
            if (!due->stopping) {
                due->interrupting++;
                pthread_mutex_unlock(&pool->watch_lock);
                deliver(pool, due, fut, MC_ETIMEDOUT);
                pthread_mutex_lock(&pool->watch_lock);
                due->interrupting--;
                pthread_cond_broadcast(&pool->watch_cond);
            }
            pthread_mutex_unlock(&pool->watch_lock);
            mc_future_release(fut);
            pthread_mutex_lock(&pool->watch_lock);
        } else if (next) {
            struct timespec ts = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
            pthread_cond_timedwait(&pool->watch_cond, &pool->watch_lock, &ts);
        } else {
            pthread_cond_wait(&pool->watch_cond, &pool->watch_lock);
        }
    }
    pthread_mutex_unlock(&pool->watch_lock);
    return NULL;
}

int mc_pool_interrupt(mc_pool *pool, mc_future *fut, int reason)
{
    int w = atomic_load(&fut->running_worker);
    if (w < 0 || w >= pool->nworkers || !pool->engine.interrupt)
        return MC_EBUSY;
    worker_slot *slot = &pool->slots[w];
    pthread_mutex_lock(&pool->watch_lock);
    if (slot->stopping) {
        pthread_mutex_unlock(&pool->watch_lock);
        return MC_EBUSY;
    }
    slot->interrupting++;
    pthread_mutex_unlock(&pool->watch_lock);
    int rc = deliver(pool, slot, fut, reason);
    pthread_mutex_lock(&pool->watch_lock);
    slot->interrupting--;
    pthread_cond_broadcast(&pool->watch_cond);
    pthread_mutex_unlock(&pool->watch_lock);
    return rc;
}

static void run_one(worker_slot *slot, mc_task *task)
{
    mc_pool *pool = slot->pool;
    if (!mc_future_start(task->future, slot->index)) {
        mc_task_free(task); /* cancelled while queued: already ended */
        return;
    }
    if (task->timeout_ms > 0)
        watch(slot, task->future, task->timeout_ms);
    pool->engine.run(slot->state, task);
    if (task->timeout_ms > 0)
        watch(slot, NULL, 0);
    if (atomic_load(&task->future->state) != MC_FUTURE_DONE) {
        /* An engine that forgot to end the task must not leave it hanging. */
        mc_outcome out;
        mc_outcome_set_error(&out, MC_ESYSTEM, "SystemError", "the worker ended the task without an outcome", NULL);
        mc_future_finish(task->future, &out);
    }
    mc_task_free(task);
}

static void *worker_main(void *arg)
{
    worker_slot *slot = arg;
    mc_pool *pool = slot->pool;
    char *errmsg = NULL;
    current_slot = slot;
    int rc = pool->engine.start(pool->ctx, pool, slot->index, &slot->state, &errmsg);
    report_start(pool, rc, errmsg);
    if (rc == MC_OK) {
        mc_task *task;
        while ((task = mc_task_queue_pop(&pool->queue)) != NULL)
            run_one(slot, task);
        pthread_mutex_lock(&pool->watch_lock);
        slot->stopping = 1;
        while (slot->interrupting > 0)
            pthread_cond_wait(&pool->watch_cond, &pool->watch_lock);
        pthread_mutex_unlock(&pool->watch_lock);
        pool->engine.stop(slot->state);
    }
    current_slot = NULL;
    return NULL;
}

static void cancel_tasks(mc_task *t)
{
    while (t) {
        mc_task *next = t->next;
        mc_future_try_cancel(t->future);
        mc_task_free(t);
        t = next;
    }
}

/* Stops the queue and joins every started thread; the caller holds life_lock. */
static void stop_and_join(mc_pool *pool, int started, mc_close_mode mode)
{
    mc_task_queue_stop(&pool->queue);
    if (mode == MC_CLOSE_CANCEL)
        cancel_tasks(mc_task_queue_take_all(&pool->queue));
    for (int i = 0; i < started; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_mutex_lock(&pool->watch_lock);
    pool->watchdog_stop = 1;
    pthread_cond_broadcast(&pool->watch_cond);
    int watching = pool->watchdog_started;
    pthread_mutex_unlock(&pool->watch_lock);
    if (watching)
        pthread_join(pool->watchdog, NULL);
    /* Nothing can be left, but if it were, it must still end exactly once. */
    cancel_tasks(mc_task_queue_take_all(&pool->queue));
    pool->joined = 1;
}

static void pool_free(mc_pool *pool)
{
    if (pool->engine.destroy)
        pool->engine.destroy(pool->ctx);
    mc_registry_clear(&pool->names);
    pthread_mutex_destroy(&pool->watch_lock);
    pthread_cond_destroy(&pool->watch_cond);
    mc_task_queue_destroy(&pool->queue);
    pthread_cond_destroy(&pool->life_cond);
    pthread_mutex_destroy(&pool->life_lock);
    free(pool->start_errmsg);
    free(pool->threads);
    free(pool->slots);
    pool->magic = MC_POOL_DEAD;
    free(pool);
}

int mc_pool_create(const mc_engine *engine, void *ctx, int workers, mc_pool **out)
{
    mc_pool *pool = calloc(1, sizeof *pool);
    if (!pool || workers < 1) {
        free(pool);
        if (engine->destroy)
            engine->destroy(ctx);
        return workers < 1 ? mc_fail(MC_EINVAL, "a pool needs at least one worker")
                           : mc_fail(MC_ENOMEM, "out of memory allocating a pool");
    }
    pool->engine = *engine;
    pool->ctx = ctx;
    pool->nworkers = workers;
    atomic_init(&pool->shut_down, 0);
    pool->threads = calloc((size_t)workers, sizeof *pool->threads);
    pool->slots = calloc((size_t)workers, sizeof *pool->slots);
    if (!pool->threads || !pool->slots || mc_task_queue_init(&pool->queue) != 0) {
        free(pool->threads);
        free(pool->slots);
        free(pool);
        if (engine->destroy)
            engine->destroy(ctx);
        return mc_fail(MC_ENOMEM, "out of memory allocating %d workers", workers);
    }
    pthread_mutex_init(&pool->life_lock, NULL);
    pthread_cond_init(&pool->life_cond, NULL);
    mc_registry_init(&pool->names);
    pthread_mutex_init(&pool->watch_lock, NULL);
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->watch_cond, &cattr);
    pthread_condattr_destroy(&cattr);
    pool->magic = MC_POOL_MAGIC;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, MC_WORKER_STACK);
    int started = 0;
    for (; started < workers; started++) {
        pool->slots[started].pool = pool;
        pool->slots[started].index = started;
        if (pthread_create(&pool->threads[started], &attr, worker_main, &pool->slots[started]) != 0)
            break;
    }
    pthread_attr_destroy(&attr);

    void *token = mc_block_begin();
    pthread_mutex_lock(&pool->life_lock);
    while (pool->reported < started)
        pthread_cond_wait(&pool->life_cond, &pool->life_lock);
    int rc = pool->start_rc;
    if (rc == MC_OK && started < workers)
        rc = MC_ESYSTEM;
    if (rc != MC_OK) {
        atomic_store(&pool->shut_down, 1);
        stop_and_join(pool, started, MC_CLOSE_CANCEL);
        pthread_mutex_unlock(&pool->life_lock);
        mc_block_end(token);
        if (rc == MC_ESYSTEM && !pool->start_errmsg)
            mc_fail(rc, "cannot create worker thread %d of %d", started + 1, workers);
        else
            mc_fail(rc, "%s", pool->start_errmsg ? pool->start_errmsg : "a worker failed to start");
        pool_free(pool);
        return rc;
    }
    pthread_mutex_unlock(&pool->life_lock);
    mc_block_end(token);
    *out = pool;
    return MC_OK;
}

int mc_pool_enqueue(mc_pool *pool, mc_task *task)
{
    task->future->pool = pool;
    if (atomic_load_explicit(&pool->shut_down, memory_order_relaxed) ||
        mc_task_queue_push(&pool->queue, task) != 0) {
        mc_task_free(task);
        return mc_fail(MC_ECLOSED, "the pool is shut down: it takes no more tasks");
    }
    return MC_OK;
}

int mc_pool_shutdown(mc_pool *pool, mc_close_mode mode)
{
    if (!mc_pool_valid(pool))
        return mc_fail(MC_EINVAL, "mc_pool_shutdown: not a pool (NULL or freed handle)");
    if (mode != MC_CLOSE_WAIT && mode != MC_CLOSE_CANCEL)
        return mc_fail(MC_EINVAL, "mc_pool_shutdown: mode must be MC_CLOSE_WAIT or MC_CLOSE_CANCEL");
    if (current_slot && current_slot->pool == pool)
        return mc_fail(MC_EBUSY, "a task cannot shut down its own pool (it would wait for itself)");
    void *token = mc_block_begin();
    pthread_mutex_lock(&pool->life_lock);
    atomic_store(&pool->shut_down, 1);
    if (!pool->joined)
        stop_and_join(pool, pool->nworkers, mode);
    pthread_mutex_unlock(&pool->life_lock);
    mc_block_end(token);
    return MC_OK;
}

int mc_pool_close(mc_pool *pool, mc_close_mode mode)
{
    if (!pool)
        return MC_OK;
    int rc = mc_pool_shutdown(pool, mode);
    if (rc != MC_OK)
        return rc;
    pool_free(pool);
    return MC_OK;
}

int mc_pool_workers(const mc_pool *pool)
{
    if (!mc_pool_valid(pool) || atomic_load(&((mc_pool *)pool)->shut_down))
        return 0;
    return pool->nworkers;
}

/* ---- names: the registry's public face ----------------------------------- */

int mc_pool_publish(mc_pool *pool, const char *name, mc_shared *obj)
{
    mc_clear_error();
    if (!mc_pool_valid(pool))
        return mc_fail(MC_EINVAL, "mc_pool_publish: not a pool (NULL or freed handle)");
    return mc_registry_publish(&pool->names, name, obj);
}

int mc_pool_unpublish(mc_pool *pool, const char *name)
{
    mc_clear_error();
    if (!mc_pool_valid(pool))
        return mc_fail(MC_EINVAL, "mc_pool_unpublish: not a pool (NULL or freed handle)");
    return mc_registry_unpublish(&pool->names, name);
}

int mc_pool_register(mc_pool *pool, const char *name, mc_host_fn fn, void *ctx)
{
    mc_clear_error();
    if (!mc_pool_valid(pool))
        return mc_fail(MC_EINVAL, "mc_pool_register: not a pool (NULL or freed handle)");
    return mc_registry_register(&pool->names, name, fn, ctx);
}

int mc_pool_lookup(mc_pool *pool, const char *name, mc_shared **out)
{
    return mc_registry_lookup(&pool->names, name, out);
}

int mc_pool_names(mc_pool *pool, char ***out)
{
    return mc_registry_names(&pool->names, out);
}

int mc_pool_host_function(mc_pool *pool, const char *name, mc_host_fn *fn, void **ctx)
{
    return mc_registry_host_function(&pool->names, name, fn, ctx);
}
