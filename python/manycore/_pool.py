"""manycore.Pool: a concurrent.futures.Executor running on every core.

Each worker is a thread with its own subinterpreter and GIL (see
docs/architecture.md); this module only turns Python calls into tasks of
the low-level `_manycore.Pool` and their outcomes into
`concurrent.futures.Future`s.

Waiting is direct: `Future.result()` waits on the task's C-level future
with the GIL released and then settles the Python future, so
`submit(...).result()` costs no extra thread hop. Completion callbacks,
`as_completed` and `wait` need someone to notice completions while nobody
waits: a future they watch asks the C future to post a token to a channel
when the task ends, and one collector thread per pool settles those.
"""
import concurrent.futures
import concurrent.futures._base as _base
import itertools
import os
import pickle
import sys
import threading
import time
import weakref

import _manycore

from . import _naming, _worker

__all__ = ["Pool", "Future"]


class _Waiters(list):
    """Future._waiters, which as_completed() and wait() append to: the first
    waiter makes the future watched, so it is settled when its task ends."""

    __slots__ = ("future",)

    def __init__(self, future):
        super().__init__()
        self.future = future

    def append(self, waiter):
        super().append(waiter)   # first, so a settle from _watch notifies it
        self.future._watch()


# Guards each future's claim to be settled and the creation of its
# condition, so a future nobody else watches is settled without ever
# building a threading.Condition (which cost more than a whole round trip).
_settle_lock = threading.Lock()


class Future(concurrent.futures.Future):
    """A concurrent.futures.Future for a manycore task, plus interrupt()."""

    def __init__(self, low, pool):
        # Not super().__init__(): the Condition it builds is made on demand.
        self._state = _base.PENDING
        self._result = None
        self._exception = None
        self._done_callbacks = []
        self._waiters = _Waiters(self)
        self._low = low
        self._pool = pool
        self._watched = False
        self._claimed = False

    @property
    def _condition(self):
        cond = self.__dict__.get("_cond")
        if cond is None:
            with _settle_lock:
                cond = self.__dict__.setdefault("_cond", threading.Condition())
        return cond

    def _settle(self):
        """Copy the task's outcome into this future, once. False if another
        thread has claimed it (it then publishes under the condition)."""
        with _settle_lock:
            if self._claimed or self._state not in (_base.PENDING, _base.RUNNING):
                return False
            self._claimed = True
        try:
            low = self._low
            if low.cancelled():
                if super().cancel():  # runs the callbacks outside the condition
                    self.set_running_or_notify_cancel()
                return True
            value = exc = None
            try:
                value = low.result(0)  # decoding may run code: outside any lock
            except Exception as e:  # the task's own exception, rebuilt here
                exc = e
            with _settle_lock:
                if "_cond" not in self.__dict__:
                    # Nobody waits through the condition: publish directly.
                    self._result, self._exception = value, exc
                    self._state = _base.FINISHED
                    return True
            if exc is not None:
                self.set_exception(exc)
            else:
                self.set_result(value)
            return True
        except BaseException:
            # Interrupted before publishing (Ctrl-C): let the next caller settle.
            with _settle_lock:
                if self._state in (_base.PENDING, _base.RUNNING):
                    self._claimed = False
            raise

    def _sync(self):
        if self._state in (_base.PENDING, _base.RUNNING) and self._low.done():
            self._settle()

    def _watch(self):
        self._pool._watch(self)

    def _outcome(self, timeout):
        if self._state in (_base.PENDING, _base.RUNNING):
            if not self._low.wait(timeout):
                raise TimeoutError()
            if not self._settle() and self._state != _base.FINISHED:
                super().exception(None)  # another thread is publishing: wait for it
        if self._state in (_base.CANCELLED, _base.CANCELLED_AND_NOTIFIED):
            raise concurrent.futures.CancelledError()

    def cancel(self):
        """Cancel the task if it has not started (as concurrent.futures does)."""
        if self._state == _base.FINISHED:
            return False
        if self._low.cancel():
            self._settle()
            return True
        self._sync()
        return self.cancelled()

    def interrupt(self):
        """Stop the task even if it is running: CancelledError is raised inside
        its Python code (at its next bytecode; a blocking C call finishes
        first) and its worker goes on with the next task. Returns False if the
        task had already ended."""
        ok = self._low.interrupt()
        self._sync()
        return ok

    def done(self):
        self._sync()
        return self._state in (_base.CANCELLED, _base.CANCELLED_AND_NOTIFIED, _base.FINISHED)

    def cancelled(self):
        self._sync()
        return self._state in (_base.CANCELLED, _base.CANCELLED_AND_NOTIFIED)

    def running(self):
        self._sync()
        return self._state in (_base.PENDING, _base.RUNNING) and self._low.running()

    def result(self, timeout=None):
        self._outcome(timeout)
        if self._exception is not None:
            try:
                raise self._exception
            finally:
                self = None  # no reference cycle through the traceback
        return self._result

    def exception(self, timeout=None):
        self._outcome(timeout)
        return self._exception

    def add_done_callback(self, fn):
        self._watch()
        self._condition  # from now on the future is settled under its condition
        super().add_done_callback(fn)


