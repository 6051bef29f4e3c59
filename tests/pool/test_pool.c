/*
 * test_pool.c — the C API with real subinterpreters: results, errors with
 * their tracebacks, bad input, cancellation, shutdown and heavy concurrency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <manycore.h>

static const char *const test_path[] = {MC_TEST_DATA, NULL};
static mc_pool *shared; /* two workers, helpers importable */

static int open_shared(void **state)
{
    (void)state;
    mc_pool_options o = {.workers = 2, .sys_path = test_path,
                         .init_source = "def from_init(x):\n    return x + 1000\n"};
    return mc_pool_open(&o, &shared) == MC_OK ? 0 : -1;
}

static int close_shared(void **state)
{
    (void)state;
    return mc_pool_close(shared, MC_CLOSE_WAIT) == MC_OK ? 0 : -1;
}

/* Calls name(args...) on the shared pool and waits; returns the outcome. */
static int call(const char *name, mc_value *args, mc_future **out)
{
    int rc = mc_pool_submit_call(shared, name, args, NULL, out);
    mc_value_free(args);
    assert_int_equal(rc, MC_OK);
    return mc_future_wait(*out, -1);
}

static mc_value *pack(const char *fmt, ...)
{
    /* mc_value_pack is variadic; a tiny wrapper keeps the tests short. */
    va_list ap;
    va_start(ap, fmt);
    mc_value *v = NULL;
    if (strcmp(fmt, "(i)") == 0)
        mc_value_pack(&v, fmt, va_arg(ap, int64_t));
    else if (strcmp(fmt, "(s)") == 0)
        mc_value_pack(&v, fmt, va_arg(ap, const char *));
    else if (strcmp(fmt, "()") == 0)
        mc_value_pack(&v, fmt);
    va_end(ap);
    assert_non_null(v);
    return v;
}

static void parallel_tasks_all_return_correct_results(void **unused)
{
    (void)unused;
    enum { N = 2000 };
    mc_future **futs = calloc(N, sizeof *futs);
    for (int64_t i = 0; i < N; i++) {
        mc_value *a = pack("(i)", i);
        assert_int_equal(mc_pool_submit_call(shared, "helpers:twice", a, NULL, &futs[i]), MC_OK);
        mc_value_free(a);
    }
    for (int64_t i = 0; i < N; i++) {
        const mc_value *v;
        int64_t n;
        assert_int_equal(mc_future_wait(futs[i], -1), MC_OK);
        assert_int_equal(mc_future_result(futs[i], &v), MC_OK);
        assert_int_equal(mc_value_get_int(v, &n), MC_OK);
        assert_int_equal(n, 2 * i);
        mc_future_free(futs[i]);
    }
    free(futs);
}

