"""Searchers are found through the ``tnasbench.searchers`` entry-point group."""

from __future__ import annotations

import difflib
import pickle
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from tnasbench.errors import TnasbenchError
from tnasbench.searchers.oneshot import OneShotSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import Searcher

SearcherClass = type[Searcher] | type[OneShotSearcher]

GROUP = "tnasbench.searchers"
_runtime: dict[str, SearcherClass] = {}


def register(cls: SearcherClass) -> SearcherClass:
    """Register a searcher class in this process (tests, notebooks); usable as a decorator."""
    _runtime[cls.name] = cls
    return cls


def runtime_searchers(names: set[str]) -> dict[str, SearcherClass]:
    """Those of ``names`` registered at run time in this process, to hand to worker processes.

    Classes travel by reference (module and name), so each must be defined at a module's top level.
    """
    found = {name: _runtime[name] for name in sorted(names) if name in _runtime}
    for name, cls in found.items():
        try:
            pickle.dumps(cls)
        except (pickle.PicklingError, AttributeError, TypeError):
            raise TnasbenchError(
                f"searcher {name!r} ({cls.__qualname__}) was registered inside a function, so worker processes "
                "cannot import it: define it at a module's top level, or run with --jobs 1"
            ) from None
    return found


@cache
def _entry_points() -> dict[str, list]:
    """The installed searchers' entry points, scanned once per process (a scan costs milliseconds)."""
    found: dict[str, list] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, []).append(ep)
    return found


def searcher_names() -> list[str]:
    return sorted(set(_entry_points()) | set(_runtime))


@cache
def _load(name: str) -> SearcherClass:
    return _entry_points()[name][0].load()


def get_searcher(name: str) -> SearcherClass:
    """The searcher class registered under ``name``, with a clear error if it cannot be had."""
    if name in _runtime:
        return _runtime[name]
    found = _entry_points().get(name, [])
    if not found:
        close = difflib.get_close_matches(name, searcher_names(), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TnasbenchError(f"unknown searcher {name!r}{hint}: `tnasbench list searchers` shows the registered ones")
    try:
        cls = _load(name)
    except Exception as error:  # a plugin's import error must name the plugin
        raise TnasbenchError(
            f"searcher plugin {name!r} ({found[0].value}) failed to import: {type(error).__name__}: {error}"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, (Searcher, OneShotSearcher))):
        raise TnasbenchError(
            f"searcher plugin {name!r} ({found[0].value}) is not a tnasbench Searcher or OneShotSearcher subclass"
        )
    return cls


def seed_stream(name: str) -> str:
    """The searcher whose random stream ``name`` draws from: its ``seed_stream``, or itself."""
    stream = getattr(get_searcher(name), "seed_stream", None) or name
    if stream != name and stream not in searcher_names():
        raise TnasbenchError(
            f"searcher {name!r} shares the seeds of {stream!r}, which is not registered: fix its seed_stream"
        )
    return stream


def check_params(name: str, params: Any) -> SearcherClass:
    """The searcher registered under ``name``, with ``params`` checked before anything runs: a table
    (JSON object), and, where the class declares its hyper-parameters (``params_type``, a dataclass),
    only those, each of the right kind."""
    cls = get_searcher(name)
    if not isinstance(params, dict):
        raise TnasbenchError(f"the params of {name} must be a table (a JSON object such as {{}}), got {params!r}")
    declared = getattr(cls, "params_type", None)
    if declared is not None:
        try:
            config_from_params(declared, params, name)
        except (TypeError, ValueError) as error:
            raise TnasbenchError(f"{error}: fix the searcher's params") from None
    return cls


def check_space(name: str, benchmark: str, params: dict[str, Any] | None = None) -> None:
    """Refuse ``name`` (with ``params``) on ``benchmark`` up front when it cannot search that benchmark's space."""
    from tnasbench.benchmarks.kinds import benchmark_kind
    from tnasbench.space import get_space

    cls, space = get_searcher(name), benchmark_kind(benchmark).space
    if cls.spaces is not None and space not in cls.spaces:
        raise TnasbenchError(
            f"searcher {name!r} runs on the {', '.join(cls.spaces)} space only ({cls.spaces_reason}), "
            f"not on benchmark {benchmark!r}'s {space} space"
        )
    found = get_space(space)
    if not found.enumerable and not cls.large_spaces:
        raise TnasbenchError(
            f"searcher {name!r} needs a space it can enumerate, and benchmark {benchmark!r}'s {space} space holds "
            f"{found.size:.1e} cells: choose a searcher that scores a candidate pool (`tnasbench list searchers`)"
        )
    if benchmark_kind(benchmark).single_task and cls.needs_meta_tables(params or {}):
        raise TnasbenchError(
            f"searcher {name!r} learns from other tasks' tables, and benchmark {benchmark!r} has a single task: "
            "run it without meta-training (e.g. tnas-nometa), or on a benchmark with other tasks"
        )
    try:
        cls.check_space_params(found, params or {})
    except TnasbenchError as error:
        raise TnasbenchError(f"searcher {name!r} on benchmark {benchmark!r}: {error}") from None
