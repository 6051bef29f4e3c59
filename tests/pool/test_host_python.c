/*
 * test_host_python.c — a host that starts Python itself, then uses manycore:
 * the pool adopts the running interpreter, works whether or not the calling
 * thread holds the main GIL, and leaves finalization to the host.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <manycore.h>

static int64_t factorial_in_pool(int64_t n)
{
    mc_pool_options o = {.workers = 2};
    mc_pool *pool;
    assert_int_equal(mc_pool_open(&o, &pool), MC_OK);
    mc_value *args;
    assert_int_equal(mc_value_pack(&args, "(i)", n), MC_OK);
    mc_future *f;
    assert_int_equal(mc_pool_submit_call(pool, "math:factorial", args, NULL, &f), MC_OK);
    mc_value_free(args);
    assert_int_equal(mc_future_wait(f, -1), MC_OK);
    const mc_value *v;
    int64_t r = 0;
    assert_int_equal(mc_future_result(f, &v), MC_OK);
    assert_int_equal(mc_value_get_int(v, &r), MC_OK);
    mc_future_free(f);
    assert_int_equal(mc_pool_close(pool, MC_CLOSE_WAIT), MC_OK);
    return r;
}

static void pool_works_while_the_host_holds_the_main_gil(void **unused)
{
    (void)unused;
    assert_true(Py_IsInitialized());
    assert_non_null(PyThreadState_GetUnchecked());
    assert_int_equal(factorial_in_pool(10), 3628800);
    /* The host's own interpreter is untouched and still usable. */
    assert_int_equal(PyRun_SimpleString("assert host_marker == 1"), 0);
}

static void pool_works_after_the_host_released_the_gil(void **unused)
{
    (void)unused;
    PyThreadState *ts = PyEval_SaveThread();
    assert_int_equal(factorial_in_pool(12), 479001600);
    PyEval_RestoreThread(ts);
}

static void shutdown_leaves_a_host_started_python_alone(void **unused)
{
    (void)unused;
    assert_int_equal(mc_shutdown(), MC_OK);
    assert_true(Py_IsInitialized());
}

int main(void)
{
    Py_Initialize();
    PyRun_SimpleString("host_marker = 1");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_works_while_the_host_holds_the_main_gil),
        cmocka_unit_test(pool_works_after_the_host_released_the_gil),
        cmocka_unit_test(shutdown_leaves_a_host_started_python_alone),
    };
    int failed = cmocka_run_group_tests_name("host_python", tests, NULL, NULL);
    if (Py_FinalizeEx() < 0)
        failed++;
    return failed;
}
