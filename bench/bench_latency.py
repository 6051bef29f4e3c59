"""Tiny-task costs of the anchors and of manycore seen from Python, in one run.

    build/python3 bench/bench_latency.py [--calls 5000] [--workers 2]

Prints "key value" lines (bench/run turns them into the README table):
median and p99 of submit(...).result() for a trivial function, throughput
of many trivial tasks in flight, and the time to start a pool and get its
first result.
"""
import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_tasks  # noqa: E402
import _manycore  # noqa: E402


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


def throughput(submit_many, count):
    t0 = time.perf_counter()
    submit_many(count)
    return count / (time.perf_counter() - t0)


def report(name, median, p99, tput, start_ms):
    print(f"{name}.median_us {median:.2f}")
    print(f"{name}.p99_us {p99:.2f}")
    print(f"{name}.tasks_per_s {tput:.0f}")
    print(f"{name}.start_ms {start_ms:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    n, w = args.calls, args.workers

    t0 = time.perf_counter()
    ex = ThreadPoolExecutor(w)
    ex.submit(bench_tasks.noop).result()
    start = (time.perf_counter() - t0) * 1e3
    med, p99 = latencies(lambda: ex.submit(bench_tasks.noop).result(), n)
    tput = throughput(lambda k: list(ex.map(bench_tasks.fib, [0] * k)), 10 * n)
    ex.shutdown()
    report("threads", med, p99, tput, start)

    t0 = time.perf_counter()
    ex = ProcessPoolExecutor(w)
    ex.submit(bench_tasks.noop).result()
    start = (time.perf_counter() - t0) * 1e3
    med, p99 = latencies(lambda: ex.submit(bench_tasks.noop).result(), n // 5)
    tput = throughput(lambda k: list(ex.map(bench_tasks.fib, [0] * k)), 2 * n)
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
    tput = throughput(lambda k: [_interpreters.exec(interps[0], code) for _ in range(k)], 2 * n)
    for i in interps:
        _interpreters.destroy(i)
    report("subinterpreters", med, p99, tput, start)

    t0 = time.perf_counter()
    pool = _manycore.Pool(w, sys_path=[HERE])
    pool.submit("bench_tasks:noop").result()
    start = (time.perf_counter() - t0) * 1e3
    med, p99 = latencies(lambda: pool.submit("bench_tasks:noop").result(), n)

    def many(k):
        futs = [pool.submit("bench_tasks:fib", (0,)) for _ in range(k)]
        return [f.result() for f in futs]
    tput = throughput(many, 10 * n)
    pool.shutdown()
    report("manycore_py", med, p99, tput, start)


if __name__ == "__main__":
    main()
