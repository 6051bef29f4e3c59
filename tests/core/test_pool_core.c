/*
 * test_pool_core.c — the pool's threading and lifecycle, without Python.
 *
 * A plain-C engine stands in for the interpreters, so these run under
 * ThreadSanitizer: every task ends exactly once, whatever races with it
 * (cancellation, shutdown, many submitting threads).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pool.h"
#include "value.h"

typedef struct counting_engine {
    atomic_long started;
    atomic_long runs;
    atomic_long stops;
    int fail_worker; /* index whose start fails, or -1 */
    int run_delay_us;
} counting_engine;

static int ce_start(void *ctx, mc_pool *pool, int index, void **state, char **errmsg)
{
    counting_engine *ce = ctx;
    (void)pool;
    if (index == ce->fail_worker) {
        *errmsg = strdup("worker refused to start (test)");
        return MC_ESTART;
    }
    atomic_fetch_add(&ce->started, 1);
    *state = ce;
    return MC_OK;
}

/* The task's target is ignored; its args message holds one int, the result is twice it. */
static void ce_run(void *state, mc_task *task)
{
    counting_engine *ce = state;
    atomic_fetch_add(&ce->runs, 1);
    if (ce->run_delay_us) {
        struct timespec ts = {0, ce->run_delay_us * 1000L};
        nanosleep(&ts, NULL);
    }
    mc_value *in = NULL, *res = NULL;
    int64_t n = 0;
    mc_outcome out = {0};
    if (mc_value_from_msg(&task->args, &in) == MC_OK && mc_value_get_int(in, &n) == MC_OK &&
        mc_value_new_int(2 * n, &res) == MC_OK && mc_value_to_msg(res, &out.result) == MC_OK)
        out.code = MC_OK;
    if (!out.result.data)
        mc_outcome_set_error(&out, MC_EPYTHON, "TestError", "bad input", NULL);
    mc_value_free(in);
    mc_value_free(res);
    mc_future_finish(task->future, &out);
}

static void ce_stop(void *state)
{
    counting_engine *ce = state;
    atomic_fetch_add(&ce->stops, 1);
}

static const mc_engine engine = {.start = ce_start, .run = ce_run, .stop = ce_stop, .destroy = NULL};

static counting_engine *new_engine(void)
{
    counting_engine *ce = calloc(1, sizeof *ce);
    ce->fail_worker = -1;
    return ce;
}

/* Submits "twice n" and returns the caller's future (NULL if refused). */
static mc_future *submit_int(mc_pool *pool, int64_t n, int *rc_out)
{
    mc_value *v;
    mc_value_new_int(n, &v);
    mc_task *task = calloc(1, sizeof *task);
    assert_int_equal(mc_value_to_msg(v, &task->args), MC_OK);
    mc_value_free(v);
    mc_future *fut;
    assert_int_equal(mc_future_create(&fut), MC_OK);
    task->kind = MC_TASK_CALL;
    task->target = strdup("test:twice");
    task->future = fut;
    int rc = mc_pool_enqueue(pool, task);
    if (rc_out)
        *rc_out = rc;
    if (rc != MC_OK) {
        mc_future_release(fut);
        return NULL;
    }
    return fut;
}

static int64_t result_int(mc_future *fut)
{
    const mc_value *v;
    int64_t n = -1;
    assert_int_equal(mc_future_result(fut, &v), MC_OK);
    assert_int_equal(mc_value_get_int(v, &n), MC_OK);
    return n;
}

static void every_task_returns_its_own_result(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 3, &pool), MC_OK);
    assert_int_equal(atomic_load(&ce->started), 3);
    enum { N = 2000 };
    mc_future *futs[N];
    for (int i = 0; i < N; i++)
        assert_non_null(futs[i] = submit_int(pool, i, NULL));
    for (int i = 0; i < N; i++) {
        assert_int_equal(mc_future_wait(futs[i], -1), MC_OK);
        assert_int_equal(result_int(futs[i]), 2 * i);
        mc_future_free(futs[i]);
    }
    assert_int_equal(mc_pool_close(pool, MC_CLOSE_WAIT), MC_OK);
    assert_int_equal(atomic_load(&ce->runs), N);
    assert_int_equal(atomic_load(&ce->stops), 3);
    free(ce);
}

typedef struct submitter {
    mc_pool *pool;
    int base;
    int count;
    long ok;
} submitter;

static void *submit_many(void *arg)
{
    submitter *s = arg;
    enum { WINDOW = 256 };
    mc_future *window[WINDOW];
    int64_t expect[WINDOW];
    int pending = 0;
    for (int i = 0; i < s->count; i++) {
        int64_t n = s->base + i;
        window[pending] = submit_int(s->pool, n, NULL);
        expect[pending++] = 2 * n;
        if (pending == WINDOW || i == s->count - 1) {
            for (int j = 0; j < pending; j++) {
                if (mc_future_wait(window[j], -1) == MC_OK && result_int(window[j]) == expect[j])
                    s->ok++;
                mc_future_free(window[j]);
            }
            pending = 0;
        }
    }
    return NULL;
}

