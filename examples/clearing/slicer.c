/*
 * slicer.c — the native slicing kernel: a z-interval index over a mesh's
 * triangles, and the cut of the mesh by a plane z = h as oriented segments
 * whose endpoints match bit for bit between neighbouring triangles.
 *
 * The index is a hierarchy of z bins: level l splits [zlo, zhi] into 2^l
 * equal bins, and each triangle sits at the finest level where its
 * [zmin, zmax] spans at most two adjacent bins, listed in both. A slice looks
 * at one bin per level, so it examines the triangles whose z range is near h
 * and about as long as their distance to it, never the whole mesh, and the
 * index holds at most two entries per triangle however tall the triangle.
 * Flat triangles are left out: they never have vertices on both sides.
 */
#include "slicer.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 2^20 finest bins at most: beyond that the bin offsets cost more than the
 * bins save. */
#define MAX_DEPTH 20

struct clr_slicer {
    const float *v;
    const uint32_t *t;
    size_t nv, nt;
    double zlo, zhi; /* z range of the non-flat triangles */
    double scale;    /* finest bins per unit of z */
    unsigned depth;  /* the finest level; level l has 2^l bins */
    size_t *start;   /* bin b holds items[start[b] .. start[b+1]); level l's bins begin at 2^l - 1 */
    uint32_t *items;
};

void clr_free(void *p) { free(p); }

/* The finest bin z falls in, clamped. Monotonic in z, and every level's bin
 * is derived from it by a shift, so the build and the query can never
 * disagree about which bins an interval covers. */
static size_t fine_bin(const clr_slicer *s, double z)
{
    size_t nfine = (size_t)1 << s->depth;
    double f = (z - s->zlo) * s->scale;
    if (!(f >= 0)) /* also NaN */
        return 0;
    if (f >= (double)nfine)
        return nfine - 1;
    return (size_t)f;
}

static void tri_zrange(const clr_slicer *s, size_t t, double *zmin, double *zmax)
{
    const uint32_t *tri = &s->t[3 * t];
    double z0 = s->v[3 * (size_t)tri[0] + 2], z1 = s->v[3 * (size_t)tri[1] + 2], z2 = s->v[3 * (size_t)tri[2] + 2];
    *zmin = fmin(z0, fmin(z1, z2));
    *zmax = fmax(z0, fmax(z1, z2));
}

/* The (one or two) bins a non-flat triangle is listed in. */
static int tri_bins(const clr_slicer *s, double zmin, double zmax, size_t bins[2])
{
    size_t a = fine_bin(s, zmin), b = fine_bin(s, zmax);
    unsigned sh = 0;
    while ((b >> sh) - (a >> sh) > 1)
        sh++;
    size_t base = ((size_t)1 << (s->depth - sh)) - 1;
    bins[0] = base + (a >> sh);
    if ((b >> sh) == (a >> sh))
        return 1;
    bins[1] = base + (b >> sh);
    return 2;
}

/* The bins triangle t is listed in (0 for a flat triangle, which no plane
 * crosses): the one rule both passes of the index build use. */
static int triangle_bins(const clr_slicer *s, size_t t, size_t bins[2])
{
    double zmin, zmax;
    tri_zrange(s, t, &zmin, &zmax);
    return zmin == zmax ? 0 : tri_bins(s, zmin, zmax, bins);
}

int clr_slicer_new(const float *vertices, size_t nvertices, const uint32_t *triangles, size_t ntriangles,
                   clr_slicer **out)
{
    if (!out)
        return -2;
    *out = NULL;
    if (ntriangles > UINT32_MAX || (ntriangles && (!vertices || !triangles)))
        return -2;
    for (size_t i = 0; i < 3 * ntriangles; i++) {
        if (triangles[i] >= nvertices)
            return -2;
        const float *p = &vertices[3 * (size_t)triangles[i]];
        if (!isfinite(p[0]) || !isfinite(p[1]) || !isfinite(p[2]))
            return -2;
    }
    clr_slicer *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->v = vertices;
    s->t = triangles;
    s->nv = nvertices;
    s->nt = ntriangles;

    size_t nonflat = 0;
    double zlo = INFINITY, zhi = -INFINITY;
    for (size_t t = 0; t < ntriangles; t++) {
        double zmin, zmax;
        tri_zrange(s, t, &zmin, &zmax);
        if (zmin == zmax)
            continue;
        nonflat++;
        zlo = fmin(zlo, zmin);
        zhi = fmax(zhi, zmax);
    }
    unsigned depth = 0;
    while (depth < MAX_DEPTH && ((size_t)4 << depth) < nonflat)
        depth++;
    s->depth = depth;
    s->zlo = nonflat ? zlo : 0;
    s->zhi = nonflat ? zhi : 0;
    s->scale = nonflat ? (double)((size_t)1 << depth) / (zhi - zlo) : 0;
    if (!isfinite(s->scale)) { /* a z range so small its reciprocal overflows */
        s->depth = 0;
        s->scale = 0;
    }

    size_t nbins = ((size_t)2 << s->depth) - 1;
    s->start = calloc(nbins + 1, sizeof *s->start);
    size_t *fill = malloc(nbins * sizeof *fill);
    if (!s->start || !fill) {
        free(fill);
        clr_slicer_free(s);
        return -1;
    }
    /* Count, prefix-sum, fill: triangles land in each bin in index order,
     * so slices come out in a deterministic order. */
    size_t bins[2];
    for (size_t t = 0; t < ntriangles; t++) {
        int nb = triangle_bins(s, t, bins);
        for (int k = 0; k < nb; k++)
            s->start[bins[k] + 1]++;
    }
    for (size_t b = 0; b < nbins; b++)
        s->start[b + 1] += s->start[b];
    s->items = malloc((s->start[nbins] ? s->start[nbins] : 1) * sizeof *s->items);
    if (!s->items) {
        free(fill);
        clr_slicer_free(s);
        return -1;
    }
    memcpy(fill, s->start, nbins * sizeof *fill);
    for (size_t t = 0; t < ntriangles; t++) {
        int nb = triangle_bins(s, t, bins);
        for (int k = 0; k < nb; k++)
            s->items[fill[bins[k]]++] = (uint32_t)t;
    }
    free(fill);
    *out = s;
    return 0;
}

