"""Workloads the benchmarks run, importable by name in every worker kind."""
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def fib_many(n, count):
    return [fib(n) for _ in range(count)]


def noop():
    return None


def trivial(x):
    """The trivial task every runner maps over range(N) for throughput."""
    return x


# --- bench_sharing.py: moving data between interpreters -------------------

def touch(buf):
    """Reads one byte: the cost measured is handing buf over, not using it."""
    return buf[0]


def page_sum(buf):
    """Reads the first 8 bytes of every 4 KiB page, so every page is touched."""
    return sum(memoryview(buf).cast("Q")[::512])


def rendezvous(counter, parties):
    """Returns once `parties` tasks have arrived: with as many tasks as
    workers, each task is then known to run on a worker of its own."""
    counter.add(0, 1)
    while counter.load(0) < parties:
        time.sleep(0.001)


def read_pages(buf, counter, parties):
    rendezvous(counter, parties)
    return page_sum(buf)


def channel_produce(ch, n):
    for i in range(n):
        ch.send(i)
    ch.close()
    return n


def channel_consume(ch):
    n = 0
    for _ in ch:
        n += 1
    return n


def channel_echo(inp, out):
    for x in inp:
        out.send(x)


def queue_produce(q, n):
    for i in range(n):
        q.put(i)


def queue_echo(inp, out):
    for x in iter(inp.get, None):
        out.put(x)


# _interpqueues (CPython 3.13) has no blocking get or put: they raise
# QueueEmpty/QueueFull at once, and the stdlib wrapper then sleeps 10 ms.
# These loops retry at once instead, the anchor's best case for latency.

def interpq_produce(qid, n):
    import _interpqueues as q
    for i in range(n):
        while True:
            try:
                q.put(qid, i, 0, 1)
                break
            except q.QueueError:
                pass


def interpq_echo(inp, out):
    import _interpqueues as q
    while True:
        try:
            x = q.get(inp)[0]
        except q.QueueError:
            continue
        if x is None:
            return
        while True:
            try:
                q.put(out, x, 0, 1)
                break
            except q.QueueError:
                pass


_barrier = None


def set_barrier(barrier):
    """ProcessPoolExecutor initializer: the barrier hold() meets at."""
    global _barrier
    _barrier = barrier


def hold(data):
    """Keeps a process's copy of data alive until the parent has measured
    every process (both meet the barrier twice)."""
    total = page_sum(data)
    _barrier.wait()
    _barrier.wait()
    return total
