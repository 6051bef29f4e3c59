"""CPU-bound pure Python: serial, threading, processes, raw subinterpreters
and manycore (the low-level _manycore.Pool and the manycore.Pool package),
in one run, on the same task set.

    build/python3 bench/bench_cpu.py [--tasks 24] [--n 28] [--workers 2] [--repeat 3] [--kv FILE]

Each figure is the best of --repeat runs (the machine is shared and noisy);
pools are started and warmed before timing, so these are compute times.
Prints a Markdown table: wall time, speed-up over serial, and manycore's
ratio to each anchor. With --kv, also writes "key value" lines to FILE
(bench/run reads the package's speed-ups from them).
"""
import argparse
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_tasks  # noqa: E402
import _manycore  # noqa: E402
import manycore  # noqa: E402


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def run_serial(args):
    return lambda: [bench_tasks.fib(args.n) for _ in range(args.tasks)]


def run_threads(args, ex):
    return lambda: list(ex.map(bench_tasks.fib, [args.n] * args.tasks))


def run_processes(args, ex):
    return lambda: list(ex.map(bench_tasks.fib, [args.n] * args.tasks))


def run_subinterpreters(args):
    """Raw CPython subinterpreters (_interpreters), one per thread, tasks split evenly."""
    import _interpreters
    interps = [_interpreters.create() for _ in range(args.workers)]
    for interp in interps:
        _interpreters.exec(interp, f"import sys; sys.path.insert(0, {HERE!r}); import bench_tasks")

    def go():
        share = [args.tasks // args.workers + (i < args.tasks % args.workers) for i in range(args.workers)]
        errors = []

        def work(interp, count):
            err = _interpreters.exec(interp, f"bench_tasks.fib_many({args.n}, {count})")
            if err is not None:
                errors.append(err)

        threads = [threading.Thread(target=work, args=(it, c)) for it, c in zip(interps, share)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(errors)
        return [bench_tasks.fib(args.n)] * args.tasks  # results stay in the subinterpreters

    return go, lambda: [_interpreters.destroy(i) for i in interps]


def run_manycore(args, pool):
    def go():
        futs = [pool.submit("bench_tasks:fib", (args.n,)) for _ in range(args.tasks)]
        return [f.result() for f in futs]
    return go


def run_package(args, pool):
    return lambda: list(pool.map(bench_tasks.fib, [args.n] * args.tasks))


def time_package(args, workers):
    """Best time of the manycore.Pool package with this many workers."""
    with manycore.Pool(workers) as pool:
        list(pool.map(bench_tasks.fib, [10] * workers))  # started and warm
        t, res = best(run_package(args, pool), args.repeat)
        assert res == [bench_tasks.fib(args.n)] * args.tasks, res[:3]
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=24)
    ap.add_argument("--n", type=int, default=28)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kv", help="also write key value lines to this file")
    args = ap.parse_args()

    expect = [bench_tasks.fib(args.n)] * args.tasks
    rows = []
    t, res = best(run_serial(args), args.repeat)
    assert res == expect
    rows.append(("serial", t))
    with ThreadPoolExecutor(args.workers) as ex:
        list(ex.map(bench_tasks.fib, [10] * args.workers))
        t, res = best(run_threads(args, ex), args.repeat)
        assert res == expect
    rows.append((f"threading ({args.workers} threads)", t))
    # forkserver, as in bench_latency.py: no manycore pool exists yet here,
    # but forking a process that runs worker threads is unsafe, and this
    # keeps the anchor the same wherever this block moves.
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("forkserver")) as ex:
        list(ex.map(bench_tasks.fib, [10] * args.workers * 2))
        t, res = best(run_processes(args, ex), args.repeat)
        assert res == expect
    rows.append((f"ProcessPoolExecutor ({args.workers})", t))
    go, cleanup = run_subinterpreters(args)
    t, res = best(go, args.repeat)
    cleanup()
    rows.append((f"raw subinterpreters ({args.workers})", t))
    pool = _manycore.Pool(1, sys_path=[HERE])
    try:
        t1, res = best(run_manycore(args, pool), args.repeat)
        assert res == expect, res[:3]
    finally:
        pool.shutdown()
    rows.append(("manycore (1 worker)", t1))
    pool = _manycore.Pool(args.workers, sys_path=[HERE])
    try:
        t, res = best(run_manycore(args, pool), args.repeat)
        assert res == expect, res[:3]
    finally:
        pool.shutdown()
    rows.append((f"**manycore ({args.workers} workers)**", t))
    mc, mc_row = t, len(rows) - 1  # the reference of the last column
    p1 = time_package(args, 1)
    rows.append(("manycore.Pool package (1 worker)", p1))
    pw = time_package(args, args.workers)
    rows.append((f"manycore.Pool package ({args.workers} workers)", pw))

    serial = rows[0][1]
    print(f"CPU-bound: {args.tasks} × fib({args.n}), best of {args.repeat}, "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}\n")
    print("| runner | wall (s) | speed-up vs serial | manycore is faster by |")
    print("|---|---:|---:|---:|")
    for i, (name, t) in enumerate(rows):
        ratio = "—" if i == mc_row else f"{t / mc:.2f}×"
        print(f"| {name} | {t:.3f} | {serial / t:.2f}× | {ratio} |")
    print(f"\nmanycore, {args.workers} workers vs 1 worker: {t1 / mc:.2f}×")
    print(f"manycore.Pool (package), {args.workers} workers vs 1 worker: {p1 / pw:.2f}×; "
          f"vs serial: {serial / pw:.2f}×")
    if args.kv:
        with open(args.kv, "w") as f:
            f.write(f"cpu.workers {args.workers}\n")
            f.write(f"cpu.serial_s {serial:.4f}\n")
            f.write(f"cpu.low_speedup {serial / mc:.3f}\n")
            f.write(f"cpu.low_scaling {t1 / mc:.3f}\n")
            f.write(f"cpu.pkg_speedup {serial / pw:.3f}\n")
            f.write(f"cpu.pkg_scaling {p1 / pw:.3f}\n")


if __name__ == "__main__":
    main()
