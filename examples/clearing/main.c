/*
 * main.c — manycore-clearing: parallel toolpath planning over one shared
 * triangle mesh, the problem manycore was made for.
 *
 * The host owns the mesh (loaded from STL or generated: a machined part of
 * a million triangles) and a native slicer. The planning — linking slice
 * segments into loops, finding pockets and islands, contour-parallel passes,
 * ordering — is plain Python (planner/), run on every core by manycore. The
 * workers read the mesh in place (published, zero-copy) and call the slicer
 * as a host function; each level's result flows back through a channel and
 * the host puts the levels back in order. Then the same planner runs with
 * ProcessPoolExecutor, the mesh copied into every process, for comparison.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <manycore.h>

#include "mesh.h"
#include "slicer.h"

typedef struct options {
    int workers;           /* 0: one per CPU */
    int levels;            /* number of Z levels (ignored when stepdown > 0) */
    double stepdown;       /* mm between levels, 0: use levels */
    double stepover;       /* mm between passes */
    double tool_diameter;  /* mm */
    const char *input;     /* STL file, or NULL to generate the part */
    const char *output;    /* output folder */
    long triangles;        /* at least this many when generating */
    int compare;           /* run the ProcessPoolExecutor comparison */
} options;

typedef struct level_result {
    double z;
    int64_t loops, regions, islands, passes;
    double cut_length, rapid_length;
    char *gcode;
    char *svg;
} level_result;

typedef struct run_stats {
    double wall_s;
    double open_ms;
    long peak_rss_kib;
    int workers;
} run_stats;

static clr_slicer *slicer;

/* ---- small utilities -------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what, int rc)
{
    fprintf(stderr, "manycore-clearing: %s: %s\n%s\n", what, mc_strerror(rc), mc_errmsg());
    exit(1);
}

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && sscanf(line + n, ": %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* Resets the kernel's peak-RSS mark, so each run's peak is its own. */
static void reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static const char *first_existing(const char *const *paths)
{
    for (; *paths; paths++)
        if (access(*paths, R_OK) == 0)
            return *paths;
    return NULL;
}

/* ---- the host function ----------------------------------------------------------- */

static void free_segments(void *ctx, void *data)
{
    (void)ctx;
    free(data);
}

/* slice(z) -> a buffer of float64 (n, 4): the segments of the mesh at z,
 * handed over without a copy (the buffer frees them when the worker is
 * done with it). Runs on worker threads, several at once. */
static int host_slice(void *ctx, const mc_value *args, mc_value **result)
{
    (void)ctx;
    const mc_value *zv;
    double z;
    if (mc_value_len(args) != 1 || mc_value_get_item(args, 0, &zv) != MC_OK || mc_value_get_float(zv, &z) != MC_OK)
        return mc_host_fail(MC_EINVAL, "slice(z) takes one number");
    if (!isfinite(z))
        return mc_host_fail(MC_EINVAL, "slice(z): z must be finite, not %g", z);
    double *segments = NULL;
    long n = clr_slicer_slice(slicer, z, &segments);
    if (n < 0)
        return mc_host_fail(MC_ENOMEM, "slice(%g): out of memory", z);
    size_t shape[2] = {(size_t)n, 4};
    mc_buffer_options bo = {.data = segments, .len = (size_t)n * 4 * sizeof(double), .format = "d",
                            .ndim = 2, .shape = shape, .readonly = 1,
                            .release = free_segments};
    if (n == 0) { /* a zero-length buffer still needs a valid pointer */
        free(segments);
        segments = NULL;
        static double none[1];
        bo.data = none;
        bo.release = NULL;
    }
    mc_shared *buf;
    int rc = mc_buffer_wrap(&bo, &buf);
    if (rc != MC_OK) {
        free(segments);
        return rc;
    }
    rc = mc_value_new_shared(buf, result);
    mc_shared_free(buf);
    return rc;
}

/* ---- planning on a pool ----------------------------------------------------------- */