void clr_slicer_free(clr_slicer *s)
{
    if (!s)
        return;
    free(s->start);
    free(s->items);
    free(s);
}

/* No triangle crosses a plane outside (zlo, zhi]: it needs zmin < h <= zmax. */
static int plane_hits(const clr_slicer *s, double h)
{
    return s->scale > 0 && h > s->zlo && h <= s->zhi;
}

size_t clr_slicer_examined(const clr_slicer *s, double h)
{
    if (!s || !plane_hits(s, h))
        return 0;
    size_t f = fine_bin(s, h), n = 0;
    for (unsigned l = 0; l <= s->depth; l++) {
        size_t b = ((size_t)1 << l) - 1 + (f >> (s->depth - l));
        n += s->start[b + 1] - s->start[b];
    }
    return n;
}

/* The point where the plane crosses edge a-b (one end below, one above),
 * interpolated from the lower-indexed end so that both triangles sharing the
 * edge compute exactly the same bits. Kept out of line so the arithmetic is
 * one piece of code whoever calls it (no call-site-dependent contraction). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void crossing(const float *v, uint32_t a, uint32_t b, double h, double *x, double *y)
{
    if (a > b) {
        uint32_t tmp = a;
        a = b;
        b = tmp;
    }
    const float *pa = &v[3 * (size_t)a], *pb = &v[3 * (size_t)b];
    double za = pa[2], zb = pb[2];
    double t = (h - za) / (zb - za);
    *x = (double)pa[0] + t * ((double)pb[0] - (double)pa[0]);
    *y = (double)pa[1] + t * ((double)pb[1] - (double)pa[1]);
}

long clr_slicer_slice(const clr_slicer *s, double h, double **segments)
{
    if (!segments)
        return -1;
    *segments = NULL;
    size_t cand = clr_slicer_examined(s, h);
    if (cand == 0)
        return 0;
    if (cand > (size_t)LONG_MAX || cand > SIZE_MAX / (4 * sizeof(double)))
        return -1;
    double *out = malloc(cand * 4 * sizeof(double));
    if (!out)
        return -1;
    size_t f = fine_bin(s, h), n = 0;
    for (unsigned l = 0; l <= s->depth; l++) {
        size_t b = ((size_t)1 << l) - 1 + (f >> (s->depth - l));
        for (size_t i = s->start[b]; i < s->start[b + 1]; i++) {
            const uint32_t *tri = &s->t[3 * (size_t)s->items[i]];
            unsigned above = 0;
            for (int k = 0; k < 3; k++)
                above |= (unsigned)((double)s->v[3 * (size_t)tri[k] + 2] >= h) << k;
            if (above == 0 || above == 7)
                continue;
            /* One vertex (p) is alone on its side; the plane crosses its two
             * edges. With the triangle counter-clockwise from outside, going
             * from the crossing on p-next to the one on p-prev keeps the
             * solid on the left when p is above; the reverse when below. */
            int p, p_above;
            if (above == 1 || above == 2 || above == 4) {
                p = above == 1 ? 0 : above == 2 ? 1 : 2;
                p_above = 1;
            } else {
                p = above == 6 ? 0 : above == 5 ? 1 : 2;
                p_above = 0;
            }
            uint32_t vp = tri[p], vn = tri[(p + 1) % 3], vq = tri[(p + 2) % 3];
            double xn, yn, xq, yq;
            crossing(s->v, vp, vn, h, &xn, &yn);
            crossing(s->v, vp, vq, h, &xq, &yq);
            if (xn == xq && yn == yq)
                continue; /* zero length: the plane through a vertex */
            double *seg = &out[4 * n++];
            if (p_above) {
                seg[0] = xn, seg[1] = yn, seg[2] = xq, seg[3] = yq;
            } else {
                seg[0] = xq, seg[1] = yq, seg[2] = xn, seg[3] = yn;
            }
        }
    }
    if (n == 0) {
        free(out);
        return 0;
    }
    if (n < cand / 2) { /* give back what the candidates over-reserved */
        double *g = realloc(out, n * 4 * sizeof(double));
        if (g)
            out = g;
    }
    *segments = out;
    return (long)n;
}