_live_pools = weakref.WeakSet()


def _shutdown_live_pools():
    # Runs at interpreter exit, before finalization: a pool still open then
    # would have its worker threads killed mid-way and hang the exit.
    for pool in list(_live_pools):
        pool.shutdown(wait=True, cancel_futures=True)


threading._register_atexit(_shutdown_live_pools)


def _in_bootstrap():
    return _manycore.worker_id() is not None and _worker._bootstrapping


class Pool(concurrent.futures.Executor):
    """A pool of workers, one thread and one subinterpreter (own GIL) each.

    Pool(workers=None, initializer=None, initargs=(), *, task_timeout=None,
         sys_path=None)

    workers:      number of workers (None: one per CPU).
    initializer:  called with *initargs once in every worker at start (an
                  exception there makes the constructor raise).
    task_timeout: seconds after which a running task gets TimeoutError raised
                  inside it (None: no limit); submit_with() sets it per task.
    sys_path:     directories added in front of sys.path in the workers
                  (they already get this interpreter's sys.path).

    Use it like ProcessPoolExecutor: submit(), map(), shutdown(), `with`.
    Functions travel by name (module-level functions, static and class
    methods, functions of the main script), arguments and results as plain
    data, pickles (anything picklable) or by handle (SharedArray, Channel).
    """

    def __init__(self, workers=None, initializer=None, initargs=(), *, task_timeout=None, sys_path=None):
        if _in_bootstrap():
            raise RuntimeError(
                "a manycore.Pool was created while a worker was loading the main script: guard the "
                "code that starts pools with `if __name__ == \"__main__\":` (workers load the main "
                "script as __mp_main__ to find its functions).")
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        if task_timeout is not None and task_timeout <= 0:
            raise ValueError("task_timeout must be > 0 seconds, or None")
        main = sys.modules.get("__main__")
        main_path = getattr(main, "__file__", None)
        if main_path:
            main_path = os.path.abspath(main_path)
            sys.modules.setdefault("__mp_main__", main)
        init_ref = _naming.reference(initializer) if initializer is not None else None
        source = (
            "import manycore._worker as _w\n"
            f"_w.bootstrap({main_path!r}, {init_ref!r}, {pickle.dumps(tuple(initargs), protocol=5)!r})\n"
        )
        paths = list(sys_path or []) + [p for p in sys.path if isinstance(p, str)]
        try:
            self._pool = _manycore.Pool(workers or 0, init_source=source, sys_path=paths)
        except RuntimeError as exc:
            raise RuntimeError(f"manycore.Pool could not start its workers:\n{exc}") from None
        self._timeout = task_timeout
        self._lock = threading.Lock()
        self._shutdown = False
        self._pending = {}  # token -> Future, for watched futures
        self._tokens = itertools.count()
        self._done_channel = None
        self._collector = None
        _live_pools.add(self)

    @property
    def workers(self):
        """Number of workers (0 once shut down)."""
        return self._pool.workers

    # -- submitting ------------------------------------------------------------

    def submit(self, fn, /, *args, **kwargs):
        """Schedule fn(*args, **kwargs) on a worker; return a Future."""
        return self.submit_with(fn, args, kwargs, timeout=self._timeout)

    def submit_with(self, fn, args=(), kwargs=None, *, timeout=None):
        """submit() with a per-task timeout in seconds (TimeoutError is raised
        inside the task once it has run that long)."""
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        return Future(self._submit_low(_naming.reference(fn), args, kwargs or None, timeout), self)

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        """Like Executor.map: every call is submitted now, results come in
        order, and timeout (seconds, from this call) bounds the whole run.
        chunksize > 1 sends the arguments in batches of that many calls."""
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1")
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        end = None if timeout is None else time.monotonic() + timeout
        ref = _naming.reference(fn)
        if chunksize == 1:
            lows = [self._submit_low(ref, args, None, self._timeout) for args in zip(*iterables)]
        else:
            lows = [self._submit_low(("name", "manycore._worker:run_chunk"), (ref, batch), None, self._timeout)
                    for batch in _batched(zip(*iterables), chunksize)]
        return self._results_in_order(lows, end, chunksize > 1)

    @staticmethod
    def _results_in_order(lows, end, chunked):
        # Low-level futures straight through: no concurrent.futures.Future per
        # call, which is most of the cost of a trivial task.
        lows.reverse()
        try:
            while lows:
                low = lows[-1]
                if not low.wait(None if end is None else max(0.0, end - time.monotonic())):
                    raise TimeoutError()
                lows.pop()
                if chunked:
                    yield from low.result(0)
                else:
                    yield low.result(0)
        finally:
            for low in lows:
                low.cancel()

    def _submit_low(self, ref, args, kwargs, timeout):
        kind, what = ref
        if kind == "name":
            return self._pool.submit(what, args, kwargs, timeout)
        return self._pool.submit("manycore._worker:call_pickled", (what, args, kwargs), None, timeout)

    # -- completion notices ----------------------------------------------------

    def _watch(self, future):
        """Make sure future is settled when its task ends, even if nobody
        waits on it (callbacks, as_completed, wait). Once per future."""
        with self._lock:
            if future._watched:
                return
            future._watched = True
            if self._collector is None:
                self._done_channel = _manycore.Channel(1 << 20)
                self._collector = threading.Thread(target=self._collect, name="manycore-collector", daemon=True)
                self._collector.start()
            token = next(self._tokens)
            self._pending[token] = future
        future._low._notify(self._done_channel, token)
        if future._low.done():
            # Ended already (or after a shutdown closed the channel, which drops
            # the notice): settle it here. _settle runs once whoever calls it.
            with self._lock:
                self._pending.pop(token, None)
            future._settle()

    def _collect(self):
        for token in self._done_channel:
            with self._lock:
                future = self._pending.pop(token, None)
            if future is not None:
                future._settle()

    # -- ending ------------------------------------------------------------------

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Stop taking tasks; run (or, with cancel_futures, cancel) the queued
        ones; with wait, return once every worker has ended."""
        with self._lock:
            first = not self._shutdown
            self._shutdown = True
        if not first:
            if wait:
                self._pool.shutdown(cancel=cancel_futures)
            return

        def finish():
            self._pool.shutdown(cancel=cancel_futures)
            if self._done_channel is not None:
                self._done_channel.close()

        if wait:
            finish()
            if self._collector is not None:
                self._collector.join()
        else:
            threading.Thread(target=finish, name="manycore-shutdown", daemon=True).start()

    def __repr__(self):
        state = "shut down" if self._shutdown else f"{self.workers} workers"
        return f"<manycore.Pool {state}>"


def _batched(iterable, n):
    it = iter(iterable)
    while batch := tuple(itertools.islice(it, n)):
        yield batch