static const char *planner_dir(void)
{
    static const char *const dirs[] = {CLR_PLANNER_DIR_BUILD "/planner/plan.py", CLR_PLANNER_DIR_INSTALL "/planner/plan.py",
                                       NULL};
    const char *found = first_existing(dirs);
    if (!found) {
        fprintf(stderr, "manycore-clearing: cannot find the planner (looked in %s and %s)\n", CLR_PLANNER_DIR_BUILD,
                CLR_PLANNER_DIR_INSTALL);
        exit(1);
    }
    return strstr(found, CLR_PLANNER_DIR_INSTALL) == found ? CLR_PLANNER_DIR_INSTALL : CLR_PLANNER_DIR_BUILD;
}

static void progress(int done, int total, double started)
{
    if (!isatty(STDERR_FILENO))
        return;
    double elapsed = now_s() - started;
    double rate = elapsed > 0 ? done / elapsed : 0;
    int width = 30, filled = total ? done * width / total : width;
    fprintf(stderr, "\r  [%.*s%*s] %3d/%d levels  %5.1f levels/s  %4.0f s left ", filled,
            "##############################", width - filled, "", done, total, rate,
            rate > 0 ? (total - done) / rate : 0.0);
    if (done == total)
        fprintf(stderr, "\r%*s\r", 90, "");
    fflush(stderr);
}

static char *dup_str(const mc_value *dict, const char *key)
{
    const mc_value *v;
    const char *s = "";
    if (mc_value_dict_get(dict, key, &v) == MC_OK)
        mc_value_get_str(v, &s, NULL);
    return strdup(s);
}

static double get_num(const mc_value *dict, const char *key)
{
    const mc_value *v;
    double d = 0;
    if (mc_value_dict_get(dict, key, &v) == MC_OK)
        mc_value_get_float(v, &d);
    return d;
}

