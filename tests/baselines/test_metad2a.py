"""metad2a: generator + predictor meta-trained on the other tasks' tables, a ranked list with no target feedback."""

import numpy as np
import pytest

import tnasbench.benchmarks.tables as tables
from baselines.metad2a import MetaD2A, MetaD2AConfig, nearest_cells
from tnasbench.benchmarks.protocol import Result
from tnasbench.searchers.context import build_context
from tnasbench.searchers.protocol import MetaTable, SearchContext
from tnasbench.space import get_space, nb201_space
from tnasbench.testing import TRANSNAS_ZIP, SearcherConformance, conformance_spec

# small sizes keep the tests quick
FAST = {
    "hidden": 16,
    "latent": 8,
    "code": 4,
    "generator_steps": 30,
    "predictor_steps": 30,
    "batch": 64,
    "samples": 200,
}
OTHER_SPACES = [
    pytest.param(
        "transnas101-micro",
        marks=pytest.mark.skipif(not TRANSNAS_ZIP.is_file(), reason=f"TransNAS-Bench-101 zip not at {TRANSNAS_ZIP}"),
    ),
    "nasbench-graph",
]


class TestMetaD2A(SearcherConformance):
    budget = 8

    @pytest.fixture
    def searcher_name(self):
        return "metad2a"

    @pytest.fixture
    def searcher_params(self):
        return dict(FAST)


class TestMetaD2AOtherSpaces(TestMetaD2A):
    @pytest.fixture(params=OTHER_SPACES)
    def benchmark_name(self, request):
        return request.param


def _context(*columns, images=None, target_images=None):
    meta = tuple(
        MetaTable(f"task{k}", "val", np.asarray(c, dtype=float), None if images is None else images[k])
        for k, c in enumerate(columns)
    )
    return SearchContext("target", "val", meta, target_images)


def test_the_list_comes_from_the_meta_tables_only_and_ignores_the_targets_results(monkeypatch):
    params = FAST | {"samples": 6}
    context = build_context(conformance_spec("metad2a", params, 0, 10, dataset="cifar100"))

    def refuse(*args, **kwargs):
        raise AssertionError("the searcher read a benchmark table")

    monkeypatch.setattr(tables, "load_table", refuse)
    space = nb201_space()
    searcher = MetaD2A(**params)
    searcher.setup(space, context, seed=0)
    asked = []
    for k in range(10):  # past the end of the list: random unseen cells
        arch = searcher.ask()
        asked.append(space.index(arch))
        searcher.tell(arch, Result(float(k % 3), 1.0, "val@200", 200))  # results that would steer any feedback
    ranked = searcher._ranked.tolist()
    assert 0 < len(ranked) <= 6 and asked[: len(ranked)] == ranked
    assert len(set(asked)) == 10
    assert searcher.describe()["dataset_encoder"].startswith("learned per-task embedding; target = mean")
    assert searcher.describe()["meta_datasets"] == ["cifar10", "imagenet16-120"]


def test_meta_tables_where_one_op_wins_make_the_generator_propose_that_op():
    space = nb201_space()
    conv3 = (space.choices_matrix == 3).sum(1)  # nor_conv_3x3 edges per cell
    noise = np.random.default_rng(0).normal(0.0, 0.1, size=(2, len(space)))
    searcher = MetaD2A(**(FAST | {"hidden": 32, "generator_steps": 150, "predictor_steps": 1}))
    searcher.setup(space, _context(conv3 + noise[0], conv3 + noise[1]), seed=0)
    proposed = (searcher.sample_cells(500) == 3).sum(1)
    # at random 1.2 conv3 edges a cell on average and 10% of cells with at least 3; the top 10% have 3 or more
    assert proposed.mean() > 2.4 and (proposed >= 3).mean() > 0.5 > 5 * (conv3 >= 3).mean()


def test_seeds_are_replicates_and_a_seed_repeats():
    space = nb201_space()
    rng = np.random.default_rng(1)
    context = _context(rng.random(len(space)), rng.random(len(space)))

    def ranked(seed):
        searcher = MetaD2A(**FAST)
        searcher.setup(space, context, seed)
        return searcher._ranked.tolist()

    first = ranked(0)
    assert ranked(0) == first
    assert ranked(1) != first


def test_with_images_of_every_task_the_set_transformer_codes_the_target():
    space = nb201_space()
    rng = np.random.default_rng(2)

    def images():
        return {label: rng.random((4, 3, 16, 16)) for label in range(3)}

    columns = (rng.random(len(space)), rng.random(len(space)))
    meta_images = [images(), images()]

    def run(target_images):
        searcher = MetaD2A(**FAST)
        searcher.setup(space, _context(*columns, images=meta_images, target_images=target_images), seed=0)
        return searcher

    first, other = run(images()), run(images())
    assert first.describe()["dataset_encoder"] == "set transformer over image features"
    assert space.contains(first.ask())
    # the same meta-training (same seed, same meta tasks); only the target's images differ, and with them the list
    assert first._ranked.tolist() != other._ranked.tolist()


def test_a_decoded_cell_the_space_lacks_becomes_its_hamming_nearest_cell():
    space = get_space("nasbench-graph")
    held = space.choices_matrix
    keys = {tuple(r) for r in held.tolist()}
    lacking = next(r for r in np.ndindex(9, 9, 9, 9, 9) if r not in keys)
    cells, replaced = nearest_cells(space, np.array([lacking, lacking, held[7]]))
    assert replaced == 1 and 7 in cells.tolist()
    nearest, _ = nearest_cells(space, np.array([lacking]))
    distances = (held != np.array(lacking)).sum(1)
    assert len(nearest) == 1 and distances[nearest[0]] == distances.min() and nearest[0] == np.argmin(distances)


@pytest.mark.parametrize(
    "bad", [{"samples": 0}, {"top_fraction": 0.0}, {"top_fraction": 1.5}, {"kl_weight": -1.0}, {"hidden": True}]
)
def test_bad_params_are_one_line(bad):
    with pytest.raises(ValueError, match="metad2a: "):
        MetaD2AConfig(**bad)
