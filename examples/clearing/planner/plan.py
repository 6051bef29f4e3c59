"""plan_level: one Z level from slice segments to G-code and SVG, the
function the host calls by name ("planner.plan:plan_level") in a worker,
once per level, levels in parallel.

Everything it returns is plain data (it travels back to C in manycore's
wire format) and depends only on its arguments: no clock, no worker id,
no iteration over sets or hash-ordered containers."""
import math

from .loops import flat_segments, link_loops
from .offset import region_passes
from .order import order_level
from .output import depth_colour, level_gcode, level_svg
from .regions import find_regions, nest

# The grid's cell: a quarter of the finer of stepover and tool radius, so
# passes and the gaps between islands and walls span several cells; but no
# more grid nodes per level than MAX_NODES, which bounds a level's time
# (about a second for pockets filling a 160 x 120 block at stepover 1 on
# CPython 3.13), coarsening the grid only for huge pockets. The accuracy of
# the passes does not depend on the cell (offset.py projects every point).
CELLS_PER_FEATURE = 4
MAX_NODES = 150_000


def plan_level(level, z, stepover, tool_radius, segments=None, *, z_min=None, z_max=None, safe_z=None,
               feed=1000.0, plunge_feed=300.0, resolution=None, start=(0.0, 0.0)):
    """Plans level `level` at height z (mm): contour-parallel passes
    `stepover` apart for a tool of radius tool_radius, the first one
    tool_radius inside each pocket wall and off each island.

    segments: the section at z as a float64 buffer (n, 4) of segments
    (x1, y1, x2, y2), or a flat sequence of numbers; None slices the host's
    mesh with manycore.host.slice(z). z_min, z_max: the part's height range,
    for the SVG's colour ramp (and safe_z defaults to z_max + 5, else z + 5).
    feed, plunge_feed: mm/min. resolution: the grid cell in mm (default
    min(stepover, tool_radius) / 4, coarser if a level would exceed
    MAX_NODES nodes). start: where the level's ordering starts from.

    Returns {"level", "z", "loops", "regions", "islands", "passes",
    "cut_length", "rapid_length" (mm), "gcode", "svg" (str)}."""
    if not (stepover > 0 and tool_radius > 0 and math.isfinite(stepover) and math.isfinite(tool_radius)):
        raise ValueError(f"stepover and tool_radius must be positive, not {stepover!r} and {tool_radius!r}")
    if segments is None:
        import manycore  # only inside a worker of a host that registered slice()
        segments = manycore.host.slice(z)
    loops = link_loops(flat_segments(segments))
    regions = find_regions(loops, nest(loops))
    region_loops = [[loops[wall]] + [loops[i] for i in islands] for wall, islands in regions]
    h = resolution or _cell_size(region_loops, stepover, tool_radius)
    passes = [region_passes(rl, tool_radius, stepover, h) for rl in region_loops]
    ordered, cut, rapid = order_level(passes, start)
    paths = [points for _, _, points in ordered]
    if safe_z is None:
        safe_z = (z_max if z_max is not None else z) + 5.0
    return {
        "level": level,
        "z": z,
        "loops": len(loops),
        "regions": len(regions),
        "islands": sum(len(islands) for _, islands in regions),
        "passes": len(ordered),
        "cut_length": cut,
        "rapid_length": rapid,
        "gcode": level_gcode(level, z, paths, safe_z, feed, plunge_feed),
        "svg": level_svg(level, z, paths, depth_colour(z, z_min, z_max)),
    }


def _cell_size(region_loops, stepover, tool_radius):
    h = min(stepover, tool_radius) / CELLS_PER_FEATURE
    area = 0.0
    for loops in region_loops:
        xs = [p[0] for p in loops[0]]
        ys = [p[1] for p in loops[0]]
        area += (max(xs) - min(xs) + 4 * h) * (max(ys) - min(ys) + 4 * h)
    return max(h, math.sqrt(area / MAX_NODES))
