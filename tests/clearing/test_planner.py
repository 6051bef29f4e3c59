"""The clearing demo's planner (examples/clearing/planner) and its
process-pool comparison (examples/clearing/compare_processes.py): loops
from slice segments, pockets and islands, contour-parallel passes, their
order, the G-code and SVG, and what the host relies on: results that
depend only on the arguments, and a level planned in a fraction of a
second. Runs with the Python manycore embeds (standard library only)."""
import array
import contextlib
import json
import math
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLEARING = os.path.join(ROOT, "examples", "clearing")
sys.path.insert(0, CLEARING)

import compare_processes  # noqa: E402
from planner import geometry, loops, offset, order, output, regions  # noqa: E402
from planner.plan import plan_level  # noqa: E402


# ---- shapes --------------------------------------------------------------------------

def rect(x0, y0, x1, y1, ccw=True):
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return pts if ccw else pts[::-1]


def circle(cx, cy, r, n, ccw=True):
    pts = [(cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)) for i in range(n)]
    return pts if ccw else pts[::-1]


def subdivided(loop, step):
    """The loop with its edges cut into pieces of at most `step`."""
    out = []
    for i, (ax, ay) in enumerate(loop):
        bx, by = loop[(i + 1) % len(loop)]
        m = max(1, math.ceil(math.hypot(bx - ax, by - ay) / step))
        out += [(ax + (bx - ax) * k / m, ay + (by - ay) * k / m) for k in range(m)]
    return out


def rounded_rect(x0, y0, x1, y1, r, step, ccw=True):
    pts = []
    n = max(2, math.ceil(r * math.pi / 2 / step))
    for cx, cy, a0 in ((x1 - r, y0 + r, -90), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180)):
        pts += [(cx + r * math.cos(math.radians(a0 + 90 * i / n)), cy + r * math.sin(math.radians(a0 + 90 * i / n)))
                for i in range(n + 1)]
    pts = subdivided(pts, step)
    return pts if ccw else pts[::-1]


def stadium(x0, x1, y, half, step, ccw=True):
    n = max(2, math.ceil(math.pi * half / step))
    pts = [(x1 + half * math.cos(-math.pi / 2 + math.pi * i / n), y + half * math.sin(-math.pi / 2 + math.pi * i / n))
           for i in range(n + 1)]
    pts += [(x0 + half * math.cos(math.pi / 2 + math.pi * i / n), y + half * math.sin(math.pi / 2 + math.pi * i / n))
            for i in range(n + 1)]
    pts = subdivided(pts, step)
    return pts if ccw else pts[::-1]


def segments_of(loop_list):
    """Flat (x1, y1, x2, y2, ...) of closed loops, each in its own direction."""
    flat = []
    for loop in loop_list:
        for i, (x, y) in enumerate(loop):
            flat += [x, y, *loop[(i + 1) % len(loop)]]
    return flat


def part_level(step=0.3):
    """A level of a part like the demo's: a 160 x 120 block (solid on the
    left: outer loop counter-clockwise, pockets clockwise), a rounded
    pocket with two round bosses, a round pocket with a cone's section, a
    slot; a few hundred segments per loop."""
    return [rounded_rect(0, 0, 160, 120, 3, 2.0),
            rounded_rect(12, 24, 68, 96, 10, step, ccw=False),
            circle(30, 45, 8, 180), circle(50, 75, 8.5, 180),
            circle(115, 65, 24, 500, ccw=False), circle(115, 65, 4, 80),
            stadium(85, 145, 105, 6, step, ccw=False)]


def distance_to_boundary(x, y, loop_list):
    return min(geometry.distance_to_loop(x, y, loop) for loop in loop_list)


# ---- a stand-in for the native slicer (for compare_processes) --------------------------------

