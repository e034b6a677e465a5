"""ofa-imagenet: OFA's accuracy predictor imported (checksum checked), its predictions as the README of the
shared copy measured them, the reference search that gives regret its scale, and what it refuses."""

import json
import shutil

import numpy as np
import pytest

from tnasbench.benchmarks.importers import data_status, import_source
from tnasbench.benchmarks.kinds import benchmark_kind
from tnasbench.benchmarks.ofa import (
    METRIC,
    OfaImagenetBenchmark,
    load_imported,
    predict,
    read_predictor,
    reference_search,
)
from tnasbench.cli import main
from tnasbench.errors import TnasbenchError
from tnasbench.searchers.registry import check_space
from tnasbench.space.mobilenetv3 import mobilenetv3_space
from tnasbench.testing import OFA_PREDICTOR

pytestmark = pytest.mark.skipif(not OFA_PREDICTOR.is_file(), reason=f"no OFA predictor at {OFA_PREDICTOR}")


def test_predictions_match_the_measured_ones_of_the_shared_readme():
    network, space = read_predictor(OFA_PREDICTOR), mobilenetv3_space()
    smallest_at_160 = space.parse("r160 | k3e3 k3e3 | k3e3 k3e3 | k3e3 k3e3 | k3e3 k3e3 | k3e3 k3e3")
    largest, smallest = predict(network, space, [space.largest(), smallest_at_160])
    assert largest == pytest.approx(83.6, abs=0.05) and smallest == pytest.approx(75.3, abs=0.05)
    values = predict(network, space, space.sample_many(np.random.default_rng(0), 1000))
    assert 75 < values.min() and values.max() < 84  # the README: 1,000 random subnets 0.761-0.831
    at = {
        r: predict(network, space, [space.make(space.largest().choices[:-1] + (k,))])[0]
        for k, r in enumerate((160, 176, 192, 208, 224))
    }
    assert at[224] > at[160]  # within the searched range, resolution helps


def test_the_benchmark_scores_predictions_against_the_reference_search():
    benchmark = OfaImagenetBenchmark()
    _, manifest = load_imported()
    space = mobilenetv3_space()
    best = space.parse(manifest["best_cell"])
    evaluation = benchmark.evaluate(best)
    assert evaluation.result.accuracy == pytest.approx(manifest["best_known"]) == pytest.approx(benchmark.optimum())
    assert evaluation.result.cost_seconds == 0 and evaluation.reported == evaluation.result.accuracy
    scale = benchmark.scale()
    assert scale.floor == manifest["worst_known"] < benchmark.evaluate(space.largest()).reported < scale.optimum
    assert benchmark.signature()[METRIC] == manifest["sha256"][:16]
    with pytest.raises(TnasbenchError, match="one dataset"):
        OfaImagenetBenchmark("cifar10")


def test_the_reference_search_beats_the_largest_subnet_and_follows_its_seed():
    network, space = read_predictor(OFA_PREDICTOR), mobilenetv3_space()
    largest = float(predict(network, space, [space.largest()])[0])
    best, cell = reference_search(network, +1.0, seed=0, evaluations=5_000)
    assert best > largest and predict(network, space, [space.parse(cell)])[0] == pytest.approx(best)
    worst, _ = reference_search(network, -1.0, seed=0, evaluations=5_000)
    assert worst < best
    assert reference_search(network, +1.0, seed=0, evaluations=5_000) == (best, cell)


def test_data_status_and_the_missing_predictor_name_the_import(fresh_home):
    load_imported.cache_clear()
    assert any(
        row[0] == "ofa-imagenet" and row[3].startswith("missing: tnasbench data import") for row in data_status()
    )
    with pytest.raises(TnasbenchError, match="not imported .*tnasbench data import .*acc_predictor.pth"):
        OfaImagenetBenchmark()
    import_source(OFA_PREDICTOR)
    manifest = json.loads((fresh_home / "ofa" / "manifest.json").read_text())
    assert manifest["sha256"].startswith("48685122") and manifest["best_known"] > 84
    assert any(row[0] == "ofa-imagenet" and "surrogate" in row[3] for row in data_status())
    load_imported.cache_clear()


def test_a_wrong_file_is_one_line_exit_2_and_nothing_written(fresh_home, tmp_path, capsys):
    wrong = tmp_path / "acc_predictor.pth"
    shutil.copy(OFA_PREDICTOR, wrong)
    with wrong.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\0\0\0\0")
    assert main(["data", "import", str(wrong)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not that of OFA's acc_predictor.pth" in err
    assert not (fresh_home / "ofa").exists()


def test_searchers_that_need_every_cell_are_refused_up_front():
    assert benchmark_kind("ofa-imagenet").space == "mobilenetv3" and benchmark_kind("ofa-imagenet").surrogate
    for name in ("transfer-topk", "rgpe", "metad2a"):
        with pytest.raises(TnasbenchError, match="needs a space it can enumerate.*candidate pool"):
            check_space(name, "ofa-imagenet")
    with pytest.raises(TnasbenchError, match="'tnas' learns from other tasks' tables.*has a single task"):
        check_space("tnas", "ofa-imagenet")
    with pytest.raises(TnasbenchError, match="tnas-fsbo.*same cells in every meta table"):
        check_space("tnas-fsbo", "mbv3-live")
    with pytest.raises(TnasbenchError, match="one-shot search needs a supernet"):
        check_space("gdas", "ofa-imagenet")
    with pytest.raises(TnasbenchError, match="optimizer = 'evolution'"):
        check_space("hebo", "ofa-imagenet", {"optimizer": "finite"})
    with pytest.raises(TnasbenchError, match="no path encoding"):
        check_space("botorch-ei", "ofa-imagenet", {"encoding": "path"})
    with pytest.raises(TnasbenchError, match="cells of one size .* use tnas, tnas-nodata or tnas-nometa"):
        check_space("tnas-onehot", "ofa-imagenet", {"meta_training": "none", "initial_design": "random"})
    check_space("tnas", "mbv3-live")  # meta-trained on the benchmark's tables of listed cells
    check_space("tabulate-sample", "mbv3-live")  # distinct random subnets
    for name in (
        "random-search",
        "local-search",
        "regularized-evolution",
        "botorch-ei",
        "bananas",
        "nasbowl",
        "tnas-nometa",
    ):
        check_space(name, "ofa-imagenet")
