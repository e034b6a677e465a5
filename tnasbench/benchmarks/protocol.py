"""What every benchmark offers the runner: evaluate a cell, know the optimum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tnasbench.space import Arch


@dataclass(frozen=True)
class Result:
    """What a searcher learns from one evaluation: the objective metric and its cost."""

    accuracy: float  # the objective metric, in percent
    cost_seconds: float  # training time the evaluation stands for
    metric: str  # name of the objective metric, e.g. "val@200"


@dataclass(frozen=True)
class Evaluation:
    """One evaluation as the runner records it; ``reported`` is never shown to the searcher."""

    result: Result
    reported: float  # the report metric (e.g. test accuracy) of the same cell


class Benchmark(Protocol):
    dataset: str
    objective: str  # metric searchers see
    report: str  # metric reports score
    needs_gpu: bool

    def evaluate(self, arch: Arch) -> Evaluation: ...

    def optimum(self) -> float:
        """Best value of the report metric over the whole space (regret is measured from it)."""
        ...

    def signature(self) -> dict[str, str]:
        """Checksums identifying the data behind this benchmark."""
        ...