def box_mesh(x0, y0, z0, x1, y1, z1, outward=True):
    """Vertices and counter-clockwise-from-outside triangles of a box; a
    cavity when not outward (triangles reversed)."""
    v = [(x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0),
         (x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)]
    t = [(0, 2, 1), (0, 3, 2), (4, 5, 6), (4, 6, 7), (0, 1, 5), (0, 5, 4),
         (2, 3, 7), (2, 7, 6), (0, 4, 7), (0, 7, 3), (1, 2, 6), (1, 6, 5)]
    return v, t if outward else [(a, c, b) for a, b, c in t]


def cylinder_mesh(cx, cy, r, z0, z1, n):
    ring = [(cx + r * math.cos(2 * math.pi * i / n), cy + r * math.sin(2 * math.pi * i / n)) for i in range(n)]
    v = [(x, y, z0) for x, y in ring] + [(x, y, z1) for x, y in ring] + [(cx, cy, z0), (cx, cy, z1)]
    t = []
    for i in range(n):
        j = (i + 1) % n
        t += [(i, j, n + j), (i, n + j, n + i), (2 * n + 1, n + i, n + j), (2 * n, j, i)]
    return v, t


def merged(*meshes):
    """One mesh (array('f') of x, y, z, array('I') of indices) from several."""
    vertices, triangles = array.array("f"), array.array("I")
    for v, t in meshes:
        base = len(vertices) // 3
        for p in v:
            vertices.extend(p)
        for tri in t:
            triangles.extend(base + i for i in tri)
    return vertices, triangles


def block_with_cavity():
    """A 60 x 40 x 20 block holding a closed cavity (8..52, 6..34, 5..15)
    with a round pillar floating in it: slices between z 6 and 14 are a
    pocket with an island."""
    return merged(box_mesh(0, 0, 0, 60, 40, 20), box_mesh(8, 6, 5, 52, 34, 15, outward=False),
                  cylinder_mesh(22, 20, 5, 6, 14, 48))