static void both_workers_take_part(void **unused)
{
    (void)unused;
    /* Long-ish tasks, so one worker cannot finish them all alone. */
    int seen[2] = {0, 0};
    mc_future *futs[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(mc_pool_submit_exec(shared,
            "import _manycore, time\ntime.sleep(0.05)\n_manycore.worker_id()", &futs[i]), MC_OK);
    for (int i = 0; i < 8; i++) {
        const mc_value *v;
        int64_t id;
        assert_int_equal(mc_future_wait(futs[i], -1), MC_OK);
        assert_int_equal(mc_future_result(futs[i], &v), MC_OK);
        assert_int_equal(mc_value_get_int(v, &id), MC_OK);
        assert_true(id == 0 || id == 1);
        seen[id] = 1;
        mc_future_free(futs[i]);
    }
    assert_true(seen[0] && seen[1]);
}

static void init_source_defines_functions_in_main(void **unused)
{
    (void)unused;
    mc_future *f;
    const mc_value *v;
    int64_t n;
    assert_int_equal(call("__main__:from_init", pack("(i)", (int64_t)5), &f), MC_OK);
    assert_int_equal(mc_future_result(f, &v), MC_OK);
    assert_int_equal(mc_value_get_int(v, &n), MC_OK);
    assert_int_equal(n, 1005);
    mc_future_free(f);
}

static void values_round_trip_through_a_worker(void **unused)
{
    (void)unused;
    mc_value *inner, *args;
    assert_int_equal(mc_value_pack(&inner, "{s:[i,d,n,b],s:(s,y),s:I}", "list", (int64_t)-7, 2.5, 1,
                                   "tuple", "h\xc3\xa9llo", "\x00\x01\x02", (size_t)3, "big",
                                   "-123456789012345678901234567890123"), MC_OK);
    assert_int_equal(mc_value_new_tuple(&args), MC_OK);
    assert_int_equal(mc_value_append(args, inner), MC_OK);
    void *sent;
    size_t sent_len;
    assert_int_equal(mc_value_encode(inner, &sent, &sent_len), MC_OK);
    mc_future *f;
    assert_int_equal(call("helpers:identity", args, &f), MC_OK);
    const mc_value *v;
    assert_int_equal(mc_future_result(f, &v), MC_OK);
    void *back;
    size_t back_len;
    assert_int_equal(mc_value_encode(v, &back, &back_len), MC_OK);
    assert_int_equal(back_len, sent_len);
    assert_memory_equal(back, sent, sent_len); /* byte for byte */
    const mc_value *big;
    const char *digits;
    assert_int_equal(mc_value_dict_get(v, "big", &big), MC_OK);
    assert_int_equal(mc_value_get_bigint(big, &digits), MC_OK);
    assert_string_equal(digits, "-123456789012345678901234567890123");
    mc_free(sent);
    mc_free(back);
    mc_future_free(f);
}

static void keyword_arguments_are_passed(void **unused)
{
    (void)unused;
    mc_value *args, *kwargs;
    assert_int_equal(mc_value_pack(&args, "(i)", (int64_t)1), MC_OK);
    assert_int_equal(mc_value_pack(&kwargs, "{s:i,s:i}", "c", (int64_t)3, "b", (int64_t)2), MC_OK);
    mc_future *f;
    assert_int_equal(mc_pool_submit_call(shared, "helpers:keywords", args, kwargs, &f), MC_OK);
    mc_value_free(args);
    mc_value_free(kwargs);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    const mc_value *v, *item;
    int64_t n;
    assert_int_equal(mc_future_result(f, &v), MC_OK);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(mc_value_get_item(v, i, &item), MC_OK);
        assert_int_equal(mc_value_get_int(item, &n), MC_OK);
        assert_int_equal(n, (int64_t)i + 1);
    }
    mc_future_free(f);
}

static void exception_arrives_with_type_message_and_traceback(void **unused)
{
    (void)unused;
    mc_future *f;
    assert_int_equal(call("helpers:fail", pack("(s)", "no path found"), &f), MC_EPYTHON);
    const char *type, *msg, *tb;
    assert_int_equal(mc_future_error(f, &type, &msg, &tb), MC_OK);
    assert_string_equal(type, "helpers.PlanError");
    assert_string_equal(msg, "no path found");
    assert_non_null(strstr(tb, "Traceback (most recent call last)"));
    assert_non_null(strstr(tb, "helpers.py"));
    assert_non_null(strstr(tb, "in fail"));
    assert_non_null(strstr(tb, "raise PlanError(message)"));
    const mc_value *v;
    assert_int_equal(mc_future_result(f, &v), MC_EPYTHON);
    mc_future_free(f);
}

static void chained_exception_keeps_its_cause_in_the_traceback(void **unused)
{
    (void)unused;
    mc_future *f;
    assert_int_equal(call("helpers:nested_fail", pack("()"), &f), MC_EPYTHON);
    const char *type, *tb;
    assert_int_equal(mc_future_error(f, &type, NULL, &tb), MC_OK);
    assert_string_equal(type, "ValueError");
    assert_non_null(strstr(tb, "KeyError: 'missing'"));
    assert_non_null(strstr(tb, "direct cause"));
    mc_future_free(f);
}

static void exception_does_not_kill_the_worker(void **unused)
{
    (void)unused;
    mc_pool_options o = {.workers = 1, .sys_path = test_path};
    mc_pool *pool;
    assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
    for (int i = 0; i < 20; i++) {
        mc_future *f;
        mc_value *a = pack("(s)", "boom");
        assert_int_equal(mc_pool_submit_call(pool, i % 2 ? "helpers:fail" : "helpers:identity", a, NULL, &f),
                         MC_OK);
        mc_value_free(a);
        assert_int_equal(mc_future_wait(f, -1), i % 2 ? MC_EPYTHON : MC_OK);
        mc_future_free(f);
    }
    mc_pool_close(pool, MC_CLOSE_WAIT);
}

