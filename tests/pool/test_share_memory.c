/*
 * test_share_memory.c — a buffer shared with eight workers costs its bytes
 * once: with 1 GiB published and read in full by every worker, the
 * process's resident memory grows by less than 5% of it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <manycore.h>

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void eight_workers_read_one_gib_without_copying_it(void **unused)
{
    (void)unused;
    const size_t size = (size_t)1 << 30;
    unsigned char *model = malloc(size);
    assert_non_null(model);
    for (size_t i = 0; i < size; i += 4096)
        model[i] = (unsigned char)(i >> 12);
    mc_pool_options o = {.workers = 8};
    mc_pool *pool;
    assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
    mc_buffer_options bo = {.data = model, .len = size, .readonly = 1};
    mc_shared *buf;
    assert_int_equal(mc_buffer_wrap(&bo, &buf), MC_OK);
    assert_int_equal(mc_pool_publish(pool, "model", buf), MC_OK);
    mc_shared_free(buf);

    /* Warm every worker up (imports, first allocations) before measuring. */
    mc_future *f[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(mc_pool_submit_exec(pool, "import _manycore, time\ntime.sleep(0.05)\n", &f[i]), MC_OK);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(mc_future_wait(f[i], -1), MC_OK);
        mc_future_free(f[i]);
    }
    long before = rss_kib();
    /* Each worker touches every page of the whole buffer. */
    for (int i = 0; i < 8; i++)
        assert_int_equal(mc_pool_submit_exec(pool,
                                             "m = memoryview(_manycore.shared['model'])\n"
                                             "s = sum(m[::4096])\n"
                                             "del m\n"
                                             "s", &f[i]), MC_OK);
    int64_t expect = 0;
    for (size_t i = 0; i < size; i += 4096)
        expect += (unsigned char)(i >> 12);
    for (int i = 0; i < 8; i++) {
        const mc_value *v;
        int64_t got;
        assert_int_equal(mc_future_wait(f[i], -1), MC_OK);
        assert_int_equal(mc_future_result(f[i], &v), MC_OK);
        assert_int_equal(mc_value_get_int(v, &got), MC_OK);
        assert_int_equal(got, expect);
        mc_future_free(f[i]);
    }
    long after = rss_kib();
    long growth = after - before;
    printf("# RSS %ld KiB -> %ld KiB: +%ld KiB for 8 workers reading 1 GiB (limit %ld KiB)\n", before, after,
           growth, (long)(size / 1024 / 20));
    assert_true(growth < (long)(size / 1024 / 20));
    assert_int_equal(mc_pool_close(pool, MC_CLOSE_WAIT), MC_OK);
    free(model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eight_workers_read_one_gib_without_copying_it),
    };
    int failed = cmocka_run_group_tests_name("share_memory", tests, NULL, NULL);
    mc_shutdown();
    return failed;
}
