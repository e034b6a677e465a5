"""Local search: best-improvement hill climbing over single-edge mutations, with random restarts."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from tnasbench.benchmarks.protocol import Result
from tnasbench.searchers.params import FidelityParams
from tnasbench.searchers.protocol import SearchContext, Searcher, at_fidelity
from tnasbench.space import SearchSpace


class LocalSearch(Searcher):
    """Evaluate every unseen neighbour of the current cell, move to the best if it improves,
    otherwise restart from a random unseen cell (White et al., 2021).
    Params: ``epochs`` (optional) evaluates every cell at that lower fidelity."""

    name = "local-search"
    params_type = FidelityParams
    large_spaces = True

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self._space = space
        self._rng = np.random.default_rng(seed)
        self._seen: set[Any] = set()
        self._walk = self._climb()
        self._proposal = next(self._walk)

    def ask(self) -> Any:
        return at_fidelity(self._proposal, self.params.get("epochs"))

    def tell(self, arch: Any, result: Result) -> None:
        self._seen.add(arch)
        self._proposal = self._walk.send(result.accuracy)

    def _climb(self) -> Generator[Any, float, None]:
        while True:  # one restart per loop
            current = self._unseen_random()
            current_value = yield current
            while True:
                neighbours = [n for n in self._space.neighbours(current) if n not in self._seen]
                best, best_value = None, current_value
                for k in self._rng.permutation(len(neighbours)):
                    value = yield neighbours[k]
                    if value > best_value:
                        best, best_value = neighbours[k], value
                if best is None:
                    break
                current, current_value = best, best_value

    def _unseen_random(self) -> Any:
        while True:
            arch = self._space.sample(self._rng)
            if arch not in self._seen or len(self._seen) >= self._space.size:
                return arch
