"""The tabular NB201 benchmark: an evaluation is a table lookup with the real training time."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from tnasbench.benchmarks.protocol import Evaluation, Result, Scale
from tnasbench.benchmarks.tables import COST_OF, METRICS, load_table
from tnasbench.errors import TnasbenchError
from tnasbench.space import Arch, SearchSpace, nb201_space

NOISE_MODES = ("mean", "sampled-seed")
FIDELITIES = (200, 12)  # training epochs with a table


def resolve_report(dataset: str, report: str) -> str:
    """``auto`` reports test@200 when it has been imported, val@200 otherwise."""
    if report != "auto":
        return report
    return "test@200" if "test@200" in load_table(dataset).columns else "val@200"


class TabularBenchmark:
    """NB201 on one dataset from the real tables; searchers see ``objective`` only."""

    needs_gpu = False

    def __init__(
        self, dataset: str, objective: str = "val@200", report: str = "auto", noise: str = "mean", seed: int = 0
    ) -> None:
        for name, value in (("objective", objective), ("report", report)):
            if value not in METRICS and value != "auto":
                raise TnasbenchError(f"unknown {name} metric {value!r}: choose one of {', '.join(METRICS)}")
        if noise not in NOISE_MODES:
            raise TnasbenchError(f"unknown noise mode {noise!r}: choose one of {', '.join(NOISE_MODES)}")
        if noise == "sampled-seed" and objective != "val@200":
            raise TnasbenchError("noise = 'sampled-seed' needs objective = 'val@200' (the only per-seed table)")
        self.dataset, self.objective, self.noise = dataset, objective, noise
        self.table = load_table(dataset)
        self.report = resolve_report(dataset, report)
        self.space = nb201_space()
        self.epochs = int(objective.split("@")[1])
        self._reported = self.table.column_list(self.report)
        self._rng = np.random.default_rng(seed)
        self._at: dict[int, tuple[str, list[float], list[float]]] = {}  # epochs -> (metric, values, costs)

    def _fidelity(self, epochs: int) -> tuple[str, list[float], list[float]]:
        """The objective's metric at ``epochs`` (val@200 -> val@12), its values and costs."""
        if epochs not in self._at:
            if epochs not in FIDELITIES:
                raise TnasbenchError(f"NB201 has tables for {FIDELITIES} epochs, not {epochs}: ask for one of those")
            metric = f"{self.objective.split('@')[0]}@{epochs}"
            self._at[epochs] = (metric, self.table.column_list(metric), self.table.column_list(COST_OF[metric]))
        return self._at[epochs]

    def evaluate(self, arch: Arch, epochs: int | None = None) -> Evaluation:
        i = self.space.index(arch)
        epochs = epochs or self.epochs
        metric, values, costs = self._fidelity(epochs)
        accuracy = values[i]
        if self.noise == "sampled-seed" and metric == "val@200":  # one training seed per evaluation, as in reality
            seeds = self.table.val_seeds[i]
            seeds = seeds[~np.isnan(seeds)]  # 2 or 3 seeds: draw among those the cell has
            accuracy = float(seeds[self._rng.integers(len(seeds))])
        return Evaluation(Result(accuracy, costs[i], metric, epochs), self._reported[i])

    def optimum(self) -> float:
        return float(self.table.column(self.report).max())

    def scale(self) -> Scale:
        objective = self.table.column(self.objective)
        best = int(np.argmax(objective))
        reported = self.table.column(self.report)
        return Scale(
            float(reported.max()), float(reported.min()), float(objective[best]), float(objective.min()),
            float(reported[best]),
        )  # fmt: skip

    def signature(self) -> dict[str, str]:
        sig = self.table.signature()
        return {k: sig[k] for k in (self.objective, self.report, COST_OF[self.objective]) if k in sig}


class TableBenchmark:
    """A tabular benchmark of any space at one fidelity: each metric a column in the space's index order.

    ``cost`` is the evaluation cost per cell in seconds where the table has one; without it an
    evaluation costs 0 (reports then have no cost axis for the task).
    """

    needs_gpu = False
    epochs = 1  # the table's one fidelity

    def __init__(
        self,
        space: SearchSpace,
        dataset: str,
        columns: dict[str, np.ndarray],
        objective: str,
        report: str,
        cost: np.ndarray | None = None,
    ) -> None:
        for name, value in (("objective", objective), ("report", report)):
            if value not in columns:
                raise TnasbenchError(f"{dataset}: no {name} metric {value!r} (it has {', '.join(columns)})")
        self.space, self.dataset, self.objective, self.report = space, dataset, objective, report
        self._objective = np.asarray(columns[objective], dtype=float)
        self._reported = np.asarray(columns[report], dtype=float)
        self._cost = np.zeros(len(space)) if cost is None else np.asarray(cost, dtype=float)
        for name, column in (("objective", self._objective), ("report", self._reported), ("cost", self._cost)):
            if column.shape != (len(space),) or not np.isfinite(column).all():
                raise TnasbenchError(
                    f"{dataset}: the {name} column must hold a finite value for each of {len(space)} cells"
                )

    def evaluate(self, arch: Any, epochs: int | None = None) -> Evaluation:
        if epochs not in (None, self.epochs):
            raise TnasbenchError(f"{self.dataset}: this table has one fidelity; ask without epochs")
        i = self.space.index(arch)
        result = Result(float(self._objective[i]), float(self._cost[i]), self.objective, self.epochs)
        return Evaluation(result, float(self._reported[i]))

    def optimum(self) -> float:
        return float(self._reported.max())

    def scale(self) -> Scale:
        best = int(np.argmax(self._objective))
        return Scale(
            float(self._reported.max()), float(self._reported.min()), float(self._objective.max()),
            float(self._objective.min()), float(self._reported[best]),
        )  # fmt: skip

    def signature(self) -> dict[str, str]:
        def digest(values: np.ndarray) -> str:
            return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()[:16]

        return {
            self.objective: digest(self._objective),
            self.report: digest(self._reported),
            "cost": digest(self._cost),
        }