static void unknown_module_is_not_found(void **unused)
{
    (void)unused;
    mc_future *f;
    assert_int_equal(call("no_such_module_xyz:f", NULL, &f), MC_ENOTFOUND);
    const char *type, *msg;
    assert_int_equal(mc_future_error(f, &type, &msg, NULL), MC_OK);
    assert_string_equal(type, "ModuleNotFoundError");
    assert_non_null(strstr(msg, "no_such_module_xyz"));
    mc_future_free(f);
}

static void unknown_attribute_is_not_found(void **unused)
{
    (void)unused;
    mc_future *f;
    assert_int_equal(call("math:no_such_function", NULL, &f), MC_ENOTFOUND);
    const char *type;
    assert_int_equal(mc_future_error(f, &type, NULL, NULL), MC_OK);
    assert_string_equal(type, "AttributeError");
    mc_future_free(f);
    assert_int_equal(call("helpers:NOT_CALLABLE", NULL, &f), MC_ENOTFOUND);
    assert_int_equal(mc_future_error(f, &type, NULL, NULL), MC_OK);
    assert_string_equal(type, "TypeError");
    mc_future_free(f);
}

static void malformed_callable_names_are_refused_at_submit(void **unused)
{
    (void)unused;
    const char *bad[] = {"mathfactorial", "math:", ":factorial", "ma th:f", "math:fac torial", "a..b:f",
                         "a:.f", "1abc:f", "a:b:c", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mc_future *f = NULL;
        assert_int_equal(mc_pool_submit_call(shared, bad[i], NULL, NULL, &f), MC_EINVAL);
        assert_null(f);
        assert_true(strlen(mc_errmsg()) > 0);
    }
    mc_future *f = NULL;
    assert_int_equal(mc_pool_submit_call(shared, NULL, NULL, NULL, &f), MC_EINVAL);
    assert_non_null(strstr(mc_errmsg(), "NULL"));
}

static void wrongly_typed_args_are_refused_at_submit(void **unused)
{
    (void)unused;
    mc_value *i, *d;
    mc_value_new_int(1, &i);
    mc_value_new_dict(&d);
    mc_future *f = NULL;
    assert_int_equal(mc_pool_submit_call(shared, "helpers:twice", i, NULL, &f), MC_EINVAL);
    assert_int_equal(mc_pool_submit_call(shared, "helpers:twice", d, NULL, &f), MC_EINVAL);
    assert_int_equal(mc_pool_submit_call(shared, "helpers:twice", NULL, i, &f), MC_EINVAL);
    assert_null(f);
    mc_value_free(i);
    mc_value_free(d);
}

static void syntax_error_in_source_is_esyntax(void **unused)
{
    (void)unused;
    mc_future *f;
    assert_int_equal(mc_pool_submit_exec(shared, "def broken(:\n    pass\n", &f), MC_OK);
    assert_int_equal(mc_future_wait(f, -1), MC_ESYNTAX);
    const char *type, *tb;
    assert_int_equal(mc_future_error(f, &type, NULL, &tb), MC_OK);
    assert_string_equal(type, "SyntaxError");
    assert_non_null(strstr(tb, "def broken(:"));
    assert_non_null(strstr(tb, "^"));
    mc_future_free(f);
}

static void expression_source_returns_its_value(void **unused)
{
    (void)unused;
    mc_future *f;
    const mc_value *v;
    int64_t n;
    assert_int_equal(mc_pool_submit_exec(shared, "6 * 7", &f), MC_OK);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    assert_int_equal(mc_future_result(f, &v), MC_OK);
    assert_int_equal(mc_value_get_int(v, &n), MC_OK);
    assert_int_equal(n, 42);
    mc_future_free(f);
    assert_int_equal(mc_pool_submit_exec(shared, "x = 1\ny = 2\n", &f), MC_OK);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    assert_int_equal(mc_future_result(f, &v), MC_OK);
    assert_int_equal(mc_value_type(v), MC_TYPE_NONE);
    mc_future_free(f);
}

static void unencodable_result_is_eencode(void **unused)
{
    (void)unused;
    mc_future *f;
    assert_int_equal(call("helpers:unencodable", NULL, &f), MC_EENCODE);
    const char *type, *msg;
    assert_int_equal(mc_future_error(f, &type, &msg, NULL), MC_OK);
    assert_string_equal(type, "TypeError");
    assert_non_null(strstr(msg, "lock"));
    mc_future_free(f);
}

static void non_plain_results_travel_pickled_as_objects(void **unused)
{
    (void)unused;
    mc_future *f;
    assert_int_equal(mc_pool_submit_exec(shared, "import fractions; fractions.Fraction(1, 3)", &f), MC_OK);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    const mc_value *v;
    assert_int_equal(mc_future_result(f, &v), MC_OK);
    assert_int_equal(mc_value_type(v), MC_TYPE_OBJECT);
    mc_future_free(f);
}

