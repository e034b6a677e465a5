"""The tabular NB201 benchmark: an evaluation is a table lookup with the real training time."""

from __future__ import annotations

import numpy as np

from tnasbench.benchmarks.protocol import Evaluation, Result
from tnasbench.benchmarks.tables import COST_OF, METRICS, load_table
from tnasbench.errors import TnasbenchError
from tnasbench.space import Arch, nb201_space

NOISE_MODES = ("mean", "sampled-seed")


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
        self._objective = self.table.column(objective).tolist()
        self._reported = self.table.column(self.report).tolist()
        self._cost = self.table.column(COST_OF[objective]).tolist()
        self._rng = np.random.default_rng(seed)

    def evaluate(self, arch: Arch) -> Evaluation:
        i = self.space.index(arch)
        accuracy = self._objective[i]
        if self.noise == "sampled-seed":  # one training seed drawn per evaluation, as real training would
            seeds = self.table.val_seeds[i]
            seeds = seeds[~np.isnan(seeds)]
            accuracy = float(seeds[self._rng.integers(len(seeds))])
        return Evaluation(Result(accuracy, self._cost[i], self.objective), self._reported[i])

    def optimum(self) -> float:
        return max(self._reported)

    def signature(self) -> dict[str, str]:
        sig = self.table.signature()
        return {k: sig[k] for k in (self.objective, self.report, COST_OF[self.objective])}
