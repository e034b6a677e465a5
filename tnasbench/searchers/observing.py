"""A base for model-based searchers: keeps the observations, draws a random initial design, proposes
mutations of the best cells so far, and gives the candidates an acquisition scores.

On an enumerable space the candidates are every cell and ``observed`` holds cell indices. On a
space too large to enumerate (``space.enumerable`` False) cells are numbered as the searcher meets
them (``CellRegistry``) and the candidates are a pool: ``pool_size`` random cells drawn once from
the trial's seed plus the single-choice mutations of the ``pool_parents`` best cells so far, re-drawn
each step (``describe`` records the rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tnasbench.benchmarks.protocol import Result
from tnasbench.lazy import lazy_import
from tnasbench.searchers.protocol import Searcher
from tnasbench.seeding import derive_seed
from tnasbench.space import SearchSpace

torch = lazy_import("torch")


class CellRegistry:
    """Cells of a large space numbered in the order they are met; ids never change, encodings only grow."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._cells: list[Any] = []
        self._ids: dict[Any, int] = {}
        self._encodings: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._cells)

    def id(self, cell: Any) -> int:
        found = self._ids.get(cell)
        if found is None:
            found = self._ids[cell] = len(self._cells)
            self._cells.append(cell)
        return found

    def cell(self, index: int) -> Any:
        return self._cells[index]

    def encoding(self, name: str) -> np.ndarray:
        """The ``name`` encoding of every registered cell (row = id), extended as cells arrive."""
        known = self._encodings.get(name)
        done = 0 if known is None else len(known)
        if done < len(self._cells):
            rows = self.space.encode(name, self._cells[done:])
            known = rows if known is None else np.concatenate([known, rows])
            self._encodings[name] = known
        return known


class ObservingSearcher(Searcher):
    """Subclasses call ``start`` in ``setup`` and use ``observed`` (cell ids) and ``accuracies``."""

    def start(self, space: SearchSpace, seed: int, pool_size: int = 10_000, pool_parents: int = 10) -> None:
        self._space, self._rng = space, np.random.default_rng(seed)
        self.observed: list[int] = []
        self.accuracies: list[float] = []
        self._registry = None if space.enumerable else CellRegistry(space)
        self._pool_rule = (pool_size, pool_parents)
        self._pool_seed = derive_seed(seed, "candidate-pool")
        self._pool_random: np.ndarray | None = None
        self._encoded: dict[tuple[str, torch.dtype], torch.Tensor] = {}

    # --- cells and their ids ----------------------------------------------------------
    def cell_id(self, cell: Any) -> int:
        """The cell's index in the space, or its registry id on a large space."""
        return self._space.index(cell) if self._registry is None else self._registry.id(cell)

    def cell(self, index: int) -> Any:
        return self._space.arch(index) if self._registry is None else self._registry.cell(index)

    def encoding(self, name: str) -> np.ndarray:
        """Rows by id: every cell of an enumerable space, every registered cell of a large one."""
        return self._space.encoding(name) if self._registry is None else self._registry.encoding(name)

    def encoded(self, name: str, dtype: torch.dtype) -> torch.Tensor:
        """``encoding(name)`` as a tensor (converted once, extended as a large space's registry grows)."""
        matrix = self.encoding(name)
        known = self._encoded.get((name, dtype))
        if known is None or len(known) != len(matrix):
            known = self._encoded[(name, dtype)] = torch.as_tensor(np.asarray(matrix), dtype=dtype)
        return known

    def tell(self, arch: Any, result: Result) -> None:
        self.observed.append(self.cell_id(arch))
        self.accuracies.append(result.accuracy)

    # --- proposals --------------------------------------------------------------------
    def random_unseen(self) -> Any:
        """A uniformly random cell not evaluated yet (the initial design)."""
        if self._registry is not None:
            seen = {self._registry.cell(i) for i in self.observed}
            while (cell := self._space.sample(self._rng)) in seen:
                pass
            return cell
        while (index := int(self._rng.integers(len(self._space)))) in self.observed:
            pass
        return self._space.arch(index)

    def random_ids(self, count: int, replace: bool = False) -> list[int]:
        """Ids of ``count`` random cells in draw order (repeats possible with ``replace`` or on a large space),
        drawn from the searcher's generator."""
        if self._registry is None:
            return self._rng.choice(len(self._space), count, replace=replace).tolist()
        return [self.cell_id(c) for c in self._space.sample_many(self._rng, count)]

    def mutations_of_best(self, parents: int) -> set[int]:
        """Ids of the unevaluated neighbours (single-choice mutations) of the ``parents`` best cells so far."""
        best = np.argsort(self.accuracies)[::-1][:parents]
        found = {self.cell_id(m) for i in best for m in self._space.neighbours(self.cell(self.observed[i]))}
        return found - set(self.observed)

    def candidates(self) -> np.ndarray:
        """Ids an acquisition scores: every cell of an enumerable space (evaluated ones included: mask them),
        else the pool of unevaluated cells (see the module's docstring)."""
        if self._registry is None:
            return np.arange(len(self._space))
        size, parents = self._pool_rule
        if self._pool_random is None:  # drawn once, from its own generator: the searcher's stream is untouched
            drawn = self._space.sample_many(np.random.default_rng(self._pool_seed), size)
            self._pool_random = np.unique([self.cell_id(c) for c in drawn])
        pool = set(self._pool_random.tolist()) | self.mutations_of_best(parents)
        return np.asarray(sorted(pool - set(self.observed)), dtype=np.int64)

    def pool_rule(self) -> dict[str, str]:
        """What ``describe`` records of the candidates (nothing on an enumerable space)."""
        if self._registry is None:
            return {}
        size, parents = self._pool_rule
        return {
            "candidate_pool": f"{size} random cells drawn once from the trial seed + single-choice mutations of "
            f"the {parents} best observed, re-drawn each step; evaluated cells left out"
        }
