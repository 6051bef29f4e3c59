/*
 * mesh.c — builds and stores the clearing demo's triangle meshes: the default
 * machined part (a height field over a regular grid, closed by side walls and
 * a bottom fan, so it is watertight by construction), a box and a cylinder for
 * the tests, and binary/ASCII STL input (with exact vertex welding) and binary
 * STL output. The STL reader treats its input as hostile: every read is
 * bounds-checked against the buffer and every failure says what and where.
 */
#include "mesh.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define CLR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLR_PRINTF(a, b)
#endif

static void set_err(char *err, size_t errlen, const char *fmt, ...) CLR_PRINTF(3, 4);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void clr_mesh_free(clr_mesh *m)
{
    if (!m)
        return;
    free(m->vertices);
    free(m->triangles);
    memset(m, 0, sizeof *m);
}

static void compute_bounds(clr_mesh *m)
{
    for (int k = 0; k < 3; k++) {
        m->lo[k] = m->nvertices ? m->vertices[k] : 0.0f;
        m->hi[k] = m->lo[k];
    }
    for (size_t i = 0; i < m->nvertices; i++)
        for (int k = 0; k < 3; k++) {
            float c = m->vertices[3 * i + k];
            if (c < m->lo[k])
                m->lo[k] = c;
            if (c > m->hi[k])
                m->hi[k] = c;
        }
}

/* Allocates both arrays; on failure frees what it got and leaves *m zeroed. */
static int mesh_alloc(clr_mesh *m, size_t nvertices, size_t ntriangles)
{
    memset(m, 0, sizeof *m);
    if (nvertices > SIZE_MAX / (3 * sizeof(float)) || ntriangles > SIZE_MAX / (3 * sizeof(uint32_t)))
        return -1;
    m->vertices = malloc(nvertices * 3 * sizeof(float));
    m->triangles = malloc(ntriangles * 3 * sizeof(uint32_t));
    if (!m->vertices || !m->triangles) {
        clr_mesh_free(m);
        return -1;
    }
    m->nvertices = nvertices;
    m->ntriangles = ntriangles;
    return 0;
}

static void put_vertex(clr_mesh *m, size_t i, float x, float y, float z)
{
    m->vertices[3 * i] = x;
    m->vertices[3 * i + 1] = y;
    m->vertices[3 * i + 2] = z;
}

static void put_triangle(clr_mesh *m, size_t t, uint32_t a, uint32_t b, uint32_t c)
{
    m->triangles[3 * t] = a;
    m->triangles[3 * t + 1] = b;
    m->triangles[3 * t + 2] = c;
}

/* ---- Test shapes ---------------------------------------------------------- */

int clr_mesh_box(clr_mesh *m, float x0, float y0, float z0, float x1, float y1, float z1)
{
    /* Vertex v = (x is x1) + 2 (y is y1) + 4 (z is z1); each face as two
     * triangles whose normal (b-a) x (c-a) points out of the box. */
    static const uint32_t faces[12][3] = {
        {0, 2, 3}, {0, 3, 1}, /* z0, -z */
        {4, 5, 7}, {4, 7, 6}, /* z1, +z */
        {0, 1, 5}, {0, 5, 4}, /* y0, -y */
        {2, 6, 7}, {2, 7, 3}, /* y1, +y */
        {0, 4, 6}, {0, 6, 2}, /* x0, -x */
        {1, 3, 7}, {1, 7, 5}, /* x1, +x */
    };
    if (!m)
        return -1;
    memset(m, 0, sizeof *m);
    if (!(x0 < x1 && y0 < y1 && z0 < z1) || !isfinite(x0) || !isfinite(x1) || !isfinite(y0) || !isfinite(y1) ||
        !isfinite(z0) || !isfinite(z1))
        return -1;
    if (mesh_alloc(m, 8, 12) != 0)
        return -1;
    for (uint32_t v = 0; v < 8; v++)
        put_vertex(m, v, (v & 1) ? x1 : x0, (v & 2) ? y1 : y0, (v & 4) ? z1 : z0);
    for (size_t t = 0; t < 12; t++)
        put_triangle(m, t, faces[t][0], faces[t][1], faces[t][2]);
    compute_bounds(m);
    return 0;
}

