"""The comparison a user would make without manycore: the same planner and
the same native slicer, run with concurrent.futures.ProcessPoolExecutor.

The parent reads the STL (welding vertices exactly like the C loader) and
hands the mesh to every worker process, so each holds its own copy and its
own slicer, built through ctypes from libclearing_slicer.so; each level is
sliced and planned in a worker and its result pickled back. Printed: one
JSON object with the planning's wall time (pool started and warmed, as on
the manycore side) and the resident memory of every process at the end.

  compare_processes.py --stl PART.stl --slicer-lib libclearing_slicer.so
      --workers N (--z-list z1,z2,... | --levels N [--z-min Z --z-max Z])
      --stepover S --tool-radius R

--z-min/--z-max (default: the mesh's height range) are also the colour
ramp's range; --levels N puts N levels between them as the host does:
z_i = z_max - (i + 1) * (z_max - z_min) / (N + 1)."""
import argparse
import array
import contextlib
import ctypes
import json
import multiprocessing
import os
import struct
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the planner package

from planner.plan import plan_level  # noqa: E402  (after the path is set)


# ---- the mesh ------------------------------------------------------------------

def read_stl(path):
    """(vertices, triangles) of a binary STL as array('f') of x, y, z and
    array('I') of 3 indices per triangle. Vertices with the same 12 bytes
    are welded into one, numbered in order of first appearance."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 84:
        raise ValueError(f"{path}: too short for a binary STL ({len(data)} bytes)")
    (count,) = struct.unpack_from("<I", data, 80)
    if len(data) != 84 + 50 * count:
        raise ValueError(f"{path}: not a binary STL ({len(data)} bytes for {count} triangles)")
    index = {}
    triangles = array.array("I")
    for t in range(count):
        base = 84 + 50 * t + 12  # after the normal
        for k in range(3):
            key = data[base + 12 * k:base + 12 * k + 12]
            i = index.get(key)
            if i is None:
                i = index[key] = len(index)
            triangles.append(i)
    vertices = array.array("f")
    vertices.frombytes(b"".join(index))  # dicts keep insertion order: index i is the i-th key
    if sys.byteorder != "little":
        vertices.byteswap()
    return vertices, triangles


def level_heights(levels, z_min, z_max):
    """The host's levels: from just below the top to just above the bottom."""
    step = (z_max - z_min) / (levels + 1)
    return [z_max - (i + 1) * step for i in range(levels)]


# ---- the native slicer, in each worker -------------------------------------------------

