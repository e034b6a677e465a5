"""TNAS meta-trained on a space too large to enumerate (MobileNetV3): meta tables name their cells, the
cells are listed once, encoded in chains of equal length, and the meta-trained model picks the initial
design from the candidate pool. The ImageNet meta task is OFA's predictor's labelled sample."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from tnasbench.benchmarks.kinds import benchmark_kind
from tnasbench.benchmarks.live import TrainingConfig
from tnasbench.benchmarks.ofa import META_CELLS, imagenet_meta_table, load_imported, predict
from tnasbench.searchers import get_searcher
from tnasbench.searchers.protocol import MetaTable, SearchContext
from tnasbench.space.mobilenetv3 import mobilenetv3_space
from tnasbench.suite import Budget, TrialSpec
from tnasbench.tabulate import FORMAT
from tnasbench.testing import OFA_PREDICTOR
from tnasbench.tnas.arch_encoder import DagGruEncoder, encode_dags
from tnasbench.tnas.meta import meta_graphs

pytestmark = pytest.mark.skipif(not OFA_PREDICTOR.is_file(), reason=f"needs {OFA_PREDICTOR}")
SPACE = mobilenetv3_space()


def named(cells) -> np.ndarray:
    return np.array([SPACE.to_string(c) for c in cells])


def test_cells_of_several_tables_are_listed_once_and_encoded_like_single_chains():
    cells = SPACE.sample_many(np.random.default_rng(0), 30)
    first = MetaTable("a", "val", np.arange(20.0), None, named(cells[:20]))
    second = MetaTable("b", "val", np.arange(20.0), None, named(cells[10:]))
    graphs, rows = meta_graphs(SPACE, [first, second])
    assert len(graphs.cells) == 30 and rows[0].tolist() == list(range(20)) and rows[1].tolist() == list(range(10, 30))
    torch.manual_seed(0)
    encoder = DagGruEncoder(16, 4, len(SPACE.node_types)).double()
    together = graphs.encode(encoder, torch.tensor([3, 25, 7]))
    alone = torch.cat([encode_dags(encoder, SPACE, [cells[k]]) for k in (3, 25, 7)])
    assert torch.allclose(together, alone)
    together.sum().backward()  # meta-training trains ψ through the listed cells
    assert encoder.forward_cell.weight_ih.grad.abs().sum() > 0
    other, _ = meta_graphs(SPACE, [second])
    assert graphs.key() != other.key()  # the meta-training cache tells the two apart


def test_the_imagenet_meta_task_is_a_fixed_sample_labelled_by_the_predictor():
    table = imagenet_meta_table()
    assert table.dataset == "imagenet" and table.images is None and len(set(table.cells)) == META_CELLS
    network, _ = load_imported()
    picked = [SPACE.parse(text) for text in table.cells[:5]]
    assert np.allclose(predict(network, SPACE, picked), table.accuracies[:5])


def test_meta_trained_tnas_starts_from_subnets_its_meta_task_ranks_high():
    """Meta-trained on the ImageNet sample alone (15 steps), the initial design's mean beats three in four
    random subnets on that task (measured: 81.4 % against a 90th percentile of 81.7 %)."""
    network, _ = load_imported()
    context = SearchContext("fashion-mnist", "val", (imagenet_meta_table(),))
    searcher = get_searcher("tnas-nodata")(meta_steps=15, batch=128, pool_size=2000)
    searcher.setup(SPACE, context, seed=0)
    design = [searcher.cell(i) for i in searcher._initial]
    assert len(set(design)) == searcher.config.initial
    random = predict(network, SPACE, SPACE.sample_many(np.random.default_rng(5), 500))
    chosen = predict(network, SPACE, design)
    assert chosen.mean() > np.quantile(random, 0.75), (chosen, np.quantile(random, 0.75))
    info = searcher.describe()
    assert info["meta_datasets"] == ["imagenet"] and info["dataset_encoder"].startswith("off: disabled")


def images_table(cells, values) -> MetaTable:
    rng = np.random.default_rng(1)
    images = {label: rng.normal(size=(4, 1, 8, 8)).astype(np.float32) for label in range(3)}
    return MetaTable("digits", "val", np.asarray(values, dtype=float), images, named(cells))


@pytest.mark.parametrize(("meta_tasks", "encoder", "datasets"), [
    ("with-images", "on", ["digits"]),
    ("all", "off: no images of the meta-training datasets imagenet", ["digits", "imagenet"]),
])  # fmt: skip
def test_meta_tasks_with_images_leaves_out_the_imagenet_sample_so_phi_runs(meta_tasks, encoder, datasets):
    cells = SPACE.sample_many(np.random.default_rng(2), 40)
    tables = (images_table(cells, np.linspace(70, 80, 40)), imagenet_meta_table())
    target = {label: np.random.default_rng(3).normal(size=(4, 1, 8, 8)) for label in range(3)}
    searcher = get_searcher("tnas")(meta_steps=2, batch=32, pool_size=300, meta_tasks=meta_tasks)
    searcher.setup(SPACE, SearchContext("fashion-mnist", "val", tables, target), seed=0)
    info = searcher.describe()
    assert info["dataset_encoder"].startswith(encoder) and info["meta_datasets"] == datasets
    assert SPACE.contains(searcher.ask())


def write_mbv3_table(path, dataset, cells, val):
    manifest = {"format": FORMAT, "space": "mobilenetv3", "dataset": dataset, "training": {}, "sample": {}}
    rng = np.random.default_rng(0)
    np.savez_compressed(
        path,
        cell=np.asarray(cells),
        val=np.asarray(val, dtype=float),
        test=np.asarray(val, dtype=float) - 1,
        seconds=np.ones(len(cells)),
        images=rng.normal(size=(20, 1, 8, 8)).astype(np.float32),
        labels=np.repeat(np.arange(5), 4),
        manifest=np.array(json.dumps(manifest)),
    )


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "tnasbench.cli", *args], cwd=cwd, capture_output=True, text=True)


def live_spec(dataset):
    return TrialSpec(
        "s", 0, "mbv3-live", dataset, "val", "test", "mean", "tnas", "tnas", "{}", Budget(5), 0,
        live=TrainingConfig(epochs=1, width_multiplier=0.25, resolution=32).to_json(),
    )  # fmt: skip


def test_mbv3_live_meta_tables_are_the_other_datasets_tables_and_the_imagenet_sample(tmp_path, fresh_home):
    from tnasbench.benchmarks.importers import import_source

    import_source(OFA_PREDICTOR)
    cells = named(SPACE.sample_many(np.random.default_rng(4), 12))
    for name in ("digits", "mnist"):
        write_mbv3_table(tmp_path / f"{name}.npz", name, cells, np.linspace(60, 70, 12))
    done = cli("data", "import", "digits.npz", "mnist.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    kind = benchmark_kind("mbv3-live")
    tables = kind.meta_tables(live_spec("mnist"))
    assert [t.dataset for t in tables] == ["digits", "imagenet"]  # never the target's own
    assert tables[0].cells.tolist() == cells.tolist() and sorted(tables[0].images) == list(range(5))
    signature = kind.build(live_spec("mnist")).signature()
    assert {"meta:digits", "meta:imagenet"} <= set(signature) and "meta:mnist" not in signature


@pytest.mark.parametrize(
    ("cells", "message"),
    [(["r224 | k3e4"], "not one of the mobilenetv3 space"), (None, "names a mobilenetv3 cell twice")],
)
def test_a_broken_mobilenetv3_table_is_refused_in_one_line(tmp_path, fresh_home, cells, message):
    if cells is None:
        cells = named(SPACE.sample_many(np.random.default_rng(4), 1)).tolist() * 2
    write_mbv3_table(tmp_path / "bad.npz", "digits", cells, np.linspace(60, 70, len(cells)))
    done = cli("data", "import", "bad.npz", cwd=tmp_path)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (fresh_home / "tabulated").exists()


def test_the_tabulate_sample_of_a_large_space_is_distinct_cells_fixed_by_its_seed():
    def sample(seed, count):
        searcher = get_searcher("tabulate-sample")(sample_seed=seed)
        searcher.setup(SPACE, SearchContext("digits", "val"), seed=99)
        return [searcher.ask() for _ in range(count)]

    first = sample(3, 50)
    assert len(set(first)) == 50 and first == sample(3, 50) and first[:5] != sample(4, 5)


RECIPE = """name = "tab"
benchmark = "mbv3-live"
datasets = ["digits"]
seeds = [0]
budgets = [{evaluations = 2}]
[live]
epochs = 1
width_multiplier = 0.1
resolution = 16
max_train_samples = 200
max_eval_samples = 200
[[searchers]]
name = "tabulate-sample"
"""


def test_tabulate_on_mobilenetv3_exports_cells_by_name_and_imports(tmp_path, fresh_home):
    from tnasbench.store import Store
    from tnasbench.tabulate import read_table

    (tmp_path / "recipe.toml").write_text(RECIPE)
    done = cli("tabulate", "recipe.toml", "--out", "tables", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    arrays, manifest = read_table(tmp_path / "tables" / "digits.npz")
    observations = Store(tmp_path / "results" / "tab.sqlite", readonly=True).observations()
    assert manifest["space"] == "mobilenetv3" and "index" not in arrays
    assert arrays["cell"].tolist() == observations["cell"].tolist() and len(set(arrays["cell"])) == 2
    assert cli("data", "import", "tables/digits.npz", cwd=tmp_path).returncode == 0
