/*
 * test_shared.c — sharing without copying, seen from a C host: buffers and
 * arrays reach every worker in place, atomics stay exact under contention,
 * host functions are called from Python, channels join host and workers,
 * and every bad input gets a clear error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <manycore.h>

static mc_pool *pool; /* two workers */

static int open_pool(void **state)
{
    (void)state;
    mc_pool_options o = {.workers = 2,
                         .init_source = "import _manycore as mc\n"
                                        "def same(a):\n"
                                        "    return a\n"
                                        "def produce(ch):\n"
                                        "    for i in range(100):\n"
                                        "        ch.send((i, str(i)))\n"
                                        "    ch.close()\n"
                                        "    return 'ok'\n"};
    return mc_pool_open(&o, &pool) == MC_OK ? 0 : -1;
}

static int close_pool(void **state)
{
    (void)state;
    return mc_pool_close(pool, MC_CLOSE_WAIT) == MC_OK ? 0 : -1;
}

/* Runs source in a worker and returns the outcome; *res borrowed from *fut. */
static int run(const char *source, mc_future **fut, const mc_value **res)
{
    assert_int_equal(mc_pool_submit_exec(pool, source, fut), MC_OK);
    int rc = mc_future_wait(*fut, -1);
    if (rc == MC_OK && res)
        assert_int_equal(mc_future_result(*fut, res), MC_OK);
    return rc;
}

static int64_t run_int(const char *source)
{
    mc_future *f;
    const mc_value *v;
    int64_t n = -1;
    int rc = run(source, &f, &v);
    if (rc != MC_OK) {
        const char *tb = "";
        mc_future_error(f, NULL, NULL, &tb);
        fail_msg("task failed (%s):\n%s", mc_strerror(rc), tb);
    }
    int truth;
    if (mc_value_get_bool(v, &truth) == MC_OK) /* checks like "a == b" give a bool */
        n = truth;
    else
        assert_int_equal(mc_value_get_int(v, &n), MC_OK);
    mc_future_free(f);
    return n;
}

/* The error type of a task expected to fail; also checks the message has `needle`. */
static void expect_error(const char *source, const char *type, const char *needle)
{
    mc_future *f;
    assert_int_equal(run(source, &f, NULL), MC_EPYTHON);
    const char *t, *m;
    assert_int_equal(mc_future_error(f, &t, &m, NULL), MC_OK);
    assert_string_equal(t, type);
    if (!strstr(m, needle))
        fail_msg("message '%s' lacks '%s'", m, needle);
    mc_future_free(f);
}

/* ---- buffers --------------------------------------------------------------- */