int clr_mesh_cylinder(clr_mesh *m, float cx, float cy, float r, float z0, float z1, int segments)
{
    if (!m)
        return -1;
    memset(m, 0, sizeof *m);
    if (segments < 3 || segments > (1 << 24) || !(r > 0) || !(z0 < z1) || !isfinite(cx) || !isfinite(cy) ||
        !isfinite(r) || !isfinite(z0) || !isfinite(z1))
        return -1;
    uint32_t n = (uint32_t)segments;
    if (mesh_alloc(m, 2 + 2 * (size_t)n, 4 * (size_t)n) != 0)
        return -1;
    /* 0: bottom centre, 1: top centre, 2+k: bottom ring, 2+n+k: top ring. */
    put_vertex(m, 0, cx, cy, z0);
    put_vertex(m, 1, cx, cy, z1);
    const double two_pi = 6.283185307179586476925286766559;
    for (uint32_t k = 0; k < n; k++) {
        double a = two_pi * (double)k / (double)n;
        float x = (float)(cx + r * cos(a)), y = (float)(cy + r * sin(a));
        put_vertex(m, 2 + k, x, y, z0);
        put_vertex(m, 2 + n + k, x, y, z1);
    }
    size_t t = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t k1 = (k + 1) % n;
        uint32_t b0 = 2 + k, b1 = 2 + k1, t0 = 2 + n + k, t1 = 2 + n + k1;
        put_triangle(m, t++, 0, b1, b0); /* bottom: clockwise seen from +z */
        put_triangle(m, t++, 1, t0, t1); /* top: counter-clockwise */
        put_triangle(m, t++, b0, b1, t1); /* side quad, the ring runs counter-clockwise */
        put_triangle(m, t++, b0, t1, t0);
    }
    compute_bounds(m);
    return 0;
}

/* ---- The machined part ------------------------------------------------------ */

#define PART_W 160.0
#define PART_H 120.0
#define PART_TOP 40.0

static double dmin(double a, double b) { return a < b ? a : b; }
static double dmax(double a, double b) { return a > b ? a : b; }

/* Signed distance to a rounded rectangle (negative inside). */
static double sd_round_rect(double x, double y, double cx, double cy, double hx, double hy, double r)
{
    double qx = fabs(x - cx) - (hx - r), qy = fabs(y - cy) - (hy - r);
    double ox = dmax(qx, 0.0), oy = dmax(qy, 0.0);
    return sqrt(ox * ox + oy * oy) + dmin(dmax(qx, qy), 0.0) - r;
}

/* Distance to the segment a-b. */
static double dist_segment(double x, double y, double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay;
    double t = ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy);
    t = dmin(dmax(t, 0.0), 1.0);
    double px = x - (ax + t * dx), py = y - (ay + t * dy);
    return sqrt(px * px + py * py);
}

static double dist_point(double x, double y, double cx, double cy)
{
    return sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
}

/* The top surface z = f(x, y). Pockets are min() with a depression, bosses
 * max() with a raised shape; every wall has a steep but finite slope so the
 * grid samples it as a band of sloped triangles, never a vertical cliff.
 * Only +, -, *, / and sqrt (all correctly rounded) so the bytes are the same
 * on any IEEE machine. */
