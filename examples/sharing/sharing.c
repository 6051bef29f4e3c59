/*
 * sharing.c — a host shares its model with every worker, without copying:
 * a read-only array of triangles published by name, a native host function
 * the Python code calls, an atomic progress counter, and a channel the
 * workers report through.
 *
 *   cc sharing.c $(pkg-config --cflags --libs manycore) -o sharing && ./sharing
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <manycore.h>

#define TRIANGLES 200000

/* Python run once in every worker: the per-worker half of the job. */
static const char planner[] =
    "import _manycore as mc\n"
    "def plan(first, count, out):\n"
    "    tris = memoryview(mc.shared['triangles']).cast('B').cast('f')  # no copy\n"
    "    done = mc.shared['progress']\n"
    "    highest = -1e30\n"
    "    for t in range(first, first + count):\n"
    "        z = max(tris[9*t + 2], tris[9*t + 5], tris[9*t + 8])\n"
    "        if z > highest:\n"
    "            highest = z\n"
    "        if t % 10000 == 0:\n"
    "            done.add(0, 10000)\n"
    "    out.send((mc.worker_id(), first, highest, mc.host.area(first)))\n";

/* A native kernel the planner calls: the area of triangle i. */
static float *model;
static int area(void *ctx, const mc_value *args, mc_value **result)
{
    (void)ctx;
    const mc_value *a;
    int64_t i;
    if (mc_value_get_item(args, 0, &a) != MC_OK || mc_value_get_int(a, &i) != MC_OK)
        return mc_host_fail(MC_ETYPE, "area(i) takes one int");
    if (i < 0 || i >= TRIANGLES)
        return mc_host_fail(MC_ERANGE, "triangle %" PRId64 " does not exist", i);
    const float *p = model + 9 * i;
    float ux = p[3] - p[0], uy = p[4] - p[1], uz = p[5] - p[2];
    float vx = p[6] - p[0], vy = p[7] - p[1], vz = p[8] - p[2];
    float cx = uy * vz - uz * vy, cy = uz * vx - ux * vz, cz = ux * vy - uy * vx;
    return mc_value_new_float(0.5 * sqrt(cx * cx + cy * cy + cz * cz), result);
}

static void check(int rc, const char *what)
{
    if (rc != MC_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, mc_strerror(rc), mc_errmsg());
        exit(1);
    }
}

int main(void)
{
    model = malloc(sizeof(float) * 9 * TRIANGLES);
    for (int i = 0; i < 9 * TRIANGLES; i++)
        model[i] = (float)(((uint32_t)i * 2654435761u) % 10000u) / 100.0f; /* scattered points */

    mc_pool *pool;
    mc_pool_options o = {.init_source = planner};
    check(mc_pool_open(&o, &pool), "mc_pool_open");

    /* Share the model read-only, a progress counter, and a native function. */
    size_t shape[2] = {TRIANGLES, 9};
    mc_buffer_options bo = {.data = model, .len = sizeof(float) * 9 * TRIANGLES, .format = "f",
                            .ndim = 2, .shape = shape, .readonly = 1};
    mc_shared *tris, *progress, *results;
    check(mc_buffer_wrap(&bo, &tris), "mc_buffer_wrap");
    check(mc_array_new('q', 1, &progress), "mc_array_new");
    check(mc_pool_publish(pool, "triangles", tris), "publish");
    check(mc_pool_publish(pool, "progress", progress), "publish");
    check(mc_pool_register(pool, "area", area, NULL), "mc_pool_register");
    check(mc_channel_new(64, &results), "mc_channel_new");

    /* One task per slice of the model; each reports through the channel. */
    enum { SLICES = 8 };
    mc_future *futs[SLICES];
    for (int s = 0; s < SLICES; s++) {
        mc_value *args, *ch;
        check(mc_value_new_shared(results, &ch), "mc_value_new_shared");
        check(mc_value_pack(&args, "(iiV)", (int64_t)s * (TRIANGLES / SLICES), (int64_t)(TRIANGLES / SLICES), ch),
              "mc_value_pack");
        check(mc_pool_submit_call(pool, "__main__:plan", args, NULL, &futs[s]), "submit");
        mc_value_free(args);
    }
    for (int s = 0; s < SLICES; s++) {
        mc_value *msg;
        check(mc_channel_recv(results, &msg, -1), "mc_channel_recv");
        const mc_value *w, *first, *z, *a;
        int64_t wid = 0, f = 0;
        double zmax = 0, ar = 0;
        if (mc_value_get_item(msg, 0, &w) != MC_OK || mc_value_get_int(w, &wid) != MC_OK ||
            mc_value_get_item(msg, 1, &first) != MC_OK || mc_value_get_int(first, &f) != MC_OK ||
            mc_value_get_item(msg, 2, &z) != MC_OK || mc_value_get_float(z, &zmax) != MC_OK ||
            mc_value_get_item(msg, 3, &a) != MC_OK || mc_value_get_float(a, &ar) != MC_OK)
            check(MC_ETYPE, "reading a worker's report");
        printf("worker %" PRId64 ": triangles from %6" PRId64 ": highest z %.1f, first area %.2f\n", wid, f, zmax, ar);
        mc_value_free(msg);
    }
    for (int s = 0; s < SLICES; s++) {
        int rc = mc_future_wait(futs[s], -1);
        if (rc != MC_OK) {
            const char *tb = "";
            mc_future_error(futs[s], NULL, NULL, &tb);
            fprintf(stderr, "%s", tb);
        }
        mc_future_free(futs[s]);
    }
    int64_t done;
    mc_atomic_load(progress, 0, &done);
    printf("progress counter: %" PRId64 " triangles (counted atomically by all workers)\n", done);

    mc_shared_free(results);
    mc_shared_free(progress);
    mc_shared_free(tris);
    mc_pool_close(pool, MC_CLOSE_WAIT);
    mc_shutdown();
    free(model); /* after the last reference: nothing else points at it now */
    return 0;
}
