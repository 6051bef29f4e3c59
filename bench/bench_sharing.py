"""Moving data between interpreters: manycore's channels and shared arrays
against multiprocessing and CPython's own cross-interpreter queues, in one run.

    build/python3 bench/bench_sharing.py [--messages 100000] [--round-trips 5000]
                                         [--handoffs 200] [--mem-mib 1024]
                                         [--process-mem-mib 256] [--mem-workers 8]

Prints "key value" lines (bench/run turns them into the README tables):

- throughput of small messages (ints) from a producer in another interpreter
  to a consumer, best of 3: a manycore Channel (worker -> main and worker ->
  worker), a multiprocessing.Queue (process -> main) and an _interpqueues
  queue (subinterpreter -> main), all bounded to --capacity;
- ping-pong round trips main <-> other interpreter over two of each;
- the time to hand a buffer to a task, by size: a SharedArray to a manycore
  pool (by handle), bytes to the same pool (copied) and to a
  ProcessPoolExecutor (pickled);
- resident memory with 8 workers reading one buffer: a --mem-mib SharedArray
  in a manycore pool against --process-mem-mib bytes passed to each of 8
  processes (a smaller size by default: copying it is slow). Each side runs
  in a fresh process of its own so that nothing else skews its memory.
"""
import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_tasks  # noqa: E402
import _manycore  # noqa: E402

MIB = 1 << 20
SIZES = [("1KiB", 1 << 10), ("1MiB", 1 << 20), ("64MiB", 64 << 20), ("1GiB", 1 << 30)]
COPY_LIMIT = 64 << 20  # copying anything bigger only says more of the same


