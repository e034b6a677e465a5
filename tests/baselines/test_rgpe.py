"""rgpe: ranking losses and leave-one-out predictions by hand, weights that follow the informative task."""

import numpy as np
import pytest
import torch

from baselines.rgpe import Rgpe, fit_gp, loo_samples, ranking_losses
from tnasbench.benchmarks.protocol import Result
from tnasbench.benchmarks.tables import load_table
from tnasbench.searchers import SearchContext
from tnasbench.searchers.protocol import MetaTable
from tnasbench.space import nb201_space
from tnasbench.testing import SearcherConformance

SMALL = {"base_points": 40, "samples": 64}


class TestRgpe(SearcherConformance):
    budget = 8

    @pytest.fixture
    def searcher_name(self):
        return "rgpe"

    @pytest.fixture
    def searcher_params(self):
        return dict(SMALL)


def test_ranking_loss_counts_misranked_pairs():
    y = torch.tensor([1.0, 2.0, 3.0])
    samples = torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [2.0, 1.0, 3.0]])
    # ordered pairs (i, j) whose order differs: none; all 3 pairs both ways; one pair both ways
    assert ranking_losses(samples, y).tolist() == [0.0, 6.0, 2.0]


def test_leave_one_out_predictions_equal_refitting_without_the_point():
    torch.manual_seed(0)
    x = torch.rand(12, 3, dtype=torch.float64)
    y = torch.sin(3 * x.sum(1)) + 0.1 * torch.randn(12, dtype=torch.float64)
    model = fit_gp(x, y, seed=0).eval()
    draws = loo_samples(model, 20000, torch.Generator().manual_seed(0))
    targets = model.train_targets
    for i in (0, 5, 11):
        keep = [k for k in range(12) if k != i]
        covariance = model.covar_module(x).to_dense().detach() + model.likelihood.noise.detach() * torch.eye(12)
        mean0 = model.mean_module(x).detach()
        k_in = covariance[i, keep]
        solve = torch.linalg.solve(covariance[keep][:, keep], torch.stack([targets[keep] - mean0[keep], k_in], 1))
        expected_mean = mean0[i] + k_in @ solve[:, 0]
        expected_var = covariance[i, i] - k_in @ solve[:, 1]
        assert float(draws[:, i].mean()) == pytest.approx(float(expected_mean), abs=0.03)
        assert float(draws[:, i].var()) == pytest.approx(float(expected_var), rel=0.05)


def test_weights_follow_the_meta_task_that_ranks_the_target_like_the_target():
    space = nb201_space()
    target = load_table("cifar100").column("val@200")
    noise = np.random.default_rng(0).permutation(target)  # the same values, in no relation to the cells
    context = SearchContext(
        "cifar100", "val@200", (MetaTable("twin", "v", target.copy()), MetaTable("noise", "v", noise))
    )
    searcher = Rgpe(**SMALL, initial=2)
    searcher.setup(space, context, seed=0)
    cells = np.random.default_rng(1).choice(len(space), 12, replace=False)
    for index in cells:
        searcher.tell(space.arch(int(index)), Result(float(target[index]), 1.0, "val@200", 200))
    searcher.ask()
    twin, unrelated, _ = searcher.weights
    assert twin > 0.5 and unrelated < 0.05
    assert searcher.describe()["final_weights"]["twin"] == pytest.approx(twin, abs=1e-4)


def test_needs_meta_tables():
    with pytest.raises(ValueError, match="rgpe needs meta tables"):
        Rgpe().setup(nb201_space(), SearchContext("cifar10", "val@200"), 0)
