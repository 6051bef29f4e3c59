"""Contour-parallel passes for one region: the tool centre's paths at
distance tool_radius + k * stepover from the region's boundary (pocket wall
and islands alike), k = 0, 1, ... while anything is that far from it.

The passes are the iso-contours of the region's distance field (field.py):
marching squares finds where each level crosses the grid and links the
crossings into closed loops, with the side farther than the level on the
loop's left (so passes along the wall run counter-clockwise and those round
islands clockwise: climb milling with a clockwise spindle, the material
being on the right once the inside is cleared). Then
each point is moved onto the exact offset of its nearest boundary segment,
so the path's accuracy does not depend on the grid: straight runs come out
straight, arcs round island corners come out as arcs (with points added
until every chord is within CHORD_TOLERANCE), and where two offsets meet in
a sharp corner the exact corner is put back. Points that a straight chord
replaces within SIMPLIFY_TOLERANCE are dropped.

A pass's vertices lie exactly (to rounding) at its level from the
boundary, and its chords come no nearer than that by more than the two
tolerances together. The grid only decides where passes exist and how
their pieces connect: a gap narrower than a cell may be missed."""
import math
from bisect import bisect_left

from .field import build_field
from .geometry import simplify_closed
from .loops import signed_area

CHORD_TOLERANCE = 1e-3      # mm a chord may cut inside an offset arc
SIMPLIFY_TOLERANCE = 5e-4   # mm a dropped point may lie off the path
_MAX_CHORD_SPLITS = 8       # halvings of one chord (1/256 of a cell)

# Marching squares: for a cell with corners bottom-left (bit 1), bottom-right
# (2), top-right (4), top-left (8) set when above the level, the crossings
# (local edges: 0 bottom, 1 right, 2 top, 3 left) each contour piece goes
# from and to, with the above-level side on its left. The two saddles (5 and
# 10) depend on the cell's centre and are resolved in _march.
_CASES = (
    (), ((0, 3),), ((1, 0),), ((1, 3),), ((2, 1),), None, ((2, 0),), ((2, 3),),
    ((3, 2),), ((0, 2),), None, ((1, 2),), ((3, 1),), ((0, 1),), ((3, 0),), (),
)
_SADDLES = {  # (centre above, centre below)
    5: (((0, 1), (2, 3)), ((0, 3), (2, 1))),
    10: (((1, 2), (3, 0)), ((1, 0), (3, 2))),
}


def pass_levels(tool_radius, stepover, top):
    """The offsets tool_radius + k * stepover below top (the largest
    distance in the region): one per pass ring."""
    levels = []
    while tool_radius + len(levels) * stepover < top:
        levels.append(tool_radius + len(levels) * stepover)
    return levels


def region_passes(loops, tool_radius, stepover, h):
    """The passes of the region bounded by loops (pocket wall first, then
    islands) on a grid of cell size h: a list of (k, points), k the ring
    (0 along the walls), points a closed loop of (x, y), in grid order."""
    f = build_field(loops, h)
    levels = pass_levels(tool_radius, stepover, max(f.value))
    # Ring k > 0 cuts nothing the ring before it did not where nothing is
    # farther than tool_radius - stepover beyond it. A loop enclosing less
    # area than a disc of that radius bounds such a crumb (it holds no
    # such disc, nor an island): the ridges of narrow passages break into
    # many, each a plunge and a retract for nothing, so they are left out.
    crumb = math.pi * (tool_radius - stepover) ** 2 if tool_radius > stepover else -1.0
    passes = []
    for k, contours in enumerate(_march(f, levels)):
        for edges in contours:
            points = _trace(f, levels[k], edges)
            if len(points) >= 2 and not (k and abs(signed_area(points)) <= crumb):
                passes.append((k, points))
    return passes


def _march(f, levels):
    """For each level, its contours as lists of grid-edge ids (2 * node for
    the edge to the right of a node, 2 * node + 1 for the edge above it)."""
    nx, ny, value = f.nx, f.ny, f.value
    # A node's band: how many levels lie below its value. A cell is crossed
    # by exactly the levels between its corners' smallest and largest band.
    band = [bisect_left(levels, v) for v in value]
    links = [{} for _ in levels]
    for j in range(ny - 1):
        row = j * nx
        for i in range(nx - 1):
            a = row + i
            ba, bb, bc, bd = band[a], band[a + 1], band[a + nx + 1], band[a + nx]
            if ba == bb == bc == bd:
                continue
            edges = (2 * a, 2 * (a + 1) + 1, 2 * (a + nx), 2 * a + 1)
            for k in range(min(ba, bb, bc, bd), max(ba, bb, bc, bd)):
                case = (ba > k) | (bb > k) << 1 | (bc > k) << 2 | (bd > k) << 3
                pieces = _CASES[case]
                if pieces is None:
                    centre = (value[a] + value[a + 1] + value[a + nx + 1] + value[a + nx]) * 0.25
                    pieces = _SADDLES[case][0 if centre > levels[k] else 1]
                link = links[k]
                for e_from, e_to in pieces:
                    link[edges[e_from]] = edges[e_to]
    contours = []
    for link in links:
        loops = []
        while link:
            start, e = link.popitem()
            edges = [start]
            while e != start:
                edges.append(e)
                e = link.pop(e)
            loops.append(edges)
        contours.append(loops)
    return contours


