/*
 * test_native.c — the clearing demo's native half: the generated part is a
 * closed, outward-facing million-triangle surface; slices of it and of
 * simple shapes link into closed, correctly oriented loops by exact endpoint
 * equality; the z index examines a small fraction of the mesh yet misses no
 * crossing triangle; STL loads what it saves and rejects bad files with
 * specific messages. Plain C and cmocka; no Python.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mesh.h"
#include "slicer.h"

#define PI 3.14159265358979323846

/* The big part, made once for the tests that need it. */
static clr_mesh part;
static clr_slicer *part_slicer;

static int group_setup(void **state)
{
    (void)state;
    if (clr_mesh_generate(&part, 1000000) != 0)
        return -1;
    return clr_slicer_new(part.vertices, part.nvertices, part.triangles, part.ntriangles, &part_slicer);
}

static int group_teardown(void **state)
{
    (void)state;
    clr_slicer_free(part_slicer);
    clr_mesh_free(&part);
    return 0;
}

/* ---- Linking segments into loops (exact endpoint matching) --------------- */

typedef struct loop {
    size_t first, count; /* into loops.order */
    size_t corners;      /* where the direction turns */
    double perimeter, area;
} loop;

typedef struct loops {
    const double *seg;
    size_t nseg, nloops;
    size_t *order; /* segment indices, loop by loop, in walking order */
    loop *loop;
} loops;

static const double *sort_segs;

static int cmp_point(double ax, double ay, double bx, double by)
{
    if (ax != bx)
        return ax < bx ? -1 : 1;
    if (ay != by)
        return ay < by ? -1 : 1;
    return 0;
}

static int cmp_start(const void *a, const void *b)
{
    const double *p = &sort_segs[4 * *(const size_t *)a], *q = &sort_segs[4 * *(const size_t *)b];
    int c = cmp_point(p[0], p[1], q[0], q[1]);
    if (c)
        return c;
    return *(const size_t *)a < *(const size_t *)b ? -1 : *(const size_t *)a > *(const size_t *)b;
}

/* Links the segments by exact equality of one's end with another's start.
 * Returns the number of loops, or -1 when a walk stops short of where it
 * began (an open chain). */
