"""A space and benchmark written outside the package run through a suite, a report and the conformance
checks with no change to tnasbench/ (this module stands for the outside package)."""

import os
from collections.abc import Sequence

import numpy as np
import pytest

from tnasbench.benchmarks.kinds import register_benchmark, tabular_kind
from tnasbench.cli import main
from tnasbench.space import Cell, Dimension, SearchSpace, register_space
from tnasbench.store import Store
from tnasbench.testing import SearcherConformance


class ChainSpace(SearchSpace):
    """A chain of three layers, each one of three ops: 27 cells."""

    name = "chain3"
    dimensions = tuple(Dimension(f"layer{k}", ("conv", "pool", "skip")) for k in range(3))
    node_types = ("input", "conv", "pool", "skip", "output")

    def __init__(self) -> None:
        super().__init__([Cell((a, b, c)) for a in range(3) for b in range(3) for c in range(3)])

    def make(self, choices: Sequence[int]) -> Cell:
        return Cell(tuple(int(c) for c in choices))

    def dag(self, cell: Cell):
        return [0, *(1 + op for op in cell.choices), 4], [(0, 1), (1, 2), (2, 3), (3, 4)]


def _columns(task: str) -> dict[str, np.ndarray]:
    """Two tasks that prefer different ops (seeded, so the tables are fixed)."""
    space = ChainSpace()
    prefer = {"task-a": 0, "task-b": 1}[task]
    values = np.array([10.0 * sum(c == prefer for c in cell.choices) for cell in space.archs])
    return {"val": values + np.random.default_rng(len(task)).uniform(0, 1, len(space))}


@pytest.fixture(autouse=True, scope="module")
def chain_space():
    register_space("chain3", ChainSpace)
    register_benchmark(tabular_kind("chain3-tables", "chain3", ("task-a", "task-b"), _columns, "val", "val"))


def test_a_plugin_space_runs_through_a_suite_and_a_report(tmp_path, capsys):
    suite = tmp_path / "chain.toml"
    suite.write_text(
        'name = "chain"\nbenchmark = "chain3-tables"\ndatasets = ["task-a", "task-b"]\nseeds = [0, 1]\n'
        'budgets = [{evaluations = 8}]\n[[searchers]]\nname = "random-search"\n[[searchers]]\nname = "local-search"\n'
        '[[searchers]]\nname = "transfer-topk"\n'
    )
    store = tmp_path / "chain.sqlite"
    assert main(["run", str(suite), "--store", str(store), "--jobs", "1", "--report", str(tmp_path / "report")]) == 0
    trials = Store(store, readonly=True).progress()
    assert len(trials) == 12 and set(trials["status"]) == {"done"}
    assert (tmp_path / "report" / "report.md").is_file()
    assert main(["list", "spaces"]) == 0 and "chain3" in capsys.readouterr().out


def test_a_searcher_that_needs_another_space_is_refused_when_the_suite_loads(tmp_path, capsys):
    suite = tmp_path / "oneshot.toml"
    suite.write_text(
        'name = "x"\nbenchmark = "chain3-tables"\ndatasets = ["task-a"]\nseeds = [0]\n'
        'budgets = [{evaluations = 5}]\n[[searchers]]\nname = "gdas"\n'
    )
    assert main(["run", str(suite), "--store", str(tmp_path / "x.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "searcher 'gdas' runs on the nb201 space only" in err and "chain3" in err
    assert not (tmp_path / "x.sqlite").exists()


class TestRegularizedEvolutionOnAPluginSpace(SearcherConformance):
    budget = 12

    @pytest.fixture
    def searcher_name(self):
        return "regularized-evolution"

    @pytest.fixture
    def benchmark_name(self):
        return "chain3-tables"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="--jobs 2 needs two CPUs")
def test_a_plugin_registered_at_run_time_cannot_go_to_pool_workers(tmp_path, capsys):
    suite = tmp_path / "chain.toml"
    suite.write_text(
        'name = "chain"\nbenchmark = "chain3-tables"\ndatasets = ["task-a"]\nseeds = [0]\n'
        'budgets = [{evaluations = 4}]\n[[searchers]]\nname = "random-search"\n'
    )
    assert main(["run", str(suite), str(suite), "--store", str(tmp_path / "s.sqlite"), "--jobs", "2"]) == 2
    assert "registered in this process only" in capsys.readouterr().err
    # the same file twice is one set of trials
    assert main(["run", str(suite), str(suite), "--store", str(tmp_path / "s.sqlite"), "--quiet"]) == 0
    assert "chain + chain: 1 trials run" in capsys.readouterr().out


def test_compare_refuses_a_searcher_that_cannot_search_the_stored_space(tmp_path, capsys):
    suite = tmp_path / "chain.toml"
    suite.write_text(
        'name = "chain"\nbenchmark = "chain3-tables"\ndatasets = ["task-a"]\nseeds = [0]\n'
        'budgets = [{evaluations = 4}]\n[[searchers]]\nname = "random-search"\n'
    )
    store = str(tmp_path / "s.sqlite")
    assert main(["run", str(suite), "--store", store, "--quiet"]) == 0
    assert main(["compare", store, "--searcher", "gdas", "--out", str(tmp_path / "r")]) == 2
    assert "searcher 'gdas' runs on the nb201 space only" in capsys.readouterr().err


def test_a_space_that_misdeclares_fixed_topology_is_refused_by_graph_encoders():
    from tnasbench.tnas.arch_encoder import cell_graphs

    class Misdeclared(ChainSpace):
        def dag(self, cell):
            types, links = super().dag(cell)
            return types, links if cell.choices[0] == 0 else [(0, 2), (1, 2), (2, 3), (3, 4)]

    with pytest.raises(ValueError, match="says fixed_topology, but its cells' DAG edges differ"):
        cell_graphs(Misdeclared())
