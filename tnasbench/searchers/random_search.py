"""Random search: cells drawn uniformly without replacement (on a large space: uniform draws per dimension)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tnasbench.benchmarks.protocol import Result
from tnasbench.searchers.params import FidelityParams
from tnasbench.searchers.protocol import SearchContext, Searcher, at_fidelity
from tnasbench.space import SearchSpace


class RandomSearch(Searcher):
    """Params: ``epochs`` (optional) evaluates every cell at that lower fidelity."""

    name = "random-search"
    params_type = FidelityParams
    large_spaces = True

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self._space = space
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(space)) if space.enumerable else None
        self._seen: set[Any] = set()
        self._next = 0

    def ask(self) -> Any:
        if self._order is None:  # a space too large to permute: uniform draws, repeats skipped
            while (arch := self._space.sample(self._rng)) in self._seen:
                pass
            self._seen.add(arch)
        else:
            arch = self._space.arch(int(self._order[self._next % len(self._order)]))
        self._next += 1
        return at_fidelity(arch, self.params.get("epochs"))

    def tell(self, arch: Any, result: Result) -> None:
        pass