static long link_loops(const double *seg, size_t n, loops *L)
{
    memset(L, 0, sizeof *L);
    L->seg = seg;
    L->nseg = n;
    size_t *by_start = malloc((n ? n : 1) * sizeof *by_start);
    unsigned char *used = calloc(n ? n : 1, 1);
    L->order = malloc((n ? n : 1) * sizeof *L->order);
    L->loop = malloc((n ? n : 1) * sizeof *L->loop);
    assert_non_null(by_start);
    assert_non_null(used);
    assert_non_null(L->order);
    assert_non_null(L->loop);
    for (size_t i = 0; i < n; i++)
        by_start[i] = i;
    sort_segs = seg;
    qsort(by_start, n, sizeof *by_start, cmp_start);
    size_t placed = 0;
    long result = 0;
    for (size_t s0 = 0; s0 < n && result >= 0; s0++) {
        if (used[s0])
            continue;
        loop *lp = &L->loop[L->nloops++];
        memset(lp, 0, sizeof *lp);
        lp->first = placed;
        size_t cur = s0;
        for (;;) {
            used[cur] = 1;
            L->order[placed++] = cur;
            lp->count++;
            const double *c = &seg[4 * cur];
            lp->perimeter += hypot(c[2] - c[0], c[3] - c[1]);
            lp->area += 0.5 * (c[0] * c[3] - c[2] * c[1]);
            if (c[2] == seg[4 * s0] && c[3] == seg[4 * s0 + 1])
                break; /* closed */
            /* First segment starting at c's end, then the first unused one. */
            size_t lo = 0, hi = n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const double *q = &seg[4 * by_start[mid]];
                if (cmp_point(q[0], q[1], c[2], c[3]) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            size_t next = SIZE_MAX;
            for (size_t k = lo; k < n; k++) {
                const double *q = &seg[4 * by_start[k]];
                if (cmp_point(q[0], q[1], c[2], c[3]) != 0)
                    break;
                if (!used[by_start[k]]) {
                    next = by_start[k];
                    break;
                }
            }
            if (next == SIZE_MAX) {
                result = -1;
                break;
            }
            cur = next;
        }
        /* Corners: where consecutive segments change direction. */
        for (size_t k = 0; k < lp->count; k++) {
            const double *a = &seg[4 * L->order[lp->first + k]];
            const double *b = &seg[4 * L->order[lp->first + (k + 1) % lp->count]];
            double ax = a[2] - a[0], ay = a[3] - a[1], bx = b[2] - b[0], by = b[3] - b[1];
            double cr = ax * by - ay * bx, dot = ax * bx + ay * by;
            if (fabs(cr) > 1e-9 * hypot(ax, ay) * hypot(bx, by) || dot < 0)
                lp->corners++;
        }
    }
    free(by_start);
    free(used);
    return result < 0 ? -1 : (long)L->nloops;
}

static void loops_free(loops *L)
{
    free(L->order);
    free(L->loop);
    memset(L, 0, sizeof *L);
}

/* Is (x, y) inside loop i? Crossing-number test over its segments. */
static int inside_loop(const loops *L, size_t i, double x, double y)
{
    int in = 0;
    const loop *lp = &L->loop[i];
    for (size_t k = 0; k < lp->count; k++) {
        const double *s = &L->seg[4 * L->order[lp->first + k]];
        if ((s[1] > y) != (s[3] > y)) {
            double xc = s[0] + (y - s[1]) / (s[3] - s[1]) * (s[2] - s[0]);
            if (x < xc)
                in = !in;
        }
    }
    return in;
}

/* How many other loops hold loop i (its first segment's midpoint, which lies
 * on no other loop when the plane passes through no vertex). */
static size_t nesting_depth(const loops *L, size_t i)
{
    const double *s = &L->seg[4 * L->order[L->loop[i].first]];
    double x = 0.5 * (s[0] + s[2]), y = 0.5 * (s[1] + s[3]);
    size_t d = 0;
    for (size_t j = 0; j < L->nloops; j++)
        if (j != i && inside_loop(L, j, x, y))
            d++;
    return d;
}

/* Slices, checks the result links into closed loops, returns the loops. */
static long slice_loops(const clr_slicer *s, double h, double **seg, loops *L)
{
    long n = clr_slicer_slice(s, h, seg);
    assert_true(n >= 0);
    long nl = link_loops(*seg, (size_t)n, L);
    if (nl < 0)
        fail_msg("slice at z = %.17g: %ld segments do not link into closed loops", h, n);
    return nl;
}

/* ---- Mesh checks ------------------------------------------------------------ */

/* Every directed edge appears once and its reverse once: each undirected edge
 * is shared by exactly two triangles, which traverse it in opposite
 * directions (consistent orientation). Open addressing over 64-bit keys. */
static int watertight(const clr_mesh *m)
{
    size_t nedges = 3 * m->ntriangles, cap = 16;
    while (cap < 2 * nedges)
        cap *= 2;
    uint64_t *table = malloc(cap * sizeof *table);
    assert_non_null(table);
    memset(table, 0xff, cap * sizeof *table);
    int ok = 1;
    for (size_t t = 0; t < m->ntriangles && ok; t++)
        for (int k = 0; k < 3 && ok; k++) {
            uint32_t a = m->triangles[3 * t + k], b = m->triangles[3 * t + (k + 1) % 3];
            uint64_t key = (uint64_t)a << 32 | b;
            size_t slot = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
            while (table[slot] != UINT64_MAX && table[slot] != key)
                slot = (slot + 1) & (cap - 1);
            if (table[slot] == key || a == b)
                ok = 0; /* a directed edge twice: two triangles agree on direction, or >2 share it */
            table[slot] = key;
        }
    for (size_t t = 0; t < m->ntriangles && ok; t++)
        for (int k = 0; k < 3 && ok; k++) {
            uint32_t a = m->triangles[3 * t + k], b = m->triangles[3 * t + (k + 1) % 3];
            uint64_t key = (uint64_t)b << 32 | a; /* the reverse */
            size_t slot = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
            while (table[slot] != UINT64_MAX && table[slot] != key)
                slot = (slot + 1) & (cap - 1);
            if (table[slot] != key)
                ok = 0; /* an edge used by one triangle only: a hole */
        }
    free(table);
    return ok;
}

/* Signed volume (divergence theorem): positive when triangles face out. */
static double signed_volume(const clr_mesh *m)
{
    double v = 0;
    for (size_t t = 0; t < m->ntriangles; t++) {
        const float *a = &m->vertices[3 * (size_t)m->triangles[3 * t]];
        const float *b = &m->vertices[3 * (size_t)m->triangles[3 * t + 1]];
        const float *c = &m->vertices[3 * (size_t)m->triangles[3 * t + 2]];
        v += (double)a[0] * ((double)b[1] * c[2] - (double)b[2] * c[1]) -
             (double)a[1] * ((double)b[0] * c[2] - (double)b[2] * c[0]) +
             (double)a[2] * ((double)b[0] * c[1] - (double)b[1] * c[0]);
    }
    return v / 6;
}

/* ---- Simple shapes -------------------------------------------------------- */

static void box_slice_is_one_loop_round_the_box(void **state)
{
    (void)state;
    clr_mesh m;
    clr_slicer *s;
    assert_int_equal(clr_mesh_box(&m, -3.5f, 2.25f, 1.0f, 27.0f, 19.5f, 11.0f), 0);
    assert_int_equal(clr_slicer_new(m.vertices, m.nvertices, m.triangles, m.ntriangles, &s), 0);
    double *seg;
    loops L;
    assert_int_equal(slice_loops(s, 4.3, &seg, &L), 1);
    /* Each side face is two triangles, so each side yields two collinear
     * segments: 8 segments, 4 corners. */
    assert_int_equal(L.nseg, 8);
    assert_int_equal(L.loop[0].corners, 4);
    assert_true(fabs(L.loop[0].perimeter - 2 * (30.5 + 17.25)) < 1e-9);
    /* Counter-clockwise from +z: the solid is on the left. */
    assert_true(fabs(L.loop[0].area - 30.5 * 17.25) < 1e-9);
    loops_free(&L);
    free(seg);
    clr_slicer_free(s);
    clr_mesh_free(&m);
}

static void cylinder_slice_is_one_loop_with_a_corner_per_side(void **state)
{
    (void)state;
    const int n = 48;
    const double r = 12.5;
    clr_mesh m;
    clr_slicer *s;
    assert_int_equal(clr_mesh_cylinder(&m, 1.0f, 2.0f, (float)r, 0.0f, 20.0f, n), 0);
    assert_int_equal(m.ntriangles, 4 * (size_t)n);
    assert_int_equal(clr_slicer_new(m.vertices, m.nvertices, m.triangles, m.ntriangles, &s), 0);
    double *seg;
    loops L;
    assert_int_equal(slice_loops(s, 7.7, &seg, &L), 1);
    assert_int_equal(L.nseg, 2 * (size_t)n); /* two triangles per side */
    assert_int_equal(L.loop[0].corners, (size_t)n);
    /* Exactly the polygon through the ring's (float) vertices, and within
     * their rounding of the true regular polygon. */
    double ring = 0;
    for (int k = 0; k < n; k++) {
        const float *a = &m.vertices[3 * (size_t)(2 + k)], *b = &m.vertices[3 * (size_t)(2 + (k + 1) % n)];
        ring += hypot((double)b[0] - a[0], (double)b[1] - a[1]);
    }
    assert_true(fabs(L.loop[0].perimeter - ring) < 1e-9);
    double want = 2 * n * r * sin(PI / n);
    assert_true(fabs(L.loop[0].perimeter - want) < 1e-6);
    assert_true(L.loop[0].area > 0);
    loops_free(&L);
    free(seg);
    clr_slicer_free(s);
    clr_mesh_free(&m);
}

static void slice_beyond_the_mesh_is_empty(void **state)
{
    (void)state;
    clr_mesh m;
    clr_slicer *s;
    assert_int_equal(clr_mesh_box(&m, 0, 0, 1, 10, 10, 5), 0);
    assert_int_equal(clr_slicer_new(m.vertices, m.nvertices, m.triangles, m.ntriangles, &s), 0);
    /* Below, at the bottom (every vertex counts as above), above the top. */
    const double hs[] = {-100, 0.5, 1.0, 5.000001, 1e300, -INFINITY, INFINITY, NAN};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        double *seg = (double *)&seg;
        assert_int_equal(clr_slicer_slice(s, hs[i], &seg), 0);
        assert_null(seg);
        assert_int_equal(clr_slicer_examined(s, hs[i]), 0);
    }
    double *seg;
    assert_int_equal(clr_slicer_slice(part_slicer, part.hi[2] + 0.001, &seg), 0);
    assert_int_equal(clr_slicer_slice(part_slicer, part.lo[2], &seg), 0);
    assert_int_equal(clr_slicer_slice(part_slicer, -5, &seg), 0);
    clr_slicer_free(s);
    clr_mesh_free(&m);
}

