"""manycore — Python on every core of one process.

This package is thin over the `_manycore` extension: a pool of worker
threads, each running its own subinterpreter with its own GIL.

    >>> import manycore
    >>> pool = manycore.LowLevelPool(2)
    >>> pool.submit("math:factorial", (20,)).result()
    2432902008176640000
    >>> pool.shutdown()

Inside a worker, `manycore.worker_id()` is the worker's index (None
elsewhere). The concurrent.futures-style `manycore.Pool` is built on this
low-level pool.
"""
from _manycore import Future as LowLevelFuture
from _manycore import Pool as LowLevelPool
from _manycore import RemoteError, __version__, cpu_count, worker_id

__all__ = ["LowLevelPool", "LowLevelFuture", "RemoteError", "cpu_count", "worker_id", "__version__"]