/* Plans every level on a pool of `workers`; fills results[] in level order. */
static run_stats plan_all(const clr_mesh *mesh, const options *o, int workers, const double *zs, int nlevels,
                          level_result *results)
{
    run_stats st = {.workers = workers};
    reset_peak_rss();
    double t0 = now_s();
    const char *paths[] = {planner_dir(), NULL};
    mc_pool_options po = {.workers = workers, .sys_path = paths};
    mc_pool *pool;
    int rc = mc_pool_open(&po, &pool);
    if (rc != MC_OK)
        die("mc_pool_open", rc);
    st.open_ms = (now_s() - t0) * 1e3;
    st.workers = mc_pool_workers(pool);

    /* The mesh, shared in place: every worker reads the host's arrays. */
    size_t vshape[2] = {mesh->nvertices, 3}, tshape[2] = {mesh->ntriangles, 3};
    mc_buffer_options vb = {.data = mesh->vertices, .len = mesh->nvertices * 3 * sizeof(float), .format = "f",
                            .ndim = 2, .shape = vshape, .readonly = 1};
    mc_buffer_options tb = {.data = mesh->triangles, .len = mesh->ntriangles * 3 * sizeof(uint32_t), .format = "I",
                            .ndim = 2, .shape = tshape, .readonly = 1};
    mc_shared *vertices, *triangles, *channel;
    if ((rc = mc_buffer_wrap(&vb, &vertices)) != MC_OK || (rc = mc_buffer_wrap(&tb, &triangles)) != MC_OK)
        die("mc_buffer_wrap", rc);
    if ((rc = mc_pool_publish(pool, "vertices", vertices)) != MC_OK ||
        (rc = mc_pool_publish(pool, "triangles", triangles)) != MC_OK)
        die("mc_pool_publish", rc);
    mc_shared_free(vertices);
    mc_shared_free(triangles);
    if ((rc = mc_pool_register(pool, "slice", host_slice, NULL)) != MC_OK)
        die("mc_pool_register", rc);
    if ((rc = mc_channel_new((size_t)nlevels + 1, &channel)) != MC_OK)
        die("mc_channel_new", rc);

    double started = now_s();
    mc_future **futs = calloc((size_t)nlevels, sizeof *futs);
    for (int i = 0; i < nlevels; i++) {
        mc_value *args, *ch;
        if ((rc = mc_value_new_shared(channel, &ch)) != MC_OK ||
            (rc = mc_value_pack(&args, "(Viddddd)", ch, (int64_t)i, zs[i], o->stepover, o->tool_diameter / 2,
                                (double)mesh->lo[2], (double)mesh->hi[2])) != MC_OK)
            die("mc_value_pack", rc);
        if ((rc = mc_pool_submit_call(pool, "clearing_tasks:plan_into", args, NULL, &futs[i])) != MC_OK)
            die("mc_pool_submit_call", rc);
        mc_value_free(args);
    }
    /* Collect as levels finish; a failed task ends the channel wait through its future. */
    for (int done = 0; done < nlevels; done++) {
        mc_value *msg = NULL;
        while ((rc = mc_channel_recv(channel, &msg, 200)) == MC_ETIMEDOUT) {
            for (int i = 0; i < nlevels; i++) {
                int w = mc_future_wait(futs[i], 0);
                if (w != MC_OK && w != MC_ETIMEDOUT) {
                    const char *trace = "";
                    mc_future_error(futs[i], NULL, NULL, &trace);
                    fprintf(stderr, "\nmanycore-clearing: level %d failed:\n%s", i, trace);
                    exit(1);
                }
            }
        }
        if (rc != MC_OK)
            die("mc_channel_recv", rc);
        const mc_value *lv, *res;
        int64_t level = -1;
        if (mc_value_get_item(msg, 0, &lv) != MC_OK || mc_value_get_int(lv, &level) != MC_OK ||
            mc_value_get_item(msg, 1, &res) != MC_OK || mc_value_type(res) != MC_TYPE_DICT || level < 0 ||
            level >= nlevels || results[level].gcode) {
            fprintf(stderr, "manycore-clearing: the planner sent a malformed or repeated result\n");
            exit(1);
        }
        level_result *r = &results[level];
        r->z = zs[level];
        r->loops = (int64_t)get_num(res, "loops");
        r->regions = (int64_t)get_num(res, "regions");
        r->islands = (int64_t)get_num(res, "islands");
        r->passes = (int64_t)get_num(res, "passes");
        r->cut_length = get_num(res, "cut_length");
        r->rapid_length = get_num(res, "rapid_length");
        r->gcode = dup_str(res, "gcode");
        r->svg = dup_str(res, "svg");
        mc_value_free(msg);
        progress(done + 1, nlevels, started);
    }
    st.wall_s = now_s() - started;
    for (int i = 0; i < nlevels; i++) {
        mc_future_wait(futs[i], -1);
        mc_future_free(futs[i]);
    }
    free(futs);
    mc_shared_free(channel);
    st.peak_rss_kib = status_kib("VmHWM");
    mc_pool_close(pool, MC_CLOSE_WAIT);
    return st;
}

static void free_results(level_result *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].gcode);
        free(r[i].svg);
    }
}

static int same_results(const level_result *a, const level_result *b, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].gcode, b[i].gcode) != 0 || strcmp(a[i].svg, b[i].svg) != 0)
            return 0;
    return 1;
}

/* ---- outputs ----------------------------------------------------------------------- */

/* Builds the SVG and G-code documents in a worker (planner.output), from the
 * per-level fragments in level order, and writes them; then a PNG of the
 * SVG when a converter is installed. */