static void slice_through_a_vertex_level_still_closes(void **state)
{
    (void)state;
    clr_mesh m;
    clr_slicer *s;
    double *seg;
    loops L;
    /* At the box's top every top vertex is "above": the cut is the top's
     * outline, the zero-length pieces at its corners left out. */
    assert_int_equal(clr_mesh_box(&m, 0, 0, 0, 4, 3, 2), 0);
    assert_int_equal(clr_slicer_new(m.vertices, m.nvertices, m.triangles, m.ntriangles, &s), 0);
    assert_int_equal(slice_loops(s, 2.0, &seg, &L), 1);
    assert_int_equal(L.nseg, 4);
    assert_true(fabs(L.loop[0].perimeter - 14) < 1e-12);
    assert_true(fabs(L.loop[0].area - 12) < 1e-12);
    loops_free(&L);
    free(seg);
    clr_slicer_free(s);
    clr_mesh_free(&m);

    assert_int_equal(clr_mesh_cylinder(&m, 0, 0, 3, -1, 1, 17), 0);
    assert_int_equal(clr_slicer_new(m.vertices, m.nvertices, m.triangles, m.ntriangles, &s), 0);
    assert_int_equal(slice_loops(s, 1.0, &seg, &L), 1);
    assert_int_equal(L.nseg, 17);
    assert_int_equal(L.loop[0].corners, 17);
    loops_free(&L);
    free(seg);
    clr_slicer_free(s);
    clr_mesh_free(&m);

    /* The part at its flat levels: pocket floor, slot floor, frustum and
     * cylinder tops, the top face, the quarter-round's foot. Loops may touch
     * at a vertex there, but every walk closes. */
    const double levels[] = {18.0, 30.0, 33.0, 40.0, 32.0, 37.0};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        long nl = slice_loops(part_slicer, levels[i], &seg, &L);
        assert_true(nl >= 1);
        loops_free(&L);
        free(seg);
    }
}