def _trace(f, level, edges):
    """One contour's points, each on the exact offset of its nearest
    segment, with sharp corners restored, arcs refined and straight runs
    simplified."""
    nx, h, xs, ys, value, feature = f.nx, f.h, f.xs, f.ys, f.value, f.feature
    points = []
    for e in edges:
        a = e >> 1
        b = a + nx if e & 1 else a + 1
        t = (level - value[a]) / (value[b] - value[a])
        x, y = xs[a % nx], ys[a // nx]
        if e & 1:
            y += t * h
        else:
            x += t * h
        points.append(_project(f, x, y, level, (feature[a], feature[b])))
    refined = []
    n = len(points)
    for i in range(n):
        p, q = points[i], points[(i + 1) % n]
        refined.append(p)
        if p[2] != q[2]:
            corner = _corner(f, p, q, level)
            if corner is not None:
                _refine_chord(f, p, corner, level, refined)
                refined.append(corner)
                p = corner
        _refine_chord(f, p, q, level, refined)
    path = []
    for x, y, _ in refined:
        if not path or (x, y) != path[-1]:
            path.append((x, y))
    while len(path) > 1 and path[-1] == path[0]:
        path.pop()
    return simplify_closed(path, SIMPLIFY_TOLERANCE)


def _nearest(segs, x, y, candidates):
    """(squared distance, segment, foot x, foot y) of the nearest candidate
    segment to (x, y); ties go to the earlier candidate."""
    best = None
    for s in candidates:
        if s < 0:
            continue
        ax, ay, dx, dy, il2 = segs[s]
        t = ((x - ax) * dx + (y - ay) * dy) * il2
        t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
        qx, qy = ax + t * dx, ay + t * dy
        d2 = (x - qx) ** 2 + (y - qy) ** 2
        if best is None or d2 < best[0]:
            best = (d2, s, qx, qy)
    return best


def _descend(f, x, y, found):
    """From found = (squared distance, segment, foot), walk along the
    segment's loop while the next or previous segment is nearer: on finely
    tessellated curves the grid's nearest segment can be a few off, and
    near a vertex the segment beyond its other side may be the nearer."""
    if found is None:
        return None
    segs = f.segments
    for step in (f.next, f.prev):
        at, ties = found[1], 0
        while True:
            other = _nearest(segs, x, y, (step[at],))
            if other[0] < found[0]:
                found, at, ties = other, other[1], 0
            elif other[0] == found[0] and ties < 2:
                # Two segments sharing the nearest vertex tie; look past them.
                at, ties = other[1], ties + 1
            else:
                break
    return found


def _project(f, x, y, level, candidates):
    """(x, y, segment): the point moved along the normal of its nearest
    segment to exactly `level` from it. Where that lands nearer than
    `level` to another segment, the point is where two offsets meet: the
    exact corner between them."""
    found = _descend(f, x, y, _nearest(f.segments, x, y, candidates))
    if found is None:
        return (x, y, -1)
    tight = level * (1.0 - 1e-12)
    for _ in range(4):
        p = _onto(found, x, y, level)
        again = _descend(f, p[0], p[1], _nearest(f.segments, p[0], p[1], (found[1],) + tuple(candidates)))
        if again[1] == found[1] or again[0] >= tight * tight:
            return p
        corner = _corner(f, p, _onto(again, p[0], p[1], level), level)
        if corner is not None:
            return corner
        x, y = p[0], p[1]
        found = again
    return p


def _onto(found, x, y, level):
    """(x, y) moved along the normal from its foot on segment found[1] to
    exactly `level` from it, as a projected point (x, y, segment)."""
    d2, s, qx, qy = found
    d = math.sqrt(d2)
    if d == 0.0:
        return (x, y, s)
    return (qx + (x - qx) * (level / d), qy + (y - qy) * (level / d), s)


def _offset_curve(f, p, level):
    """The offset curve through projected point p: ('line', nx, ny, c) for
    n.x = c when p's foot is inside its segment, ('circle', cx, cy) round
    the segment's end otherwise."""
    x, y, s = p
    ax, ay, dx, dy, il2 = f.segments[s]
    t = ((x - ax) * dx + (y - ay) * dy) * il2
    if t <= 0.0 or t >= 1.0:
        return ("circle", ax, ay) if t <= 0.0 else ("circle", ax + dx, ay + dy)
    qx, qy = ax + t * dx, ay + t * dy
    d = math.hypot(x - qx, y - qy)
    if d == 0.0:
        return None
    nx, ny = (x - qx) / d, (y - qy) / d
    return ("line", nx, ny, nx * qx + ny * qy + level)


def _intersections(c1, c2, level):
    """Intersection points of two offset curves (lines or circles of
    radius level)."""
    if c1[0] == "circle" and c2[0] == "line":
        c1, c2 = c2, c1
    if c1[0] == "line" and c2[0] == "line":
        _, a1, b1, k1 = c1
        _, a2, b2, k2 = c2
        det = a1 * b2 - a2 * b1
        if abs(det) < 1e-12:
            return []
        return [((k1 * b2 - k2 * b1) / det, (a1 * k2 - a2 * k1) / det)]
    if c1[0] == "line":
        _, a, b, k = c1
        _, cx, cy = c2
        dist = a * cx + b * cy - k  # signed distance of the centre from the line
        half2 = level * level - dist * dist
        if half2 < 0.0:
            return []
        fx, fy = cx - dist * a, cy - dist * b
        half = math.sqrt(half2)
        return [(fx - half * b, fy + half * a), (fx + half * b, fy - half * a)]
    _, x1, y1 = c1
    _, x2, y2 = c2
    dx, dy = x2 - x1, y2 - y1
    d2 = dx * dx + dy * dy
    if d2 == 0.0 or d2 > 4.0 * level * level:
        return []
    half = math.sqrt(level * level - d2 / 4.0)
    d = math.sqrt(d2)
    mx, my = x1 + dx / 2.0, y1 + dy / 2.0
    return [(mx - half * dy / d, my + half * dx / d), (mx + half * dy / d, my - half * dx / d)]


def _corner(f, p, q, level):
    """The sharp corner between consecutive points p and q on different
    segments' offsets, if they meet in one nearby: a point exactly `level`
    from both segments and no nearer to any other it can see. None where
    the offsets join smoothly (an arc round a corner lies between them).

    On finely tessellated curves the offset p or q lies on may end before
    the corner; then the corner is sought again with the segments nearest
    to the guess, a few times. The corner may lie outside the chord from p
    to q: a cusp the grid was too coarse to see."""
    mx, my = (p[0] + q[0]) / 2.0, (p[1] + q[1]) / 2.0
    reach2 = (4.0 * f.h) ** 2
    slack = 1e-9 * max(1.0, level)
    segs = f.segments
    for _ in range(8):
        c1, c2 = _offset_curve(f, p, level), _offset_curve(f, q, level)
        if c1 is None or c2 is None or c1 == c2:
            return None
        best = None
        for x, y in _intersections(c1, c2, level):
            d2 = (x - mx) ** 2 + (y - my) ** 2
            if d2 <= reach2 and (best is None or d2 < best[0]):
                best = (d2, x, y)
        if best is None:
            return None
        _, x, y = best
        n1 = _descend(f, x, y, _nearest(segs, x, y, (p[2],)))
        n2 = _descend(f, x, y, _nearest(segs, x, y, (q[2],)))
        d1, d2 = math.sqrt(n1[0]), math.sqrt(n2[0])
        if abs(d1 - level) <= slack and abs(d2 - level) <= slack:
            return (x, y, n2[1])
        # The guess is off the offsets (their segments end before it, or
        # others are nearer): try again with the segments nearest to it.
        p, q = _onto(n1, x, y, level), _onto(n2, x, y, level)
        if p[2] == q[2]:
            return None
    return None


def _refine_chord(f, p, q, level, out):
    """Appends to out, in path order, the points strictly between p and q
    that bring the chord within CHORD_TOLERANCE of the offset: a midpoint
    nearer the boundary than that is projected onto the offset, and both
    halves are checked again."""
    stack = [(False, p, q, 0)]
    while stack:
        is_point, a, b, depth = stack.pop()
        if is_point:
            out.append(a)
            continue
        if depth >= _MAX_CHORD_SPLITS:
            continue
        mx, my = (a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0
        near = _descend(f, mx, my, _nearest(f.segments, mx, my, (a[2], b[2])))
        if near is None or math.sqrt(near[0]) >= level - CHORD_TOLERANCE:
            continue
        m = _project(f, mx, my, level, (a[2], b[2]))
        # Pushed in reverse: the first half, then m, then the second half.
        stack.append((False, m, b, depth + 1))
        stack.append((True, m, None, 0))
        stack.append((False, a, m, depth + 1))