class NativeSlicer:
    """The C slicer through ctypes: built once per process from its copy of
    the mesh; slice(z) is a context manager giving the level's segments as
    a float64 buffer that is freed on exit."""

    def __init__(self, library, vertices, triangles):
        lib = ctypes.CDLL(library)
        lib.clr_slicer_new.argtypes = (ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
                                       ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t,
                                       ctypes.POINTER(ctypes.c_void_p))
        lib.clr_slicer_new.restype = ctypes.c_int
        lib.clr_slicer_slice.argtypes = (ctypes.c_void_p, ctypes.c_double,
                                         ctypes.POINTER(ctypes.POINTER(ctypes.c_double)))
        lib.clr_slicer_slice.restype = ctypes.c_long
        lib.clr_slicer_free.argtypes = (ctypes.c_void_p,)
        lib.clr_slicer_free.restype = None
        lib.clr_free.argtypes = (ctypes.c_void_p,)
        lib.clr_free.restype = None
        self._lib = lib
        # The slicer may keep pointers into the arrays: they live as long as it.
        self._vertices, self._triangles = vertices, triangles
        vptr = (ctypes.c_float * len(vertices)).from_buffer(vertices)
        tptr = (ctypes.c_uint32 * len(triangles)).from_buffer(triangles)
        handle = ctypes.c_void_p()
        if lib.clr_slicer_new(vptr, len(vertices) // 3, tptr, len(triangles) // 3, ctypes.byref(handle)) != 0:
            raise MemoryError("clr_slicer_new failed")
        self._handle = handle

    @contextlib.contextmanager
    def slice(self, z):
        out = ctypes.POINTER(ctypes.c_double)()
        n = self._lib.clr_slicer_slice(self._handle, z, ctypes.byref(out))
        if n < 0:
            raise MemoryError(f"clr_slicer_slice({z}) failed")
        try:
            yield (ctypes.c_double * (4 * n)).from_address(ctypes.addressof(out.contents)) if n else []
        finally:
            self._lib.clr_free(out)


_slicer = None  # this worker process's slicer (set by _start_worker)


def _start_worker(make_slicer, slicer_args, vertices, triangles):
    global _slicer
    _slicer = make_slicer(*slicer_args, vertices, triangles)


def _ready(delay):
    """Holds a worker briefly, so each of a batch lands on a different one."""
    time.sleep(delay)
    return os.getpid()


def _plan(level, z, stepover, tool_radius, z_min, z_max):
    with _slicer.slice(z) as segments:
        return plan_level(level, z, stepover, tool_radius, segments, z_min=z_min, z_max=z_max)


# ---- memory ---------------------------------------------------------------------------

def _status_mib(pid, key):
    """VmRSS or VmHWM of a process in MiB (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def _descendants(pid):
    """The process ids below pid (its children, theirs, ...)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    kids = [int(c) for c in f.read().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return sorted(set(found))


# ---- the run ----------------------------------------------------------------------------

def compare(vertices, triangles, zs, stepover, tool_radius, workers, make_slicer, slicer_args=(),
            z_min=None, z_max=None):
    """Plans levels zs on `workers` processes (forkserver), each with its
    own copy of the mesh and its own slicer make_slicer(*slicer_args,
    vertices, triangles). Returns the measurements as a dict."""
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_start_worker,
                             initargs=(make_slicer, slicer_args, vertices, triangles)) as pool:
        # Warm up: every worker started, its slicer built, the planner imported.
        pids = set()
        for _ in range(20):
            pids.update(pool.map(_ready, [0.05] * workers))
            if len(pids) >= workers:
                break
        started = time.perf_counter()
        futures = [pool.submit(_plan, i, z, stepover, tool_radius, z_min, z_max) for i, z in enumerate(zs)]
        results = [f.result() for f in futures]
        wall = time.perf_counter() - started
        workers_pids = sorted(pids)
        others = [p for p in _descendants(os.getpid()) if p not in pids]  # the fork server
        rss_children = [_status_mib(p, "VmRSS") for p in workers_pids]
        rss_others = [_status_mib(p, "VmRSS") for p in others]
        rss_parent = _status_mib(os.getpid(), "VmRSS")
        measured = {
            "wall_s": wall,
            "rss_total_mib": rss_parent + sum(rss_children) + sum(rss_others),
            "rss_parent_mib": rss_parent,
            "rss_children_mib": rss_children,
            "rss_forkserver_mib": sum(rss_others),
            "peak_parent_mib": _status_mib(os.getpid(), "VmHWM"),
            "peak_children_mib": [_status_mib(p, "VmHWM") for p in workers_pids],
            "workers": len(workers_pids),
            "levels": len(results),
            "passes": sum(r["passes"] for r in results),
            "cut_length": sum(r["cut_length"] for r in results),
            "rapid_length": sum(r["rapid_length"] for r in results),
        }
    return measured


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stl", required=True, help="binary STL of the part")
    parser.add_argument("--slicer-lib", required=True, help="path to libclearing_slicer.so")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--z-list", help="comma-separated levels (mm)")
    parser.add_argument("--levels", type=int, help="this many levels between --z-min and --z-max")
    parser.add_argument("--z-min", "--zmin", type=float, dest="z_min", help="default: the mesh's bottom")
    parser.add_argument("--z-max", "--zmax", type=float, dest="z_max", help="default: the mesh's top")
    parser.add_argument("--stepover", type=float, required=True)
    parser.add_argument("--tool-radius", type=float, required=True)
    args = parser.parse_args(argv)
    if (args.z_list is None) == (args.levels is None):
        parser.error("give either --z-list or --levels")
    vertices, triangles = read_stl(args.stl)
    z_min = args.z_min if args.z_min is not None else min(vertices[2::3])
    z_max = args.z_max if args.z_max is not None else max(vertices[2::3])
    zs = ([float(z) for z in args.z_list.split(",")] if args.z_list is not None
          else level_heights(args.levels, z_min, z_max))
    result = compare(vertices, triangles, zs, args.stepover, args.tool_radius, max(1, args.workers),
                     NativeSlicer, (os.path.abspath(args.slicer_lib),), z_min, z_max)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
