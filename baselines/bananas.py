"""BANANAS (White et al., AAAI 2021): path encoding, an ensemble of feed-forward networks, independent
Thompson sampling, candidates from single-edge mutations of the best cells found so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tnasbench.lazy import lazy_import
from tnasbench.searchers.observing import ObservingSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import SearchContext
from tnasbench.space import SearchSpace

torch = lazy_import("torch")


@dataclass(frozen=True)
class BananasConfig:
    initial: int = 10  # random cells before the first model
    encoding: str = "path"  # "path" (the paper; "adjacency" where a space has none), "adjacency" or "onehot"
    ensemble: int = 5
    layers: int = 10  # the paper's networks: 10 layers of width 20
    width: int = 20
    epochs: int = 200  # full-batch Adam steps per fit
    lr: float = 0.01
    parents: int = 10  # the best cells whose mutations are the candidates
    acquisition: str = "its"  # "its" (independent Thompson sampling) or "ucb"

    def __post_init__(self) -> None:
        if self.encoding not in ("path", "adjacency", "onehot"):
            raise ValueError(f"bananas: encoding must be 'path', 'adjacency' or 'onehot', got {self.encoding!r}")
        if self.acquisition not in ("its", "ucb"):
            raise ValueError(f"bananas: acquisition must be 'its' or 'ucb', got {self.acquisition!r}")
        if min(self.initial, self.ensemble, self.layers, self.width, self.epochs, self.parents) < 1:
            raise ValueError("bananas: initial, ensemble, layers, width, epochs and parents must be at least 1")


def _checked_encoding(space: SearchSpace, wanted: str) -> str:
    encoding = encoding_for(space, wanted)
    if not space.enumerable:
        space.encode(encoding, [space.sample(np.random.default_rng(0))])  # the space's one-line refusal
    return encoding


def encoding_for(space: SearchSpace, wanted: str) -> str:
    """The paper's path encoding; where a space defines no paths, its adjacency + ops encoding, or on a large
    space (whose DAGs differ in size) its one-hot."""
    if wanted != "path" or space.path_encoding(space.sample(np.random.default_rng(0))) is not None:
        return wanted
    return "adjacency" if space.enumerable else "onehot"


class Bananas(ObservingSearcher):
    """Params: see ``BananasConfig``."""

    name = "bananas"
    params_type = BananasConfig
    large_spaces = True

    @classmethod
    def check_space_params(cls, space: SearchSpace, params: dict) -> None:
        _checked_encoding(space, params.get("encoding", "path"))

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self.config = config_from_params(BananasConfig, self.params, self.name)
        self.start(space, seed)
        self._seed = seed
        self._encoding = _checked_encoding(space, self.config.encoding)

    def describe(self) -> dict[str, str]:
        return {"encoding": self._encoding}

    def ask(self) -> Any:
        if len(self.observed) < self.config.initial:
            return self.random_unseen()
        candidates = self._candidates()
        mean, std = self._predict(candidates)
        if self.config.acquisition == "ucb":
            score = mean + std
        else:  # independent Thompson sampling: one Gaussian draw per candidate
            score = mean + std * torch.as_tensor(self._rng.standard_normal(len(candidates)), dtype=mean.dtype)
        return self.cell(candidates[int(torch.argmax(score))])

    def _candidates(self) -> list[int]:
        """Unevaluated neighbours of the best cells so far (random cells if all are evaluated)."""
        candidates = sorted(self.mutations_of_best(self.config.parents))
        while not candidates:
            candidates = [c for c in self.random_ids(100, replace=True) if c not in self.observed]
        return candidates

    def _predict(self, candidates: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Ensemble mean and spread at the candidates, after fitting on the observations (MAE, Adam)."""
        from baselines.ensemble_mlp import EnsembleMLP
        from tnasbench.flat_adam import make_adam

        y = torch.tensor(self.accuracies, dtype=torch.float32)
        y = (y - y.mean()) / (y.std() + 1e-8)
        paths = self.encoded(self._encoding, torch.float32)
        x = paths[self.observed]
        with torch.random.fork_rng():
            torch.manual_seed(self._seed * 1009 + len(self.observed))
            model = EnsembleMLP(self.config.ensemble, x.shape[1], self.config.layers, self.config.width)
        optimizer = make_adam(model.parameters(), lr=self.config.lr)
        for _ in range(self.config.epochs):
            optimizer.zero_grad()
            (model(x) - y).abs().mean().backward()
            optimizer.step()
        with torch.no_grad():
            predictions = model(paths[candidates])
        return predictions.mean(0), predictions.std(0)