static double part_height(double x, double y)
{
    double z = PART_TOP;
    /* Outer features: a 3 mm 45-degree chamfer round the top edge, a
     * quarter-round step down to z = 32 along x = 0, a 20-degree ramp down
     * towards y = 120. */
    double edge = dmin(dmin(x, PART_W - x), dmin(y, PART_H - y));
    z = dmin(z, PART_TOP - 3.0 + edge);
    if (x < 16.0) {
        double u = (16.0 - x) / 16.0;
        z = dmin(z, 32.0 + 8.0 * sqrt(1.0 - u * u));
    }
    if (y > 105.0)
        z = dmin(z, PART_TOP - (y - 105.0) * 0.36397023426620236); /* tan 20 deg */

    /* Rounded-rectangle pocket, 56 x 72, corner radius 10, floor at 18,
     * walls drafted about 9.5 degrees (slope 6). */
    double s = sd_round_rect(x, y, 48.0, 58.0, 28.0, 36.0, 10.0);
    z = dmin(z, dmax(18.0, PART_TOP + 6.0 * s));
    /* ... holding a cylindrical boss (r 8, top 33, slope 12 walls) ... */
    double r = dist_point(x, y, 36.0, 40.0);
    z = dmax(z, dmin(33.0, 33.0 - 12.0 * (r - 8.0)));
    /* ... and a frustum (r 11 at the floor, r 5 at its top, z = 30). */
    r = dist_point(x, y, 58.0, 74.0);
    z = dmax(z, dmin(30.0, 30.0 - 2.0 * (r - 5.0)));

    /* Circular pocket, r 24, steep wall (slope 8) down to a spherical floor
     * (sphere radius 34, lowest point z = 10), with a cone in the middle
     * (apex z = 28, slope 1.5). */
    r = dist_point(x, y, 118.0, 78.0);
    double floor_z = r < 34.0 ? 44.0 - sqrt(34.0 * 34.0 - r * r) : PART_TOP;
    z = dmin(z, dmax(PART_TOP + 8.0 * (r - 24.0), floor_z));
    z = dmax(z, 28.0 - 1.5 * r);

    /* A slot with round ends: 12 wide, centre line (100,26)-(146,26), floor
     * at 30, walls of slope 10. */
    s = dist_segment(x, y, 100.0, 26.0, 146.0, 26.0) - 6.0;
    z = dmin(z, dmax(30.0, PART_TOP + 10.0 * s));
    return z;
}

/* The grid index of the b-th vertex on the top's boundary, walking
 * counter-clockwise seen from +z from the origin: along y = 0, up x = max,
 * back along y = max, down x = 0. */
static size_t boundary_vertex(uint64_t b, uint64_t cx, uint64_t cy)
{
    uint64_t i, j;
    if (b < cx)
        i = b, j = 0;
    else if (b < cx + cy)
        i = cx, j = b - cx;
    else if (b < 2 * cx + cy)
        i = cx - (b - cx - cy), j = cy;
    else
        i = 0, j = cy - (b - 2 * cx - cy);
    return (size_t)(j * (cx + 1) + i);
}

