"""Supernet, GDAS and DrNAS, and one-shot trials through the runner."""

import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.oneshot import DrNas, Gdas, PcDarts, Setn
from tnasbench.benchmarks.images import load_images
from tnasbench.runner import resolve, run_trial
from tnasbench.space import Arch, nb201_space
from tnasbench.space.network import NetworkConfig
from tnasbench.space.supernet import MixedEdge, PartialMixedEdge, Supernet, channel_shuffle, extract_network
from tnasbench.suite import parse_suite

CONFIG = NetworkConfig(channels=8, cells_per_stage=2, in_channels=1, num_classes=10)
QUICK = {"epochs": 1, "batch": 128, "candidates": 10}


def test_supernet_with_one_hot_weights_equals_the_standalone_network():
    torch.manual_seed(0)
    supernet = Supernet(CONFIG).eval()
    x = torch.randn(4, 1, 8, 8)
    for arch in (Arch((3, 1, 2, 4, 0, 3)), Arch((0, 0, 0, 0, 0, 0)), nb201_space().arch(777)):
        weights = torch.nn.functional.one_hot(torch.tensor(arch.ops), 5).float()
        standalone = extract_network(supernet, arch, CONFIG).eval()
        torch.testing.assert_close(supernet(x, weights), standalone(x), rtol=0, atol=1e-6)


def _searcher(cls, seed=0):
    searcher = cls(**QUICK)
    searcher.search(load_images("digits"), seed, "cpu")
    return searcher


def test_gdas_forward_runs_exactly_one_op_per_edge():
    searcher = _searcher(Gdas)
    calls = []
    for module in searcher.supernet.modules():
        if isinstance(module, MixedEdge):
            for i, op in enumerate(module.ops):
                op.register_forward_hook(lambda m, inp, out, edge=module, i=i: calls.append((id(edge), i)))
    weights, indices = searcher.sample()
    searcher.supernet(torch.randn(2, 1, 8, 8), weights, indices)
    edges = {edge for edge, _ in calls}
    assert len(edges) == 6 * 3  # 6 edges x 3 stages x 1 cell per stage (the one-shot CPU default)
    assert len(calls) == len(edges)  # one op each
    assert sorted({i for _, i in calls}) == sorted(set(indices))


def test_gdas_weights_are_one_hot_in_value_and_soft_in_gradient():
    searcher = _searcher(Gdas)
    weights, indices = searcher.sample()
    assert torch.equal(weights.detach(), torch.nn.functional.one_hot(torch.tensor(indices), 5).float())
    weights.sum().backward()
    assert searcher.alpha.grad is not None


def test_drnas_weights_stay_on_the_simplex():
    searcher = _searcher(DrNas)
    for _ in range(5):
        weights, indices = searcher.sample()
        assert indices is None and (weights >= 0).all()
        torch.testing.assert_close(weights.sum(dim=1), torch.ones(6))
    assert searcher.regulariser() > 0
    assert searcher.describe()["progressive_learning"].startswith("not implemented: one stage")


def test_setn_trains_weights_on_uniform_single_paths_and_its_architecture_on_the_full_mixture():
    searcher = _searcher(Setn)
    draws = [searcher.weight_sample() for _ in range(200)]
    for weights, indices in draws[:5]:
        assert torch.equal(weights, torch.nn.functional.one_hot(torch.tensor(indices), 5).float())
    counts = np.bincount([op for _, indices in draws for op in indices], minlength=5)
    assert counts.min() > 0.15 * counts.sum()  # uniform over the 5 ops: each near 20% of 1,200 draws
    weights, indices = searcher.sample()
    assert indices is None and weights.requires_grad
    torch.testing.assert_close(weights, searcher.alpha.softmax(dim=1))


def test_setn_picks_the_best_scored_of_its_most_probable_cells():
    searcher = Setn(epochs=1, batch=128, candidates=12)
    chosen = searcher.search(load_images("digits"), 0, "cpu")
    cells = searcher.candidate_cells()
    log_p = searcher.alpha.detach().log_softmax(dim=1)
    probability = [float(log_p[torch.arange(6), torch.tensor(c.ops)].sum()) for c in cells]
    assert len(cells) == 12 and probability == sorted(probability, reverse=True)
    assert all(p >= max(probability[-1:]) for p in probability)
    best = max(searcher.scores)
    assert chosen == cells[searcher.scores.index(best)] and searcher.describe()["best_candidate_val_accuracy"] == round(
        best, 4
    )


