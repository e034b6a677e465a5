import numpy as np
import pytest
import torch
from botorch.acquisition import LogExpectedImprovement
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms import Standardize
from botorch.optim.closures import get_loss_closure_with_grads
from gpytorch.kernels import MaternKernel
from gpytorch.mlls import ExactMarginalLogLikelihood

from baselines.botorch_bo import candidate_mean_std
from baselines.numpy_mll import NumpyExactMLL
from tnasbench.runner import resolve, run_trial
from tnasbench.space import Arch
from tnasbench.testing import (
    SearcherConformance,
    anytime_regret,
    conformance_spec,
    searcher_with_observations,
    synthetic_objective,
)


class TestBotorchEI(SearcherConformance):
    budget = 15  # ten random cells, then five BO steps

    @pytest.fixture
    def searcher_name(self):
        return "botorch-ei"


class TestBotorchUCBPathEncoding(SearcherConformance):
    budget = 15

    @pytest.fixture
    def searcher_name(self):
        return "botorch-ucb"

    @pytest.fixture
    def searcher_params(self):
        return {"encoding": "path"}


def test_batched_posterior_equals_botorchs():
    searcher, _ = searcher_with_observations("botorch-ei", {}, 30)
    model = searcher.fit()
    x = searcher.encoded("onehot", torch.float64)[:500]
    mean, std = candidate_mean_std(model, x)
    with torch.no_grad():
        posterior = model.posterior(x.unsqueeze(1))  # BoTorch's q=1 batch, in the original units
    scale = model.outcome_transform.stdvs.squeeze()
    shift = model.outcome_transform.means.squeeze()
    torch.testing.assert_close(mean * scale + shift, posterior.mean.squeeze(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(std * scale, posterior.variance.sqrt().squeeze(), rtol=1e-5, atol=1e-6)


def test_fast_scores_pick_the_same_cell_as_botorchs_logei():
    searcher, _ = searcher_with_observations("botorch-ei", {}, 30)
    model = searcher.fit()
    x = searcher.encoded("onehot", torch.float64)
    stock = searcher.stock_scores(model, x)
    with torch.no_grad():
        direct = LogExpectedImprovement(model, best_f=max(searcher.accuracies))(x[:50, None])
    torch.testing.assert_close(stock[:50], direct)
    # LogEI in standardised units differs from the original units by log(scale), a constant
    shifted = searcher.scores(model, x) + model.outcome_transform.stdvs.squeeze().log()
    torch.testing.assert_close(shifted, stock, rtol=1e-5, atol=1e-4)
    assert int(torch.argmax(shifted)) == int(torch.argmax(stock))


def _model_on(observations: int, encoding: str = "onehot", **kwargs) -> ExactMarginalLogLikelihood:
    searcher, _ = searcher_with_observations("botorch-ei", {"encoding": encoding}, observations)
    y = torch.tensor(searcher.accuracies, dtype=torch.float64).unsqueeze(-1)
    x = searcher.encoded(encoding, torch.float64)[searcher.observed]
    model = SingleTaskGP(x, y, outcome_transform=Standardize(m=1), **kwargs)
    return ExactMarginalLogLikelihood(model.likelihood, model)


@pytest.mark.parametrize("encoding", ["onehot", "path"])
def test_numpy_marginal_likelihood_and_gradient_equal_botorchs(encoding):
    mll = _model_on(30, encoding)
    mll.train()
    closure = NumpyExactMLL(mll)
    reference = get_loss_closure_with_grads(mll, parameters=closure.parameters)
    generator = torch.Generator().manual_seed(0)
    for _ in range(3):  # the defaults, then two random points away from them
        value, gradient = reference()
        mine, my_gradient = closure(closure.state)
        assert float(mine) == pytest.approx(value.item(), rel=1e-7)
        np.testing.assert_allclose(my_gradient, torch.cat([g.flatten() for g in gradient]), rtol=1e-6, atol=1e-9)
        with torch.no_grad():
            for parameter in closure.parameters.values():
                parameter.add_(torch.rand(parameter.shape, generator=generator, dtype=parameter.dtype))


def test_fast_fit_lands_where_botorchs_own_fit_does():
    fitted = {}
    for fast in (True, False):
        mll = _model_on(30)
        fit_gpytorch_mll(mll, closure=NumpyExactMLL(mll) if fast else None)
        mll.train()
        with torch.no_grad():
            fitted[fast] = float(mll(mll.model(*mll.model.train_inputs), mll.model.train_targets))
    assert fitted[True] == pytest.approx(fitted[False], abs=1e-3)  # the same L-BFGS-B from the same defaults


def test_the_numpy_likelihood_refuses_a_model_it_does_not_encode():
    with pytest.raises(ValueError, match="needs BoTorch's default SingleTaskGP"):
        NumpyExactMLL(_model_on(12, covar_module=MaternKernel(ard_num_dims=30).double()))


def test_fast_and_stock_trials_carry_their_own_versions():
    fast, stock = (resolve(conformance_spec("botorch-ei", p, 0, 20)) for p in ({}, {"fast": False}))
    assert (fast.searcher_version, stock.searcher_version) == ("2", "1")  # changing one mode reruns only it


def test_stock_and_fast_modes_propose_the_same_first_cells():
    def cells(params, seed):
        return [o.arch for o in run_trial(conformance_spec("botorch-ei", params, seed, 15)).observations]

    for seed in range(3):  # ten random cells, then five fits and argmaxes that must agree
        assert cells({}, seed) == cells({"fast": False}, seed)


@pytest.mark.slow  # ~4 min: stock BoTorch fits 3 x 20 times; the test above checks the first 5 of each seed
def test_stock_and_fast_modes_reach_similar_regret():
    def final(params):
        return [run_trial(conformance_spec("botorch-ei", params, s, 30)).observations[-1].regret for s in range(3)]

    fast, stock = final({}), final({"fast": False})
    assert abs(np.mean(fast) - np.mean(stock)) < 1.0


@pytest.mark.parametrize("name", ["botorch-ei", "botorch-ucb"])
def test_finds_a_synthetic_optimum_faster_than_random_search(name):
    objective = synthetic_objective(Arch((3, 1, 2, 4, 0, 3)))

    def mean_regret(searcher):
        return np.mean([anytime_regret(searcher, {}, objective, seed, budget=30) for seed in range(3)])

    assert mean_regret(name) < 0.6 * mean_regret("random-search")  # measured: 0.45 (EI), 0.39 (UCB)


def test_bad_encoding_is_a_clear_error():
    outcome = run_trial(conformance_spec("botorch-ei", {"encoding": "graph"}, 0, 3))
    assert "encoding must be 'onehot', 'path' or 'adjacency'" in outcome.error