int clr_mesh_generate(clr_mesh *m, size_t min_triangles)
{
    if (!m)
        return -1;
    memset(m, 0, sizeof *m);
    /* Beyond 2^31 triangles the vertex count nears the 32-bit index limit. */
    if (min_triangles > ((size_t)1 << 31))
        return -1;
    /* Grid of cx x cy cells with the part's 4:3 aspect. Triangles: 2 per
     * cell on top, 2 per boundary edge on the side walls, 1 per boundary
     * edge in the bottom fan. Start just under the answer, then step up. */
    uint64_t cy = (uint64_t)sqrt((double)min_triangles * 3.0 / 8.0);
    cy = cy > 8 ? cy - 4 : 4;
    uint64_t cx, perim, ntri;
    for (;;) {
        cx = (4 * cy + 1) / 3;
        perim = 2 * (cx + cy);
        ntri = 2 * cx * cy + 3 * perim;
        if (ntri >= min_triangles)
            break;
        cy++;
    }
    uint64_t nx = cx + 1, ny = cy + 1;
    uint64_t nvert = nx * ny + perim + 1;
    if (nvert > UINT32_MAX)
        return -1;
    if (mesh_alloc(m, (size_t)nvert, (size_t)ntri) != 0)
        return -1;

    /* Top grid: vertex (i, j) is j * nx + i. */
    for (uint64_t j = 0; j < ny; j++) {
        double y = (double)j * PART_H / (double)cy;
        for (uint64_t i = 0; i < nx; i++) {
            double x = (double)i * PART_W / (double)cx;
            put_vertex(m, (size_t)(j * nx + i), (float)x, (float)y, (float)part_height(x, y));
        }
    }
    size_t t = 0;
    for (uint64_t j = 0; j < cy; j++)
        for (uint64_t i = 0; i < cx; i++) {
            uint32_t v00 = (uint32_t)(j * nx + i), v10 = v00 + 1;
            uint32_t v01 = (uint32_t)(v00 + nx), v11 = v01 + 1;
            put_triangle(m, t++, v00, v10, v11); /* counter-clockwise seen from +z */
            put_triangle(m, t++, v00, v11, v01);
        }

    /* Below each boundary vertex of the top (walked counter-clockwise seen
     * from +z) a bottom vertex at z = 0, and a centre for the bottom fan. */
    uint32_t base = (uint32_t)(nx * ny), centre = (uint32_t)(nx * ny + perim);
    for (uint64_t b = 0; b < perim; b++) {
        const float *top = &m->vertices[3 * boundary_vertex(b, cx, cy)];
        put_vertex(m, base + (uint32_t)b, top[0], top[1], 0.0f);
    }
    put_vertex(m, centre, (float)(PART_W / 2), (float)(PART_H / 2), 0.0f);
    for (uint64_t b = 0; b < perim; b++) {
        uint64_t b1 = (b + 1) % perim;
        uint32_t top0 = (uint32_t)boundary_vertex(b, cx, cy), top1 = (uint32_t)boundary_vertex(b1, cx, cy);
        uint32_t bot0 = base + (uint32_t)b, bot1 = base + (uint32_t)b1;
        /* Outward is to the right of the counter-clockwise walk. */
        put_triangle(m, t++, bot0, bot1, top1);
        put_triangle(m, t++, bot0, top1, top0);
        put_triangle(m, t++, centre, bot1, bot0); /* bottom: clockwise seen from +z */
    }
    compute_bounds(m);
    return 0;
}

/* ---- STL input ---------------------------------------------------------------- */