static void shapes_are_closed_and_face_outward(void **state)
{
    (void)state;
    clr_mesh m;
    assert_int_equal(clr_mesh_box(&m, 0, 0, 0, 4, 3, 2), 0);
    assert_true(watertight(&m));
    assert_true(fabs(signed_volume(&m) - 24) < 1e-9);
    clr_mesh_free(&m);
    assert_int_equal(clr_mesh_cylinder(&m, 1, 2, 5, 0, 10, 64), 0);
    assert_true(watertight(&m));
    double want = 0.5 * 64 * 25 * sin(2 * PI / 64) * 10;
    assert_true(fabs(signed_volume(&m) - want) < 1e-3);
    clr_mesh_free(&m);
    assert_int_equal(clr_mesh_generate(&m, 20000), 0);
    assert_true(m.ntriangles >= 20000);
    assert_true(watertight(&m));
    assert_true(signed_volume(&m) > 0.5 * 160 * 120 * 40);
    clr_mesh_free(&m);
    /* Bad arguments are refused, leaving the mesh empty. */
    assert_int_equal(clr_mesh_box(&m, 1, 0, 0, 0, 1, 1), -1);
    assert_null(m.vertices);
    assert_int_equal(clr_mesh_cylinder(&m, 0, 0, 1, 0, 1, 2), -1);
    assert_int_equal(clr_mesh_cylinder(&m, 0, 0, NAN, 0, 1, 8), -1);
}

static void slicer_refuses_bad_meshes(void **state)
{
    (void)state;
    const float v[9] = {0, 0, 0, 1, 0, 1, 0, 1, 2};
    const uint32_t bad_index[3] = {0, 1, 3};
    clr_slicer *s = (clr_slicer *)&s;
    assert_int_equal(clr_slicer_new(v, 3, bad_index, 1, &s), -2);
    assert_null(s);
    const float nan_v[9] = {0, 0, 0, 1, 0, NAN, 0, 1, 2};
    const uint32_t tri[3] = {0, 1, 2};
    assert_int_equal(clr_slicer_new(nan_v, 3, tri, 1, &s), -2);
    /* An empty mesh is fine and cuts to nothing. */
    assert_int_equal(clr_slicer_new(NULL, 0, NULL, 0, &s), 0);
    double *seg;
    assert_int_equal(clr_slicer_slice(s, 0, &seg), 0);
    clr_slicer_free(s);
}

/* ---- The generated part ------------------------------------------------------ */