static void four_threads_submitting_100000_tasks_get_every_result_once(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 2, &pool), MC_OK);
    enum { THREADS = 4, PER = 25000 };
    pthread_t th[THREADS];
    submitter s[THREADS];
    for (int i = 0; i < THREADS; i++) {
        s[i] = (submitter){.pool = pool, .base = i * PER, .count = PER};
        pthread_create(&th[i], NULL, submit_many, &s[i]);
    }
    long ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += s[i].ok;
    }
    assert_int_equal(ok, THREADS * PER);
    assert_int_equal(mc_pool_close(pool, MC_CLOSE_WAIT), MC_OK);
    assert_int_equal(atomic_load(&ce->runs), THREADS * PER);
    free(ce);
}

typedef struct cancel_race {
    mc_future **futs;
    int n;
    long cancelled;
} cancel_race;

static void *cancel_every_other(void *arg)
{
    cancel_race *c = arg;
    for (int i = 0; i < c->n; i += 2)
        if (mc_future_cancel(c->futs[i]) == MC_OK)
            c->cancelled++;
    return NULL;
}

static void cancel_racing_workers_ends_each_task_exactly_once(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 2, &pool), MC_OK);
    enum { N = 20000 };
    mc_future **futs = calloc(N, sizeof *futs);
    for (int i = 0; i < N; i++)
        futs[i] = submit_int(pool, i, NULL);
    cancel_race c = {.futs = futs, .n = N};
    pthread_t th;
    pthread_create(&th, NULL, cancel_every_other, &c);
    pthread_join(th, NULL);
    long done_ok = 0, done_cancelled = 0;
    for (int i = 0; i < N; i++) {
        int rc = mc_future_wait(futs[i], -1);
        if (rc == MC_OK) {
            assert_int_equal(result_int(futs[i]), 2 * i);
            done_ok++;
        } else {
            assert_int_equal(rc, MC_ECANCELLED);
            assert_int_equal(i % 2, 0); /* only those we cancelled */
            done_cancelled++;
        }
        mc_future_free(futs[i]);
    }
    free(futs);
    assert_int_equal(mc_pool_close(pool, MC_CLOSE_WAIT), MC_OK);
    assert_int_equal(done_cancelled, c.cancelled);
    assert_int_equal(done_ok, atomic_load(&ce->runs));
    assert_int_equal(done_ok + done_cancelled, N);
    free(ce);
}

static void cancelling_a_finished_task_is_busy(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 1, &pool), MC_OK);
    mc_future *f = submit_int(pool, 21, NULL);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    assert_int_equal(mc_future_cancel(f), MC_EBUSY);
    assert_int_equal(result_int(f), 42);
    mc_future_free(f);
    mc_pool_close(pool, MC_CLOSE_WAIT);
    free(ce);
}

static void shutdown_with_cancel_ends_queued_tasks_cancelled(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    ce->run_delay_us = 2000;
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 1, &pool), MC_OK);
    enum { N = 50 };
    mc_future *futs[N];
    for (int i = 0; i < N; i++)
        futs[i] = submit_int(pool, i, NULL);
    assert_int_equal(mc_pool_shutdown(pool, MC_CLOSE_CANCEL), MC_OK);
    long ok = 0, cancelled = 0;
    for (int i = 0; i < N; i++) {
        assert_true(mc_future_done(futs[i])); /* nothing is left hanging */
        int rc = mc_future_wait(futs[i], 0);
        if (rc == MC_OK)
            ok++;
        else if (rc == MC_ECANCELLED)
            cancelled++;
        mc_future_free(futs[i]);
    }
    assert_int_equal(ok + cancelled, N);
    assert_true(cancelled > 0);
    assert_int_equal(ok, atomic_load(&ce->runs));
    mc_pool_close(pool, MC_CLOSE_WAIT);
    free(ce);
}

static void shutdown_with_wait_runs_every_queued_task(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    ce->run_delay_us = 200;
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 2, &pool), MC_OK);
    enum { N = 200 };
    mc_future *futs[N];
    for (int i = 0; i < N; i++)
        futs[i] = submit_int(pool, i, NULL);
    assert_int_equal(mc_pool_shutdown(pool, MC_CLOSE_WAIT), MC_OK);
    for (int i = 0; i < N; i++) {
        assert_int_equal(mc_future_wait(futs[i], 0), MC_OK);
        mc_future_free(futs[i]);
    }
    assert_int_equal(atomic_load(&ce->runs), N);
    mc_pool_close(pool, MC_CLOSE_WAIT);
    free(ce);
}

static void closed_pool_rejects_submit(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 1, &pool), MC_OK);
    assert_int_equal(mc_pool_shutdown(pool, MC_CLOSE_WAIT), MC_OK);
    assert_int_equal(mc_pool_shutdown(pool, MC_CLOSE_WAIT), MC_OK); /* twice is harmless */
    int rc;
    assert_null(submit_int(pool, 1, &rc));
    assert_int_equal(rc, MC_ECLOSED);
    assert_int_equal(mc_pool_workers(pool), 0);
    mc_pool_close(pool, MC_CLOSE_WAIT);
    free(ce);
}

