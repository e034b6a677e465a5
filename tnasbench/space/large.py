"""Spaces too large to enumerate: cells are made, sampled and mutated, never listed.

Searchers that score candidates meet such a space through a candidate pool
(``tnasbench.searchers.pool``); everything that needs every cell (index order, whole-space
encodings, isomorphism classes) is refused with one line naming what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from tnasbench.errors import TnasbenchError
from tnasbench.space.protocol import SearchSpace


class LargeSpace(SearchSpace):
    """A categorical space given by its dimensions and a validity rule, with no list of cells.

    Subclasses give ``make`` (which canonicalises: one cell per function), ``dag``, ``size`` and
    ``encode``; ``sample`` draws each dimension uniformly and canonicalises.
    """

    enumerable: ClassVar[bool] = False

    def __init__(self) -> None:  # no cells to index
        self.archs = ()
        self._index = {}

    def _not_enumerable(self, what: str) -> TnasbenchError:
        return TnasbenchError(
            f"the {self.name} space has {self.size:.2e} cells and cannot be enumerated ({what}): "
            "score a candidate pool (tnasbench.searchers.pool) instead"
        )

    def __len__(self) -> int:
        raise self._not_enumerable("len")

    def arch(self, index: int) -> Any:
        raise self._not_enumerable("cell by index")

    def index(self, cell: Any) -> int:
        raise self._not_enumerable("cell index")

    def contains(self, cell: object) -> bool:
        choices = getattr(cell, "choices", None)
        if not isinstance(choices, tuple) or len(choices) != len(self.dimensions):
            return False
        try:
            return self.make(choices) == cell
        except (TnasbenchError, ValueError, TypeError):
            return False

    def index_cell(self, cell: Any) -> Any:
        if not self.contains(cell):
            raise TnasbenchError(f"{cell!r} is not a cell of the {self.name} space")
        return cell

    def find(self, choices: Sequence[int]) -> Any | None:
        try:
            return self.make(tuple(int(c) for c in choices))
        except (TnasbenchError, ValueError):
            return None

    def parse(self, text: str) -> Any:
        raise NotImplementedError  # each large space reads its own notation

    def sample(self, rng: np.random.Generator) -> Any:
        return self.sample_many(rng, 1)[0]

    def sample_many(self, rng: np.random.Generator, count: int) -> list[Any]:
        """``count`` cells, each dimension drawn uniformly (then canonicalised; repeats are possible)."""
        rows = np.stack([rng.integers(len(d.choices), size=count) for d in self.dimensions], axis=1)
        return [self.make(row.tolist()) for row in rows]

    def encode(self, name: str, cells: Sequence[Any]) -> np.ndarray:
        raise NotImplementedError

    def encoding(self, name: str) -> np.ndarray:
        raise self._not_enumerable(f"the {name} encoding of every cell")

    @property
    def choices_matrix(self) -> np.ndarray:  # type: ignore[override]
        raise self._not_enumerable("every cell's choices")

    @property
    def canonical_ids(self) -> np.ndarray:  # type: ignore[override]
        raise self._not_enumerable("isomorphism classes of every cell")

    def nearest(self, rows: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        raise self._not_enumerable("nearest cell")

    def describe(self) -> str:
        dims = len(self.dimensions)
        return f"{self.size:.2e} cells ({dims} categorical dimensions), not enumerable: searchers score a pool"
