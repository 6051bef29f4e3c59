/*
 * mesh.h — the triangle mesh the clearing demo's host owns: an indexed,
 * closed, consistently oriented surface in millimetres. This file owns the
 * mesh type, the default "machined part" the demo cuts, two simple test
 * shapes, and STL reading and writing. Plain C11; no manycore, no Python.
 */
#ifndef CLEARING_MESH_H
#define CLEARING_MESH_H

#include <stddef.h>
#include <stdint.h>

#include "clr_api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clr_mesh {
    float *vertices;     /* 3 floats per vertex (x, y, z), mm */
    uint32_t *triangles; /* 3 vertex indices per triangle, counter-clockwise seen from outside */
    size_t nvertices, ntriangles;
    float lo[3], hi[3]; /* bounding box */
} clr_mesh;

/* The default machined part: a 160 x 120 x 40 mm block (x, y in [0,160] x
 * [0,120], z in [0,40]) whose top is a height field over a regular grid:
 *   - a 3 mm 45-degree chamfer round the top, a quarter-round step down to
 *     z = 32 along x = 0, and a 20-degree ramp down towards y = 120;
 *   - a rounded-rectangle pocket (56 x 72 centred on (48, 58), corner
 *     radius 10, floor z = 18, walls drafted ~9.5 degrees) holding a
 *     cylindrical boss (r 8 at (36, 40), top z = 33) and a frustum boss
 *     (r 11 -> 5 at (58, 74), top z = 30);
 *   - a circular pocket (r 24, centre (118, 78)) with a spherical floor
 *     (sphere radius 34 bottoming at z = 10) and a cone standing in its
 *     middle (apex z = 28), so its lowest ring, round the cone, is z ~ 11.8;
 *   - a slot with round ends (12 wide, (100, 26) to (146, 26), floor z = 30);
 * plus four side walls and a bottom at z = 0. Tessellated to at least
 * min_triangles; watertight, consistently oriented, and the same bytes for
 * the same min_triangles. Returns 0, or -1 (out of memory, or too big for
 * 32-bit indices) with *m zeroed. */
CLR_API int clr_mesh_generate(clr_mesh *m, size_t min_triangles);

/* Test shapes: an axis-aligned box (8 vertices, 12 triangles; needs x0 < x1,
 * y0 < y1, z0 < z1) and a closed cylinder around the z axis through (cx, cy)
 * with `segments` >= 3 sides (2 + 2*segments vertices, 4*segments
 * triangles). Return 0, or -1 on bad arguments or out of memory. */
CLR_API int clr_mesh_box(clr_mesh *m, float x0, float y0, float z0, float x1, float y1, float z1);
CLR_API int clr_mesh_cylinder(clr_mesh *m, float cx, float cy, float r, float z0, float z1, int segments);

/* Loads a binary or ASCII STL, welding bit-equal vertices into the indexed
 * form. Returns 0, or -1 with *m zeroed and a specific message in err
 * (prefixed with the path, and the line for ASCII errors). */
CLR_API int clr_mesh_load_stl(clr_mesh *m, const char *path, char *err, size_t errlen);
/* The same from bytes in memory; `name` prefixes the messages. Never reads
 * outside data[0, len). */
CLR_API int clr_mesh_load_stl_buffer(clr_mesh *m, const void *data, size_t len, const char *name, char *err,
                                     size_t errlen);
/* Writes a binary STL. Returns 0, or -1 with a message in err. */
CLR_API int clr_mesh_save_stl(const clr_mesh *m, const char *path, char *err, size_t errlen);

/* Frees the arrays and zeroes *m; safe on a zeroed mesh. */
CLR_API void clr_mesh_free(clr_mesh *m);

#ifdef __cplusplus
}
#endif

#endif
