"""``metad2a``: MetaD2A (Lee, Hyung & Hwang, ICLR 2021), re-implemented as a black-box transfer searcher.

MetaD2A meta-learns on other datasets only (1) a generator of good cells conditioned on a dataset and
(2) a predictor of a cell's accuracy on a dataset. For a new dataset it samples candidates from the
generator, ranks them by the predictor and evaluates them best first, with no feedback from the
target: ``tell`` only records. Here:

* dataset code: the Set Transformer of ``tnasbench.tnas.dataset_encoder`` when the target and every
  meta task carry images; otherwise a learned embedding per meta task, the target's code being the
  mean of the meta tasks' (the tabular benchmarks have no images, so that is what runs). Generator and
  predictor have codes of their own, as the original has two set encoders.
* generator: a conditional VAE over cells. The DAG GRU encodes a cell to q(z | cell); a GRU decoder
  emits the space's categorical dimensions in order (NB201 and TransNAS: the edges' ops in topological
  order; NAS-Bench-Graph: the link pattern, then each node's op), conditioned on z and the dataset code.
  It is trained on each meta task's top cells. (The original's posterior is q(z | dataset), a set
  encoder of images; without images that would be a point per task, so the dataset enters as the
  condition and z ~ N(0, I) carries the variety among good cells.) Decoded choices the space does not
  hold are replaced by the nearest cell by Hamming distance on the choices (the lowest index on ties).
* predictor: the DAG GRU and the dataset code into an MLP, trained (MSE) on each meta task's
  standardised accuracy of random cells.
* search: ``samples`` draws for the target, the distinct cells ranked by the predictor, one per
  isomorphism class, then (if the list runs out) random unseen cells.

Deliberately not offered: the original's CIFAR protocol (evaluate the top 30 predictions, report the best
*table test accuracy*) chooses with the target's own table, which a searcher here never sees.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tnasbench.lazy import lazy_import
from tnasbench.searchers.observing import ObservingSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import SearchContext
from tnasbench.seeding import derive_seed
from tnasbench.space import SearchSpace

if TYPE_CHECKING:
    from torch import nn

torch = lazy_import("torch")

TARGET = -1  # the task index of the target's dataset code


@dataclass(frozen=True)
class MetaD2AConfig:
    hidden: int = 32  # width of the GRUs and MLPs
    latent: int = 16  # the generator's z
    code: int = 8  # width of a dataset code
    generator_steps: int = 300  # Adam steps, one meta task's minibatch each (round robin)
    predictor_steps: int = 300
    batch: int = 128  # cells per minibatch
    lr: float = 3e-3
    top_fraction: float = 0.1  # the generator learns each meta task's best cells, this fraction of them
    kl_weight: float = 0.01  # β of the generator's ELBO
    samples: int = 2000  # cells drawn from the generator for the target

    def __post_init__(self) -> None:
        for name in ("hidden", "latent", "code", "generator_steps", "predictor_steps", "batch", "samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"metad2a: {name} must be a positive integer, got {value!r}")
        if not 0.0 < self.top_fraction <= 1.0:
            raise ValueError(f"metad2a: top_fraction must lie in (0, 1], got {self.top_fraction!r}")
        if self.lr <= 0 or self.kl_weight < 0:
            raise ValueError(f"metad2a: lr must be > 0 and kl_weight >= 0, got {self.lr!r}, {self.kl_weight!r}")


def _standardised(accuracies: np.ndarray) -> np.ndarray:
    spread = accuracies.std()
    return (accuracies - accuracies.mean()) / (spread if spread > 0 else 1.0)


def _fit(loss: Callable[[int], torch.Tensor], params: Iterable[nn.Parameter], steps: int, lr: float) -> float:
    """Adam on ``loss(step)`` for ``steps`` steps; the last loss."""
    from tnasbench.flat_adam import make_adam

    optimizer = make_adam(params, lr=lr)
    for step in range(steps):
        optimizer.zero_grad()
        value = loss(step)
        value.backward()
        optimizer.step()
    return float(value.detach())


def nearest_cells(space: SearchSpace, choices: np.ndarray) -> tuple[np.ndarray, int]:
    """Index of each distinct row of ``choices`` in the space, a row it lacks replaced by the nearest cell by
    Hamming distance (the lowest index on ties); and how many distinct rows were replaced."""
    indices, missing = [], []
    for row in np.unique(choices, axis=0):
        cell = space.find(row.tolist())
        if cell is None:
            missing.append(row)
        else:
            indices.append(space.index(cell))
    if missing:
        indices.extend(space.nearest(np.asarray(missing)).tolist())
    return np.unique(indices), len(missing)


class MetaD2A(ObservingSearcher):
    """Params: any field of ``MetaD2AConfig``. Sees only ``context.meta_tables`` (and images where given)."""

    name = "metad2a"
    params_type = MetaD2AConfig
    deterministic: ClassVar[bool] = False  # meta-training and sampling follow the seed

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self.config = config = config_from_params(MetaD2AConfig, self.params, self.name)
        if not context.meta_tables:
            raise ValueError("metad2a needs meta tables (other tasks' results) in the search context")
        self.start(space, seed)
        from tnasbench.tnas.arch_encoder import cell_graphs

        self._tasks = [t.dataset for t in context.meta_tables]
        self._graphs = cell_graphs(space)
        rng = np.random.default_rng(derive_seed(seed, "metad2a"))
        with torch.random.fork_rng():  # the global generator is left as it was
            torch.manual_seed(derive_seed(seed, "metad2a", "torch"))
            features = self._features(context)
            self._losses = {
                "generator": self._train_generator(context, features, rng),
                "predictor": self._train_predictor(context, features, rng),
            }
            self._ranked = self._ranking(self.sample_cells(config.samples))

    def _features(self, context: SearchContext) -> list[torch.Tensor] | None:
        """Image features of every meta task, the target's last, where all have images; else None."""
        if context.images is None or any(t.images is None for t in context.meta_tables):
            missing = "the target" if context.images is None else "a meta task"
            self._data_note = f"learned per-task embedding; target = mean of meta tasks (no images of {missing})"
            return None
        from tnasbench.tnas.dataset_encoder import image_features

        self._data_note = "set transformer over image features"
        return [image_features(t.images) for t in context.meta_tables] + [image_features(context.images)]

    def _train_generator(self, context: SearchContext, features: list | None, rng: np.random.Generator) -> float:
        from baselines.metad2a_nets import Generator, TaskCodes

        config, space = self.config, self._space
        codes = TaskCodes(len(self._tasks), config.code, config.hidden, features)
        sizes = tuple(len(d.choices) for d in space.dimensions)
        self.generator = Generator(sizes, self._graphs.num_types, codes, config)
        tops = []
        for t in context.meta_tables:  # the top fraction of a table's cells (a partial table: of its own)
            keep = max(1, math.ceil(config.top_fraction * len(t.accuracies)))
            tops.append(t.indices()[np.argsort(-np.asarray(t.accuracies), kind="stable")[:keep]])
        choices = torch.as_tensor(space.choices_matrix)

        def loss(step: int) -> torch.Tensor:
            task = step % len(tops)
            cells = torch.as_tensor(rng.choice(tops[task], size=config.batch))
            return self.generator.loss(*self._graphs.of(cells), choices[cells], task, config.kl_weight)

        self.generator.train()
        last = _fit(loss, self.generator.parameters(), config.generator_steps, config.lr)
        self.generator.eval()
        return last

    def _train_predictor(self, context: SearchContext, features: list | None, rng: np.random.Generator) -> float:
        from baselines.metad2a_nets import Predictor, TaskCodes

        config = self.config
        codes = TaskCodes(len(self._tasks), config.code, config.hidden, features)
        self.predictor = Predictor(self._graphs.num_types, codes, config.hidden, config.code)
        targets = [
            torch.as_tensor(_standardised(np.asarray(t.accuracies, dtype=np.float64)), dtype=torch.float32)
            for t in context.meta_tables
        ]
        held = [torch.as_tensor(t.indices()) for t in context.meta_tables]

        def loss(step: int) -> torch.Tensor:
            task = step % len(targets)
            rows = torch.as_tensor(rng.integers(len(targets[task]), size=config.batch))
            return torch.nn.functional.mse_loss(
                self.predictor(*self._graphs.of(held[task][rows]), task), targets[task][rows]
            )

        self.predictor.train()
        last = _fit(loss, self.predictor.parameters(), config.predictor_steps, config.lr)
        self.predictor.eval()
        return last

    def sample_cells(self, count: int) -> np.ndarray:
        """``count`` choice rows drawn from the generator for the target (they may lie outside the space)."""
        return self.generator.sample(count, TARGET).numpy()

    def _ranking(self, choices: np.ndarray) -> np.ndarray:
        """The decoded cells by predicted accuracy on the target, best first, one per isomorphism class."""
        cells, self._replaced = nearest_cells(self._space, choices)
        with torch.no_grad():
            scores = self.predictor(*self._graphs.of(torch.as_tensor(cells)), TARGET).numpy()
        self._distinct = len(cells)
        return self._space.one_per_class(cells[np.argsort(-scores, kind="stable")])

    def ask(self) -> Any:
        step = len(self.observed)
        if step < len(self._ranked):
            return self._space.arch(int(self._ranked[step]))
        return self.random_unseen()

    def describe(self) -> dict[str, Any]:
        return {
            "dataset_encoder": self._data_note,
            "meta_datasets": self._tasks,
            "config": dataclasses.asdict(self.config),
            "final_losses": {k: round(v, 4) for k, v in self._losses.items()},
            "generated": self.config.samples,
            "outside_space_replaced": self._replaced,
            "distinct_cells": self._distinct,
            "ranked": len(self._ranked),
        }
