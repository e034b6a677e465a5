"""Heavy libraries imported on first use, so that loading a searcher class (a suite's check of its params, the
trial keys of a finished store) costs no torch, BoTorch or SciPy import: ``torch = lazy_import("torch")``."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_import(name: str) -> ModuleType:
    """Module ``name``, executed the first time one of its attributes is read (at once if already imported)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:  # as the import system does, so ``parent.child`` resolves
        setattr(sys.modules[parent], child, module)
    return module