static void part_is_a_million_watertight_triangles(void **state)
{
    (void)state;
    assert_true(part.ntriangles >= 1000000);
    assert_true(part.ntriangles < 1020000);
    assert_true(watertight(&part));
    assert_true(signed_volume(&part) > 0);
    assert_true(part.lo[0] == 0 && part.lo[1] == 0 && part.lo[2] == 0);
    assert_true(part.hi[0] == 160 && part.hi[1] == 120 && part.hi[2] == 40);
}

static void part_slices_into_closed_oriented_loops(void **state)
{
    (void)state;
    const double hs[] = {0.5, 5, 10.2, 12.3, 19, 25.37, 29.9, 31, 33.5, 36, 38.7, 39.99};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        double *seg;
        loops L;
        long nl = slice_loops(part_slicer, hs[i], &seg, &L);
        assert_true(nl >= 1);
        /* Outer boundaries counter-clockwise, holes clockwise, islands in
         * holes counter-clockwise again: the sign follows the nesting. */
        for (size_t j = 0; j < L.nloops; j++) {
            size_t d = nesting_depth(&L, j);
            if ((d % 2 == 0) != (L.loop[j].area > 0))
                fail_msg("z = %g: loop %zu at depth %zu has area %g", hs[i], j, d, L.loop[j].area);
        }
        loops_free(&L);
        free(seg);
    }
}

static void part_at_pocket_depth_has_holes_with_bosses_inside(void **state)
{
    (void)state;
    double *seg;
    loops L;
    /* z = 25.37 cuts the block's outline, both pockets, the cylinder, the
     * frustum and the cone; the slot (floor 30) lies above. */
    long nl = slice_loops(part_slicer, 25.37, &seg, &L);
    size_t depth_count[4] = {0};
    for (size_t j = 0; j < L.nloops; j++) {
        size_t d = nesting_depth(&L, j);
        depth_count[d < 3 ? d : 3]++;
    }
    assert_int_equal(nl, 6);
    assert_int_equal(depth_count[0], 1); /* the outline */
    assert_int_equal(depth_count[1], 2); /* two pockets */
    assert_int_equal(depth_count[2], 3); /* three bosses standing in them */
    loops_free(&L);
    free(seg);

    /* z = 35: outline, two pockets and the slot; every boss is below. */
    nl = slice_loops(part_slicer, 35.0, &seg, &L);
    assert_int_equal(nl, 4);
    for (size_t j = 1; j < L.nloops; j++)
        assert_true(nesting_depth(&L, j) <= 1);
    loops_free(&L);
    free(seg);
}

/* The triangles that straddle h, counted over the whole mesh. */
static size_t brute_force_crossing(const clr_mesh *m, double h)
{
    size_t n = 0;
    for (size_t t = 0; t < m->ntriangles; t++) {
        int above = 0;
        for (int k = 0; k < 3; k++)
            above += m->vertices[3 * (size_t)m->triangles[3 * t + k] + 2] >= h;
        n += above == 1 || above == 2;
    }
    return n;
}

static void index_examines_few_triangles_and_misses_none(void **state)
{
    (void)state;
    double mid = 0.5 * (part.lo[2] + part.hi[2]);
    size_t ex = clr_slicer_examined(part_slicer, mid);
    assert_true(ex > 0);
    assert_true(ex < part.ntriangles / 10);
    const double hs[] = {mid, 0.25, 18.5, 25.37, 33.3, 39.9};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        double *seg;
        long n = clr_slicer_slice(part_slicer, hs[i], &seg);
        /* No vertex sits at these heights, so no crossing is zero-length. */
        assert_int_equal((size_t)n, brute_force_crossing(&part, hs[i]));
        assert_true((size_t)n <= clr_slicer_examined(part_slicer, hs[i]));
        free(seg);
    }
}

typedef struct slice_job {
    double h;
    long n;
    double *seg;
} slice_job;

static void *slice_thread(void *arg)
{
    slice_job *jobs = arg;
    for (int i = 0; i < 8; i++)
        jobs[i].n = clr_slicer_slice(part_slicer, jobs[i].h, &jobs[i].seg);
    return NULL;
}

