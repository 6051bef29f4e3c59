"""The cutting order of a level's passes, and its cut and rapid lengths.

Within a region the passes run innermost first, outwards: the tool plunges
in the middle of the pocket, away from its walls, every later ring has the
cleared area on its inner side and material on its outer side only (even
engagement, and climb milling with the loops' orientation, see offset.py),
and the last ring is the one along the wall, a finishing cut. Rings of the
same depth (a pocket split by its islands) go nearest first. Each closed
pass starts at its point nearest to where the previous one ended, and the
regions follow one another greedily, nearest entry first, from the
level's start point. Ties go to the lower index, so the order depends only
on the geometry."""
from .geometry import closed_length, nearest_on_closed, rotate_to_nearest


def order_level(region_passes, start=(0.0, 0.0)):
    """The level's passes in cutting order.

    region_passes: one list per region of (k, points) passes, k the ring (0
    along the walls). Returns (passes, cut_length, rapid_length): passes a
    list of (region index, k, points) with points rotated to start where
    the tool enters the pass (each pass ends where it starts);
    cut_length the passes' total length; rapid_length the horizontal
    length of the moves between passes (the approach from `start` is the
    previous level's business and not counted)."""
    x, y = start
    remaining = [r for r, passes in enumerate(region_passes) if passes]
    ordered = []
    while remaining:
        region = min(remaining, key=lambda r: (_entry_distance(region_passes[r], x, y), r))
        remaining.remove(region)
        for k, points in _order_region(region_passes[region], x, y):
            ordered.append((region, k, points))
            x, y = points[0]
    cut = sum(closed_length(points) for _, _, points in ordered)
    rapid = 0.0
    for (_, _, before), (_, _, after) in zip(ordered, ordered[1:]):
        rapid += ((after[0][0] - before[0][0]) ** 2 + (after[0][1] - before[0][1]) ** 2) ** 0.5
    return ordered, cut, rapid


def _innermost(passes):
    top = max(k for k, _ in passes)
    return [points for k, points in passes if k == top]


def _entry_distance(passes, x, y):
    """Squared distance from (x, y) to where the region would be entered:
    the nearest point of its innermost rings."""
    return min(nearest_on_closed(points, x, y)[2] for points in _innermost(passes))


def _order_region(passes, x, y):
    """One region's passes: rings from the innermost out, each ring's loops
    nearest first, each loop rotated to start nearest the previous end."""
    out = []
    for k in sorted({k for k, _ in passes}, reverse=True):
        ring = [points for kk, points in passes if kk == k]
        while ring:
            i = min(range(len(ring)), key=lambda i: (nearest_on_closed(ring[i], x, y)[2], i))
            points = rotate_to_nearest(ring.pop(i), x, y)
            out.append((k, points))
            x, y = points[0]
    return out
