"""manycore.Pipeline: stages of workers joined by bounded channels.

    with manycore.Pipeline((parse, 1), (plan, 6), (write, 1)) as pipe:
        for result in pipe.run(levels):          # results in input order
            ...

Each stage is a function of one item, run by its own number of workers
(long-running tasks on a pool of sum(workers) interpreters). Items flow
tagged with their input index through `Channel`s of at most `maxsize`
messages, so a slow stage holds the ones before it back instead of piling
up memory. The first exception in any stage closes every channel, stops
the other stages and is raised by `run()` with its worker traceback.
"""
import heapq
import threading

import _manycore

from . import _naming
from ._pool import Pool

__all__ = ["Pipeline"]


def _run_stage(ref, index, inbox, outbox, all_channels, remaining):
    """A stage worker: apply the stage's function to each item until the
    inbox is closed and drained; the last worker of a stage closes its
    outbox. On an exception, close everything (so every stage stops) and
    let it propagate with its traceback."""
    from . import _worker

    fn = _worker._load_callable(ref)
    try:
        for tag, item in inbox:
            outbox.send((tag, fn(item)))
    except _manycore.ChannelClosed:
        pass  # the pipeline was stopped elsewhere
    except BaseException:
        for ch in all_channels:
            ch.close()
        raise
    finally:
        if remaining.add(index, -1) == 1:
            outbox.close()


class Pipeline:
    """Pipeline(*stages, maxsize=64): each stage is a function or a
    (function, workers) pair."""

    def __init__(self, *stages, maxsize=64):
        if not stages:
            raise ValueError("a Pipeline needs at least one stage")
        self._stages = []
        for stage in stages:
            fn, workers = stage if isinstance(stage, tuple) else (stage, 1)
            if not isinstance(workers, int) or workers < 1:
                raise ValueError(f"stage {fn!r}: workers must be an int >= 1, not {workers!r}")
            self._stages.append((_naming.reference(fn), workers))
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self._maxsize = maxsize
        self._pool = Pool(sum(w for _, w in self._stages))

    def run(self, iterable, ordered=True):
        """Feed the items of iterable through the stages; yield the results
        in input order (ordered=True) or as they are completed."""
        channels = [_manycore.Channel(self._maxsize) for _ in range(len(self._stages) + 1)]
        remaining = _manycore.SharedArray("q", [w for _, w in self._stages])
        futures = []
        for i, (ref, workers) in enumerate(self._stages):
            args = (ref, i, channels[i], channels[i + 1], channels, remaining)
            futures += [self._pool.submit(_run_stage, *args) for _ in range(workers)]
        feed_error = []
        feeder = threading.Thread(target=self._feed, args=(iterable, channels, feed_error),
                                  name="manycore-pipeline-feed", daemon=True)
        feeder.start()
        try:
            yield from self._collect(channels[-1], ordered)
        finally:
            for ch in channels:  # stop everything if the caller stopped early
                ch.close()
            feeder.join()
            errors = [f.exception() for f in futures]
        if feed_error:
            raise feed_error[0]
        for exc in errors:
            if exc is not None:
                raise exc

    @staticmethod
    def _feed(iterable, channels, feed_error):
        inbox = channels[0]
        try:
            for tag, item in enumerate(iterable):
                inbox.send((tag, item))
        except _manycore.ChannelClosed:
            pass
        except BaseException as exc:  # the input itself failed: stop the pipeline
            feed_error.append(exc)
            for ch in channels:
                ch.close()
        else:
            inbox.close()

    @staticmethod
    def _collect(outbox, ordered):
        if not ordered:
            for _, result in outbox:
                yield result
            return
        waiting, expected = [], 0
        for tag, result in outbox:
            heapq.heappush(waiting, (tag, id(result), result))
            while waiting and waiting[0][0] == expected:
                yield heapq.heappop(waiting)[2]
                expected += 1

    def close(self):
        """Shut the pipeline's workers down."""
        self._pool.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