static uint32_t rd_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float rd_f32(const unsigned char *p)
{
    uint32_t u = rd_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* Turns a raw triangle soup (9 floats per triangle, all finite) into the
 * indexed form: vertices with bit-equal coordinates become one, -0 and +0
 * counting as equal. Open addressing on a power-of-two table at most half
 * full. Takes ownership of nothing; fills *m. */
static int weld(clr_mesh *m, const float *raw, size_t ntri)
{
    memset(m, 0, sizeof *m);
    size_t nraw = 3 * ntri;
    size_t cap = 16;
    while (cap < 2 * nraw) {
        if (cap > SIZE_MAX / 4 / sizeof(uint32_t))
            return -1;
        cap *= 2;
    }
    uint32_t *table = malloc(cap * sizeof *table);
    if (!table)
        return -1;
    memset(table, 0xff, cap * sizeof *table);
    if (mesh_alloc(m, nraw, ntri) != 0) {
        free(table);
        return -1;
    }
    size_t nv = 0;
    for (size_t r = 0; r < nraw; r++) {
        float c[3];
        uint32_t bits[3];
        for (int k = 0; k < 3; k++) {
            c[k] = raw[3 * r + k] + 0.0f; /* -0 + 0 = +0 */
            memcpy(&bits[k], &c[k], sizeof bits[k]);
        }
        uint32_t h = mix32(bits[0] * 0x9e3779b1u ^ mix32(bits[1] + 0x7f4a7c15u) ^ bits[2] * 0xc2b2ae3du);
        size_t slot = h & (cap - 1);
        for (;;) {
            uint32_t v = table[slot];
            if (v == UINT32_MAX) {
                table[slot] = (uint32_t)nv;
                memcpy(&m->vertices[3 * nv], c, sizeof c);
                m->triangles[r] = (uint32_t)nv++;
                break;
            }
            if (memcmp(&m->vertices[3 * (size_t)v], c, sizeof c) == 0) {
                m->triangles[r] = v;
                break;
            }
            slot = (slot + 1) & (cap - 1);
        }
    }
    free(table);
    m->nvertices = nv;
    float *shrunk = realloc(m->vertices, nv * 3 * sizeof(float));
    if (shrunk)
        m->vertices = shrunk;
    compute_bounds(m);
    return 0;
}

/* Whether bytes that are not an exact-size binary STL still look like one
 * (so a size mismatch is worth reporting as such): a text header, as most
 * writers put there, or leading records with finite coordinates of sane size.
 * Random bytes fail both. */
static int binary_plausible(const unsigned char *d, size_t len, uint32_t n)
{
    int text = 1;
    for (size_t i = 0; i < 80 && text; i++)
        text = d[i] == 0 || (d[i] >= 0x20 && d[i] < 0x7f);
    if (text)
        return 1;
    size_t complete = (len - 84) / 50;
    if (complete > n)
        complete = n;
    if (complete == 0)
        return 0;
    if (complete > 64)
        complete = 64;
    for (size_t t = 0; t < complete; t++)
        for (int k = 0; k < 9; k++) {
            float f = rd_f32(d + 84 + 50 * t + 12 + 4 * k);
            if (!isfinite(f) || fabsf(f) > 1e7f)
                return 0;
        }
    return 1;
}

static int load_binary(clr_mesh *m, const unsigned char *d, uint32_t n, const char *name, char *err, size_t errlen)
{
    if (n == 0) {
        set_err(err, errlen, "%s: binary STL holds no triangles", name);
        return -1;
    }
    if (n > UINT32_MAX / 3) {
        set_err(err, errlen, "%s: binary STL has too many triangles (%u) for 32-bit vertex indices", name, n);
        return -1;
    }
    float *raw = malloc((size_t)n * 9 * sizeof(float));
    if (!raw) {
        set_err(err, errlen, "%s: out of memory for %u triangles", name, n);
        return -1;
    }
    for (size_t t = 0; t < n; t++) {
        const unsigned char *rec = d + 84 + 50 * t + 12; /* after the normal */
        for (int k = 0; k < 9; k++) {
            float f = rd_f32(rec + 4 * k);
            if (!isfinite(f)) {
                set_err(err, errlen, "%s: triangle %zu has a NaN or infinite coordinate", name, t);
                free(raw);
                return -1;
            }
            raw[9 * t + k] = f;
        }
    }
    int rc = weld(m, raw, n);
    free(raw);
    if (rc != 0)
        set_err(err, errlen, "%s: out of memory for %u triangles", name, n);
    return rc;
}

/* ---- ASCII STL -------------------------------------------------------------- */

typedef struct lexer {
    const char *p, *end;
    const char *line_start; /* of the line p is on */
    size_t line;
    /* The last token read and where its line starts. */
    const char *tok;
    size_t toklen, tokline;
    const char *tokline_start;
} lexer;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Reads the next whitespace-separated token; 0 at end of input. */
static int next_token(lexer *lx)
{
    while (lx->p < lx->end && is_space(*lx->p)) {
        if (*lx->p == '\n') {
            lx->line++;
            lx->line_start = lx->p + 1;
        }
        lx->p++;
    }
    if (lx->p >= lx->end)
        return 0;
    lx->tok = lx->p;
    lx->tokline = lx->line;
    lx->tokline_start = lx->line_start;
    while (lx->p < lx->end && !is_space(*lx->p))
        lx->p++;
    lx->toklen = (size_t)(lx->p - lx->tok);
    return 1;
}

static void skip_line(lexer *lx)
{
    while (lx->p < lx->end && *lx->p != '\n')
        lx->p++;
}

/* Case-insensitive keyword match: writers differ on case. */
static int tok_is(const lexer *lx, const char *kw)
{
    size_t n = strlen(kw);
    if (lx->toklen != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = lx->tok[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != kw[i])
            return 0;
    }
    return 1;
}

/* The text of the line the last token is on, trimmed and made printable,
 * for messages. */
static void quote_line(const lexer *lx, char *out, size_t outlen)
{
    const char *s = lx->tokline_start;
    while (s < lx->end && (*s == ' ' || *s == '\t'))
        s++;
    const char *e = s;
    while (e < lx->end && *e != '\n' && *e != '\r')
        e++;
    while (e > s && is_space(e[-1]))
        e--;
    size_t o = 0, max = outlen - 4; /* room for "..." and NUL */
    for (const char *q = s; q < e; q++) {
        if (o >= 60 || o >= max) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)*q;
        out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[o] = '\0';
}

typedef struct ascii_ctx {
    lexer lx;
    const char *name;
    char *err;
    size_t errlen;
} ascii_ctx;

static int fail_expected(ascii_ctx *a, int have_token, const char *what)
{
    if (!have_token) {
        set_err(a->err, a->errlen, "%s:%zu: unexpected end of file: expected '%s'", a->name, a->lx.line, what);
    } else {
        char found[72];
        quote_line(&a->lx, found, sizeof found);
        set_err(a->err, a->errlen, "%s:%zu: expected '%s', found '%s'", a->name, a->lx.tokline, what, found);
    }
    return -1;
}

/* Reads a number token into *out; 0, or -1 when it is not one. */
static int tok_number(const lexer *lx, double *out)
{
    char buf[64];
    if (lx->toklen == 0 || lx->toklen >= sizeof buf)
        return -1;
    memcpy(buf, lx->tok, lx->toklen);
    buf[lx->toklen] = '\0';
    char *endp;
    errno = 0;
    *out = strtod(buf, &endp);
    if (endp != buf + lx->toklen)
        return -1;
    return 0;
}

static int expect_kw(ascii_ctx *a, const char *kw, const char *what)
{
    int have = next_token(&a->lx);
    if (!have || !tok_is(&a->lx, kw))
        return fail_expected(a, have, what);
    return 0;
}

static int load_ascii(clr_mesh *m, const char *data, size_t len, const char *name, char *err, size_t errlen)
{
    ascii_ctx a = {.lx = {.p = data, .end = data + len, .line_start = data, .line = 1},
                   .name = name,
                   .err = err,
                   .errlen = errlen};
    static const char facet_what[] = "facet normal nx ny nz' or 'endsolid";
    float *raw = NULL;
    size_t ntri = 0, cap = 0;
    int rc = -1;

    if (!next_token(&a.lx) || !tok_is(&a.lx, "solid")) {
        fail_expected(&a, 1, "solid name");
        goto out;
    }
    skip_line(&a.lx); /* the solid's name, free text */
    for (;;) {
        int have = next_token(&a.lx);
        if (!have) {
            fail_expected(&a, 0, facet_what);
            goto out;
        }
        if (tok_is(&a.lx, "endsolid")) {
            skip_line(&a.lx);
            /* Several solids may follow one another; anything else may not. */
            if (!next_token(&a.lx))
                break;
            if (tok_is(&a.lx, "solid")) {
                skip_line(&a.lx);
                continue;
            }
            fail_expected(&a, 1, "solid name' or end of file after 'endsolid");
            goto out;
        }
        if (!tok_is(&a.lx, "facet")) {
            fail_expected(&a, 1, facet_what);
            goto out;
        }
        static const char normal_what[] = "facet normal nx ny nz";
        if (expect_kw(&a, "normal", normal_what) != 0)
            goto out;
        for (int k = 0; k < 3; k++) {
            double d;
            /* The normal's value is not used (writers often leave it zero or
             * NaN for degenerate facets), but it must be a number. */
            have = next_token(&a.lx);
            if (!have || tok_number(&a.lx, &d) != 0) {
                fail_expected(&a, have, normal_what);
                goto out;
            }
        }
        if (expect_kw(&a, "outer", "outer loop") != 0 || expect_kw(&a, "loop", "outer loop") != 0)
            goto out;
        if (ntri == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            if (ncap > SIZE_MAX / (9 * sizeof(float))) {
                set_err(err, errlen, "%s: out of memory", name);
                goto out;
            }
            float *g = realloc(raw, ncap * 9 * sizeof(float));
            if (!g) {
                set_err(err, errlen, "%s: out of memory after %zu facets", name, ntri);
                goto out;
            }
            raw = g;
            cap = ncap;
        }
        for (int v = 0; v < 3; v++) {
            static const char vertex_what[] = "vertex x y z";
            if (expect_kw(&a, "vertex", vertex_what) != 0)
                goto out;
            for (int k = 0; k < 3; k++) {
                double d;
                have = next_token(&a.lx);
                if (!have || tok_number(&a.lx, &d) != 0) {
                    fail_expected(&a, have, vertex_what);
                    goto out;
                }
                float f = (float)d;
                if (!isfinite(d) || !isfinite(f)) {
                    char found[72];
                    quote_line(&a.lx, found, sizeof found);
                    set_err(err, errlen, "%s:%zu: %s coordinate in '%s'", name, a.lx.tokline,
                            isfinite(d) ? "out-of-range (not a finite float)" : "NaN or infinite", found);
                    goto out;
                }
                raw[9 * ntri + 3 * v + k] = f;
            }
        }
        if (expect_kw(&a, "endloop", "endloop") != 0 || expect_kw(&a, "endfacet", "endfacet") != 0)
            goto out;
        ntri++;
    }
    if (ntri == 0) {
        set_err(err, errlen, "%s: ASCII STL holds no triangles", name);
        goto out;
    }
    if (ntri > UINT32_MAX / 3) {
        set_err(err, errlen, "%s: too many triangles (%zu) for 32-bit vertex indices", name, ntri);
        goto out;
    }
    if (weld(m, raw, ntri) != 0) {
        set_err(err, errlen, "%s: out of memory for %zu triangles", name, ntri);
        goto out;
    }
    rc = 0;
out:
    free(raw);
    return rc;
}

/* "solid" after optional whitespace, then whitespace or the end. */
static int starts_with_solid(const char *d, size_t len)
{
    size_t i = 0;
    while (i < len && is_space(d[i]))
        i++;
    if (len - i < 5 || memcmp(d + i, "solid", 5) != 0)
        return 0;
    return len - i == 5 || is_space(d[i + 5]);
}

/* Text an ASCII STL may hold: no control characters but whitespace (bytes
 * from 0x80 up are allowed: names in UTF-8 or Latin-1). */
static int looks_textual(const unsigned char *d, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = d[i];
        if ((c < 0x20 && !is_space((char)c)) || c == 0x7f)
            return 0;
    }
    return 1;
}