static void concurrent_slices_match_serial_ones(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    slice_job jobs[THREADS][8];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < 8; i++)
            jobs[t][i] = (slice_job){.h = 1.0 + 4.7 * i + 0.3 * t};
        assert_int_equal(pthread_create(&th[t], NULL, slice_thread, jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < 8; i++) {
            double *seg;
            long n = clr_slicer_slice(part_slicer, jobs[t][i].h, &seg);
            assert_int_equal(n, jobs[t][i].n);
            assert_true(n > 0);
            assert_memory_equal(seg, jobs[t][i].seg, (size_t)n * 4 * sizeof(double));
            free(seg);
            clr_free(jobs[t][i].seg);
        }
}

static void generation_is_deterministic(void **state)
{
    (void)state;
    clr_mesh a, b;
    assert_int_equal(clr_mesh_generate(&a, 20000), 0);
    assert_int_equal(clr_mesh_generate(&b, 20000), 0);
    assert_int_equal(a.nvertices, b.nvertices);
    assert_int_equal(a.ntriangles, b.ntriangles);
    assert_memory_equal(a.vertices, b.vertices, a.nvertices * 3 * sizeof(float));
    assert_memory_equal(a.triangles, b.triangles, a.ntriangles * 3 * sizeof(uint32_t));
    clr_mesh_free(&a);
    clr_mesh_free(&b);
    assert_int_equal(clr_mesh_generate(&a, 1000000), 0);
    assert_int_equal(a.nvertices, part.nvertices);
    assert_memory_equal(a.vertices, part.vertices, a.nvertices * 3 * sizeof(float));
    assert_memory_equal(a.triangles, part.triangles, a.ntriangles * 3 * sizeof(uint32_t));
    clr_mesh_free(&a);
}

/* ---- STL ------------------------------------------------------------------------ */

/* A fresh temporary file holding `len` bytes; its path goes in path. */
static void temp_file(char path[64], const void *data, size_t len)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, 64, "%s/clr_test_XXXXXX", dir && strlen(dir) < 40 ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        assert_true(w > 0);
        p += w;
        len -= (size_t)w;
    }
    close(fd);
}

/* Loading `data` fails with a message containing `want`, leaving m empty. */
static void expect_load_error(const void *data, size_t len, const char *want)
{
    char path[64], err[256];
    temp_file(path, data, len);
    clr_mesh m;
    memset(&m, 0x5a, sizeof m);
    int rc = clr_mesh_load_stl(&m, path, err, sizeof err);
    unlink(path);
    if (rc != -1 || !strstr(err, want) || !strstr(err, path))
        fail_msg("load gave %d, '%s'; wanted -1 and '%s'", rc, err, want);
    assert_null(m.vertices);
    assert_null(m.triangles);
    assert_int_equal(m.ntriangles, 0);
}

static void stl_round_trip_keeps_the_geometry(void **state)
{
    (void)state;
    clr_mesh a, b;
    char path[64], err[256];
    assert_int_equal(clr_mesh_generate(&a, 20000), 0);
    temp_file(path, "", 0);
    assert_int_equal(clr_mesh_save_stl(&a, path, err, sizeof err), 0);
    int rc = clr_mesh_load_stl(&b, path, err, sizeof err);
    unlink(path);
    if (rc != 0)
        fail_msg("%s", err);
    /* Welding finds exactly the vertices the generator made, and every
     * triangle has the same corners in the same order. */
    assert_int_equal(b.ntriangles, a.ntriangles);
    assert_int_equal(b.nvertices, a.nvertices);
    for (size_t t = 0; t < a.ntriangles; t++)
        for (int k = 0; k < 3; k++)
            assert_memory_equal(&a.vertices[3 * (size_t)a.triangles[3 * t + k]],
                                &b.vertices[3 * (size_t)b.triangles[3 * t + k]], 3 * sizeof(float));
    assert_memory_equal(a.lo, b.lo, sizeof a.lo);
    assert_memory_equal(a.hi, b.hi, sizeof a.hi);
    assert_true(watertight(&b));
    clr_mesh_free(&a);
    clr_mesh_free(&b);
}

static const char ascii_box_head[] = "solid cube\n"
                                     "  facet normal 0 0 -1\n"
                                     "    outer loop\n"
                                     "      vertex 0 0 0\n"
                                     "      vertex 0 1 0\n"
                                     "      vertex 1 1 0\n"
                                     "    endloop\n"
                                     "  endfacet\n";