class PythonSlicer:
    """Slices a triangle mesh like the native slicer does: each crossing
    edge's point computed once from its lower-numbered vertex (so the two
    triangles sharing it agree bit for bit), segments oriented with the
    solid on their left. Assumes no vertex lies exactly at the height."""

    def __init__(self, vertices, triangles):
        self.v = [tuple(vertices[3 * i:3 * i + 3]) for i in range(len(vertices) // 3)]
        self.t = [tuple(triangles[3 * i:3 * i + 3]) for i in range(len(triangles) // 3)]

    def _point(self, a, b, z):
        a, b = min(a, b), max(a, b)
        (xa, ya, za), (xb, yb, zb) = self.v[a], self.v[b]
        s = (z - za) / (zb - za)
        return (xa + s * (xb - xa), ya + s * (yb - ya))

    def segments(self, z):
        flat = []
        for tri in self.t:
            above = [self.v[i][2] > z for i in tri]
            if all(above) or not any(above):
                continue
            ends = [self._point(tri[k], tri[(k + 1) % 3], z) for k in range(3) if above[k] != above[(k + 1) % 3]]
            (x0, y0, z0), (x1, y1, z1), (x2, y2, z2) = (self.v[i] for i in tri)
            nx = (y1 - y0) * (z2 - z0) - (z1 - z0) * (y2 - y0)
            ny = (z1 - z0) * (x2 - x0) - (x1 - x0) * (z2 - z0)
            p, q = ends
            if (q[0] - p[0]) * -ny + (q[1] - p[1]) * nx < 0:  # along z x n: solid on the left
                p, q = q, p
            flat += [*p, *q]
        return flat

    def slice(self, z):
        return contextlib.nullcontext(self.segments(z))


def write_binary_stl(path, vertices, triangles):
    with open(path, "wb") as f:
        f.write(b"test".ljust(80, b" ") + struct.pack("<I", len(triangles) // 3))
        for i in range(0, len(triangles), 3):
            f.write(struct.pack("<3f", 0, 0, 0))
            for k in triangles[i:i + 3]:
                f.write(struct.pack("<3f", *vertices[3 * k:3 * k + 3]))
            f.write(b"\0\0")


# ---- loops ------------------------------------------------------------------------------

class LinkLoopsTest(unittest.TestCase):
    def test_square_links_into_one_counter_clockwise_loop(self):
        found = loops.link_loops(segments_of([rect(0, 0, 10, 10)]))
        self.assertEqual(found, [rect(0, 0, 10, 10)])
        self.assertEqual(loops.signed_area(found[0]), 100.0)

    def test_square_with_hole_gives_two_loops_of_opposite_orientation(self):
        flat = segments_of([rect(0, 0, 10, 10), rect(3, 3, 6, 6, ccw=False)])
        # Shuffled segments still link: only endpoint equality matters.
        segs = [flat[i:i + 4] for i in range(0, len(flat), 4)]
        random.Random(7).shuffle(segs)
        found = loops.link_loops([c for s in segs for c in s])
        self.assertEqual(len(found), 2)
        self.assertEqual(sorted(loops.signed_area(lp) for lp in found), [-9.0, 100.0])

    def test_reads_a_float64_buffer_in_place(self):
        buf = array.array("d", segments_of([rect(0, 0, 4, 2)]))
        self.assertEqual(loops.link_loops(loops.flat_segments(buf)), [rect(0, 0, 4, 2)])
        self.assertEqual(loops.flat_segments(array.array("d")), [])
        with self.assertRaises(TypeError):
            loops.flat_segments(array.array("f", [0.0] * 4))

    def test_zero_length_segments_are_dropped(self):
        flat = segments_of([rect(0, 0, 10, 10)]) + [5.0, 5.0, 5.0, 5.0]
        self.assertEqual(loops.link_loops(flat), [rect(0, 0, 10, 10)])

    def test_open_chain_raises_value_error(self):
        flat = segments_of([rect(0, 0, 10, 10)])[:-4]  # the closing segment is missing
        with self.assertRaisesRegex(ValueError, "open chain"):
            loops.link_loops(flat)
        with self.assertRaisesRegex(ValueError, "multiple of 4"):
            loops.link_loops([0.0, 1.0, 2.0])

    def test_loops_touching_at_a_vertex_stay_apart(self):
        found = loops.link_loops(segments_of([rect(0, 0, 1, 1), rect(1, 1, 2, 2)]))
        self.assertEqual(sorted(sorted(lp) for lp in found),
                         [sorted(rect(0, 0, 1, 1)), sorted(rect(1, 1, 2, 2))])


# ---- regions ---------------------------------------------------------------------------------

class RegionsTest(unittest.TestCase):
    def test_two_pockets_one_with_a_boss(self):
        block = rect(0, 0, 100, 60)
        pocket_a = rect(10, 10, 45, 50, ccw=False)
        pocket_b = rect(55, 10, 90, 50, ccw=False)
        boss = circle(27, 30, 6, 40)
        found = loops.link_loops(segments_of([block, pocket_a, pocket_b, boss]))
        nesting = regions.nest(found)
        self.assertEqual(sorted(depth for depth, _, _ in nesting), [0, 1, 1, 2])
        self.assertEqual(regions.misoriented(nesting), 0)
        result = regions.find_regions(found, nesting)
        self.assertEqual(len(result), 2)
        self.assertEqual(sorted(len(islands) for _, islands in result), [0, 1])
        wall, islands = next(r for r in result if r[1])
        self.assertEqual(found[wall], pocket_a)
        self.assertEqual(found[islands[0]], boss)

    def test_orientation_is_computed_not_trusted(self):
        # Every loop reversed: same nesting, same regions, all misoriented.
        loops_ = [rect(0, 0, 100, 60, ccw=False), rect(10, 10, 45, 50), circle(27, 30, 6, 40, ccw=False)]
        nesting = regions.nest(loops_)
        self.assertEqual(regions.find_regions(loops_, nesting), [(1, [2])])
        self.assertEqual(regions.misoriented(nesting), 3)

    def test_locate_on_boundary(self):
        square = rect(0, 0, 2, 2)
        self.assertEqual(regions.locate(1, 1, square), 1)
        self.assertEqual(regions.locate(2, 1, square), 0)
        self.assertEqual(regions.locate(0, 0, square), 0)
        self.assertEqual(regions.locate(3, 1, square), -1)


# ---- passes -----------------------------------------------------------------------------------

class PassesTest(unittest.TestCase):
    def test_rectangle_pocket_rings_are_insets_a_stepover_apart(self):
        pocket = rect(0, 0, 50, 30)
        h = 1.0
        passes = offset.region_passes([pocket], 3.0, 4.0, h)
        # Levels 3, 7, 11 (15 is the 30 mm width's middle: nothing is farther).
        self.assertEqual(sorted(k for k, _ in passes), [0, 1, 2])
        for k, points in passes:
            d = 3.0 + 4.0 * k
            self.assertAlmostEqual(geometry.closed_length(points), 2 * (50 - 2 * d) + 2 * (30 - 2 * d), delta=h)
            for x, y in points:
                self.assertAlmostEqual(geometry.distance_to_loop(x, y, pocket), d, places=9)
        first = next(points for k, points in passes if k == 0)
        self.assertEqual(sorted(first), sorted([(3.0, 3.0), (47.0, 3.0), (47.0, 27.0), (3.0, 27.0)]))

    def test_no_pass_comes_within_tool_radius_of_an_island(self):
        wall, island = circle(0, 0, 30, 240, ccw=False), circle(6, 2, 7, 90)
        radius, stepover = 3.0, 2.0
        passes = offset.region_passes([wall, island], radius, stepover, 0.5)
        self.assertGreater(len(passes), 5)
        for k, points in passes:
            level = radius + stepover * k
            for i, (x, y) in enumerate(points):
                self.assertGreaterEqual(geometry.distance_to_loop(x, y, island), radius - 1e-9)
                self.assertAlmostEqual(distance_to_boundary(x, y, [wall, island]), level, places=9)
                # Chords stay within the tolerances of the offset too.
                nx, ny = points[(i + 1) % len(points)]
                mid = distance_to_boundary((x + nx) / 2, (y + ny) / 2, [wall, island])
                self.assertGreater(mid, level - offset.CHORD_TOLERANCE - offset.SIMPLIFY_TOLERANCE - 1e-9)

    def test_concave_corners_islands_and_pinches_stay_exact(self):
        ell = [(0, 0), (60, 0), (60, 20), (20, 20), (20, 50), (0, 50)]
        star = [(30 + (20 if i % 2 == 0 else 9) * math.cos(math.pi * i / 7),
                 30 + (20 if i % 2 == 0 else 9) * math.sin(math.pi * i / 7)) for i in range(14)]
        cases = [([ell], 3.0, 2.0), ([ell, rect(5, 5, 12, 12)], 3.0, 2.0), ([star], 2.0, 1.5),
                 ([rect(0, 0, 40, 30), rect(10, 4, 30, 20)], 3.0, 1.5)]
        for region, radius, stepover in cases:
            passes = offset.region_passes(region, radius, stepover, min(radius, stepover) / 4)
            self.assertTrue(passes)
            for k, points in passes:
                for x, y in points:
                    self.assertAlmostEqual(distance_to_boundary(x, y, region), radius + stepover * k, places=9)

    def test_passes_keep_the_region_on_their_left(self):
        passes = offset.region_passes([circle(0, 0, 20, 200), circle(0, 0, 5, 60)], 3.0, 2.0, 0.5)
        self.assertEqual(len(passes), 2 * 3)  # levels 3, 5, 7 (nothing is farther than 7.5), two rings each
        for k, points in passes:
            level = 3.0 + 2.0 * k
            radius = sum(math.hypot(x, y) for x, y in points) / len(points)
            around_island = abs(radius - (5 + level)) < abs(radius - (20 - level))
            # Clockwise round the island, counter-clockwise along the wall.
            self.assertEqual(loops.signed_area(points) < 0, around_island)


# ---- ordering ----------------------------------------------------------------------------

class OrderTest(unittest.TestCase):
    def test_each_pass_starts_nearest_the_previous_end_innermost_first(self):
        region_list = [[rect(0, 0, 40, 30)], [circle(80, 20, 15, 120), circle(84, 20, 4, 40)],
                       [rect(20, 50, 60, 70)]]
        region_passes = [offset.region_passes(r, 3.0, 2.0, 0.5) for r in region_list]
        ordered, cut, rapid = order.order_level(region_passes, start=(100.0, 100.0))
        self.assertEqual(len(ordered), sum(len(p) for p in region_passes))
        self.assertAlmostEqual(cut, sum(geometry.closed_length(p) for _, _, p in ordered), places=6)
        # The first region is the one whose innermost ring is nearest the start.
        self.assertEqual(ordered[0][0], 2)
        x, y = 100.0, 100.0
        total = 0.0
        for n, (region, k, points) in enumerate(ordered):
            best = geometry.nearest_on_closed(points, x, y)[2]
            self.assertAlmostEqual((points[0][0] - x) ** 2 + (points[0][1] - y) ** 2, best, places=9)
            if n:
                total += math.hypot(points[0][0] - x, points[0][1] - y)
                if ordered[n - 1][0] == region:
                    self.assertLessEqual(k, ordered[n - 1][1])  # innermost first
            x, y = points[0]
        self.assertAlmostEqual(rapid, total, places=9)
        # Each region is cut in one go.
        seen = [r for r, _, _ in ordered]
        self.assertEqual(len({(a, b) for a, b in zip(seen, seen[1:]) if a != b}), 2)


# ---- plan_level and the outputs -------------------------------------------------------------

GCODE_LINE = re.compile(r"^(\(.*\)|%|G2[01]|G9[01]|G17|M30|M5|M3 S\d+|G0 Z-?\d+\.\d{3}|G0 X-?\d+\.\d{3} Y-?\d+\.\d{3}"
                        r"|G1 Z-?\d+\.\d{3} F\d+\.\d{3}|G1 X-?\d+\.\d{3} Y-?\d+\.\d{3}( F\d+\.\d{3})?)$")


class PlanLevelTest(unittest.TestCase):
    flat = segments_of(part_level())

    def plan(self, **kw):
        return plan_level(4, 25.0, 2.0, 3.0, array.array("d", self.flat), z_min=0.0, z_max=40.0, **kw)

    def test_result_is_plain_data_with_the_counts(self):
        result = self.plan()
        self.assertEqual(set(result), {"level", "z", "loops", "regions", "islands", "passes", "cut_length",
                                       "rapid_length", "gcode", "svg"})
        self.assertEqual((result["level"], result["z"], result["loops"], result["regions"], result["islands"]),
                         (4, 25.0, 7, 3, 3))
        self.assertGreater(result["passes"], 10)
        self.assertGreater(result["cut_length"], 1000.0)
        self.assertGreater(result["rapid_length"], 0.0)

    def test_same_arguments_same_result(self):
        self.assertEqual(self.plan(), self.plan())

    def test_result_does_not_depend_on_hash_randomisation(self):
        code = ("import array, hashlib, json, sys; sys.path[:0] = [%r, %r]; import test_planner as t;"
                "from planner.plan import plan_level;"
                "r = plan_level(1, 20.0, 2.0, 3.0, array.array('d', t.segments_of(t.part_level())));"
                "print(hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest())") % (CLEARING, HERE)
        digests = {subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONHASHSEED=seed),
                                  capture_output=True, text=True, check=True).stdout for seed in ("1", "2")}
        self.assertEqual(len(digests), 1)

    def test_gcode_lines_are_well_formed(self):
        result = self.plan()
        lines = result["gcode"].splitlines()
        for line in lines:
            self.assertRegex(line, GCODE_LINE)
        self.assertEqual(sum(1 for line in lines if line.startswith("G1 Z")), result["passes"])
        self.assertEqual(lines[-1], "G0 Z45.000")  # ends retracted at z_max + 5
        doc = output.gcode_document([result["gcode"], result["gcode"]],
                                    {"stepover": 2.0, "tool_diameter": 6.0, "safe_z": 45.0, "levels": 2})
        doc_lines = doc.splitlines()
        self.assertEqual(doc_lines[:2], ["%", "(manycore-clearing toolpath)"])
        self.assertIn("G21", doc_lines[:10])
        self.assertIn("G90", doc_lines[:10])
        self.assertEqual(doc_lines[-3:], ["G0 Z45.000", "M30", "%"])
        for line in doc_lines:
            self.assertRegex(line, GCODE_LINE)

    def test_svg_is_well_formed(self):
        ns = "{http://www.w3.org/2000/svg}"
        low = plan_level(0, 5.0, 2.0, 3.0, self.flat, z_min=0.0, z_max=40.0)
        high = plan_level(1, 35.0, 2.0, 3.0, self.flat, z_min=0.0, z_max=40.0)
        group = ET.fromstring(low["svg"])
        self.assertEqual(group.tag, "g")
        self.assertEqual(len(group.findall("path")), low["passes"])
        doc = output.svg_document([high["svg"], low["svg"]], 900, 700, (0.0, 0.0, 0.0, 160.0, 120.0, 40.0))
        root = ET.fromstring(doc.split("\n", 1)[1])
        self.assertEqual(root.tag, ns + "svg")
        self.assertEqual(root.get("viewBox"), "-6.400 -126.400 172.800 132.800")
        levels = root.findall(f".//{ns}g[@data-level]")
        self.assertEqual([g.get("data-z") for g in levels], ["35.000", "5.000"])
        self.assertNotEqual(levels[0].get("stroke"), levels[1].get("stroke"))
        self.assertEqual(output.depth_colour(0.0, 0.0, 40.0), "#2121d9")   # deep: blue
        self.assertEqual(output.depth_colour(40.0, 0.0, 40.0), "#d92121")  # top: red

    def test_empty_level(self):
        result = plan_level(0, 1.0, 2.0, 3.0, [])
        self.assertEqual((result["loops"], result["regions"], result["passes"], result["cut_length"]), (0, 0, 0, 0.0))
        ET.fromstring(result["svg"])

    def test_pocket_narrower_than_the_tool_gets_no_pass(self):
        result = plan_level(0, 1.0, 2.0, 3.0, segments_of([rect(0, 0, 50, 50), rect(10, 10, 15, 40, ccw=False)]))
        self.assertEqual((result["regions"], result["passes"]), (1, 0))

    def test_bad_settings_are_refused(self):
        with self.assertRaises(ValueError):
            plan_level(0, 1.0, 0.0, 3.0, [])

    def test_default_settings_plan_a_level_in_well_under_a_second(self):
        flat = array.array("d", self.flat)
        elapsed = []
        for _ in range(3):
            started = time.perf_counter()
            plan_level(0, 25.0, 2.0, 3.0, flat)
            elapsed.append(time.perf_counter() - started)
        print(f"\n  plan_level, 160x120 part level ({len(flat) // 4} segments), stepover 2, tool radius 3: "
              f"{min(elapsed):.3f} s", file=sys.stderr)
        self.assertLess(min(elapsed), 3.0)

    def test_runs_in_a_manycore_worker(self):
        try:
            import manycore
        except ImportError:
            self.skipTest("manycore is not importable")
        with manycore.Pool(1, sys_path=[CLEARING]) as pool:
            remote = pool.submit(plan_level, 2, 25.0, 2.0, 3.0, list(self.flat), z_min=0.0, z_max=40.0).result()
        self.assertEqual(remote, plan_level(2, 25.0, 2.0, 3.0, self.flat, z_min=0.0, z_max=40.0))


# ---- compare_processes --------------------------------------------------------------------

class CompareProcessesTest(unittest.TestCase):
    def test_reads_and_welds_a_binary_stl(self):
        vertices, triangles = block_with_cavity()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "part.stl")
            write_binary_stl(path, vertices, triangles)
            v, t = compare_processes.read_stl(path)
            with open(path, "ab") as f:
                f.write(b"x")
            with self.assertRaisesRegex(ValueError, "not a binary STL"):
                compare_processes.read_stl(path)
        # The mesh's vertices are all distinct: welding finds each once,
        # numbered in order of first use, and every corner keeps its point.
        self.assertEqual((len(v), len(t)), (len(vertices), len(triangles)))
        self.assertEqual(t[:3].tolist(), [0, 1, 2])
        for i in range(len(t)):
            self.assertEqual(v[3 * t[i]:3 * t[i] + 3], vertices[3 * triangles[i]:3 * triangles[i] + 3])

    def test_level_heights_match_the_host(self):
        self.assertEqual(compare_processes.level_heights(3, 0.0, 40.0), [30.0, 20.0, 10.0])

    def test_stand_in_slicer_gives_a_pocket_with_an_island(self):
        slicer = PythonSlicer(*block_with_cavity())
        result = plan_level(0, 10.0, 2.0, 3.0, slicer.segments(10.0))
        self.assertEqual((result["loops"], result["regions"], result["islands"]), (3, 1, 1))
        self.assertEqual(regions.misoriented(regions.nest(loops.link_loops(slicer.segments(10.0)))), 0)

    def test_process_pool_plans_every_level(self):
        vertices, triangles = block_with_cavity()
        zs = [13.0, 10.0, 7.0]
        measured = compare_processes.compare(vertices, triangles, zs, 2.0, 3.0, 2, PythonSlicer, (), 0.0, 20.0)
        slicer = PythonSlicer(vertices, triangles)
        expected = [plan_level(i, z, 2.0, 3.0, slicer.segments(z), z_min=0.0, z_max=20.0) for i, z in enumerate(zs)]
        self.assertEqual(measured["levels"], 3)
        self.assertEqual(measured["passes"], sum(r["passes"] for r in expected))
        self.assertEqual(measured["cut_length"], sum(r["cut_length"] for r in expected))
        self.assertEqual(len(measured["rss_children_mib"]), 2)
        self.assertTrue(all(m > 0 for m in measured["rss_children_mib"] + measured["peak_children_mib"]))
        self.assertGreaterEqual(measured["rss_total_mib"],
                                measured["rss_parent_mib"] + sum(measured["rss_children_mib"]))
        self.assertGreater(measured["wall_s"], 0.0)

    def test_command_line_with_the_native_slicer(self):
        lib = os.environ.get("CLEARING_SLICER_LIB") or os.path.join(ROOT, "build", "examples", "clearing",
                                                                    "libclearing_slicer.so")
        if not os.path.exists(lib):
            self.skipTest(f"no native slicer at {lib} (set CLEARING_SLICER_LIB)")
        vertices, triangles = block_with_cavity()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "part.stl")
            write_binary_stl(path, vertices, triangles)
            run = subprocess.run([sys.executable, os.path.join(CLEARING, "compare_processes.py"), "--stl", path,
                                  "--slicer-lib", lib, "--workers", "2", "--z-list", "13,10,7", "--stepover", "2",
                                  "--tool-radius", "3"], capture_output=True, text=True, timeout=300)
        self.assertEqual(run.returncode, 0, run.stderr)
        measured = json.loads(run.stdout)
        slicer = PythonSlicer(vertices, triangles)
        self.assertEqual(measured["levels"], 3)
        self.assertEqual(measured["passes"], sum(plan_level(0, z, 2.0, 3.0, slicer.segments(z))["passes"]
                                                 for z in (13.0, 10.0, 7.0)))


if __name__ == "__main__":
    unittest.main()
