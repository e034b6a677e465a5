"""Regularized (aging) evolution, Real et al. 2019: tournament selection, one-edge mutation, oldest dies."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from tnasbench.benchmarks.protocol import Result
from tnasbench.searchers.protocol import SearchContext, Searcher
from tnasbench.space import SearchSpace


@dataclass(frozen=True)
class EvolutionParams:
    population: int = 10
    tournament: int = 3


class RegularizedEvolution(Searcher):
    """Params: ``population`` (default 10), ``tournament`` (default 3)."""

    name = "regularized-evolution"
    params_type = EvolutionParams
    large_spaces = True

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self._population_size = int(self.params.get("population", 10))
        self._tournament = int(self.params.get("tournament", 3))
        if not 1 <= self._tournament <= self._population_size:
            raise ValueError(f"tournament must be in 1..population, got {self._tournament}")
        self._space = space
        self._rng = np.random.default_rng(seed)
        self._population: deque[tuple[Any, float]] = deque()

    def ask(self) -> Any:
        if len(self._population) < self._population_size:  # the initial population is random
            return self._space.sample(self._rng)
        picks = self._rng.choice(len(self._population), size=self._tournament, replace=False)
        parent = max((self._population[i] for i in picks), key=lambda member: member[1])[0]
        children = self._space.neighbours(parent)
        return children[int(self._rng.integers(len(children)))]

    def tell(self, arch: Any, result: Result) -> None:
        self._population.append((arch, result.accuracy))
        if len(self._population) > self._population_size:
            self._population.popleft()  # aging: the oldest member dies, not the worst