static void ascii_stl_loads_and_welds(void **state)
{
    (void)state;
    /* A whole box written as ASCII, in upper case the second time round. */
    clr_mesh box;
    assert_int_equal(clr_mesh_box(&box, 0, 0, 0, 2, 1, 0.5f), 0);
    size_t cap = 8192, len = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "solid box\n");
    for (size_t t = 0; t < box.ntriangles; t++) {
        len += (size_t)snprintf(text + len, cap - len, " facet normal 0 0 0\n  outer loop\n");
        for (int k = 0; k < 3; k++) {
            const float *p = &box.vertices[3 * (size_t)box.triangles[3 * t + k]];
            len += (size_t)snprintf(text + len, cap - len, "   vertex %.9g %.9g %.9g\n", p[0], p[1], p[2]);
        }
        len += (size_t)snprintf(text + len, cap - len, t % 2 ? "  ENDLOOP\n ENDFACET\n" : "  endloop\n endfacet\n");
    }
    len += (size_t)snprintf(text + len, cap - len, "endsolid box\n");
    assert_true(len < cap);
    char path[64], err[256];
    temp_file(path, text, len);
    clr_mesh m;
    int rc = clr_mesh_load_stl(&m, path, err, sizeof err);
    unlink(path);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(m.ntriangles, 12);
    assert_int_equal(m.nvertices, 8);
    assert_true(watertight(&m));
    assert_true(fabs(signed_volume(&m) - 1.0) < 1e-9);
    clr_mesh_free(&m);
    clr_mesh_free(&box);
    free(text);
}

static void stl_rejects_an_empty_file(void **state)
{
    (void)state;
    expect_load_error("", 0, ": empty file");
}

static void stl_rejects_a_truncated_binary_file(void **state)
{
    (void)state;
    clr_mesh m;
    char path[64], err[256];
    assert_int_equal(clr_mesh_cylinder(&m, 0, 0, 5, 0, 3, 300), 0); /* 1200 triangles */
    temp_file(path, "", 0);
    assert_int_equal(clr_mesh_save_stl(&m, path, err, sizeof err), 0);
    clr_mesh_free(&m);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = calloc(1, 84 + 50 * 1201); /* room for a record too many */
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, 84 + 50 * 1200, f), 84 + 50 * 1200);
    fclose(f);
    unlink(path);
    expect_load_error(buf, 84 + 50 * 1187 + 17, "truncated binary STL: header says 1200 triangles, file holds 1187");
    expect_load_error(buf, 84 + 50 * 1200 + 50, "binary STL size mismatch: header says 1200 triangles");
    expect_load_error(buf, 90, "truncated binary STL: header says 1200 triangles, file holds 0");
    free(buf);
}

static void stl_rejects_a_bad_keyword_with_its_line(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text,
             "%s  facet normal 0 0 1\n    outer loop\n      vertex 0 0 1\n      vertx 1 2 3\n"
             "      vertex 1 0 1\n    endloop\n  endfacet\nendsolid cube\n",
             ascii_box_head);
    expect_load_error(text, strlen(text), ":12: expected 'vertex x y z', found 'vertx 1 2 3'");
    snprintf(text, sizeof text, "%s  facet normal 0 0 1\n    outer loop\n      vertex 0 0 1 7\n", ascii_box_head);
    expect_load_error(text, strlen(text), ":11: expected 'vertex x y z', found 'vertex 0 0 1 7'");
    snprintf(text, sizeof text, "%s  facet normal 0 0 1\n    outer loop\n      vertex 0 zero 1\n", ascii_box_head);
    expect_load_error(text, strlen(text), ":11: expected 'vertex x y z', found 'vertex 0 zero 1'");
    snprintf(text, sizeof text, "%sendsolid cube\ngarbage\n", ascii_box_head);
    expect_load_error(text, strlen(text), ":10: expected 'solid name' or end of file after 'endsolid', found 'garbage'");
}

static void stl_rejects_ascii_cut_off_inside_a_facet(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%s  facet normal 0 0 1\n    outer loop\n      vertex 0 0 1\n      vertex 1", ascii_box_head);
    expect_load_error(text, strlen(text), ":12: unexpected end of file: expected 'vertex x y z'");
    /* Cut between facets: the missing endsolid is an error too. */
    expect_load_error(ascii_box_head, strlen(ascii_box_head),
                      ":9: unexpected end of file: expected 'facet normal nx ny nz' or 'endsolid'");
}

