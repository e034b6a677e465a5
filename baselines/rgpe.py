"""``rgpe``: the ranking-weighted Gaussian process ensemble (Feurer, Letham & Bakshy, 2018) on BoTorch GPs.

One ``SingleTaskGP`` per meta task (fitted once, on a seeded sample of its cells) and one on the target's
observations; each BO step weighs them by how often each ranks the target's observations best
(ranking loss over posterior samples; the target model is judged by its leave-one-out predictions), drops
base models whose median loss exceeds the target's 95th percentile (weight-dilution prevention), and
maximises EI of the weighted ensemble (mean Σ wₖ μₖ, variance Σ wₖ² σₖ²) over every unevaluated cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from baselines.botorch_bo import candidate_mean_std, fit_gp
from tnasbench.lazy import lazy_import
from tnasbench.searchers.observing import ObservingSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import SearchContext
from tnasbench.space import SearchSpace

if TYPE_CHECKING:
    from botorch.models import SingleTaskGP

torch = lazy_import("torch")


@dataclass(frozen=True)
class RgpeConfig:
    base_points: int = 200  # cells of each meta task its base GP is fitted on (a seeded sample)
    samples: int = 256  # posterior samples behind the ranking-loss weights
    initial: int = 3  # first cells: the argmax of the base models' equally weighted mean (target GP needs data)

    def __post_init__(self) -> None:
        for name in ("base_points", "samples"):
            if getattr(self, name) < 2:
                raise ValueError(f"rgpe: {name} must be at least 2, got {getattr(self, name)}")
        if self.initial < 2:
            raise ValueError(f"rgpe: initial must be at least 2 (the target GP needs data), got {self.initial}")


def ranking_losses(samples: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Misranked pairs of the observations ``y`` [n] in each sample [S, n]: loss per sample [S]."""
    sample_order = samples.unsqueeze(-1) < samples.unsqueeze(-2)  # [S, n, n]
    true_order = y.unsqueeze(-1) < y.unsqueeze(-2)
    return (sample_order ^ true_order).sum(dim=(-1, -2)).to(torch.float64)


def loo_samples(model: SingleTaskGP, draws: int, generator: torch.Generator) -> torch.Tensor:
    """Samples [S, n] of the target GP's leave-one-out predictions at its own observations (closed form:
    mean yᵢ − [K⁻¹y]ᵢ / [K⁻¹]ᵢᵢ, variance 1 / [K⁻¹]ᵢᵢ, with the fitted hyper-parameters)."""
    x, y = model.train_inputs[0], model.train_targets
    with torch.no_grad():
        covariance = model.covar_module(x).to_dense() + model.likelihood.noise * torch.eye(len(x), dtype=x.dtype)
        precision = torch.cholesky_inverse(torch.linalg.cholesky(covariance))
        centred = y - model.mean_module(x)
        variance = 1.0 / precision.diagonal()
        mean = y - (precision @ centred) * variance
    noise = torch.randn(draws, len(y), generator=generator, dtype=y.dtype)
    return mean + variance.sqrt() * noise


def joint_samples(model: SingleTaskGP, x: torch.Tensor, draws: int, generator: torch.Generator) -> torch.Tensor:
    """Samples [S, n] of a base GP's latent function at ``x`` (its standardised units), jointly."""
    with torch.no_grad():
        mvn = model(x)  # in eval mode: the posterior, before the outcome transform
        factor = torch.linalg.cholesky(mvn.covariance_matrix + 1e-8 * torch.eye(len(x), dtype=x.dtype))
        noise = torch.randn(draws, len(x), generator=generator, dtype=x.dtype)
        return mvn.mean + noise @ factor.T


class Rgpe(ObservingSearcher):
    """Params: ``base_points``, ``samples``, ``initial``. Sees only ``context.meta_tables``."""

    name = "rgpe"
    params_type = RgpeConfig

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self.config = config_from_params(RgpeConfig, self.params, self.name)
        if not context.meta_tables:
            raise ValueError("rgpe needs meta tables (other tasks' results) in the search context")
        self.start(space, seed)
        self._seed = seed
        self._X = torch.as_tensor(np.asarray(space.one_hot_matrix), dtype=torch.float64)
        self._tasks = [t.dataset for t in context.meta_tables]
        self._base, self._base_mean, self._base_std = [], [], []
        for k, table in enumerate(context.meta_tables):
            held = table.indices()  # every cell, or a partial table's sample
            rows = self._rng.choice(len(held), size=min(self.config.base_points, len(held)), replace=False)
            cells = held[rows]
            y = torch.as_tensor(np.asarray(table.accuracies)[rows], dtype=torch.float64)
            model = fit_gp(self._X[cells], y, seed + 1 + k).eval()
            mean, std = candidate_mean_std(model, self._X)
            self._base.append(model)
            self._base_mean.append(mean)
            self._base_std.append(std)
        self.weights: list[float] = []

    def ask(self) -> Any:
        if len(self.observed) < self.config.initial:
            score = torch.stack(self._base_mean).mean(0)
        else:
            score = self._ensemble_ei()
        score[self.observed] = -torch.inf
        return self._space.arch(int(torch.argmax(score)))

    def _weights(self, target: SingleTaskGP) -> torch.Tensor:
        """RGPE's weights of the base models and the target model (last), from ranking losses."""
        generator = torch.Generator().manual_seed(self._seed + len(self.observed))
        x, y = self._X[self.observed], target.train_targets
        losses = [ranking_losses(joint_samples(m, x, self.config.samples, generator), y) for m in self._base]
        losses.append(ranking_losses(loo_samples(target, self.config.samples, generator), y))
        table = torch.stack(losses)  # [models, S]
        best = table == table.min(dim=0).values  # ties share the sample's vote
        votes = (best / best.sum(dim=0)).sum(dim=1)
        threshold = torch.quantile(table[-1], 0.95)
        votes[:-1][table[:-1].median(dim=1).values > threshold] = 0.0  # weight-dilution prevention
        return votes / votes.sum()

    def _ensemble_ei(self) -> torch.Tensor:
        y = torch.tensor(self.accuracies, dtype=torch.float64)
        target = fit_gp(self._X[self.observed], y, self._seed).eval()
        weights = self._weights(target)
        self.weights = weights.tolist()
        mean_t, std_t = candidate_mean_std(target, self._X)
        means = torch.stack([*self._base_mean, mean_t])
        stds = torch.stack([*self._base_std, std_t])
        mean = (weights.unsqueeze(-1) * means).sum(0)
        std = ((weights.unsqueeze(-1) ** 2) * stds**2).sum(0).sqrt().clamp_min(1e-9)
        best = target.train_targets.max()  # in the target's standardised units, like the ensemble
        z = (mean - best) / std
        normal = torch.distributions.Normal(0.0, 1.0)
        return std * (normal.log_prob(z).exp() + z * normal.cdf(z))

    def describe(self) -> dict:
        return {
            "meta_datasets": self._tasks,
            "base_points": self.config.base_points,
            "final_weights": dict(zip([*self._tasks, "target"], [round(w, 4) for w in self.weights], strict=False)),
        }
