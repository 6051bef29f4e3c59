"""Functions the package tests send to workers (importable by name in every
kind of worker: processes, threads and manycore interpreters alike)."""
import collections
import dataclasses
import fractions
import time

Point = collections.namedtuple("Point", "x y")


@dataclasses.dataclass
class Box:
    lo: float
    hi: float


class PlanError(Exception):
    pass


class Shapes:
    @staticmethod
    def area(w, h):
        return w * h

    @classmethod
    def name(cls, suffix):
        return cls.__name__ + suffix


def square(x):
    return x * x


def add(a, b=0, *, c=0):
    return a + b + c


def echo(value):
    return value


def fail_plan(msg):
    raise PlanError(msg)


def fail_key(key):
    return {}[key]


def rich_values():
    return {
        "ints": [0, -1, 2 ** 70, -(2 ** 70)],
        "floats": (1.5, float("inf")),
        "text": "h\u00e9llo \U0001f600",
        "bytes": b"\x00\x01",
        "set": {1, 2, 3},
        "frozen": frozenset({"a"}),
        "fraction": fractions.Fraction(1, 3),
        "point": Point(1, 2),
        "box": Box(0.0, 1.0),
        "nested": [[[]], {}, ()],
    }


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def spin():
    while True:
        pass


def worker_identity():
    import manycore
    return manycore.worker_id()


_initialised = []


def remember(*args):
    _initialised.append(args)


def initialised():
    return _initialised


def init_fails():
    raise RuntimeError("initializer refused")


def double(x):
    return 2 * x


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"bad item {x}")
    return x


def count_up(counter, n):
    for _ in range(n):
        counter.add(0, 1)
    return n


def signal_then_sleep(channel, seconds):
    channel.send("started")
    time.sleep(seconds)
    return "ran"
