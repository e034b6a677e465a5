"""Searcher hyper-parameters as frozen dataclasses, filled from a suite's ``params`` table."""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, TypeVar

Config = TypeVar("Config")


@dataclasses.dataclass(frozen=True)
class FidelityParams:
    """The only hyper-parameter of random and local search: ``epochs`` evaluates every cell at that fidelity."""

    epochs: int | None = None


def config_from_params(cls: type[Config], params: dict[str, Any], searcher: str) -> Config:
    """``cls(**params)`` with unknown keys and wrongly typed values reported in one line."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in params:
        if key not in fields:
            close = difflib.get_close_matches(key, sorted(fields), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(sorted(fields))}"
            raise ValueError(f"{searcher}: unknown parameter {key!r} ({hint})")
    values = {}
    for key, value in params.items():
        default = getattr(cls, key, None)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        if default is not None and not _same_kind(default, value):
            raise ValueError(f"{searcher}: parameter {key!r} must be {type(default).__name__}, got {value!r}")
        values[key] = value
    return cls(**values)


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))
