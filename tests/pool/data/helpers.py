"""Functions the pool tests call by name ("helpers:NAME")."""
import time


class PlanError(Exception):
    """A user-defined exception, to check its qualified name arrives."""


def twice(x):
    return 2 * x


def identity(x):
    return x


def fail(message):
    raise PlanError(message)


def nested_fail():
    try:
        {}["missing"]
    except KeyError as exc:
        raise ValueError("lookup failed") from exc


def spin(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def unencodable():
    import threading
    return threading.Lock()


def keywords(a, b=0, *, c=0):
    return [a, b, c]


NOT_CALLABLE = 42


def count_up(counter, n):
    for _ in range(n):
        counter.add(0, 1)


def produce(channel, producer, n):
    for seq in range(n):
        channel.send((producer, seq))


def send_one(channel, value):
    channel.send(value)


def spin_forever():
    while True:
        pass
