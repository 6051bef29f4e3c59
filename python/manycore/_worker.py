"""What runs inside each worker: start-up, and the helpers tasks call.

`bootstrap` runs once per worker, from the pool's init source: it installs
the guard that names extension modules which cannot load in a
subinterpreter, makes the main script loadable as `__mp_main__`, and runs
the user's initializer.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import pickle
import sys

_main_path = None
_bootstrapping = False


class _LegacyExtensionLoader(importlib.abc.Loader):
    """Wraps an extension module's loader to explain a subinterpreter refusal."""

    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        try:
            return self._inner.create_module(spec)
        except ImportError as exc:
            if "subinterpreter" not in str(exc):
                raise
            raise ImportError(
                f"manycore: the extension module {spec.name!r} ({spec.origin}) cannot be imported in "
                f"a manycore worker: it does not support subinterpreters (it uses single-phase "
                f"initialisation, or does not declare Py_mod_multiple_interpreters). Use it in the "
                f"main interpreter only, or ask its maintainers for multi-phase init (PEP 489) with "
                f"per-interpreter GIL support (PEP 684).", name=spec.name, path=spec.origin) from exc

    def exec_module(self, module):
        return self._inner.exec_module(module)


class _ExtensionGuard(importlib.abc.MetaPathFinder):
    """Finds specs through the other finders; wraps extension-module loaders."""

    def find_spec(self, name, path, target=None):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
                    spec.loader = _LegacyExtensionLoader(spec.loader)
                return spec
        return None


class _MainScriptLoader(importlib.abc.Loader):
    """Runs the main script as __mp_main__, flagged so that a Pool created by
    unguarded top-level code is refused instead of recursing."""

    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        global _bootstrapping
        _bootstrapping = True
        try:
            self._inner.exec_module(module)
        finally:
            _bootstrapping = False


class _MainScriptFinder(importlib.abc.MetaPathFinder):
    """Loads the main script, on first use, as the module __mp_main__."""

    def find_spec(self, name, path, target=None):
        if name != "__mp_main__" or not _main_path:
            return None
        spec = importlib.util.spec_from_file_location("__mp_main__", _main_path)
        spec.loader = _MainScriptLoader(spec.loader)
        return spec


def _main_getattr(name):
    # Objects pickled in the main interpreter as "__main__.X" find X in the
    # script, which workers know as __mp_main__.
    try:
        return getattr(importlib.import_module("__mp_main__"), name)
    except ImportError:
        raise AttributeError(name) from None


def bootstrap(main_path, initializer, initargs):
    """Prepare this worker; called once from the pool's init source."""
    global _main_path, _bootstrapping
    _bootstrapping = True
    try:
        sys.meta_path.insert(0, _ExtensionGuard())
        if main_path:
            _main_path = main_path
            sys.meta_path.append(_MainScriptFinder())
            sys.modules["__main__"].__dict__.setdefault("__getattr__", _main_getattr)
        if initializer is not None:
            fn = _load_callable(initializer)
            fn(*pickle.loads(initargs))
    finally:
        _bootstrapping = False


def _load_callable(ref):
    kind, what = ref
    if kind == "pickle":
        return pickle.loads(what)
    module, _, qualname = what.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def call_pickled(fn_pickle, args, kwargs):
    """Task body for callables that travel pickled."""
    return pickle.loads(fn_pickle)(*args, **(kwargs or {}))


def run_chunk(ref, chunk):
    """Task body for map(chunksize=n): apply the callable to each argument tuple."""
    fn = _load_callable(ref)
    return [fn(*args) for args in chunk]
