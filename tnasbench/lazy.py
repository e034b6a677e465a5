"""Heavy libraries imported on first use, so that loading a searcher class (a suite's check of its params, the
trial keys of a finished store) costs no torch, BoTorch or SciPy import: ``torch = lazy_import("torch")``."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    """Stands for a module not imported yet: each attribute read goes to the real module, imported through
    the import system (its locks make a first use from two threads safe, and a failed import leaves nothing
    half-built in ``sys.modules``; the standard ``LazyLoader`` gives neither on Python 3.11)."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attr)


def lazy_import(name: str) -> ModuleType:
    """Module ``name``, imported the first time one of its attributes is read; an absent module is refused now."""
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return _LazyModule(name)
