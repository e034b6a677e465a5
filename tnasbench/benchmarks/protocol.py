"""What every benchmark offers the runner: evaluate a cell, know the optimum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tnasbench.space import Arch


@dataclass(frozen=True)
class Query:
    """Ask for ``arch`` at a lower fidelity: ``epochs`` of training (e.g. 12 on NB201)."""

    arch: Arch
    epochs: int


@dataclass(frozen=True)
class Result:
    """What a searcher learns from one evaluation: the objective metric and its cost."""

    accuracy: float  # the objective metric, in percent
    cost_seconds: float  # training time the evaluation stands for
    metric: str  # name of the metric measured, e.g. "val@200" or "val@12"
    epochs: int  # the fidelity it was measured at


@dataclass(frozen=True)
class Evaluation:
    """One evaluation as the runner records it; ``reported`` is never shown to the searcher."""

    result: Result
    reported: float  # the report metric (e.g. test accuracy) of the same cell


@dataclass(frozen=True)
class Scale:
    """Where regret is measured from on both metrics, so scores compare across tasks.

    ``optimum``/``floor``: best and worst report value over the space; ``objective_optimum``/
    ``objective_floor`` the same for the metric searchers see; ``ceiling``: the report value of
    the objective's best cell (a search that finds it still has ``optimum - ceiling`` regret).
    """

    optimum: float
    floor: float
    objective_optimum: float
    objective_floor: float
    ceiling: float


class Benchmark(Protocol):
    dataset: str
    objective: str  # metric searchers see
    report: str  # metric reports score
    needs_gpu: bool

    def evaluate(self, arch: Arch, epochs: int | None = None) -> Evaluation:
        """Evaluate at ``epochs`` of training (None: the benchmark's full fidelity)."""
        ...

    def optimum(self) -> float:
        """Best value of the report metric over the whole space (regret is measured from it)."""
        ...

    def scale(self) -> Scale:
        """Best and worst values of both metrics, and the ceiling (see ``Scale``)."""
        ...

    def signature(self) -> dict[str, str]:
        """Checksums identifying the data behind this benchmark."""
        ...
