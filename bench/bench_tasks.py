"""Workloads the benchmarks run, importable by name in every worker kind."""


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def fib_many(n, count):
    return [fib(n) for _ in range(count)]


def noop():
    return None
