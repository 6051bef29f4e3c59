"""Loops to regions: which loop lies inside which, how deep, and so which
areas a level clears.

The section of the part at a height is solid between loops of even depth
(0: an outer boundary) and the loops directly inside them. A loop of odd
depth is a hole in the solid: the wall of a pocket, the region to clear.
Loops of the next depth directly inside it are solid again: islands (the
bosses standing in the pocket), which the tool must go round. Orientation
is computed, not trusted: nesting alone decides."""
from .loops import signed_area


def bounding_box(loop):
    xs = [p[0] for p in loop]
    ys = [p[1] for p in loop]
    return min(xs), min(ys), max(xs), max(ys)


def locate(x, y, loop):
    """1 if (x, y) is inside loop, 0 if on its boundary, -1 if outside.

    Even-odd crossing count with half-open edges (an edge counts when
    y1 <= y < y2 or y2 <= y < y1), so a ray through a vertex counts once;
    the boundary is checked exactly (zero cross product within the edge's
    box)."""
    inside = False
    px, py = loop[-1]
    for qx, qy in loop:
        if (py <= y) != (qy <= y):
            cross_x = px + (y - py) * (qx - px) / (qy - py)
            if cross_x == x:
                return 0
            if cross_x > x:
                inside = not inside
        if (min(px, qx) <= x <= max(px, qx) and min(py, qy) <= y <= max(py, qy)
                and (qx - px) * (y - py) == (qy - py) * (x - px)):
            return 0
        px, py = qx, qy
    return 1 if inside else -1


def contains(outer, inner):
    """Whether loop inner lies inside loop outer (the loops do not cross).

    Judged at the first vertex of inner that is not on outer, so loops that
    touch at a vertex or share an edge are still told apart; identical
    loops do not contain each other."""
    for x, y in inner:
        where = locate(x, y, outer)
        if where:
            return where > 0
    return False


def nest(loops):
    """For each loop: (depth, parent index or None, signed area).

    Depth is the number of loops containing it; the parent is the smallest
    of those (the innermost), None at depth 0."""
    boxes = [bounding_box(loop) for loop in loops]
    areas = [signed_area(loop) for loop in loops]
    containers = []
    for i, inner in enumerate(loops):
        bi = boxes[i]
        found = []
        for j, outer in enumerate(loops):
            bj = boxes[j]
            # The box test rejects almost every pair before the exact one.
            if (j != i and bj[0] <= bi[0] and bj[1] <= bi[1] and bj[2] >= bi[2] and bj[3] >= bi[3]
                    and abs(areas[j]) >= abs(areas[i]) and contains(outer, inner)):
                found.append(j)
        containers.append(found)
    result = []
    for i, found in enumerate(containers):
        parent = min(found, key=lambda j: (abs(areas[j]), j)) if found else None
        result.append((len(found), parent, areas[i]))
    return result


def find_regions(loops, nesting=None):
    """The regions to clear: a list of (pocket loop index, [island loop
    indices]), in loop order. A pocket is a loop of odd depth; its islands
    are the loops whose parent it is."""
    nesting = nest(loops) if nesting is None else nesting
    islands = {}
    for i, (depth, parent, _) in enumerate(nesting):
        if depth % 2 == 0 and parent is not None:
            islands.setdefault(parent, []).append(i)
    return [(i, islands.get(i, [])) for i, (depth, _, _) in enumerate(nesting) if depth % 2 == 1]


def misoriented(nesting):
    """How many loops break the slicer's orientation contract (solid on the
    left: even depth counter-clockwise, odd depth clockwise). Reported, not
    relied on."""
    return sum(1 for depth, _, area in nesting if (area > 0) != (depth % 2 == 0))
