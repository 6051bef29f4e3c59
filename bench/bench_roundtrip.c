/*
 * bench_roundtrip.c — costs a C host sees: opening a pool, and the round
 * trip of a trivial task submitted and waited for.
 *
 *   bench_roundtrip [--workers N] [--opens N] [--calls N]
 *
 * Prints one "key value" line per figure (medians and percentiles), which
 * bench/run turns into the README table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <manycore.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

static void check(int rc, const char *what)
{
    if (rc != MC_OK) {
        fprintf(stderr, "bench_roundtrip: %s: %s: %s\n", what, mc_strerror(rc), mc_errmsg());
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int workers = 2, opens = 15, calls = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--workers") == 0)
            workers = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--opens") == 0)
            opens = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--calls") == 0)
            calls = atoi(argv[i + 1]);
    }
    mc_pool_options o = {.workers = workers, .init_source = "def noop():\n    return None\n"};
    mc_pool *pool;
    /* The first open also starts Python itself; it is reported apart. */
    double t0 = now_us();
    check(mc_pool_open(&o, &pool), "mc_pool_open");
    printf("first_open_ms %.2f\n", (now_us() - t0) / 1e3);
    check(mc_pool_close(pool, MC_CLOSE_WAIT), "mc_pool_close");

    double *open_ms = calloc((size_t)opens, sizeof *open_ms);
    for (int i = 0; i < opens; i++) {
        t0 = now_us();
        check(mc_pool_open(&o, &pool), "mc_pool_open");
        open_ms[i] = (now_us() - t0) / 1e3;
        check(mc_pool_close(pool, MC_CLOSE_WAIT), "mc_pool_close");
    }
    printf("open_ms_median %.2f\n", pct(open_ms, opens, 0.5));

    check(mc_pool_open(&o, &pool), "mc_pool_open");
    double *rt = calloc((size_t)calls, sizeof *rt);
    for (int i = 0; i < calls + 1000; i++) {
        mc_future *f;
        double s = now_us();
        check(mc_pool_submit_call(pool, "__main__:noop", NULL, NULL, &f), "submit");
        check(mc_future_wait(f, -1), "wait");
        double e = now_us();
        mc_future_free(f);
        if (i >= 1000) /* warm-up first */
            rt[i - 1000] = e - s;
    }
    printf("roundtrip_us_median %.2f\n", pct(rt, calls, 0.5));
    printf("roundtrip_us_p90 %.2f\n", pct(rt, calls, 0.9));
    printf("roundtrip_us_p99 %.2f\n", pct(rt, calls, 0.99));

    /* Throughput: many tasks in flight at once. */
    enum { BATCH = 1000 };
    mc_future *fs[BATCH];
    int rounds = calls / BATCH > 0 ? calls / BATCH : 1;
    t0 = now_us();
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < BATCH; i++)
            check(mc_pool_submit_call(pool, "__main__:noop", NULL, NULL, &fs[i]), "submit");
        for (int i = 0; i < BATCH; i++) {
            check(mc_future_wait(fs[i], -1), "wait");
            mc_future_free(fs[i]);
        }
    }
    printf("throughput_tasks_per_s %.0f\n", rounds * BATCH / ((now_us() - t0) / 1e6));
    check(mc_pool_close(pool, MC_CLOSE_WAIT), "mc_pool_close");
    free(open_ms);
    free(rt);
    mc_shutdown();
    return 0;
}