static void closed_pool_rejects_submit(void **unused)
{
    (void)unused;
    mc_pool_options o = {.workers = 1};
    mc_pool *pool;
    assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
    assert_int_equal(mc_pool_workers(pool), 1);
    assert_int_equal(mc_pool_shutdown(pool, MC_CLOSE_WAIT), MC_OK);
    mc_future *f = NULL;
    assert_int_equal(mc_pool_submit_call(pool, "math:sqrt", NULL, NULL, &f), MC_ECLOSED);
    assert_int_equal(mc_pool_submit_exec(pool, "1", &f), MC_ECLOSED);
    assert_null(f);
    assert_int_equal(mc_pool_workers(pool), 0);
    assert_int_equal(mc_pool_close(pool, MC_CLOSE_WAIT), MC_OK);
}

static void queued_task_can_be_cancelled_running_one_cannot(void **unused)
{
    (void)unused;
    mc_pool_options o = {.workers = 1, .sys_path = test_path};
    mc_pool *pool;
    assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
    char flag[64], source[256];
    snprintf(flag, sizeof flag, "/tmp/manycore-test-started-%d", (int)getpid());
    remove(flag);
    /* The running task says it has started by creating a file, then sleeps. */
    snprintf(source, sizeof source, "import time\nopen(%s%s%s, 'w').close()\ntime.sleep(0.3)\n", "'", flag, "'");
    mc_future *running, *queued;
    assert_int_equal(mc_pool_submit_exec(pool, source, &running), MC_OK);
    assert_int_equal(mc_pool_submit_exec(pool, "1", &queued), MC_OK);
    /* One worker, FIFO: `queued` cannot start before `running` ends. */
    assert_int_equal(mc_future_cancel(queued), MC_OK);
    assert_int_equal(mc_future_wait(queued, -1), MC_ECANCELLED);
    assert_int_equal(mc_future_error(queued, NULL, NULL, NULL), MC_EINVAL);
    while (access(flag, F_OK) != 0)
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    assert_int_equal(mc_future_cancel(running), MC_EBUSY);
    assert_int_equal(mc_future_wait(running, -1), MC_OK);
    assert_int_equal(mc_future_cancel(running), MC_EBUSY);
    remove(flag);
    mc_future_free(running);
    mc_future_free(queued);
    mc_pool_close(pool, MC_CLOSE_WAIT);
}

static void running_task_is_interrupted_and_its_worker_survives(void **unused)
{
    (void)unused;
    mc_pool_options o = {.workers = 1, .sys_path = test_path};
    mc_pool *pool;
    assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
    char flag[64], source[256];
    snprintf(flag, sizeof flag, "/tmp/manycore-test-spinning-%d", (int)getpid());
    remove(flag);
    snprintf(source, sizeof source, "open('%s', 'w').close()\nwhile True:\n    pass\n", flag);
    mc_future *f;
    assert_int_equal(mc_pool_submit_exec(pool, source, &f), MC_OK);
    while (access(flag, F_OK) != 0)
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    assert_int_equal(mc_future_interrupt(f), MC_OK);
    assert_int_equal(mc_future_wait(f, -1), MC_EPYTHON);
    const char *type, *tb;
    assert_int_equal(mc_future_error(f, &type, NULL, &tb), MC_OK);
    assert_string_equal(type, "concurrent.futures._base.CancelledError");
    assert_non_null(strstr(tb, "File \"<manycore>\", line 2"));
    assert_int_equal(mc_future_interrupt(f), MC_EBUSY); /* already ended */
    mc_future_free(f);
    remove(flag);
    assert_int_equal(mc_pool_submit_exec(pool, "6 * 7", &f), MC_OK);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    mc_future_free(f);
    mc_pool_close(pool, MC_CLOSE_WAIT);
}