static void buffer_seen_in_a_worker_has_the_hosts_address(void **unused)
{
    (void)unused;
    static unsigned char data[4096];
    mc_buffer_options o = {.data = data, .len = sizeof data};
    mc_shared *buf;
    assert_int_equal(mc_buffer_wrap(&o, &buf), MC_OK);
    assert_int_equal(mc_pool_publish(pool, "page", buf), MC_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(run_int("mc.shared['page'].address"), (int64_t)(uintptr_t)data);
    assert_int_equal(run_int("memoryview(mc.shared['page']).nbytes"), 4096);
    mc_shared_free(buf);
    assert_int_equal(mc_pool_unpublish(pool, "page"), MC_OK);
}

static void a_write_by_one_worker_is_seen_by_the_host_and_the_others(void **unused)
{
    (void)unused;
    static int32_t cells[16];
    size_t shape[1] = {16};
    mc_buffer_options o = {.data = cells, .len = sizeof cells, .format = "i", .ndim = 1, .shape = shape};
    mc_shared *buf;
    assert_int_equal(mc_buffer_wrap(&o, &buf), MC_OK);
    assert_int_equal(mc_pool_publish(pool, "cells", buf), MC_OK);
    assert_int_equal(run_int("m = memoryview(mc.shared['cells'])\nm[3] = 12345\nm.format == 'i' and len(m)"), 16);
    assert_int_equal(cells[3], 12345);
    cells[4] = -7; /* the host writes, the workers read */
    for (int i = 0; i < 4; i++)
        assert_int_equal(run_int("mc.shared['cells'][4] + mc.shared['cells'][3]"), 12345 - 7);
    mc_shared_free(buf);
}

static void buffers_travel_as_task_arguments_and_results_by_handle(void **unused)
{
    (void)unused;
    mc_shared *arr;
    assert_int_equal(mc_array_new('d', 1000, &arr), MC_OK);
    void *data;
    assert_int_equal(mc_buffer_info(arr, &data, NULL, NULL, NULL, NULL), MC_OK);
    ((double *)data)[999] = 2.5;
    mc_value *args, *h;
    assert_int_equal(mc_value_new_shared(arr, &h), MC_OK);
    assert_int_equal(mc_value_pack(&args, "(V)", h), MC_OK);
    mc_future *f;
    assert_int_equal(mc_pool_submit_call(pool, "__main__:same", args, NULL, &f), MC_OK);
    mc_value_free(args);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    const mc_value *res;
    mc_shared *back;
    assert_int_equal(mc_future_result(f, &res), MC_OK);
    assert_int_equal(mc_value_get_shared(res, &back), MC_OK);
    assert_ptr_equal(back, arr);
    mc_future_free(f);
    mc_shared_free(arr);
}

static atomic_int releases;
static void count_release(void *ctx, void *data)
{
    (void)ctx;
    atomic_fetch_add(&releases, 1);
    free(data);
}

typedef struct grabber {
    mc_shared *buf;
    int ok;
} grabber;

static void *grab_many(void *arg)
{
    grabber *g = arg;
    for (int i = 0; i < 50; i++) {
        mc_value *args, *h;
        mc_future *f;
        if (mc_value_new_shared(g->buf, &h) != MC_OK || mc_value_pack(&args, "(V)", h) != MC_OK)
            return NULL;
        if (mc_pool_submit_call(pool, "builtins:len", args, NULL, &f) == MC_OK && mc_future_wait(f, -1) == MC_OK)
            g->ok++;
        mc_value_free(args);
        mc_future_free(f);
    }
    return NULL;
}

static void release_callback_runs_exactly_once_after_the_last_reference(void **unused)
{
    (void)unused;
    atomic_store(&releases, 0);
    mc_buffer_options o = {.data = malloc(64), .len = 64, .release = count_release};
    mc_shared *buf;
    assert_int_equal(mc_buffer_wrap(&o, &buf), MC_OK);
    assert_int_equal(mc_pool_publish(pool, "temp", buf), MC_OK);
    /* Three host threads hand it to tasks while workers also hold it. */
    pthread_t th[3];
    grabber g[3] = {{buf, 0}, {buf, 0}, {buf, 0}};
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, grab_many, &g[i]);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(g[i].ok, 50);
    }
    /* One worker keeps it in a global; the host lets go of everything. */
    mc_future *f;
    assert_int_equal(run("import builtins\nbuiltins._kept = mc.shared['temp']", &f, NULL), MC_OK);
    mc_future_free(f);
    mc_shared_free(buf);
    assert_int_equal(mc_pool_unpublish(pool, "temp"), MC_OK);
    assert_int_equal(atomic_load(&releases), 0); /* still held by a worker */
    /* Each worker drops its global (only one has it); then it is released, once. */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(run("import builtins\nbuiltins.__dict__.pop('_kept', None)\nNone", &f, NULL), MC_OK);
        mc_future_free(f);
    }
    assert_int_equal(atomic_load(&releases), 1);
}

static void format_and_shape_mismatches_are_refused(void **unused)
{
    (void)unused;
    static char mem[24];
    mc_shared *b = NULL;
    mc_buffer_options o = {.data = mem, .len = 6, .format = "f"};
    assert_int_equal(mc_buffer_wrap(&o, &b), MC_EINVAL); /* 6 bytes is not a number of floats */
    assert_non_null(strstr(mc_errmsg(), "multiple"));
    o = (mc_buffer_options){.data = mem, .len = 24, .format = "zz"};
    assert_int_equal(mc_buffer_wrap(&o, &b), MC_EINVAL);
    size_t shape[2] = {2, 4};
    o = (mc_buffer_options){.data = mem, .len = 24, .format = "i", .ndim = 2, .shape = shape};
    assert_int_equal(mc_buffer_wrap(&o, &b), MC_EINVAL); /* 2*4 ints = 32 bytes, not 24 */
    o = (mc_buffer_options){.data = NULL, .len = 24};
    assert_int_equal(mc_buffer_wrap(&o, &b), MC_EINVAL);
    assert_null(b);
    assert_int_equal(mc_array_new('x', 4, &b), MC_EINVAL);
    shape[1] = 3;
    o = (mc_buffer_options){.data = mem, .len = 24, .format = "i", .ndim = 2, .shape = shape};
    assert_int_equal(mc_buffer_wrap(&o, &b), MC_OK);
    assert_int_equal(mc_pool_publish(pool, "grid", b), MC_OK);
    assert_int_equal(run_int("m = memoryview(mc.shared['grid'])\nm.shape == (2, 3) and m.strides == (12, 4)"), 1);
    mc_shared_free(b);
}

