"""BoTorch BO baselines: ``SingleTaskGP`` on a cell encoding, LogEI or UCB over every unevaluated cell.

Stock BoTorch fits the GP's hyper-parameters with autograd through gpytorch and scores candidates
as a batch of q=1 posteriors, which re-evaluates the train-train kernel once per candidate. The
fast mode (default, ``fast = true``) changes neither the model, the fit nor the acquisition: the
same L-BFGS-B from the same defaults gets the marginal likelihood and its gradient from NumPy
(``numpy_mll``), and the posterior of all candidates comes from one Cholesky factor of the
training kernel (``candidate_mean_std``). Tests check both against BoTorch's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tnasbench.lazy import lazy_import
from tnasbench.searchers.observing import ObservingSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import SearchContext
from tnasbench.space import SearchSpace

if TYPE_CHECKING:
    from botorch.models import SingleTaskGP

torch = lazy_import("torch")

CHUNK = 4096  # candidates per acquisition call


@dataclass(frozen=True)
class BotorchConfig:
    encoding: str = "onehot"  # "onehot" (NB201: 30-d, MobileNetV3: OFA's 128-d), "path" (NB201: 84-d) or "adjacency"
    initial: int = 10  # random cells before the first fit
    fast: bool = True  # False: stock BoTorch (autograd fit, q=1 batch posteriors) for comparison
    beta: float = 2.0  # UCB exploration weight
    pool_size: int = 10_000  # on a space too large to enumerate: random cells in the candidate pool
    pool_parents: int = 10  # ... plus the mutations of this many best cells

    def __post_init__(self) -> None:
        if self.encoding not in ("onehot", "path", "adjacency"):
            raise ValueError(f"botorch: encoding must be 'onehot', 'path' or 'adjacency', got {self.encoding!r}")
        if self.initial < 2:
            raise ValueError(f"botorch: initial must be at least 2 (a GP needs data), got {self.initial}")
        if self.pool_size < 1 or self.pool_parents < 0:
            raise ValueError(
                f"botorch: pool_size must be ≥ 1 and pool_parents ≥ 0, got {self.pool_size}, {self.pool_parents}"
            )


class BotorchEI(ObservingSearcher):
    """Params: ``encoding``, ``initial``, ``fast``, ``beta`` (UCB only), ``pool_size`` and ``pool_parents`` (large
    spaces only)."""

    name = "botorch-ei"
    params_type = BotorchConfig
    version = "2"  # 2: fast fits start from the defaults like stock ones (1: from the previous fit)
    acquisition: ClassVar[str] = "logei"
    large_spaces = True

    @classmethod
    def version_for(cls, params: dict, space: SearchSpace) -> str:
        return cls.version if params.get("fast", True) else "1"  # the stock mode is unchanged since 1

    @classmethod
    def check_space_params(cls, space: SearchSpace, params: dict) -> None:
        encoding, cell = params.get("encoding", "onehot"), space.sample(np.random.default_rng(0))
        if not space.enumerable:
            space.encode(encoding, [cell])  # the space's own one-line refusal of an encoding it lacks
        elif encoding == "path" and space.path_encoding(cell) is None:
            space.encoding("path")

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self.config = config_from_params(BotorchConfig, self.params, self.name)
        self.start(space, seed, self.config.pool_size, self.config.pool_parents)
        self._seed = seed

    def describe(self) -> dict[str, Any]:
        return self.pool_rule()

    def ask(self) -> Any:
        if len(self.observed) < self.config.initial:
            return self.random_unseen()
        return self.cell(self._maximise())

    def fit(self) -> SingleTaskGP:
        """The GP on the observations so far, hyper-parameters by marginal likelihood."""
        y = torch.tensor(self.accuracies, dtype=torch.float64)
        x = self.encoded(self.config.encoding, torch.float64)[self.observed]
        return fit_gp(x, y, self._seed + len(self.observed), self.config.fast)

    def _maximise(self) -> int:
        ids = self.candidates()
        x = self.encoded(self.config.encoding, torch.float64)[ids]
        model = self.fit()
        scores = self.scores(model, x) if self.config.fast else self.stock_scores(model, x)
        scores[torch.as_tensor(np.isin(ids, self.observed))] = -torch.inf
        return int(ids[int(torch.argmax(scores))])

    def stock_scores(self, model: SingleTaskGP, x: torch.Tensor) -> torch.Tensor:
        """BoTorch's own acquisition function at the candidates ``x`` (a batch of q=1 candidates)."""
        from botorch.acquisition import LogExpectedImprovement, UpperConfidenceBound

        if self.acquisition == "ucb":
            acq = UpperConfidenceBound(model, beta=self.config.beta)
        else:
            acq = LogExpectedImprovement(model, best_f=max(self.accuracies))
        with torch.no_grad():
            return torch.cat([acq(chunk.unsqueeze(1)) for chunk in x.split(CHUNK)])

    def scores(self, model: SingleTaskGP, x: torch.Tensor) -> torch.Tensor:
        """The same acquisition from one shared factorisation (argmax-equal to ``stock_scores``)."""
        from botorch.acquisition.analytic import _log_ei_helper

        mean, std = candidate_mean_std(model, x)  # in the model's standardised units
        if self.acquisition == "ucb":
            return mean + self.config.beta**0.5 * std
        transform = model.outcome_transform
        best = (max(self.accuracies) - transform.means.squeeze()) / transform.stdvs.squeeze()
        return _log_ei_helper((mean - best) / std) + std.log()


def fit_gp(x: torch.Tensor, y: torch.Tensor, seed: int, fast: bool = True) -> SingleTaskGP:
    """BoTorch's default ``SingleTaskGP`` on (x, y [n]), fitted by BoTorch's own ``fit_gpytorch_mll``, with
    the NumPy likelihood when ``fast`` (the same fit, cheaper) and stock autograd otherwise."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from baselines.numpy_mll import NumpyExactMLL

    model = SingleTaskGP(x, y.unsqueeze(-1), outcome_transform=Standardize(m=1))
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    with torch.random.fork_rng():  # BoTorch re-draws from the priors when a fit fails
        torch.manual_seed(seed)
        fit_gpytorch_mll(mll, closure=NumpyExactMLL(mll) if fast else None)
    return model


def candidate_mean_std(model: SingleTaskGP, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and standard deviation of ``model``'s latent function at each row of ``x``, in
    standardised units (before the outcome transform is undone), from one shared Cholesky factor."""
    from tnasbench.gp import exact_posterior

    model.eval()
    train_x, train_y = model.train_inputs[0], model.train_targets
    noise = model.likelihood.noise.detach()
    mean, variance = exact_posterior(model.mean_module, model.covar_module, noise, train_x, train_y, x)
    return mean, variance.sqrt()


class BotorchUCB(BotorchEI):
    name = "botorch-ucb"
    acquisition = "ucb"