def test_pc_darts_sends_a_quarter_of_the_channels_through_the_ops_and_shuffles_them():
    edge = PartialMixedEdge(8, 4)
    seen = []
    for op in edge.mixed.ops:
        op.register_forward_hook(lambda m, inp, out: seen.append(inp[0].shape[1]))
    x = torch.randn(2, 8, 5, 5)
    out = edge(x, torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0]))  # all weight on skip: the op part passes unchanged
    assert set(seen) == {2}
    torch.testing.assert_close(out, channel_shuffle(x, 4))
    assert torch.equal(channel_shuffle(x, 4)[:, [0, 1, 2, 3]], x[:, [0, 2, 4, 6]])  # each group's first channel


def test_pc_darts_normalises_each_nodes_incoming_edges_and_trains_alpha_and_beta():
    searcher = _searcher(PcDarts)
    (ops, edges), indices = searcher.sample()
    assert indices is None
    torch.testing.assert_close(ops.sum(dim=1), torch.ones(6))
    for into in ([0], [1, 2], [3, 4, 5]):  # NB201's edges into nodes 1, 2, 3
        torch.testing.assert_close(edges[into].sum(), torch.tensor(1.0))
    assert searcher.architecture() == [searcher.alpha, searcher.beta]
    assert not torch.allclose(searcher.beta.detach(), torch.zeros(6), atol=1e-3)  # trained away from its start
    with pytest.raises(ValueError, match="do not split into 3 equal parts"):
        PartialMixedEdge(8, 3)


@pytest.mark.parametrize("cls", [Gdas, DrNas, Setn, PcDarts])
def test_search_derives_a_valid_cell_and_the_seed_reproduces_it(cls):
    first, again, other = _searcher(cls, 0), _searcher(cls, 0), _searcher(cls, 1)
    assert first.derive() in nb201_space().archs
    assert torch.equal(first.alpha, again.alpha)
    assert not torch.equal(first.alpha, other.alpha)


SUITE = """
name = "oneshot-test"
benchmark = "{benchmark}"
datasets = ["{dataset}"]
seeds = [0]
budgets = [{{evaluations = 20}}]
[[searchers]]
name = "gdas"
params = {{epochs = 1, batch = 128}}
"""


def _spec(benchmark, dataset):
    extra = "\n[live]\nepochs = 1\nchannels = 8\ncells_per_stage = 1\n" if benchmark == "nb201-live" else ""
    raw = tomllib.loads(SUITE.format(benchmark=benchmark, dataset=dataset) + extra)
    return resolve(parse_suite(raw, Path("t.toml")).trials()[0])


def test_one_shot_trial_on_live_digits_records_one_measured_observation():
    outcome = run_trial(_spec("nb201-live", "digits"))
    assert outcome.error is None, outcome.error
    (observation,) = outcome.observations
    assert observation.step == 1 and 0 < observation.reported <= 100
    assert observation.cost_seconds == observation.wall_seconds > 0  # the search's measured wall clock
    assert outcome.info["one_shot"] and outcome.info["cost_kind"] == "measured"
    assert outcome.info["device"].startswith("cpu")


def test_one_shot_on_a_tabular_dataset_without_images_fails_clearly():
    outcome = run_trial(_spec("nb201", "imagenet16-120"))
    assert "needs its images in" in outcome.error and "imagenet16-120 (train/<class>/, test/<class>/)" in outcome.error
    outcome = run_trial(_spec("nb201", "cifar10"))
    assert "needs its images under" in outcome.error and "download=True" in outcome.error


def test_one_shot_on_cifar10_reads_an_image_folder_in_the_data_home(data_home, tmp_path):
    from PIL import Image

    folder = data_home / "images" / "cifar10"
    rng = np.random.default_rng(0)
    try:
        for split, count in (("train", 8), ("test", 2)):
            for label in ("airplane", "cat"):
                (folder / split / label).mkdir(parents=True)
                for k in range(count):
                    pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
                    Image.fromarray(pixels).save(folder / split / label / f"{k}.png")
        data = load_images(f"folder/{folder}")
        assert data.train[0].shape == (8, 3, 8, 8) and data.num_classes == 2 and len(data.test[1]) == 4
        outcome = run_trial(_spec("nb201", "cifar10"))
        assert outcome.error is None, outcome.error
        assert outcome.info["one_shot"] and len(outcome.observations) == 1  # scored on the CIFAR-10 table
    finally:
        import shutil

        shutil.rmtree(folder.parent)