static void call_past_its_timeout_raises_timeout_error_inside(void **unused)
{
    (void)unused;
    mc_pool_options o = {.workers = 1, .sys_path = test_path};
    mc_pool *pool;
    assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
    mc_call_options co = {.timeout_ms = 100};
    mc_future *f;
    assert_int_equal(mc_pool_submit_call_ex(pool, "helpers:spin_forever", NULL, NULL, &co, &f), MC_OK);
    assert_int_equal(mc_future_wait(f, -1), MC_EPYTHON);
    const char *type, *tb;
    assert_int_equal(mc_future_error(f, &type, NULL, &tb), MC_OK);
    assert_string_equal(type, "TimeoutError");
    assert_non_null(strstr(tb, "spin_forever"));
    mc_future_free(f);
    /* A task that ends in time is untouched, and the worker goes on. */
    mc_value *a;
    assert_int_equal(mc_value_pack(&a, "(i)", (int64_t)21), MC_OK);
    co.timeout_ms = 10000;
    assert_int_equal(mc_pool_submit_call_ex(pool, "helpers:twice", a, NULL, &co, &f), MC_OK);
    mc_value_free(a);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    mc_future_free(f);
    co.timeout_ms = -1;
    assert_int_equal(mc_pool_submit_call_ex(pool, "helpers:twice", NULL, NULL, &co, &f), MC_EINVAL);
    mc_pool_close(pool, MC_CLOSE_WAIT);
}

static void shutdown_cancel_cancels_queued_work(void **unused)
{
    (void)unused;
    mc_pool_options o = {.workers = 1, .sys_path = test_path};
    mc_pool *pool;
    assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
    enum { N = 10 };
    mc_future *futs[N];
    mc_value *a;
    assert_int_equal(mc_value_pack(&a, "(d,i)", 0.05, (int64_t)1), MC_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(mc_pool_submit_call(pool, "helpers:sleep_then", a, NULL, &futs[i]), MC_OK);
    mc_value_free(a);
    assert_int_equal(mc_pool_shutdown(pool, MC_CLOSE_CANCEL), MC_OK);
    int ok = 0, cancelled = 0;
    for (int i = 0; i < N; i++) {
        int rc = mc_future_wait(futs[i], 0); /* all ended by now */
        ok += rc == MC_OK;
        cancelled += rc == MC_ECANCELLED;
        mc_future_free(futs[i]);
    }
    assert_int_equal(ok + cancelled, N);
    assert_true(cancelled >= N - 2);
    mc_pool_close(pool, MC_CLOSE_WAIT);
}

static void wait_times_out_on_a_long_task(void **unused)
{
    (void)unused;
    mc_future *f;
    mc_value *a;
    assert_int_equal(mc_value_pack(&a, "(d,s)", 0.2, "late"), MC_OK);
    assert_int_equal(mc_pool_submit_call(shared, "helpers:sleep_then", a, NULL, &f), MC_OK);
    mc_value_free(a);
    assert_int_equal(mc_future_wait(f, 20), MC_ETIMEDOUT);
    assert_false(mc_future_done(f));
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    assert_true(mc_future_done(f));
    mc_future_free(f);
}

static void init_source_error_fails_open_with_the_traceback(void **unused)
{
    (void)unused;
    mc_pool_options o = {.workers = 2, .init_source = "x = 1\nraise RuntimeError('no licence')\n"};
    mc_pool *pool = NULL;
    assert_int_equal(mc_pool_open(&o, &pool), MC_ESTART);
    assert_null(pool);
    assert_non_null(strstr(mc_errmsg(), "RuntimeError: no licence"));
    assert_non_null(strstr(mc_errmsg(), "init_source"));
}

static void bad_options_are_refused(void **unused)
{
    (void)unused;
    mc_pool_options o = {.workers = -1};
    mc_pool *pool = NULL;
    assert_int_equal(mc_pool_open(&o, &pool), MC_EINVAL);
    assert_int_equal(mc_pool_open(NULL, NULL), MC_EINVAL);
    assert_null(pool);
}

static void default_pool_has_one_worker_per_cpu(void **unused)
{
    (void)unused;
    mc_pool *pool;
    assert_int_equal(mc_pool_open(NULL, &pool), MC_OK);
    mc_future *f;
    assert_int_equal(mc_pool_submit_exec(pool, "import os; os.cpu_count()", &f), MC_OK);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    const mc_value *v;
    int64_t n;
    assert_int_equal(mc_future_result(f, &v), MC_OK);
    assert_int_equal(mc_value_get_int(v, &n), MC_OK);
    assert_int_equal(mc_pool_workers(pool), (int)n);
    mc_future_free(f);
    mc_pool_close(pool, MC_CLOSE_WAIT);
}

typedef struct submitter {
    int base;
    int count;
    long ok;
} submitter;

static void *submit_many(void *arg)
{
    submitter *s = arg;
    enum { WINDOW = 512 };
    mc_future *window[WINDOW];
    int64_t expect[WINDOW];
    int pending = 0;
    mc_value *args;
    for (int i = 0; i < s->count; i++) {
        int64_t n = s->base + i;
        if (mc_value_pack(&args, "(i)", n) != MC_OK ||
            mc_pool_submit_call(shared, "helpers:twice", args, NULL, &window[pending]) != MC_OK)
            return NULL;
        mc_value_free(args);
        expect[pending++] = 2 * n;
        if (pending == WINDOW || i == s->count - 1) {
            for (int j = 0; j < pending; j++) {
                const mc_value *v;
                int64_t got;
                if (mc_future_wait(window[j], -1) == MC_OK && mc_future_result(window[j], &v) == MC_OK &&
                    mc_value_get_int(v, &got) == MC_OK && got == expect[j])
                    s->ok++;
                mc_future_free(window[j]);
            }
            pending = 0;
        }
    }
    return NULL;
}

static void four_host_threads_submit_100000_tasks(void **unused)
{
    (void)unused;
    enum { THREADS = 4, PER = 25000 };
    pthread_t th[THREADS];
    submitter s[THREADS];
    for (int i = 0; i < THREADS; i++) {
        s[i] = (submitter){.base = i * PER, .count = PER};
        pthread_create(&th[i], NULL, submit_many, &s[i]);
    }
    long ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += s[i].ok;
    }
    assert_int_equal(ok, THREADS * PER);
}

