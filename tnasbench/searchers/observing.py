"""A base for model-based searchers: keeps the observations, draws a random initial design, proposes
mutations of the best cells so far."""

from __future__ import annotations

from typing import Any

import numpy as np

from tnasbench.benchmarks.protocol import Result
from tnasbench.searchers.protocol import Searcher
from tnasbench.space import SearchSpace


class ObservingSearcher(Searcher):
    """Subclasses call ``start`` in ``setup`` and use ``observed`` (cell indices) and ``accuracies``."""

    def start(self, space: SearchSpace, seed: int) -> None:
        self._space, self._rng = space, np.random.default_rng(seed)
        self.observed: list[int] = []
        self.accuracies: list[float] = []

    def tell(self, arch: Any, result: Result) -> None:
        self.observed.append(self._space.index(arch))
        self.accuracies.append(result.accuracy)

    def random_unseen(self) -> Any:
        """A uniformly random cell not evaluated yet (the initial design)."""
        while (index := int(self._rng.integers(len(self._space)))) in self.observed:
            pass
        return self._space.arch(index)

    def mutations_of_best(self, parents: int) -> set[int]:
        """Indices of the unevaluated neighbours (single-choice mutations) of the ``parents`` best cells so far."""
        best = np.argsort(self.accuracies)[::-1][:parents]
        found = {self._space.index(m) for i in best for m in self._space.neighbours(self._space.arch(self.observed[i]))}
        return found - set(self.observed)