int clr_mesh_load_stl_buffer(clr_mesh *m, const void *data, size_t len, const char *name, char *err, size_t errlen)
{
    const unsigned char *d = data;
    if (!name)
        name = "<buffer>";
    if (err && errlen)
        err[0] = '\0';
    if (!m) {
        set_err(err, errlen, "%s: no mesh to load into", name);
        return -1;
    }
    memset(m, 0, sizeof *m);
    if (len == 0 || !d) {
        set_err(err, errlen, "%s: empty file", name);
        return -1;
    }
    uint32_t n = len >= 84 ? rd_u32(d + 80) : 0;
    /* Exact size match first: some binary writers start the header with
     * "solid" too. */
    if (len >= 84 && (uint64_t)len == 84 + 50 * (uint64_t)n)
        return load_binary(m, d, n, name, err, errlen);
    int ascii = starts_with_solid(data, len);
    if (ascii && (len < 84 || looks_textual(d, len)))
        return load_ascii(m, data, len, name, err, errlen);
    /* Text that is not an ASCII STL is no binary one either: binary STLs
     * hold zero bytes (the count's high bytes, the attribute words). */
    if (len >= 84 && !looks_textual(d, len) && binary_plausible(d, len, n)) {
        uint64_t want = 84 + 50 * (uint64_t)n;
        if ((uint64_t)len < want)
            set_err(err, errlen, "%s: truncated binary STL: header says %u triangles, file holds %zu", name, n,
                    (len - 84) / 50);
        else
            set_err(err, errlen,
                    "%s: binary STL size mismatch: header says %u triangles (%llu bytes), file has %zu bytes", name,
                    n, (unsigned long long)want, len);
        return -1;
    }
    set_err(err, errlen, "%s: not an STL file (neither binary nor ASCII)", name);
    return -1;
}