static void write_outputs(const clr_mesh *mesh, const options *o, const level_result *r, int n, int *png)
{
    const char *paths[] = {planner_dir(), NULL};
    mc_pool_options po = {.workers = 1, .sys_path = paths};
    mc_pool *pool;
    int rc = mc_pool_open(&po, &pool);
    if (rc != MC_OK)
        die("mc_pool_open", rc);
    mc_value *svgs, *gcodes, *bbox, *args[2];
    mc_value_new_list(&svgs);
    mc_value_new_list(&gcodes);
    for (int i = 0; i < n; i++) {
        mc_value *sv, *gv;
        if (mc_value_new_str(r[i].svg, MC_NUL_TERMINATED, &sv) != MC_OK || mc_value_append(svgs, sv) != MC_OK ||
            mc_value_new_str(r[i].gcode, MC_NUL_TERMINATED, &gv) != MC_OK || mc_value_append(gcodes, gv) != MC_OK)
            die("building output arguments", MC_ENOMEM);
    }
    if ((rc = mc_value_pack(&bbox, "(dddddd)", (double)mesh->lo[0], (double)mesh->lo[1], (double)mesh->lo[2],
                            (double)mesh->hi[0], (double)mesh->hi[1], (double)mesh->hi[2])) != MC_OK ||
        (rc = mc_value_pack(&args[0], "(ViiV)", svgs, (int64_t)900, (int64_t)700, bbox)) != MC_OK ||
        (rc = mc_value_pack(&args[1], "(V{s:d,s:d,s:d,s:i})", gcodes, "stepover", o->stepover, "tool_diameter",
                            o->tool_diameter, "safe_z", (double)mesh->hi[2] + 5.0, "levels", (int64_t)n)) != MC_OK)
        die("building output arguments", rc);
    static const char *const calls[2] = {"planner.output:svg_document", "planner.output:gcode_document"};
    static const char *const files[2] = {"toolpath.svg", "toolpath.nc"};
    for (int k = 0; k < 2; k++) {
        mc_future *f;
        if ((rc = mc_pool_submit_call(pool, calls[k], args[k], NULL, &f)) != MC_OK)
            die("mc_pool_submit_call", rc);
        mc_value_free(args[k]);
        const mc_value *doc;
        const char *text = NULL;
        size_t len = 0;
        if ((rc = mc_future_wait(f, -1)) != MC_OK) {
            const char *tb = "";
            mc_future_error(f, NULL, NULL, &tb);
            fprintf(stderr, "%s", tb);
            die(calls[k], rc);
        }
        if (mc_future_result(f, &doc) != MC_OK || mc_value_get_str(doc, &text, &len) != MC_OK)
            die(calls[k], MC_ETYPE);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", o->output, files[k]);
        FILE *out = fopen(path, "w");
        if (!out || fwrite(text, 1, len, out) != len || fclose(out) != 0) {
            fprintf(stderr, "manycore-clearing: cannot write %s: %s\n", path, strerror(errno));
            exit(1);
        }
        mc_future_free(f);
    }
    mc_pool_close(pool, MC_CLOSE_WAIT);
    char cmd[8300];
    snprintf(cmd, sizeof cmd,
             "command -v rsvg-convert >/dev/null 2>&1 && rsvg-convert -w 1400 -b white -o '%s/toolpath.png' '%s/toolpath.svg'",
             o->output, o->output);
    *png = system(cmd) == 0;
}

/* ---- the comparison: ProcessPoolExecutor ------------------------------------------ */

typedef struct compare_stats {
    int ok;
    double wall_s;
    double rss_total_mib;
} compare_stats;

static double json_number(const char *json, const char *key)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    return p ? strtod(p + strlen(pattern), NULL) : NAN;
}

static compare_stats compare_processes(const clr_mesh *mesh, const options *o, int workers, const double *zs,
                                       int n)
{
    compare_stats cs = {0};
    char stl[4096], err[512];
    snprintf(stl, sizeof stl, "%s/part.stl", o->output);
    if (clr_mesh_save_stl(mesh, stl, err, sizeof err) != 0) {
        fprintf(stderr, "manycore-clearing: comparison skipped: %s\n", err);
        return cs;
    }
    static const char *const libs[] = {CLR_SLICER_LIB_BUILD, CLR_SLICER_LIB_INSTALL, NULL};
    static const char *const scripts[] = {CLR_PLANNER_DIR_BUILD "/compare_processes.py",
                                          CLR_PLANNER_DIR_INSTALL "/compare_processes.py", NULL};
    const char *lib = first_existing(libs), *script = first_existing(scripts);
    if (!lib || !script || access(CLR_PYTHON_EXE, X_OK) != 0) {
        fprintf(stderr, "manycore-clearing: comparison skipped: the slicer library, compare_processes.py or "
                        "%s is missing\n", CLR_PYTHON_EXE);
        return cs;
    }
    size_t cap = 64 + (size_t)n * 24;
    char *zlist = malloc(cap);
    size_t used = 0;
    zlist[0] = '\0';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(zlist + used, cap - used, "%s%.17g", i ? "," : "", zs[i]);
    size_t clen = strlen(zlist) + 16384;
    char *cmd = malloc(clen);
    snprintf(cmd, clen,
             "PYTHONPATH='%s' '%s' '%s' --stl '%s' --slicer-lib '%s' --workers %d --z-list %s --stepover %.17g "
             "--tool-radius %.17g --z-min %.17g --z-max %.17g",
             planner_dir(), CLR_PYTHON_EXE, script, stl, lib, workers, zlist, o->stepover, o->tool_diameter / 2,
             (double)mesh->lo[2], (double)mesh->hi[2]);
    free(zlist);
    FILE *p = popen(cmd, "r");
    free(cmd);
    char json[8192] = "";
    size_t got = p ? fread(json, 1, sizeof json - 1, p) : 0;
    json[got] = '\0';
    int status = p ? pclose(p) : -1;
    if (status != 0 || !strchr(json, '{')) {
        fprintf(stderr, "manycore-clearing: the process-pool comparison failed (exit status %d)\n", status);
        return cs;
    }
    cs.wall_s = json_number(json, "wall_s");
    cs.rss_total_mib = json_number(json, "rss_total_mib");
    cs.ok = isfinite(cs.wall_s) && isfinite(cs.rss_total_mib);
    return cs;
}

