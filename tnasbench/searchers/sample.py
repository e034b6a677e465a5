"""``tabulate-sample``: a seeded sample of the space's isomorphism classes (on a space too large to enumerate,
of distinct random cells), asked in order, learning nothing.

It is what ``tnasbench tabulate`` runs to build a table of a space on a live dataset: the harness's
runner and store train and record every cell (resumable, ``--jobs``, Dask, CUDA when there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tnasbench.benchmarks.protocol import Result
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import SearchContext, Searcher
from tnasbench.space import SearchSpace


@dataclass(frozen=True)
class SampleConfig:
    sample_seed: int = 0  # the sample's seed: the same seed, the same cells on every dataset


def class_sample(space: SearchSpace, seed: int) -> np.ndarray:
    """One cell (the lowest index) of every isomorphism class of ``space``, in a seeded random order."""
    return np.random.default_rng(seed).permutation(space.one_per_class(np.arange(len(space))))


class TabulateSample(Searcher):
    """Params: ``sample_seed`` (default 0). The trial's budget is how many cells of the sample are trained."""

    name = "tabulate-sample"
    params_type = SampleConfig

    large_spaces = True  # there: distinct random cells, drawn one by one from the sample's seed

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        config = config_from_params(SampleConfig, self.params, self.name)
        self._space, self._next = space, 0
        if space.enumerable:
            self._order = class_sample(space, config.sample_seed)
        else:
            self._rng, self._asked = np.random.default_rng(config.sample_seed), set()

    def ask(self) -> Any:
        if not self._space.enumerable:
            while (cell := self._space.sample(self._rng)) in self._asked:
                pass
            self._asked.add(cell)
            return cell
        if self._next >= len(self._order):
            raise ValueError(
                f"tabulate-sample: every one of the space's {len(self._order)} isomorphism classes was asked; "
                f"set the budget to at most {len(self._order)} evaluations"
            )
        self._next += 1
        return self._space.arch(int(self._order[self._next - 1]))

    def tell(self, arch: Any, result: Result) -> None:
        pass
