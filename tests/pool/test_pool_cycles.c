/*
 * test_pool_cycles.c — opening and closing pools over and over leaks nothing
 * of manycore's (run under valgrind by ctest, and under LeakSanitizer in the
 * sanitizer build), and every cycle still works.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <manycore.h>

static int cycles = 20;

static void pools_open_and_close_repeatedly(void **unused)
{
    (void)unused;
    for (int i = 0; i < cycles; i++) {
        mc_pool_options o = {.workers = 2, .init_source = "import json\nBASE = 40\n"};
        mc_pool *pool;
        assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
        mc_future *f;
        mc_value *args;
        assert_int_equal(mc_value_pack(&args, "(s)", "[1, 2]"), MC_OK);
        assert_int_equal(mc_pool_submit_call(pool, "json:loads", args, NULL, &f), MC_OK);
        mc_value_free(args);
        assert_int_equal(mc_future_wait(f, -1), MC_OK);
        const mc_value *v;
        assert_int_equal(mc_future_result(f, &v), MC_OK);
        assert_int_equal(mc_value_len(v), 2);
        mc_future_free(f);
        /* A task left queued at close is cancelled and freed, not leaked. */
        assert_int_equal(mc_pool_submit_exec(pool, "BASE + 2", &f), MC_OK);
        assert_int_equal(mc_pool_close(pool, i % 2 ? MC_CLOSE_CANCEL : MC_CLOSE_WAIT), MC_OK);
        assert_true(mc_future_done(f));
        mc_future_free(f);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--short") == 0)
        cycles = 5;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pools_open_and_close_repeatedly),
    };
    int failed = cmocka_run_group_tests_name("pool_cycles", tests, NULL, NULL);
    assert_int_equal(mc_shutdown(), MC_OK);
    return failed;
}
