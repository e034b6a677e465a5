"""Each verdict rule end to end: synthetic stores run through `tnasbench run` and judged by `tnasbench report`.

The searcher labelled ``tnas`` asks its task's best cells first, its worst first, or exactly what its
rivals ask; the rivals are random search under the six H1 rival labels (one random stream, so equal)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tnasbench.cli import main
from tnasbench.runner import make_benchmark
from tnasbench.searchers import Searcher, registry
from tnasbench.testing import conformance_spec

BENCHMARK_OF_SPACE = {"nb201": "nb201", "nasbench-graph": "nasbench-graph"}
RIVAL_LABELS = ("random-search", "botorch-ei", "botorch-ucb", "hebo", "bananas", "nasbowl")


class TableOrder(Searcher):
    """Asks the cells of its task's table in order of the searched metric, best first: a stand-in for a
    searcher far better than any other (it reads the target's table, which a real searcher never sees)."""

    name = "test-best-first"
    best_first = True

    def setup(self, space, context, seed):
        spec = conformance_spec("random-search", {}, 0, 1, context.dataset, BENCHMARK_OF_SPACE[space.name])
        table = make_benchmark(spec)
        values = np.array([table.evaluate(space.arch(i)).result.accuracy for i in range(len(space))])
        order = np.argsort(-values if self.best_first else values, kind="stable")
        self._cells = (space.arch(int(i)) for i in order)

    def ask(self):
        return next(self._cells)

    def tell(self, arch, result):
        pass


class WorstFirst(TableOrder):
    name = "test-worst-first"
    best_first = False


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    for cls in (TableOrder, WorstFirst):
        monkeypatch.setitem(registry._runtime, cls.name, cls)


def verdicts(tmp_path, tnas: str, seeds: int, benchmark: str = "nb201", datasets: int = 3) -> dict[str, str]:
    """The verdicts of a store whose ``tnas`` is searcher ``tnas``, the rivals random search."""
    from tnasbench.benchmarks.kinds import benchmark_kind

    names = benchmark_kind(benchmark).datasets[:datasets]
    rivals = "".join(f'[[searchers]]\nname = "random-search"\nlabel = "{label}"\n' for label in RIVAL_LABELS)
    suite = tmp_path / f"{tnas}-{seeds}.toml"
    suite.write_text(
        f'name = "verdicts"\nbenchmark = "{benchmark}"\ndatasets = {list(names)!r}\nseeds = {list(range(seeds))}\n'
        f'budgets = [{{evaluations = 10}}]\nreport = "{benchmark_kind(benchmark).metrics[0]}"\n'
        f'[[searchers]]\nname = "{tnas}"\nlabel = "tnas"\n{rivals}'.replace("'", '"')
    )
    store, out = tmp_path / f"{tnas}-{seeds}.sqlite", tmp_path / f"{tnas}-{seeds}-report"
    assert main(["run", str(suite), "--store", str(store), "--quiet"]) == 0
    assert main(["report", str(store), "--out", str(out)]) == 0
    with open(out / "verdicts.csv") as rows:
        return {row["hypothesis"]: f"{row['verdict']}: {row['reasons']}" for row in csv.DictReader(rows)}


def test_h1_from_stores_supported_not_supported_inconclusive_and_cannot_be_shown(tmp_path):
    assert verdicts(tmp_path, "test-best-first", seeds=5)["H1"].startswith("supported")  # 15 pairs: 12 x 2/2^15
    assert verdicts(tmp_path, "test-worst-first", seeds=5)["H1"].startswith("not supported")
    same = verdicts(tmp_path, "random-search", seeds=5)["H1"]  # tnas asks what its rivals ask
    assert same.startswith("inconclusive") and "significantly better in 0 of 8 tests" in same
    few = verdicts(tmp_path, "test-best-first", seeds=2)  # 6 pairs: 12 x 2/2^6 > 0.05, whatever the data
    assert few["H1"].startswith("cannot be shown") and "6 pairs" in few["H1"]
    assert few["H3"].startswith("inconclusive") and "3 task(s)" in few["H3"]  # NB201's three tasks are too few


def test_h3_from_stores_on_five_tasks_supported_and_not_supported(tmp_path):
    first = verdicts(tmp_path, "test-best-first", seeds=1, benchmark="nasbench-graph", datasets=5)["H3"]
    assert first.startswith("supported") and "best mean rank alone in 10 of 10" in first
    last = verdicts(tmp_path, "test-worst-first", seeds=1, benchmark="nasbench-graph", datasets=5)["H3"]
    assert last.startswith("not supported") and "its worst place is 7 of 7" in last
