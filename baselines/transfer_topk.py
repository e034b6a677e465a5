"""``transfer-topk``: transfer with no model, the floor any transfer method must clear."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from tnasbench.searchers.observing import ObservingSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import SearchContext
from tnasbench.space import SearchSpace


@dataclass(frozen=True)
class TransferTopKParams:
    list_length: int | None = None  # how many ranked cells to evaluate before local search (None: all of them)

    def __post_init__(self) -> None:
        if self.list_length is not None and (isinstance(self.list_length, bool) or self.list_length < 1):
            raise ValueError(f"transfer-topk: list_length must be a positive integer, got {self.list_length!r}")


def transfer_ranking(space: SearchSpace, context: SearchContext) -> np.ndarray:
    """Cell indices by their mean standardised score over the meta tables, best first, one cell per
    isomorphism class (the first of each class in that order)."""
    if not context.meta_tables:
        raise ValueError("transfer-topk needs meta tables (other tasks' results) in the search context")
    total, count = np.zeros(len(space)), np.zeros(len(space))
    for t in context.meta_tables:  # a partial table scores only its cells; cells no table holds are not ranked
        total[t.indices()] += (t.accuracies - t.accuracies.mean()) / t.accuracies.std()
        count[t.indices()] += 1
    scored = np.flatnonzero(count)
    scores = total[scored] / count[scored]
    return space.one_per_class(scored[np.argsort(-scores, kind="stable")])


class TransferTopK(ObservingSearcher):
    """Evaluate the other tasks' consensus best cells in order, then (after ``list_length`` of them) random
    unevaluated mutations of the best cell observed so far (local search). Sees only ``context.meta_tables``.

    With the whole list (the default) it draws nothing at random: on a noise-free table every seed gives
    the same trajectory, so its seeds are not replicates (the conformance suite checks exactly that).
    """

    name = "transfer-topk"
    params_type = TransferTopKParams
    deterministic: ClassVar[bool] = True  # with the default params

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self.config = config_from_params(TransferTopKParams, self.params, self.name)
        self.start(space, seed)
        ranked = transfer_ranking(space, context)
        self._meta = [t.dataset for t in context.meta_tables]
        self._ranked = ranked[: self.config.list_length] if self.config.list_length else ranked

    def ask(self) -> Any:
        step = len(self.observed)
        if step < len(self._ranked):
            return self._space.arch(int(self._ranked[step]))
        for parents in range(1, len(self.observed) + 1):  # the best cell's unseen mutations, else the next best's
            candidates = sorted(self.mutations_of_best(parents))
            if candidates:
                return self._space.arch(candidates[int(self._rng.integers(len(candidates)))])
        return self.random_unseen()

    def describe(self) -> dict:
        return {"list_length": len(self._ranked), "meta_datasets": self._meta, "model": "none (mean z-score)"}
