"""TransNAS-Bench-101 micro (imported from NASLib's zip) and NAS-Bench-Graph (embedded) as tabular benchmarks."""

import shutil
from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import spearmanr

from tnasbench.benchmarks.graph import GRAPH_DATASETS, graph_columns
from tnasbench.benchmarks.importers import import_sources
from tnasbench.benchmarks.kinds import benchmark_kind
from tnasbench.benchmarks.transnas import TASKS, load_tasks
from tnasbench.errors import TnasbenchError
from tnasbench.runner import make_benchmark, resolve, run_trial
from tnasbench.searchers.context import build_context
from tnasbench.space import get_space
from tnasbench.testing import TRANSNAS_ZIP, conformance_spec

needs_zip = pytest.mark.skipif(not TRANSNAS_ZIP.is_file(), reason=f"TransNAS-Bench-101 zip not at {TRANSNAS_ZIP}")


@needs_zip
def test_transnas_import_reads_every_cell_of_every_task():
    tasks, origin = load_tasks()
    assert set(tasks) == set(TASKS) and "d70d3ddcda22" in origin
    assert all(column.shape == (4096,) and np.isfinite(column).all() for column in tasks.values())
    assert tasks["room_layout"].max() < 0 < tasks["class_scene"].min()  # each task on its own scale
    # transfer is hard here: tasks rank cells very differently (NB201's datasets agree at 0.96-0.98)
    rho = spearmanr(tasks["autoencoder"], tasks["segmentsemantic"]).statistic
    assert abs(rho) < 0.2
    best = {int(np.argmax(column)) for column in tasks.values()}
    assert len(best) > 3


@needs_zip
def test_an_altered_zip_is_refused_and_nothing_is_written(fresh_home, tmp_path):
    altered = tmp_path / "all_benchmarks_zen.zip"
    shutil.copy(TRANSNAS_ZIP, altered)
    with open(altered, "ab") as f:
        f.write(b"x")
    with pytest.raises(TnasbenchError, match="has sha256 .* not that of NASLib's all_benchmarks_zen.zip"):
        import_sources([altered])
    assert not (fresh_home / "transnas101").exists()
    with pytest.raises(TnasbenchError, match="tnasbench data import ../shared/data/transnas101/all_benchmarks_zen.zip"):
        load_tasks.cache_clear() or load_tasks()
    load_tasks.cache_clear()


@needs_zip
def test_transnas_trials_see_the_other_six_tasks_only():
    spec = conformance_spec("random-search", {}, 0, 5, dataset="jigsaw", benchmark="transnas101-micro")
    context = build_context(spec)
    assert sorted(t.dataset for t in context.meta_tables) == sorted(set(TASKS) - {"jigsaw"})
    bench = make_benchmark(spec)
    scale = bench.scale()
    assert scale.optimum == pytest.approx(95.37, abs=0.01) and scale.ceiling == scale.optimum  # one metric
    outcome = run_trial(spec)
    assert outcome.error is None and all(o.cost_seconds == 0 for o in outcome.observations)


def test_graph_tables_are_embedded_in_percent_and_rank_cells_differently():
    columns = {d: graph_columns(d) for d in GRAPH_DATASETS}
    space = get_space("nasbench-graph")
    for table in columns.values():
        assert set(table) == {"val", "test", "latency", "params"}
        assert all(c.shape == (len(space),) for c in table.values())
        assert 0 < table["val"].min() and table["val"].max() <= 100
    assert columns["cora"]["test"].max() == pytest.approx(82.0, abs=3)  # GNNs on Cora: ~80% test accuracy
    rho = spearmanr(columns["arxiv"]["val"], columns["computers"]["val"]).statistic
    assert rho < 0.9


def test_graph_benchmark_searches_validation_and_reports_test():
    kind = benchmark_kind("nasbench-graph")
    assert (kind.space, kind.metrics, kind.has_cost) == ("nasbench-graph", ("val", "test"), False)
    spec = conformance_spec("local-search", {}, 0, 10, dataset="cora", benchmark="nasbench-graph")
    spec = resolve(replace(spec, report="auto"))
    assert spec.report == "test"
    outcome = run_trial(spec)
    assert outcome.error is None and len(outcome.observations) == 10
    table = graph_columns("cora")
    first = outcome.observations[0]
    assert first.objective == pytest.approx(table["val"][first.arch])
    assert first.reported == pytest.approx(table["test"][first.arch])
    assert len(build_context(spec).meta_tables) == 7
