"""How a callable travels to a worker: by name when it has one, else pickled.

A task names its callable as "package.module:qualname", resolved by import
in the worker (and cached there). Functions of the main script travel as
"__mp_main__:name": workers load the script under that name, as
multiprocessing's spawn start method does, so `if __name__ == "__main__":`
guards keep working. Anything without a usable name (a partial, a bound
method of a picklable object) is pickled; lambdas and closures cannot be
either, and get a TypeError that says what to do instead.
"""
import functools
import importlib
import inspect
import pickle
import sys

__all__ = ["reference"]

_cache = {}
_CACHE_MAX = 4096


def _resolve(module, qualname):
    obj = sys.modules["__main__"] if module == "__main__" else importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _name_of(fn):
    """("module", "qualname") under which fn can be found again, or None."""
    if inspect.ismethod(fn):
        owner = fn.__self__
        if not isinstance(owner, type):
            return None  # bound to an instance: only pickle can carry it
        module, qualname = owner.__module__, f"{owner.__qualname__}.{fn.__name__}"
    else:
        module = getattr(fn, "__module__", None)
        if module is None:
            module = getattr(getattr(fn, "__objclass__", None), "__module__", None)
        qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    try:
        found = _resolve(module, qualname)
    except (ImportError, AttributeError):
        return None
    if found is not fn and not (inspect.ismethod(fn) and found == fn):
        return None
    return module, qualname


def _refuse(fn, why):
    kind = "lambda" if getattr(fn, "__name__", "") == "<lambda>" else (
        "closure" if "<locals>" in getattr(fn, "__qualname__", "") else type(fn).__name__)
    return TypeError(
        f"cannot send {fn!r} to a manycore worker: a {kind} has no importable name and cannot "
        f"be pickled ({why}). Define the function at module level (def name(...):) in an "
        f"importable module or in the main script, and pass what it needs as arguments; for a "
        f"method, use a staticmethod/classmethod or make its object picklable."
    )


def reference(fn):
    """Return ("name", "module:qualname") or ("pickle", bytes) for fn."""
    if not callable(fn):
        raise TypeError(f"{fn!r} is not callable")
    try:
        hit = _cache.get(fn)
    except TypeError:  # unhashable callable
        hit = None
    if hit is not None:
        return hit
    name = None if isinstance(fn, functools.partial) else _name_of(fn)
    if name is not None:
        module, qualname = name
        if module == "__main__":
            main = sys.modules["__main__"]
            if not getattr(main, "__file__", None):
                raise TypeError(
                    f"cannot send {fn!r} to a manycore worker: it is defined in an interactive "
                    f"__main__ with no script file for the workers to load. Put it in a module "
                    f"(a .py file next to your code) and import it from there.")
            module = "__mp_main__"
        result = ("name", f"{module}:{qualname}")
    else:
        try:
            result = ("pickle", pickle.dumps(fn, protocol=5))
        except Exception as exc:  # pickle raises several kinds here
            raise _refuse(fn, exc) from None
    try:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[fn] = result
    except TypeError:
        pass
    return result
