/*
 * slicer.h — the clearing demo's native kernel: cuts a triangle mesh with a
 * horizontal plane and returns the cross-section's boundary as oriented
 * segments. This file owns the slicer's API; slicer.c its z-interval index
 * and the exact crossing rules. Plain C11; no manycore, no Python.
 */
#ifndef CLEARING_SLICER_H
#define CLEARING_SLICER_H

#include <stddef.h>
#include <stdint.h>

#include "clr_api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clr_slicer clr_slicer;

/* Builds a z-interval index over the triangles (a hierarchy of z bins; flat
 * triangles are left out, as they never cross a plane) so a slice touches
 * only triangles whose z range is near the plane. Keeps pointers to the
 * arrays, copies nothing of them: the caller keeps them alive and unchanged
 * while the slicer lives. Returns 0; -1 out of memory; -2 bad input (a
 * vertex index out of range, a NaN or infinite coordinate in a used vertex,
 * more than UINT32_MAX triangles). Once built, any number of threads may
 * slice at once. */
CLR_API int clr_slicer_new(const float *vertices, size_t nvertices, const uint32_t *triangles, size_t ntriangles,
                           clr_slicer **out);

/* The mesh cut by the plane z = h. *segments gets a malloc'd array of 4
 * doubles per segment (x1, y1, x2, y2), NULL when there are none; free it
 * with free() or clr_free(). Returns the segment count, or -1 when out of
 * memory (*segments NULL).
 *
 * Rules, which make the result exact and watertight: a vertex is above when
 * z >= h; a triangle contributes iff it has vertices on both sides; each
 * crossing point is interpolated on its edge with the lower vertex index
 * first, so both triangles of an edge produce bit-identical points, and the
 * segments of a closed mesh link into closed loops by exact endpoint
 * equality. Walking from (x1,y1) to (x2,y2) the solid is on the left: outer
 * boundaries run counter-clockwise seen from +z, holes clockwise. Triangles
 * flat in the plane contribute nothing, and neither does a triangle whose
 * two crossing points coincide (the plane through one of its vertices): a
 * zero-length segment carries no boundary, and leaving it out keeps every
 * point's in- and out-degree equal. Where the plane passes through a vertex
 * several loops may touch at that point; they still close. */
CLR_API long clr_slicer_slice(const clr_slicer *s, double h, double **segments);

/* How many triangles a slice at h examines (reads the vertices of): tests
 * use it to check the index works. */
CLR_API size_t clr_slicer_examined(const clr_slicer *s, double h);

CLR_API void clr_slicer_free(clr_slicer *s);

/* free() for callers (ctypes) that cannot reach this library's C runtime. */
CLR_API void clr_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
