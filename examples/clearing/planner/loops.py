"""Slice segments to closed loops: the flat view of the slicer's buffer,
linking by exact endpoint equality, and signed areas.

The slicer guarantees that segment endpoints meet bit for bit, so linking
is a dictionary lookup, never a tolerance search."""
import math


def flat_segments(segments):
    """A flat sequence of 4n floats (x1, y1, x2, y2, ...) from the slicer's
    float64 buffer (any shape), a flat sequence of numbers, or a sequence of
    4-sequences. Buffers are read in place, not copied."""
    try:
        view = memoryview(segments)
    except TypeError:
        items = list(segments)
        if items and not isinstance(items[0], (int, float)):
            return [float(c) for seg in items for c in seg]
        return [float(c) for c in items]
    if view.format.lstrip("<=@") != "d":
        raise TypeError(f"segments: expected a float64 buffer, got format {view.format!r}")
    # A zero-length buffer cannot be cast; it is simply no segments.
    return view.cast("B").cast("d") if view.nbytes else []


def link_loops(flat):
    """Closed loops from segments given as a flat sequence of 4n floats.

    Each loop is a list of (x, y) points, closed implicitly (the last point
    links back to the first), in the direction of its segments. Zero-length
    segments are dropped; so are loops that enclose no area (a segment and
    its reverse). Where several segments leave one point (two loops touching
    at a vertex), the walk takes the sharpest left turn, which keeps each
    loop around its own material instead of crossing over. A chain that
    does not close raises ValueError."""
    if len(flat) % 4:
        raise ValueError(f"segments: {len(flat)} numbers is not a multiple of 4")
    coords = list(flat)  # one fast copy to Python floats beats indexing the buffer per use
    n = len(coords) // 4
    # Start point -> the segments leaving it, in input order (deterministic).
    leaving = {}
    live = []
    for i in range(n):
        x1, y1, x2, y2 = coords[4 * i:4 * i + 4]
        if x1 == x2 and y1 == y2:
            continue
        leaving.setdefault((x1, y1), []).append(i)
        live.append(i)
    used = bytearray(n)
    loops = []
    for first in live:
        if used[first]:
            continue
        start = (coords[4 * first], coords[4 * first + 1])
        loop = []
        cur = first
        while True:
            used[cur] = 1
            loop.append((coords[4 * cur], coords[4 * cur + 1]))
            end = (coords[4 * cur + 2], coords[4 * cur + 3])
            if end == start:
                break
            nexts = [s for s in leaving.get(end, ()) if not used[s]]
            if not nexts:
                raise ValueError(
                    f"open chain: {len(loop)} linked segments from ({start[0]!r}, {start[1]!r}) "
                    f"stop at ({end[0]!r}, {end[1]!r}), where no unused segment starts")
            cur = nexts[0] if len(nexts) == 1 else _leftmost(coords, cur, nexts)
        if len(loop) >= 3 and signed_area(loop) != 0.0:
            loops.append(loop)
    return loops


def _leftmost(coords, cur, candidates):
    """The candidate segment turning most to the left from segment cur."""
    ix = coords[4 * cur + 2] - coords[4 * cur]
    iy = coords[4 * cur + 3] - coords[4 * cur + 1]
    best, best_turn = None, None
    for s in candidates:
        ox = coords[4 * s + 2] - coords[4 * s]
        oy = coords[4 * s + 3] - coords[4 * s + 1]
        turn = math.atan2(ix * oy - iy * ox, ix * ox + iy * oy)
        if best is None or turn > best_turn:
            best, best_turn = s, turn
    return best


def signed_area(loop):
    """Shoelace area: positive for counter-clockwise loops seen from +z."""
    total = 0.0
    px, py = loop[-1]
    for x, y in loop:
        total += px * y - x * py
        px, py = x, y
    return 0.5 * total