static void stl_rejects_nan_coordinates(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text,
             "solid x\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n   vertex nan 0 0\n"
             "   vertex 0 1 0\n  endloop\n endfacet\nendsolid x\n");
    expect_load_error(text, strlen(text), ":5: NaN or infinite coordinate in 'vertex nan 0 0'");
    snprintf(text, sizeof text,
             "solid x\n facet normal 0 0 1\n  outer loop\n   vertex 0 0 0\n   vertex 1e39 0 0\n"
             "   vertex 0 1 0\n  endloop\n endfacet\nendsolid x\n");
    expect_load_error(text, strlen(text), ":5: out-of-range (not a finite float) coordinate in 'vertex 1e39 0 0'");
    /* Binary: a NaN in the second triangle. */
    unsigned char bin[84 + 2 * 50];
    memset(bin, 0, sizeof bin);
    bin[80] = 2;
    const uint32_t qnan = 0x7fc00000u;
    memcpy(bin + 84 + 50 + 12 + 4 * 4, &qnan, 4); /* little-endian hosts */
    expect_load_error(bin, sizeof bin, "triangle 1 has a NaN or infinite coordinate");
}

static void stl_rejects_a_missing_path(void **state)
{
    (void)state;
    clr_mesh m;
    char err[256];
    assert_int_equal(clr_mesh_load_stl(&m, "/nonexistent/dir/part.stl", err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/dir/part.stl: No such file or directory");
    assert_int_equal(clr_mesh_load_stl(&m, "/", err, sizeof err), -1);
    assert_string_equal(err, "/: Is a directory");
    assert_int_equal(clr_mesh_save_stl(&part, "/nonexistent/dir/part.stl", err, sizeof err), -1);
    assert_string_equal(err, "/nonexistent/dir/part.stl: No such file or directory");
}

static void stl_rejects_random_garbage(void **state)
{
    (void)state;
    unsigned char junk[4096];
    uint64_t x = 0x243f6a8885a308d3ull; /* fixed seed: the same bytes every run */
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        junk[i] = (unsigned char)(x >> 24);
    }
    expect_load_error(junk, sizeof junk, "not an STL file (neither binary nor ASCII)");
    expect_load_error(junk, 50, "not an STL file (neither binary nor ASCII)");
    expect_load_error("hello, world\n", 13, "not an STL file (neither binary nor ASCII)");
    const char *obj = "# a Wavefront OBJ, long enough to have a binary STL's header and count\n"
                      "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n";
    expect_load_error(obj, strlen(obj), "not an STL file (neither binary nor ASCII)");
    /* "solid" followed by binary junk is no ASCII STL either. */
    memcpy(junk, "solid ", 6);
    expect_load_error(junk, sizeof junk, "not an STL file (neither binary nor ASCII)");
}

static void stl_rejects_files_without_triangles(void **state)
{
    (void)state;
    unsigned char bin[84];
    memset(bin, ' ', 80);
    memset(bin + 80, 0, 4);
    expect_load_error(bin, sizeof bin, "binary STL holds no triangles");
    const char *text = "solid empty\nendsolid empty\n";
    expect_load_error(text, strlen(text), "ASCII STL holds no triangles");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(box_slice_is_one_loop_round_the_box),
        cmocka_unit_test(cylinder_slice_is_one_loop_with_a_corner_per_side),
        cmocka_unit_test(slice_beyond_the_mesh_is_empty),
        cmocka_unit_test(slice_through_a_vertex_level_still_closes),
        cmocka_unit_test(shapes_are_closed_and_face_outward),
        cmocka_unit_test(slicer_refuses_bad_meshes),
        cmocka_unit_test(part_is_a_million_watertight_triangles),
        cmocka_unit_test(part_slices_into_closed_oriented_loops),
        cmocka_unit_test(part_at_pocket_depth_has_holes_with_bosses_inside),
        cmocka_unit_test(index_examines_few_triangles_and_misses_none),
        cmocka_unit_test(concurrent_slices_match_serial_ones),
        cmocka_unit_test(generation_is_deterministic),
        cmocka_unit_test(stl_round_trip_keeps_the_geometry),
        cmocka_unit_test(ascii_stl_loads_and_welds),
        cmocka_unit_test(stl_rejects_an_empty_file),
        cmocka_unit_test(stl_rejects_a_truncated_binary_file),
        cmocka_unit_test(stl_rejects_a_bad_keyword_with_its_line),
        cmocka_unit_test(stl_rejects_ascii_cut_off_inside_a_facet),
        cmocka_unit_test(stl_rejects_nan_coordinates),
        cmocka_unit_test(stl_rejects_a_missing_path),
        cmocka_unit_test(stl_rejects_random_garbage),
        cmocka_unit_test(stl_rejects_files_without_triangles),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
