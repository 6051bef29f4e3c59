"""A region's distance field: on a square grid over the region, every node
gets its exact distance to the region's boundary (pocket wall and island
outlines), signed positive inside the region, and the index of the boundary
segment that distance is measured to (its nearest feature).

How: the nodes inside are found by an even-odd scanline fill; the nodes
within 1.5 cells of each segment get their exact distance to it; then two
raster sweeps pass each node's nearest segment on to its neighbours, which
keep it when it is nearer than their own (a feature transform, like
Danielsson's vector distance transform, but carrying segments instead of
offsets). Every distance is measured to a real segment, so values are
exact wherever the nearest segment was found, and the offset module can
project contour points exactly onto the offset curve of that segment."""
import math
from bisect import bisect_left, bisect_right


class Field:
    """The grid (origin x0, y0, cell size h, nx by ny nodes, node (i, j) at
    xs[i], ys[j], flat index j * nx + i), the boundary segments as tuples
    (ax, ay, dx, dy, 1 / length^2) with their loop neighbours, and per node
    the signed distance (value) and nearest segment (feature, -1: none)."""
    __slots__ = ("h", "nx", "ny", "xs", "ys", "segments", "prev", "next", "value", "feature")


def build_field(loops, h):
    """The distance field of the region bounded by loops (the pocket wall
    and its islands: even-odd, so orientation does not matter), on a grid of
    cell size h with two cells of margin (border nodes lie outside)."""
    f = Field()
    f.h = h
    segments, prev, nxt = [], [], []
    for loop in loops:
        base, m = len(segments), len(loop)
        for k in range(m):
            ax, ay = loop[k]
            bx, by = loop[(k + 1) % m]
            dx, dy = bx - ax, by - ay
            segments.append((ax, ay, dx, dy, 1.0 / (dx * dx + dy * dy)))
            prev.append(base + (k - 1) % m)
            nxt.append(base + (k + 1) % m)
    f.segments, f.prev, f.next = segments, prev, nxt
    xmin = min(p[0] for loop in loops for p in loop)
    xmax = max(p[0] for loop in loops for p in loop)
    ymin = min(p[1] for loop in loops for p in loop)
    ymax = max(p[1] for loop in loops for p in loop)
    # Grid lines on multiples of h, so a shape's nodes do not depend on
    # where its box happens to start.
    i0, j0 = math.floor(xmin / h) - 2, math.floor(ymin / h) - 2
    f.nx = math.floor(xmax / h) + 3 - i0
    f.ny = math.floor(ymax / h) + 3 - j0
    f.xs = [(i0 + i) * h for i in range(f.nx)]
    f.ys = [(j0 + j) * h for j in range(f.ny)]
    inside = _fill(f)
    dist2, feature = _seed(f, 1.5 * h)
    _sweep(f, inside, dist2, feature)
    sqrt = math.sqrt
    outside_far = -1.5 * h
    f.value = [(sqrt(d) if s >= 0 else 0.0) if ins else (-sqrt(d) if s >= 0 else outside_far)
               for ins, d, s in zip(inside, dist2, feature)]
    f.feature = feature
    return f


def _fill(f):
    """Even-odd scanline fill: 1 for nodes inside the region. An edge
    crosses row y when y1 <= y < y2 (or the reverse), a node at x is inside
    when it lies in [x_in, x_out) of a crossing pair."""
    nx, xs, ys = f.nx, f.xs, f.ys
    rows = [[] for _ in range(f.ny)]
    for ax, ay, dx, dy, _ in f.segments:
        if dy == 0.0:
            continue
        ylo, yhi = (ay, ay + dy) if dy > 0 else (ay + dy, ay)
        for j in range(bisect_left(ys, ylo), bisect_left(ys, yhi)):
            rows[j].append(ax + (ys[j] - ay) * dx / dy)
    inside = bytearray(nx * f.ny)
    for j, crossings in enumerate(rows):
        crossings.sort()
        base = j * nx
        for k in range(0, len(crossings) - 1, 2):
            ia, ib = bisect_left(xs, crossings[k]), bisect_left(xs, crossings[k + 1])
            inside[base + ia:base + ib] = b"\x01" * (ib - ia)
    return inside


def _seed(f, band):
    """Exact squared distances, and nearest segments, for the nodes within
    `band` of some segment (row by row over each segment's reach)."""
    nx, xs, ys = f.nx, f.xs, f.ys
    dist2 = [math.inf] * (nx * f.ny)
    feature = [-1] * (nx * f.ny)
    for s, (ax, ay, dx, dy, il2) in enumerate(f.segments):
        bx, by = ax + dx, ay + dy
        for j in range(bisect_left(ys, min(ay, by) - band), bisect_right(ys, max(ay, by) + band)):
            y = ys[j]
            if dy == 0.0:
                xa, xb = min(ax, bx), max(ax, bx)
            else:
                # The part of the segment within `band` of row y, in x.
                t1, t2 = (y - band - ay) / dy, (y + band - ay) / dy
                if t1 > t2:
                    t1, t2 = t2, t1
                t1, t2 = max(t1, 0.0), min(t2, 1.0)
                xa, xb = ax + t1 * dx, ax + t2 * dx
                if xa > xb:
                    xa, xb = xb, xa
            base = j * nx
            ey = y - ay
            for i in range(bisect_left(xs, xa - band), bisect_right(xs, xb + band)):
                ex = xs[i] - ax
                t = (ex * dx + ey * dy) * il2
                t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
                qx, qy = ex - t * dx, ey - t * dy
                d = qx * qx + qy * qy
                if d < dist2[base + i]:
                    dist2[base + i] = d
                    feature[base + i] = s
    return dist2, feature


def _sweep(f, inside, dist2, feature):
    """Two raster sweeps over the inside nodes, as in Danielsson's 8SSEDT:
    rows bottom to top, each left to right taking from the west and the
    row below, then right to left from the east; then rows top to bottom,
    right to left from the east and the row above, then left to right from
    the west. A node takes a neighbour's segment when it is nearer."""
    nx, ny = f.nx, f.ny
    up, down = range(1, ny - 1), range(ny - 2, 0, -1)
    right, left = range(1, nx - 1), range(nx - 2, 0, -1)
    for rows, first, first_from, second, second_from in (
            (up, right, (-1, -nx - 1, -nx, -nx + 1), left, (1,)),
            (down, left, (1, nx + 1, nx, nx - 1), right, (-1,))):
        for j in rows:
            _sweep_row(f, inside, dist2, feature, j, first, first_from)
            _sweep_row(f, inside, dist2, feature, j, second, second_from)


def _sweep_row(f, inside, dist2, feature, j, cols, offsets):
    nx, xs, segs = f.nx, f.xs, f.segments
    py = f.ys[j]
    base = j * nx
    for i in cols:
        idx = base + i
        if not inside[idx]:
            continue
        best, bs = dist2[idx], feature[idx]
        px = xs[i]
        for o in offsets:
            s = feature[idx + o]
            if s == bs or s < 0:
                continue
            ax, ay, dx, dy, il2 = segs[s]
            ex, ey = px - ax, py - ay
            t = (ex * dx + ey * dy) * il2
            t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
            ex -= t * dx
            ey -= t * dy
            d = ex * ex + ey * ey
            if d < best:
                best, bs = d, s
        dist2[idx], feature[idx] = best, bs
