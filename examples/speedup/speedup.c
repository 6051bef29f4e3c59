/*
 * speedup.c — `make demo`: the same pure-Python workload on one worker, then
 * on every worker, with both wall times and the speed-up.
 *
 *   manycore-speedup [--tasks N] [--size N] [--workers N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <manycore.h>

/* Pure-Python CPU work: no C extension releases any GIL here. */
static const char workload[] =
    "def work(n):\n"
    "    # a small prime sieve plus string building: typical interpreter load\n"
    "    total = 0\n"
    "    for i in range(n):\n"
    "        s = str(i * 7919 % 1000003)\n"
    "        total += sum(ord(c) for c in s) % 17\n"
    "    return total\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "manycore-speedup: %s: %s\n%s\n", what, mc_strerror(rc), mc_errmsg());
    exit(1);
}

/* Runs `tasks` calls of work(size) on a pool of `workers`; returns seconds and the checksum. */
static double run(int workers, int tasks, int64_t size, int64_t *checksum, double *open_s)
{
    mc_pool_options opts = {.workers = workers, .init_source = workload};
    mc_pool *pool;
    double t0 = now_s();
    int rc = mc_pool_open(&opts, &pool);
    if (rc != MC_OK)
        die("mc_pool_open", rc);
    *open_s = now_s() - t0;
    mc_future **futs = calloc((size_t)tasks, sizeof *futs);
    mc_value *args;
    if ((rc = mc_value_pack(&args, "(i)", size)) != MC_OK)
        die("mc_value_pack", rc);
    t0 = now_s();
    for (int i = 0; i < tasks; i++)
        if ((rc = mc_pool_submit_call(pool, "__main__:work", args, NULL, &futs[i])) != MC_OK)
            die("mc_pool_submit_call", rc);
    *checksum = 0;
    for (int i = 0; i < tasks; i++) {
        const mc_value *res;
        int64_t v;
        if ((rc = mc_future_wait(futs[i], -1)) != MC_OK) {
            const char *tb = "";
            mc_future_error(futs[i], NULL, NULL, &tb);
            fprintf(stderr, "%s", tb);
            die("task", rc);
        }
        if (mc_future_result(futs[i], &res) == MC_OK && mc_value_get_int(res, &v) == MC_OK)
            *checksum += v;
        mc_future_free(futs[i]);
    }
    double wall = now_s() - t0;
    mc_value_free(args);
    free(futs);
    mc_pool_close(pool, MC_CLOSE_WAIT);
    return wall;
}

int main(int argc, char **argv)
{
    int tasks = 32, workers = 0;
    int64_t size = 60000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tasks") == 0 && i + 1 < argc)
            tasks = atoi(argv[++i]);
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            size = atoll(argv[++i]);
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--tasks N] [--size N] [--workers N]\n", argv[0]);
            return 2;
        }
    }
    if (tasks < 1 || size < 1 || workers < 0) {
        fprintf(stderr, "manycore-speedup: --tasks and --size must be >= 1, --workers >= 0\n");
        return 2;
    }
    mc_pool *probe;
    mc_pool_options one = {.workers = workers};
    if (mc_pool_open(&one, &probe) != MC_OK)
        die("mc_pool_open", MC_ESTART);
    int n = mc_pool_workers(probe);
    mc_pool_close(probe, MC_CLOSE_WAIT);

    printf("manycore %s, embedded CPython %s\n", mc_version(), mc_python_version());
    printf("workload: %d tasks of pure-Python work(%lld)\n\n", tasks, (long long)size);
    int64_t sum1, sumn;
    double open1, openn;
    double t1 = run(1, tasks, size, &sum1, &open1);
    printf("  1 worker : %7.3f s   (pool opened in %5.1f ms)\n", t1, open1 * 1e3);
    fflush(stdout);
    double tn = run(n, tasks, size, &sumn, &openn);
    printf("%3d workers: %7.3f s   (pool opened in %5.1f ms)\n", n, tn, openn * 1e3);
    printf("\nspeed-up: %.2fx on %d workers (ideal %d.00x)\n", t1 / tn, n, n);
    if (sum1 != sumn) {
        fprintf(stderr, "checksums differ: %lld vs %lld\n", (long long)sum1, (long long)sumn);
        return 1;
    }
    printf("results identical (checksum %lld)\n", (long long)sum1);
    mc_shutdown();
    return 0;
}