int clr_mesh_load_stl(clr_mesh *m, const char *path, char *err, size_t errlen)
{
    if (m)
        memset(m, 0, sizeof *m);
    if (!path) {
        set_err(err, errlen, "no STL path given");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Read in growing chunks rather than trusting a size from stat or
     * ftell: pipes and special files have none. */
    size_t len = 0, cap = 1 << 16;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            unsigned char *g = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!g) {
                free(buf);
                fclose(f);
                set_err(err, errlen, "%s: out of memory reading the file", path);
                return -1;
            }
            buf = g;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                fclose(f);
                set_err(err, errlen, "%s: %s", path, strerror(e ? e : EIO));
                return -1;
            }
            break;
        }
    }
    fclose(f);
    int rc = clr_mesh_load_stl_buffer(m, buf, len, path, err, errlen);
    free(buf);
    return rc;
}

/* ---- STL output ------------------------------------------------------------- */

static void wr_u32(unsigned char *p, uint32_t u)
{
    p[0] = (unsigned char)u;
    p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16);
    p[3] = (unsigned char)(u >> 24);
}

static void wr_f32(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    wr_u32(p, u);
}

int clr_mesh_save_stl(const clr_mesh *m, const char *path, char *err, size_t errlen)
{
    if (!m || !path) {
        set_err(err, errlen, "no mesh or no path to save to");
        return -1;
    }
    if (m->ntriangles > UINT32_MAX) {
        set_err(err, errlen, "%s: %zu triangles do not fit a binary STL", path, m->ntriangles);
        return -1;
    }
    for (size_t i = 0; i < 3 * m->ntriangles; i++)
        if (m->triangles[i] >= m->nvertices) {
            set_err(err, errlen, "%s: triangle %zu refers to vertex %u of %zu", path, i / 3, m->triangles[i],
                    m->nvertices);
            return -1;
        }
    FILE *f = fopen(path, "wb");
    if (!f) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* The header must not start with "solid", or readers may take it for ASCII. */
    unsigned char head[84];
    memset(head, ' ', 80);
    static const char title[] = "binary STL from manycore examples/clearing";
    memcpy(head, title, sizeof title - 1);
    wr_u32(head + 80, (uint32_t)m->ntriangles);
    int ok = fwrite(head, 1, sizeof head, f) == sizeof head;
    enum { BATCH = 1024 };
    unsigned char *buf = malloc(BATCH * 50);
    ok = ok && buf;
    for (size_t t = 0; ok && t < m->ntriangles;) {
        size_t nb = 0;
        for (; nb < BATCH && t < m->ntriangles; nb++, t++) {
            unsigned char *rec = buf + 50 * nb;
            const float *v[3];
            for (int k = 0; k < 3; k++)
                v[k] = &m->vertices[3 * (size_t)m->triangles[3 * t + k]];
            double e1[3], e2[3], n[3];
            for (int k = 0; k < 3; k++) {
                e1[k] = (double)v[1][k] - v[0][k];
                e2[k] = (double)v[2][k] - v[0][k];
            }
            n[0] = e1[1] * e2[2] - e1[2] * e2[1];
            n[1] = e1[2] * e2[0] - e1[0] * e2[2];
            n[2] = e1[0] * e2[1] - e1[1] * e2[0];
            double l = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
            for (int k = 0; k < 3; k++)
                wr_f32(rec + 4 * k, l > 0 ? (float)(n[k] / l) : 0.0f);
            for (int k = 0; k < 9; k++)
                wr_f32(rec + 12 + 4 * k, v[k / 3][k % 3]);
            rec[48] = rec[49] = 0;
        }
        ok = fwrite(buf, 50, nb, f) == nb;
    }
    int e = errno;
    free(buf);
    if (fclose(f) != 0 && ok) {
        e = errno;
        ok = 0;
    }
    if (!ok) {
        set_err(err, errlen, "%s: %s", path, strerror(e ? e : EIO));
        return -1;
    }
    return 0;
}
