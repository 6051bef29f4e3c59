"""manycore — Python on every core of one process.

A pool of isolated CPython interpreters, one per worker thread, each with
its own GIL, truly in parallel, sharing memory without copying:

    import manycore

    def square(x):
        return x * x

    if __name__ == "__main__":
        with manycore.Pool() as pool:              # one worker per CPU
            print(list(pool.map(square, range(10))))

`manycore.Pool` is a concurrent.futures.Executor (submit, map, shutdown,
as_completed, wait). `SharedArray` and `Channel` are shared by every
interpreter; `Pipeline` chains stages of workers with channels. Inside a
worker, `worker_id()`, `shared` (objects the host published) and `host`
(the host's native functions) are available. See docs/python.md.
"""
from _manycore import (
    Channel,
    ChannelClosed,
    HostError,
    RemoteError,
    SharedArray,
    __version__,
    cpu_count,
    host,
    select,
    shared,
    worker_id,
)
from _manycore import Future as LowLevelFuture
from _manycore import Pool as LowLevelPool

from ._pipeline import Pipeline
from ._pool import Future, Pool

__all__ = [
    "Pool", "Future", "Pipeline", "SharedArray", "Channel", "ChannelClosed", "select",
    "HostError", "RemoteError", "worker_id", "shared", "host", "cpu_count",
    "LowLevelPool", "LowLevelFuture", "__version__",
]