/* ---- main --------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: manycore-clearing [options]\n"
            "  --workers N        workers for the parallel run (default: one per CPU)\n"
            "  --levels N         Z levels between the part's top and bottom (default 40)\n"
            "  --stepdown MM      distance between levels (overrides --levels)\n"
            "  --stepover MM      distance between passes (default 2)\n"
            "  --tool-diameter MM cutter diameter (default 6)\n"
            "  --input FILE.stl   plan this STL (binary or ASCII) instead of the generated part\n"
            "  --triangles N      at least this many triangles in the generated part (default 1000000)\n"
            "  --output DIR       where toolpath.svg, toolpath.png, toolpath.nc go (default clearing-out)\n"
            "  --no-compare       skip the ProcessPoolExecutor comparison\n");
}

static double parse_number(const char *flag, const char *s, double lo)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < lo) {
        fprintf(stderr, "manycore-clearing: %s needs a number >= %g, not '%s'\n", flag, lo, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    options o = {.workers = 0, .levels = 40, .stepover = 2.0, .tool_diameter = 6.0, .output = "clearing-out",
                 .triangles = 1000000, .compare = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--no-compare")) {
            o.compare = 0;
        } else if (!v) {
            fprintf(stderr, "manycore-clearing: %s needs a value\n", a);
            usage(stderr);
            return 2;
        } else if (!strcmp(a, "--workers")) {
            o.workers = (int)parse_number(a, v, 0), i++;
        } else if (!strcmp(a, "--levels")) {
            o.levels = (int)parse_number(a, v, 1), i++;
        } else if (!strcmp(a, "--stepdown")) {
            o.stepdown = parse_number(a, v, 0.01), i++;
        } else if (!strcmp(a, "--stepover")) {
            o.stepover = parse_number(a, v, 0.01), i++;
        } else if (!strcmp(a, "--tool-diameter")) {
            o.tool_diameter = parse_number(a, v, 0.01), i++;
        } else if (!strcmp(a, "--input")) {
            o.input = v, i++;
        } else if (!strcmp(a, "--triangles")) {
            o.triangles = (long)parse_number(a, v, 12), i++;
        } else if (!strcmp(a, "--output")) {
            o.output = v, i++;
        } else {
            fprintf(stderr, "manycore-clearing: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (mkdir(o.output, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "manycore-clearing: cannot create %s: %s\n", o.output, strerror(errno));
        return 1;
    }

    clr_mesh mesh;
    char err[512];
    double t0 = now_s();
    if (o.input ? clr_mesh_load_stl(&mesh, o.input, err, sizeof err) != 0
                : clr_mesh_generate(&mesh, (size_t)o.triangles) != 0) {
        fprintf(stderr, "manycore-clearing: %s\n", o.input ? err : "cannot generate the part (out of memory?)");
        return 1;
    }
    double mesh_s = now_s() - t0;
    if (clr_slicer_new(mesh.vertices, mesh.nvertices, mesh.triangles, mesh.ntriangles, &slicer) != 0) {
        fprintf(stderr, "manycore-clearing: cannot build the slicer (out of memory?)\n");
        return 1;
    }

    /* Levels from just below the top to just above the bottom. */
    double zlo = mesh.lo[2], zhi = mesh.hi[2];
    int n = o.stepdown > 0 ? (int)floor((zhi - zlo) / o.stepdown) : o.levels;
    if (n < 1)
        n = 1;
    double step = o.stepdown > 0 ? o.stepdown : (zhi - zlo) / (n + 1);
    double *zs = calloc((size_t)n, sizeof *zs);
    for (int i = 0; i < n; i++)
        zs[i] = zhi - (i + 1) * step;

    printf("manycore-clearing: %zu triangles (%s in %.2f s), %d levels, stepover %.2f mm, tool %.2f mm\n",
           mesh.ntriangles, o.input ? o.input : "generated", mesh_s, n, o.stepover, o.tool_diameter);
    fflush(stdout);

    level_result *one = calloc((size_t)n, sizeof *one), *many = calloc((size_t)n, sizeof *many);
    printf("planning on 1 worker...\n");
    fflush(stdout);
    run_stats s1 = plan_all(&mesh, &o, 1, zs, n, one);
    printf("planning on %s workers...\n", o.workers ? "N" : "all");
    fflush(stdout);
    run_stats sn = plan_all(&mesh, &o, o.workers, zs, n, many);
    int identical = same_results(one, many, n);

    int png = 0;
    write_outputs(&mesh, &o, many, n, &png);

    compare_stats cs = {0};
    if (o.compare) {
        printf("planning with ProcessPoolExecutor (%d processes, the mesh copied into each)...\n", sn.workers);
        fflush(stdout);
        cs = compare_processes(&mesh, &o, sn.workers, zs, n);
    }

    int64_t loops = 0, passes = 0, regions = 0;
    double cut = 0, rapid = 0;
    for (int i = 0; i < n; i++) {
        loops += many[i].loops;
        passes += many[i].passes;
        regions += many[i].regions;
        cut += many[i].cut_length;
        rapid += many[i].rapid_length;
    }
    printf("\n");
    printf("  triangles            %12zu\n", mesh.ntriangles);
    printf("  levels               %12d   (z %.2f .. %.2f mm)\n", n, zs[n - 1], zs[0]);
    printf("  loops / regions      %12" PRId64 " / %" PRId64 "\n", loops, regions);
    printf("  passes               %12" PRId64 "\n", passes);
    printf("  path length          %12.1f mm cutting, %.1f mm rapid\n", cut, rapid);
    printf("\n  %-34s %10s %14s\n", "", "wall (s)", "peak RSS (MiB)");
    printf("  %-34s %10.2f %14.1f\n", "manycore, 1 worker", s1.wall_s, s1.peak_rss_kib / 1024.0);
    char label[64];
    snprintf(label, sizeof label, "manycore, %d workers", sn.workers);
    printf("  %-34s %10.2f %14.1f\n", label, sn.wall_s, sn.peak_rss_kib / 1024.0);
    if (cs.ok) {
        snprintf(label, sizeof label, "ProcessPoolExecutor, %d processes", sn.workers);
        printf("  %-34s %10.2f %14.1f   (all processes)\n", label, cs.wall_s, cs.rss_total_mib);
    }
    printf("\n  speed-up: %.2fx on %d workers; results %s on 1 and %d workers\n", s1.wall_s / sn.wall_s,
           sn.workers, identical ? "byte-identical" : "DIFFERENT", sn.workers);
    printf("  memory: +%.1f MiB for %d extra workers (the mesh is shared, not copied)\n",
           (sn.peak_rss_kib - s1.peak_rss_kib) / 1024.0, sn.workers - 1);
    printf("  outputs: %s/toolpath.svg%s, %s/toolpath.nc\n", o.output, png ? ", toolpath.png" : "", o.output);

    free_results(one, n);
    free_results(many, n);
    free(one);
    free(many);
    free(zs);
    mc_shutdown();
    clr_slicer_free(slicer);
    clr_mesh_free(&mesh);
    return identical ? 0 : 1;
}