def best_rate(run, n, repeat=3):
    """Messages per second of the fastest of `repeat` runs of run(n)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run(n)
        times.append(time.perf_counter() - t0)
    return n / min(times)


def latencies(once, count, warmup, budget_s=None):
    """Sorted µs of `count` calls after `warmup`; with budget_s, stops early
    (after at least 10 calls) so copying 64 MiB stays affordable."""
    for _ in range(warmup):
        once()
    out = []
    start = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        once()
        out.append((time.perf_counter() - t0) * 1e6)
        if budget_s and len(out) >= 10 and t0 - start > budget_s:
            break
    return sorted(out)


def median_p99(lat):
    return statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]


def interp_thread(code):
    """Runs code in a fresh subinterpreter on a new thread; join() raises
    what the code raised."""
    import _interpreters
    interp = _interpreters.create()
    failure = []

    def go():
        err = _interpreters.exec(interp, f"import sys; sys.path.insert(0, {HERE!r}); import bench_tasks\n{code}")
        if err is not None:
            failure.append(err)

    t = threading.Thread(target=go)
    t.start()

    def join():
        t.join()
        _interpreters.destroy(interp)
        if failure:
            raise RuntimeError(failure[0])
    return join


def interpq_get(qid):
    import _interpqueues as q
    while True:  # busy-polls: see bench_tasks.interpq_produce
        try:
            return q.get(qid)[0]
        except q.QueueError:
            pass


def interpq_put(qid, obj):
    import _interpqueues as q
    while True:
        try:
            return q.put(qid, obj, 0, 1)
        except q.QueueError:
            pass


# --- a. throughput ---------------------------------------------------------

def throughput(args):
    n, cap = args.messages, args.capacity

    def mpq(k):
        q = multiprocessing.Queue(cap)
        p = multiprocessing.Process(target=bench_tasks.queue_produce, args=(q, k))
        p.start()
        for _ in range(k):
            q.get()
        p.join()
    print(f"mpq_msgs_per_s {best_rate(mpq, n):.0f}")

    def interpq(k):
        import _interpqueues as q
        qid = q.create(cap, 0, 1)  # maxsize, fmt 0: shareable objects as such, unboundop 1: drop
        join = interp_thread(f"bench_tasks.interpq_produce({qid}, {k})")
        for _ in range(k):
            interpq_get(qid)
        join()
        q.destroy(qid)
    print(f"interpq_msgs_per_s {best_rate(interpq, n):.0f}")

    pool = _manycore.Pool(2, sys_path=[HERE])
    try:
        def chan(k):
            ch = _manycore.Channel(cap)
            fut = pool.submit("bench_tasks:channel_produce", (ch, k))
            got = sum(1 for _ in ch)
            assert got == k and fut.result() == k
        print(f"chan_msgs_per_s {best_rate(chan, n):.0f}")

        def chan_w2w(k):
            ch = _manycore.Channel(cap)
            prod = pool.submit("bench_tasks:channel_produce", (ch, k))
            cons = pool.submit("bench_tasks:channel_consume", (ch,))
            assert prod.result() == k and cons.result() == k
        print(f"chan_w2w_msgs_per_s {best_rate(chan_w2w, n):.0f}")
    finally:
        pool.shutdown()
    print(f"chan_capacity {cap}")
    print(f"chan_messages {n}")


# --- b. ping-pong ----------------------------------------------------------

def pingpong(args):
    count, warmup = args.round_trips, 500

    def report(name, lat):
        med, p99 = median_p99(lat)
        print(f"{name}_pingpong_median_us {med:.2f}")
        print(f"{name}_pingpong_p99_us {p99:.2f}")

    there, back = multiprocessing.Queue(), multiprocessing.Queue()
    p = multiprocessing.Process(target=bench_tasks.queue_echo, args=(there, back))
    p.start()
    report("mpq", latencies(lambda: (there.put(1), back.get()), count, warmup))
    there.put(None)
    p.join()

    import _interpqueues as q
    there, back = q.create(1, 0, 1), q.create(1, 0, 1)
    join = interp_thread(f"bench_tasks.interpq_echo({there}, {back})")
    report("interpq", latencies(lambda: (interpq_put(there, 1), interpq_get(back)), count, warmup))
    interpq_put(there, None)
    join()
    q.destroy(there)
    q.destroy(back)

    pool = _manycore.Pool(2, sys_path=[HERE])
    try:
        there, back = _manycore.Channel(1), _manycore.Channel(1)
        fut = pool.submit("bench_tasks:channel_echo", (there, back))
        report("chan", latencies(lambda: (there.send(1), back.recv()), count, warmup))
        there.close()
        fut.result()
    finally:
        pool.shutdown()
    print(f"pingpong_round_trips {count}")


# --- c. buffer hand-off ----------------------------------------------------

def handoff(args):
    copied = [(label, size) for label, size in SIZES if size <= COPY_LIMIT]

    # Processes first: forking while a manycore pool's threads run is unsafe.
    with ProcessPoolExecutor(2) as ex:
        for label, size in copied:
            data = b"\x01" * size
            lat = latencies(lambda: ex.submit(bench_tasks.touch, data).result(), args.handoffs, 5, budget_s=3)
            print(f"handoff_process_{label}_us {statistics.median(lat):.2f}")

    pool = _manycore.Pool(2, sys_path=[HERE])
    try:
        for label, size in copied:
            data = b"\x01" * size
            lat = latencies(lambda: pool.submit("bench_tasks:touch", (data,)).result(), args.handoffs, 5,
                            budget_s=3)
            print(f"handoff_bytes_{label}_us {statistics.median(lat):.2f}")
        arrays = {}
        for label, size in SIZES:
            t0 = time.perf_counter()
            arrays[label] = _manycore.SharedArray("B", size)
            print(f"alloc_shared_{label}_ms {(time.perf_counter() - t0) * 1e3:.2f}")
        # Round-robin over the sizes: a submit is fast or slow mostly by
        # whether the worker is still spinning or asleep, which drifts with
        # the machine's load; interleaving gives every size the same odds.
        lat = {label: [] for label in arrays}
        for rnd in range(50 + args.handoffs):
            for label, arr in arrays.items():
                t0 = time.perf_counter()
                pool.submit("bench_tasks:touch", (arr,)).result()
                if rnd >= 50:  # the first rounds warm up
                    lat[label].append((time.perf_counter() - t0) * 1e6)
        for label, times in lat.items():
            print(f"handoff_shared_{label}_us {statistics.median(times):.2f}")
    finally:
        pool.shutdown()
    print(f"handoff_count {args.handoffs}")


# --- d. memory -------------------------------------------------------------

def proc_kib(path, field):
    """A "Field: N kB" line of a /proc file, in KiB."""
    with open(path) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(f"{field} in {path}")


def rss_mib():
    return proc_kib("/proc/self/status", "VmRSS") / 1024


def pss_mib(pid):
    """Proportional set size: a page that forked processes still share is
    split between them, where VmRSS would count it once per process."""
    return proc_kib(f"/proc/{pid}/smaps_rollup", "Pss") / 1024


def mem_manycore(size, workers):
    start = rss_mib()
    pool = _manycore.Pool(workers, sys_path=[HERE])
    try:
        counter = _manycore.SharedArray("q", 1)
        for f in [pool.submit("bench_tasks:rendezvous", (counter, workers)) for _ in range(workers)]:
            f.result()  # every worker started and has run a task
        before = rss_mib()
        arr = _manycore.SharedArray("B", size)
        view = memoryview(arr)
        pages = range(0, size, 4096)
        view[::4096] = b"\x01" * len(pages)  # written: resident whatever the allocator does
        allocated = rss_mib()
        counter = _manycore.SharedArray("q", 1)
        futs = [pool.submit("bench_tasks:read_pages", (arr, counter, workers)) for _ in range(workers)]
        assert all(f.result() == len(pages) for f in futs)
        after = rss_mib()
    finally:
        pool.shutdown()
    buf = size / MIB
    print(f"buffer_mib {buf:.0f}")
    print(f"mem_manycore_pool_mib {before - start:.1f}")
    print(f"mem_manycore_alloc_mib {allocated - before:.1f}")
    print(f"mem_manycore_8w_extra_mib {after - before - buf:.1f}")
    print(f"mem_manycore_8w_total_mib {after:.1f}")


def mem_process(size, workers):
    barrier = multiprocessing.Barrier(workers + 1)
    with ProcessPoolExecutor(workers, initializer=bench_tasks.set_barrier, initargs=(barrier,)) as ex:
        # With fork the first submit starts every process: do it before the
        # data exists, so no child shares the parent's copy.
        for f in [ex.submit(bench_tasks.noop) for _ in range(workers)]:
            f.result()
        pids = ["self", *ex._processes]
        before = sum(map(pss_mib, pids))
        data = b"\x01" * size
        futs = [ex.submit(bench_tasks.hold, data) for _ in range(workers)]
        barrier.wait()  # every process now holds its own copy
        during = sum(map(pss_mib, pids))
        barrier.wait()
        assert all(f.result() == bench_tasks.page_sum(data) for f in futs)
    buf = size / MIB
    print(f"mem_process_buffer_mib {buf:.0f}")
    print(f"mem_process_8w_extra_mib {during - before - buf:.1f}")
    print(f"mem_process_8w_total_mib {during:.1f}")


def memory(args):
    for which, mib in (("manycore", args.mem_mib), ("process", args.process_mem_mib)):
        out = subprocess.run([sys.executable, __file__, "--only", f"mem-{which}", "--mem-mib", str(mib),
                              "--mem-workers", str(args.mem_workers)], check=True, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(out.stdout)
    print(f"mem_workers {args.mem_workers}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--capacity", type=int, default=1024)
    ap.add_argument("--round-trips", type=int, default=5000)
    ap.add_argument("--handoffs", type=int, default=200)
    ap.add_argument("--mem-mib", type=int, default=1024)
    ap.add_argument("--mem-workers", type=int, default=8)
    # Piping 8 pickled copies of 1 GiB takes over a minute here (page faults
    # are slow on this VM): the process side uses less by default, and its
    # cost is reported per MiB of buffer as well.
    ap.add_argument("--process-mem-mib", type=int, default=256)
    ap.add_argument("--only", choices=["mem-manycore", "mem-process"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure shows as soon as it is measured

    if args.only == "mem-manycore":
        return mem_manycore(args.mem_mib * MIB, args.mem_workers)
    if args.only == "mem-process":
        return mem_process(args.mem_mib * MIB, args.mem_workers)
    throughput(args)
    pingpong(args)
    handoff(args)
    memory(args)


if __name__ == "__main__":
    main()