static void read_only_buffers_cannot_be_written_by_workers(void **unused)
{
    (void)unused;
    static const unsigned char model[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    mc_buffer_options o = {.data = (void *)model, .len = sizeof model, .readonly = 1};
    mc_shared *b;
    assert_int_equal(mc_buffer_wrap(&o, &b), MC_OK);
    assert_int_equal(mc_pool_publish(pool, "model", b), MC_OK);
    assert_int_equal(run_int("sum(memoryview(mc.shared['model']))"), 36);
    expect_error("memoryview(mc.shared['model'])[0] = 9", "TypeError", "read-only");
    expect_error("mc.shared['model'][0] = 9", "TypeError", "read-only");
    int64_t old;
    assert_int_equal(mc_atomic_add(b, 0, 1, &old), MC_EINVAL);
    mc_shared_free(b);
}

static void unknown_shared_name_raises_key_error_naming_it(void **unused)
{
    (void)unused;
    expect_error("mc.shared['no-such-mesh']", "KeyError", "no-such-mesh");
    assert_int_equal(mc_pool_unpublish(pool, "no-such-mesh"), MC_ENOTFOUND);
}

/* ---- atomics ---------------------------------------------------------------- */

static void atomic_counters_are_exact_under_contention(void **unused)
{
    (void)unused;
    mc_shared *ctr;
    assert_int_equal(mc_array_new('q', 2, &ctr), MC_OK);
    assert_int_equal(mc_pool_publish(pool, "ctr", ctr), MC_OK);
    enum { TASKS = 8, PER = 20000 };
    mc_future *f[TASKS];
    for (int i = 0; i < TASKS; i++)
        assert_int_equal(mc_pool_submit_exec(pool, "c = mc.shared['ctr']\nfor _ in range(20000):\n    c.add(0, 1)\n"
                                                   "    c.add(1, 3)\n", &f[i]), MC_OK);
    /* The host adds at the same time, through the C API. */
    for (int i = 0; i < PER; i++)
        assert_int_equal(mc_atomic_add(ctr, 0, 1, NULL), MC_OK);
    for (int i = 0; i < TASKS; i++) {
        assert_int_equal(mc_future_wait(f[i], -1), MC_OK);
        mc_future_free(f[i]);
    }
    int64_t v;
    assert_int_equal(mc_atomic_load(ctr, 0, &v), MC_OK);
    assert_int_equal(v, (int64_t)(TASKS + 1) * PER);
    assert_int_equal(mc_atomic_load(ctr, 1, &v), MC_OK);
    assert_int_equal(v, (int64_t)TASKS * PER * 3);
    mc_shared_free(ctr);
}

static void atomic_operations_behave_as_documented(void **unused)
{
    (void)unused;
    mc_shared *a, *f;
    assert_int_equal(mc_array_new('i', 4, &a), MC_OK);
    int64_t old = 0, expected = 5;
    int swapped = -1;
    assert_int_equal(mc_atomic_store(a, 1, 5), MC_OK);
    assert_int_equal(mc_atomic_exchange(a, 1, 8, &old), MC_OK);
    assert_int_equal(old, 5);
    assert_int_equal(mc_atomic_compare_exchange(a, 1, &expected, 9, &swapped), MC_OK);
    assert_int_equal(swapped, 0);
    assert_int_equal(expected, 8);
    assert_int_equal(mc_atomic_compare_exchange(a, 1, &expected, 9, &swapped), MC_OK);
    assert_int_equal(swapped, 1);
    assert_int_equal(mc_atomic_add(a, 3, -2, &old), MC_OK);
    assert_int_equal(mc_atomic_load(a, 3, &old), MC_OK);
    assert_int_equal(old, -2);
    assert_int_equal(mc_atomic_load(a, 4, &old), MC_ERANGE);
    assert_int_equal(mc_array_new('d', 4, &f), MC_OK);
    assert_int_equal(mc_atomic_add(f, 0, 1, &old), MC_ETYPE);
    assert_int_equal(mc_atomic_load(NULL, 0, &old), MC_EINVAL);
    mc_shared_free(a);
    mc_shared_free(f);
    /* And from Python, with the same rules. */
    assert_int_equal(run_int("a = mc.SharedArray('I', [1, 2, 3])\n"
                             "(a.add(0, 5), a.exchange(1, 7), a.compare_exchange(2, 3, 4), a[0], a[1], a[2]) "
                             "== (1, 2, 3, 6, 7, 4)"), 1);
    expect_error("mc.SharedArray('d', 3).add(0, 1.0)", "TypeError", "integer array");
    expect_error("mc.SharedArray('b', 3).load(3)", "IndexError", "out of range");
    expect_error("mc.SharedArray('b', 3)[-4]", "IndexError", "out of range");
    expect_error("mc.SharedArray('z', 3)", "ValueError", "typecode");
}

/* ---- host functions ----------------------------------------------------------- */

static int host_sum(void *ctx, const mc_value *args, mc_value **result)
{
    (void)ctx;
    int64_t total = 0, v;
    for (size_t i = 0; i < mc_value_len(args); i++) {
        const mc_value *item;
        mc_value_get_item(args, i, &item);
        if (mc_value_get_int(item, &v) != MC_OK)
            return mc_host_fail(MC_ETYPE, "argument %zu is a %s, not an int", i, mc_type_name(mc_value_type(item)));
        total += v;
    }
    return mc_value_new_int(total, result);
}

static int host_make_array(void *ctx, const mc_value *args, mc_value **result)
{
    (void)ctx;
    (void)args;
    mc_shared *arr;
    int rc = mc_array_new('q', 3, &arr);
    if (rc != MC_OK)
        return rc;
    mc_atomic_store(arr, 2, 42);
    rc = mc_value_new_shared(arr, result);
    mc_shared_free(arr); /* the value holds its own reference */
    return rc;
}

static int host_garbage(void *ctx, const mc_value *args, mc_value **result)
{
    (void)ctx;
    (void)args;
    /* A dict keyed by a list: valid for C, unhashable for Python. */
    return mc_value_pack(result, "{[i]:i}", (int64_t)1, (int64_t)2);
}

static int host_nothing(void *ctx, const mc_value *args, mc_value **result)
{
    (void)ctx;
    (void)args;
    (void)result;
    return MC_OK;
}

static atomic_int inside;
static int host_rendezvous(void *ctx, const mc_value *args, mc_value **result)
{
    (void)ctx;
    (void)args;
    atomic_fetch_add(&inside, 1);
    /* Wait (up to 5 s) until the other worker is inside too. */
    for (int i = 0; i < 5000 && atomic_load(&inside) < 2; i++)
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    int both = atomic_load(&inside) >= 2;
    return mc_value_new_bool(both, result);
}

static void host_functions_are_called_from_python(void **unused)
{
    (void)unused;
    assert_int_equal(mc_pool_register(pool, "sum", host_sum, NULL), MC_OK);
    assert_int_equal(mc_pool_register(pool, "make_array", host_make_array, NULL), MC_OK);
    assert_int_equal(mc_pool_register(pool, "nothing", host_nothing, NULL), MC_OK);
    assert_int_equal(run_int("mc.host.sum(1, 2, 3, 10**6)"), 1000006);
    assert_int_equal(run_int("a = mc.host.make_array()\na.load(2) + len(a)"), 45);
    assert_int_equal(run_int("mc.host.nothing() is None"), 1);
    assert_int_equal(mc_pool_register(pool, "not an identifier", host_sum, NULL), MC_EINVAL);
    assert_int_equal(mc_pool_register(pool, "x", NULL, NULL), MC_EINVAL);
}

static void a_failing_host_function_raises_host_error_with_its_message(void **unused)
{
    (void)unused;
    assert_int_equal(mc_pool_register(pool, "sum", host_sum, NULL), MC_OK);
    expect_error("mc.host.sum(1, 'two')", "_manycore.HostError", "argument 1 is a str, not an int");
    expect_error("mc.host.no_such_function(1)", "AttributeError", "no_such_function");
}

static void a_host_function_returning_garbage_fails_cleanly(void **unused)
{
    (void)unused;
    assert_int_equal(mc_pool_register(pool, "garbage", host_garbage, NULL), MC_OK);
    expect_error("mc.host.garbage()", "TypeError", "unhashable");
    /* The worker survives. */
    assert_int_equal(run_int("1 + 1"), 2);
}

static void host_functions_run_concurrently_without_the_gil(void **unused)
{
    (void)unused;
    atomic_store(&inside, 0);
    assert_int_equal(mc_pool_register(pool, "rendezvous", host_rendezvous, NULL), MC_OK);
    mc_future *f[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(mc_pool_submit_exec(pool, "mc.host.rendezvous()", &f[i]), MC_OK);
    for (int i = 0; i < 2; i++) {
        const mc_value *v;
        int both = 0;
        assert_int_equal(mc_future_wait(f[i], -1), MC_OK);
        assert_int_equal(mc_future_result(f[i], &v), MC_OK);
        assert_int_equal(mc_value_get_bool(v, &both), MC_OK);
        assert_true(both);
        mc_future_free(f[i]);
    }
}

/* ---- channels ------------------------------------------------------------------- */

static void a_channel_joins_host_and_worker(void **unused)
{
    (void)unused;
    mc_shared *ch;
    assert_int_equal(mc_channel_new(8, &ch), MC_OK);
    mc_value *args, *h;
    assert_int_equal(mc_value_new_shared(ch, &h), MC_OK);
    assert_int_equal(mc_value_pack(&args, "(V)", h), MC_OK);
    mc_future *f;
    assert_int_equal(mc_pool_submit_call(pool, "__main__:produce", args, NULL, &f), MC_OK);
    mc_value_free(args);
    for (int64_t i = 0;; i++) {
        mc_value *msg = NULL;
        int rc = mc_channel_recv(ch, &msg, 5000);
        if (rc == MC_ECLOSED) {
            assert_int_equal(i, 100);
            break;
        }
        assert_int_equal(rc, MC_OK);
        const mc_value *first;
        int64_t n;
        assert_int_equal(mc_value_get_item(msg, 0, &first), MC_OK);
        assert_int_equal(mc_value_get_int(first, &n), MC_OK);
        assert_int_equal(n, i); /* in order */
        mc_value_free(msg);
    }
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    mc_future_free(f);
    mc_value *one;
    mc_value_new_int(1, &one);
    assert_int_equal(mc_channel_send(ch, one, 0), MC_ECLOSED);
    mc_value_free(one);
    mc_shared_free(ch);
}

static void channels_refuse_bad_use_from_python(void **unused)
{
    (void)unused;
    expect_error("c = mc.Channel(1)\nc.close()\nc.send(1)", "_manycore.ChannelClosed", "closed");
    expect_error("c = mc.Channel(1)\nc.send(1)\nc.send(2, timeout=0.01)", "TimeoutError", "timed out");
    expect_error("mc.Channel(1).recv(timeout=0)", "TimeoutError", "timed out");
    expect_error("mc.Channel(0)", "ValueError", "maxsize");
    expect_error("mc.select([])", "ValueError", "at least one");
    expect_error("mc.select([1])", "TypeError", "not a Channel");
    assert_int_equal(run_int("c = mc.Channel(3)\nfor i in range(3): c.send(i)\nc.close()\nsum(c)"), 3);
}

static void shared_handles_do_not_survive_plain_encoding(void **unused)
{
    (void)unused;
    mc_shared *a;
    assert_int_equal(mc_array_new('B', 4, &a), MC_OK);
    mc_value *v;
    assert_int_equal(mc_value_new_shared(a, &v), MC_OK);
    void *data;
    size_t len;
    assert_int_equal(mc_value_encode(v, &data, &len), MC_EENCODE);
    mc_value_free(v);
    /* A forged message naming a handle it does not carry is malformed. */
    static const unsigned char forged[] = {1, 'H', 0};
    assert_int_equal(mc_value_decode(forged, sizeof forged, &v), MC_EWIRE);
    mc_shared_free(a);
    assert_int_equal(mc_shared_get_kind(NULL), 0);
    mc_shared_free(NULL);
    assert_int_equal(mc_pool_publish(pool, "x", NULL), MC_EINVAL);
    assert_int_equal(mc_pool_publish(pool, "", NULL), MC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buffer_seen_in_a_worker_has_the_hosts_address),
        cmocka_unit_test(a_write_by_one_worker_is_seen_by_the_host_and_the_others),
        cmocka_unit_test(buffers_travel_as_task_arguments_and_results_by_handle),
        cmocka_unit_test(release_callback_runs_exactly_once_after_the_last_reference),
        cmocka_unit_test(format_and_shape_mismatches_are_refused),
        cmocka_unit_test(read_only_buffers_cannot_be_written_by_workers),
        cmocka_unit_test(unknown_shared_name_raises_key_error_naming_it),
        cmocka_unit_test(atomic_counters_are_exact_under_contention),
        cmocka_unit_test(atomic_operations_behave_as_documented),
        cmocka_unit_test(host_functions_are_called_from_python),
        cmocka_unit_test(a_failing_host_function_raises_host_error_with_its_message),
        cmocka_unit_test(a_host_function_returning_garbage_fails_cleanly),
        cmocka_unit_test(host_functions_run_concurrently_without_the_gil),
        cmocka_unit_test(a_channel_joins_host_and_worker),
        cmocka_unit_test(channels_refuse_bad_use_from_python),
        cmocka_unit_test(shared_handles_do_not_survive_plain_encoding),
    };
    int failed = cmocka_run_group_tests_name("shared", tests, open_pool, close_pool);
    if (mc_shutdown() != MC_OK)
        failed++;
    return failed;
}