static void null_and_foreign_handles_are_rejected(void **unused)
{
    (void)unused;
    mc_future *f = NULL;
    assert_int_equal(mc_pool_submit_call(NULL, "math:sqrt", NULL, NULL, &f), MC_EINVAL);
    assert_int_equal(mc_pool_submit_exec(NULL, "1", &f), MC_EINVAL);
    assert_int_equal(mc_pool_submit_exec(shared, NULL, &f), MC_EINVAL);
    assert_int_equal(mc_pool_submit_exec(shared, "1", NULL), MC_EINVAL);
    mc_value *v;
    mc_value_new_none(&v);
    assert_int_equal(mc_pool_submit_exec((mc_pool *)v, "1", &f), MC_EINVAL);
    assert_int_equal(mc_future_wait((mc_future *)v, 0), MC_EINVAL);
    mc_value_free(v);
    assert_null(f);
    assert_int_equal(mc_pool_workers(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parallel_tasks_all_return_correct_results),
        cmocka_unit_test(both_workers_take_part),
        cmocka_unit_test(init_source_defines_functions_in_main),
        cmocka_unit_test(values_round_trip_through_a_worker),
        cmocka_unit_test(keyword_arguments_are_passed),
        cmocka_unit_test(exception_arrives_with_type_message_and_traceback),
        cmocka_unit_test(chained_exception_keeps_its_cause_in_the_traceback),
        cmocka_unit_test(exception_does_not_kill_the_worker),
        cmocka_unit_test(unknown_module_is_not_found),
        cmocka_unit_test(unknown_attribute_is_not_found),
        cmocka_unit_test(malformed_callable_names_are_refused_at_submit),
        cmocka_unit_test(wrongly_typed_args_are_refused_at_submit),
        cmocka_unit_test(syntax_error_in_source_is_esyntax),
        cmocka_unit_test(expression_source_returns_its_value),
        cmocka_unit_test(unencodable_result_is_eencode),
        cmocka_unit_test(non_plain_results_travel_pickled_as_objects),
        cmocka_unit_test(closed_pool_rejects_submit),
        cmocka_unit_test(queued_task_can_be_cancelled_running_one_cannot),
        cmocka_unit_test(running_task_is_interrupted_and_its_worker_survives),
        cmocka_unit_test(call_past_its_timeout_raises_timeout_error_inside),
        cmocka_unit_test(shutdown_cancel_cancels_queued_work),
        cmocka_unit_test(wait_times_out_on_a_long_task),
        cmocka_unit_test(init_source_error_fails_open_with_the_traceback),
        cmocka_unit_test(bad_options_are_refused),
        cmocka_unit_test(default_pool_has_one_worker_per_cpu),
        cmocka_unit_test(four_host_threads_submit_100000_tasks),
        cmocka_unit_test(null_and_foreign_handles_are_rejected),
    };
    int failed = cmocka_run_group_tests_name("pool", tests, open_shared, close_shared);
    if (mc_shutdown() != MC_OK)
        failed++;
    return failed;
}
