/*
 * hello.c — the smallest manycore host: compute factorials on every core.
 *
 *   cc hello.c $(pkg-config --cflags --libs manycore) -o hello && ./hello
 */
#include <inttypes.h>
#include <stdio.h>

#include <manycore.h>

int main(void)
{
    mc_pool *pool;
    int rc = mc_pool_open(NULL, &pool); /* one worker per CPU */
    if (rc != MC_OK) {
        fprintf(stderr, "mc_pool_open: %s: %s\n", mc_strerror(rc), mc_errmsg());
        return 1;
    }
    mc_future *futs[8];
    for (int64_t i = 0; i < 8; i++) {
        mc_value *args;
        mc_value_pack(&args, "(i)", 20 + i);
        rc = mc_pool_submit_call(pool, "math:factorial", args, NULL, &futs[i]);
        mc_value_free(args); /* the arguments were encoded: free them now */
        if (rc != MC_OK) {
            fprintf(stderr, "submit: %s\n", mc_errmsg());
            return 1;
        }
    }
    for (int i = 0; i < 8; i++) {
        const mc_value *res;
        const char *digits;
        if (mc_future_wait(futs[i], -1) == MC_OK && mc_future_result(futs[i], &res) == MC_OK &&
            mc_value_get_bigint(res, &digits) == MC_OK)
            printf("%d! = %s\n", 20 + i, digits);
        mc_future_free(futs[i]);
    }
    mc_pool_close(pool, MC_CLOSE_WAIT);
    mc_shutdown();
    return 0;
}
