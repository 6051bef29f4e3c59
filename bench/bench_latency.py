"""Tiny-task costs of the anchors and of manycore seen from Python, in one run.

    build/python3 bench/bench_latency.py [--calls 5000] [--items 20000] [--workers 2] [--repeat 3]

Prints "key value" lines (bench/run turns them into the README table):
median and p99 of submit(...).result() for a trivial function, throughput
of many trivial tasks in flight, and the time to start a pool and get its
first result.

Throughput is the same measure for every pool: list(pool.map(trivial,
range(--items))), best of --repeat, for ThreadPoolExecutor,
ProcessPoolExecutor (forkserver: forking a process that runs manycore
worker threads is unsafe), manycore.Pool (the package) and, as the
equivalent submit-all-then-collect, the low-level _manycore.Pool. Raw
subinterpreters have no pool: their figure is _interpreters.exec calls
made one after another from one thread (subinterpreters.calls_per_s).
"""
import argparse
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_tasks  # noqa: E402
import _manycore  # noqa: E402
import manycore  # noqa: E402


def latencies(submit_wait, calls):
    for _ in range(min(500, calls)):  # warm-up
        submit_wait()
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        submit_wait()
        out.append((time.perf_counter() - t0) * 1e6)
    out.sort()
    return statistics.median(out), out[int(0.99 * (len(out) - 1))]


def throughput(submit_many, count, repeat=1):
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = submit_many(count)
        t = time.perf_counter() - t0
        if result is not None:
            assert len(result) == count and result[-1] == count - 1, result[-3:]
        best = t if best is None else min(best, t)
    return count / best


def mapper(ex):
    """Throughput body shared by every executor: map a trivial function."""
    return lambda k: list(ex.map(bench_tasks.trivial, range(k)))


def report(name, median, p99, tput, start_ms, tput_key="tasks_per_s"):
    print(f"{name}.median_us {median:.2f}")
    print(f"{name}.p99_us {p99:.2f}")
    print(f"{name}.{tput_key} {tput:.0f}")
    print(f"{name}.start_ms {start_ms:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, w, items, rep = args.calls, args.workers, args.items, args.repeat

    t0 = time.perf_counter()
    ex = ThreadPoolExecutor(w)
    ex.submit(bench_tasks.noop).result()
    start = (time.perf_counter() - t0) * 1e3
    med, p99 = latencies(lambda: ex.submit(bench_tasks.noop).result(), n)
    tput = throughput(mapper(ex), items, rep)
    ex.shutdown()
    report("threads", med, p99, tput, start)

    t0 = time.perf_counter()
    ex = ProcessPoolExecutor(w, mp_context=multiprocessing.get_context("forkserver"))
    ex.submit(bench_tasks.noop).result()
    start = (time.perf_counter() - t0) * 1e3
    med, p99 = latencies(lambda: ex.submit(bench_tasks.noop).result(), n // 5)
    tput = throughput(mapper(ex), items, rep)
    ex.shutdown()
    report("processes", med, p99, tput, start)

    import _interpreters
    t0 = time.perf_counter()
    interps = [_interpreters.create() for _ in range(w)]
    _interpreters.exec(interps[0], "pass")
    start = (time.perf_counter() - t0) * 1e3
    _interpreters.exec(interps[0], f"import sys; sys.path.insert(0, {HERE!r}); import bench_tasks")
    code = "bench_tasks.noop()"
    med, p99 = latencies(lambda: _interpreters.exec(interps[0], code), n)
    # Not a pool and not map: exec() calls one after another, in this thread.
    def calls(k):
        for _ in range(k):
            _interpreters.exec(interps[0], code)
    tput = throughput(calls, 2 * n)
    for i in interps:
        _interpreters.destroy(i)
    report("subinterpreters", med, p99, tput, start, tput_key="calls_per_s")

    t0 = time.perf_counter()
    pool = _manycore.Pool(w, sys_path=[HERE])
    pool.submit("bench_tasks:noop").result()
    start = (time.perf_counter() - t0) * 1e3
    med, p99 = latencies(lambda: pool.submit("bench_tasks:noop").result(), n)

    def many(k):  # what map() is, at the low level: submit all, collect in order
        futs = [pool.submit("bench_tasks:trivial", (i,)) for i in range(k)]
        return [f.result() for f in futs]
    tput = throughput(many, items, rep)
    pool.shutdown()
    report("manycore_py", med, p99, tput, start)

    # The package: manycore.Pool, a concurrent.futures.Executor.
    t0 = time.perf_counter()
    pool = manycore.Pool(w)
    pool.submit(bench_tasks.noop).result()
    start = (time.perf_counter() - t0) * 1e3
    med, p99 = latencies(lambda: pool.submit(bench_tasks.noop).result(), n)
    tput = throughput(mapper(pool), items, rep)
    pool.shutdown()
    report("manycore_pkg", med, p99, tput, start)


if __name__ == "__main__":
    main()
