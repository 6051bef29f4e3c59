/*
 * fuzz_stl.c — libFuzzer target for the clearing demo's STL reader. Arbitrary
 * bytes go to clr_mesh_load_stl_buffer; a failure must come with a message
 * and an empty mesh, a success with a well-formed indexed mesh (indices in
 * range, finite coordinates, a bounding box that holds them, no two vertices
 * equal), which the slicer must then index and cut without incident, however
 * far from watertight it is. Any disagreement aborts.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iexamples/clearing
 *        examples/clearing/mesh.c examples/clearing/slicer.c
 *        tests/clearing/fuzz_stl.c -lm -o fuzz_stl
 * (or cmake -DMC_FUZZ=ON with CC=clang: target fuzz_stl).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"
#include "slicer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_mesh(const clr_mesh *m)
{
    check(m->ntriangles > 0 && m->nvertices > 0 && m->nvertices <= 3 * m->ntriangles);
    for (size_t i = 0; i < 3 * m->ntriangles; i++)
        check(m->triangles[i] < m->nvertices);
    for (size_t i = 0; i < m->nvertices; i++)
        for (int k = 0; k < 3; k++) {
            float c = m->vertices[3 * i + k];
            check(isfinite(c) && c >= m->lo[k] && c <= m->hi[k]);
        }
    /* Welding left no two vertices equal (checked where it is cheap). */
    if (m->nvertices <= 64)
        for (size_t i = 0; i < m->nvertices; i++)
            for (size_t j = i + 1; j < m->nvertices; j++) {
                const float *a = &m->vertices[3 * i], *b = &m->vertices[3 * j];
                check(!(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]));
            }
}

static void check_slices(const clr_mesh *m)
{
    clr_slicer *s;
    int rc = clr_slicer_new(m->vertices, m->nvertices, m->triangles, m->ntriangles, &s);
    if (rc == -1)
        return; /* out of memory */
    check(rc == 0);
    double lo = m->lo[2], hi = m->hi[2];
    const double hs[] = {lo, hi, 0.5 * (lo + hi), lo + 0.25 * (hi - lo), (double)m->vertices[2], nextafter(hi, -INFINITY)};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        double *seg;
        long n = clr_slicer_slice(s, hs[i], &seg);
        if (n < 0)
            continue; /* out of memory */
        check((size_t)n <= clr_slicer_examined(s, hs[i]));
        check((n == 0) == (seg == NULL));
        for (long k = 0; k < 4 * n; k++)
            check(isfinite(seg[k]));
        clr_free(seg);
    }
    clr_slicer_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clr_mesh m;
    char err[256];
    memset(err, 0x7f, sizeof err);
    if (clr_mesh_load_stl_buffer(&m, data, size, "fuzz.stl", err, sizeof err) != 0) {
        check(memchr(err, '\0', sizeof err) != NULL && strncmp(err, "fuzz.stl", 8) == 0);
        check(m.vertices == NULL && m.triangles == NULL && m.ntriangles == 0 && m.nvertices == 0);
        return 0;
    }
    check_mesh(&m);
    check_slices(&m);
    clr_mesh_free(&m);
    return 0;
}
