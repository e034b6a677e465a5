"""Spaces are found through the ``tnasbench.spaces`` entry-point group: a name and a zero-argument
factory returning the ``SearchSpace`` (called once per process)."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import cache
from importlib.metadata import entry_points

from tnasbench.errors import TnasbenchError
from tnasbench.space.protocol import SearchSpace

GROUP = "tnasbench.spaces"
_runtime: dict[str, Callable[[], SearchSpace]] = {}


def register_space(name: str, factory: Callable[[], SearchSpace]) -> None:
    """Register a space in this process (tests, notebooks); a package uses the entry point instead."""
    _runtime[name] = factory
    get_space.cache_clear()


@cache
def _entry_points() -> dict[str, object]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def space_names() -> list[str]:
    return sorted(set(_entry_points()) | set(_runtime))


@cache
def get_space(name: str) -> SearchSpace:
    """The space registered under ``name``, with a clear error if it cannot be had."""
    factory = _runtime.get(name)
    if factory is None:
        found = _entry_points().get(name)
        if found is None:
            close = difflib.get_close_matches(name, space_names(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TnasbenchError(f"unknown space {name!r}{hint}: `tnasbench list spaces` shows the registered ones")
        try:
            factory = found.load()
        except Exception as error:  # a plugin's import error must name the plugin
            raise TnasbenchError(f"space plugin {name!r} ({found.value}) failed to import: {error}") from None
    try:
        space = factory()
    except TnasbenchError:
        raise
    except Exception as error:  # a plugin's own failure names the plugin, not a traceback
        raise TnasbenchError(f"space {name!r} failed to build: {type(error).__name__}: {error}") from None
    if not isinstance(space, SearchSpace):
        raise TnasbenchError(f"space {name!r} did not give a tnasbench SearchSpace (got {type(space).__name__})")
    return space