typedef struct racer {
    mc_pool *pool;
    long accepted;
    long ended;
} racer;

static void *submit_until_closed(void *arg)
{
    racer *r = arg;
    for (int i = 0; i < 100000; i++) {
        int rc;
        mc_future *f = submit_int(r->pool, i, &rc);
        if (!f)
            break;
        r->accepted++;
        /* Leave some waiting on the queue while the pool shuts down. */
        int w = mc_future_wait(f, -1);
        if (w == MC_OK || w == MC_ECANCELLED)
            r->ended++;
        mc_future_free(f);
    }
    return NULL;
}

static void submit_racing_shutdown_never_loses_a_task(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 2, &pool), MC_OK);
    racer r[3] = {{.pool = pool}, {.pool = pool}, {.pool = pool}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, submit_until_closed, &r[i]);
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(mc_pool_shutdown(pool, MC_CLOSE_CANCEL), MC_OK);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(r[i].accepted, r[i].ended);
    }
    mc_pool_close(pool, MC_CLOSE_WAIT);
    free(ce);
}

static void failing_worker_start_fails_the_whole_pool(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    ce->fail_worker = 2;
    mc_pool *pool = NULL;
    assert_int_equal(mc_pool_create(&engine, ce, 4, &pool), MC_ESTART);
    assert_null(pool);
    assert_non_null(strstr(mc_errmsg(), "refused to start"));
    /* The workers that did start were stopped again. */
    assert_int_equal(atomic_load(&ce->stops), atomic_load(&ce->started));
    free(ce);
}

static void waiting_times_out_then_succeeds(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    ce->run_delay_us = 100000;
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 1, &pool), MC_OK);
    mc_future *f = submit_int(pool, 5, NULL);
    assert_int_equal(mc_future_wait(f, 0), MC_ETIMEDOUT);
    assert_int_equal(mc_future_wait(f, 10), MC_ETIMEDOUT);
    const mc_value *v;
    assert_int_equal(mc_future_result(f, &v), MC_EPENDING);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    assert_int_equal(result_int(f), 10);
    mc_future_free(f);
    mc_pool_close(pool, MC_CLOSE_WAIT);
    free(ce);
}

static void freeing_a_future_before_it_ends_is_safe(void **unused)
{
    (void)unused;
    counting_engine *ce = new_engine();
    ce->run_delay_us = 1000;
    mc_pool *pool;
    assert_int_equal(mc_pool_create(&engine, ce, 2, &pool), MC_OK);
    for (int i = 0; i < 100; i++)
        mc_future_free(submit_int(pool, i, NULL));
    assert_int_equal(mc_pool_close(pool, MC_CLOSE_WAIT), MC_OK);
    assert_int_equal(atomic_load(&ce->runs), 100);
    free(ce);
}

static void null_and_foreign_handles_are_rejected(void **unused)
{
    (void)unused;
    int not_a_handle[16] = {0};
    assert_int_equal(mc_future_wait(NULL, 0), MC_EINVAL);
    assert_int_equal(mc_future_wait((mc_future *)not_a_handle, 0), MC_EINVAL);
    assert_int_equal(mc_future_cancel(NULL), MC_EINVAL);
    assert_int_equal(mc_future_error(NULL, NULL, NULL, NULL), MC_EINVAL);
    assert_int_equal(mc_future_result(NULL, NULL), MC_EINVAL);
    assert_false(mc_future_done(NULL));
    mc_future_free(NULL);
    mc_future_free((mc_future *)not_a_handle);
    assert_int_equal(mc_pool_shutdown(NULL, MC_CLOSE_WAIT), MC_EINVAL);
    assert_int_equal(mc_pool_shutdown((mc_pool *)not_a_handle, MC_CLOSE_WAIT), MC_EINVAL);
    assert_int_equal(mc_pool_close(NULL, MC_CLOSE_WAIT), MC_OK);
    assert_int_equal(mc_pool_workers(NULL), 0);
    assert_string_equal(mc_strerror(MC_ECLOSED), "closed (a shut-down pool or a closed channel)");
    assert_string_equal(mc_strerror(12345), "unknown error code");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_task_returns_its_own_result),
        cmocka_unit_test(four_threads_submitting_100000_tasks_get_every_result_once),
        cmocka_unit_test(cancel_racing_workers_ends_each_task_exactly_once),
        cmocka_unit_test(cancelling_a_finished_task_is_busy),
        cmocka_unit_test(shutdown_with_cancel_ends_queued_tasks_cancelled),
        cmocka_unit_test(shutdown_with_wait_runs_every_queued_task),
        cmocka_unit_test(closed_pool_rejects_submit),
        cmocka_unit_test(submit_racing_shutdown_never_loses_a_task),
        cmocka_unit_test(failing_worker_start_fails_the_whole_pool),
        cmocka_unit_test(waiting_times_out_then_succeeds),
        cmocka_unit_test(freeing_a_future_before_it_ends_is_safe),
        cmocka_unit_test(null_and_foreign_handles_are_rejected),
    };
    return cmocka_run_group_tests_name("pool_core", tests, NULL, NULL);
}
