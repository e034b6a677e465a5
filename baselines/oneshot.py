"""One-shot NAS on the NB201 supernet: GDAS (Dong & Yang, CVPR 2019), DrNAS (Chen et al., ICLR 2021),
SETN (Dong & Yang, ICCV 2019) and PC-DARTS (Xu et al., ICLR 2020). Bi-level: supernet weights on the
training split, architecture parameters on the validation split, alternating every minibatch (first-order).
GDAS, DrNAS and PC-DARTS derive the argmax per edge; SETN scores its most probable cells with the shared
weights. DrNAS's progressive learning (growing the supernet) is not implemented."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tnasbench.benchmarks.images import ImageData
from tnasbench.errors import TnasbenchError
from tnasbench.searchers.oneshot import OneShotSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.space import Arch, nb201_space
from tnasbench.space.arch import NUM_EDGES, NUM_OPS
from tnasbench.space.network import NetworkConfig
from tnasbench.space.supernet import Supernet, incoming_softmax


@dataclass(frozen=True)
class OneShotConfig:
    epochs: int = 50  # digits on a CPU: ~1 min (GDAS) and ~2 min (DrNAS)
    channels: int = 8  # CPU default; the NB201 paper size is channels = 16, cells_per_stage = 5
    cells_per_stage: int = 1
    batch: int = 64
    lr: float = 0.025  # supernet SGD, cosine-annealed
    momentum: float = 0.9
    weight_decay: float = 3e-4
    arch_lr: float = 3e-4  # architecture Adam
    arch_weight_decay: float = 1e-3
    tau_max: float = 10.0  # GDAS temperature, annealed linearly to tau_min
    tau_min: float = 0.1
    reg_scale: float = 1e-3  # DrNAS: weight of KL(Dirichlet(β) || Dirichlet(1))
    candidates: int = 100  # SETN: the most probable cells scored with the shared weights at the end
    partial_channels: int = 4  # PC-DARTS: 1/k of each edge's channels go through its ops (the paper: 4)

    def __post_init__(self) -> None:
        sizes = ("epochs", "channels", "cells_per_stage", "batch", "candidates", "partial_channels")
        if min(getattr(self, name) for name in sizes) < 1:
            raise ValueError(f"one-shot: {', '.join(sizes)} must be at least 1")


class DifferentiableSearch(OneShotSearcher):
    """The shared bi-level loop; subclasses say how architecture weights are drawn and regularised."""

    params_type = OneShotConfig

    def search(self, data: ImageData, seed: int, device: str) -> Arch:
        self.config = config = config_from_params(OneShotConfig, self.params, self.name)
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        net_config = NetworkConfig(config.channels, config.cells_per_stage, data.in_channels, data.num_classes)
        self.supernet = self.build_supernet(net_config, device)
        self.alpha = nn.Parameter(1e-3 * torch.randn(NUM_EDGES, NUM_OPS, device=device))
        weights_opt = torch.optim.SGD(
            self.supernet.parameters(), config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
        arch_opt = torch.optim.Adam(
            self.architecture(), config.arch_lr, betas=(0.5, 0.999), weight_decay=config.arch_weight_decay
        )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(weights_opt, config.epochs)
        (train_x, train_y), (val_x, val_y) = data.train, data.val
        loss = nn.CrossEntropyLoss()
        for epoch in range(config.epochs):
            self.progress = epoch / max(1, config.epochs - 1)
            order = rng.permutation(len(train_x))
            for start in range(0, len(order), config.batch):
                rows = torch.as_tensor(order[start : start + config.batch])
                val_rows = torch.as_tensor(rng.integers(len(val_x), size=len(rows)))
                self.supernet.train()
                weights_opt.zero_grad()
                weights, indices = self.weight_sample()
                x, y = train_x[rows].to(device), train_y[rows].to(device)
                loss(self.supernet(x, weights, indices), y).backward()
                nn.utils.clip_grad_norm_(self.supernet.parameters(), 5.0)
                weights_opt.step()
                arch_opt.zero_grad()
                weights, indices = self.sample()
                x, y = val_x[val_rows].to(device), val_y[val_rows].to(device)
                (loss(self.supernet(x, weights, indices), y) + self.regulariser()).backward()
                arch_opt.step()
            schedule.step()
        self.validation, self.device = data.val, device
        return self.derive()

    @abstractmethod
    def sample(self) -> tuple[torch.Tensor, list[int] | None]:
        """Architecture weights ``[6, 5]`` for one forward pass, and the op index per edge if hard."""

    def weight_sample(self) -> tuple[torch.Tensor, list[int] | None]:
        """The (constant) architecture weights the supernet's weight step trains under: ``sample()`` detached."""
        weights, indices = self.sample()
        return weights.detach(), indices

    def build_supernet(self, config: NetworkConfig, device: str) -> Supernet:
        return Supernet(config).to(device)

    def architecture(self) -> list[nn.Parameter]:
        """What the architecture step trains."""
        return [self.alpha]

    def regulariser(self) -> torch.Tensor:
        return self.alpha.new_zeros(())

    def derive(self) -> Arch:
        """The cell with each edge's highest-weighted op."""
        return Arch(tuple(int(i) for i in self.alpha.detach().argmax(dim=1).tolist()))

    def describe(self) -> dict:
        return {"alpha": [[round(float(v), 4) for v in row] for row in self.alpha.detach().cpu()], **self.params}


class Gdas(DifferentiableSearch):
    """Gumbel-softmax hard sampling: one op per edge in each forward pass, straight-through gradients."""

    name = "gdas"

    def tau(self) -> float:
        return self.config.tau_max - (self.config.tau_max - self.config.tau_min) * self.progress

    def sample(self) -> tuple[torch.Tensor, list[int]]:
        gumbel = -torch.empty_like(self.alpha).exponential_().log()
        soft = ((self.alpha.log_softmax(dim=1) + gumbel) / self.tau()).softmax(dim=1)
        indices = soft.argmax(dim=1)
        hard = nn.functional.one_hot(indices, NUM_OPS).to(soft) - soft.detach() + soft
        return hard, indices.tolist()


class DrNas(DifferentiableSearch):
    """Dirichlet mixing weights with learnable concentration (pathwise gradients), KL-regularised."""

    name = "drnas"

    def concentration(self) -> torch.Tensor:
        return nn.functional.elu(self.alpha) + 1.0

    def sample(self) -> tuple[torch.Tensor, None]:
        return torch.distributions.Dirichlet(self.concentration()).rsample(), None

    def describe(self) -> dict:
        runs_instead = "one stage on the whole supernet (no partial channels growing, no op pruning between stages)"
        return super().describe() | {"progressive_learning": f"not implemented: {runs_instead}"}

    def regulariser(self) -> torch.Tensor:
        posterior = torch.distributions.Dirichlet(self.concentration())
        prior = torch.distributions.Dirichlet(torch.ones_like(self.alpha))
        return self.config.reg_scale * torch.distributions.kl_divergence(posterior, prior).sum()


class Setn(DifferentiableSearch):
    """SETN's template network and evaluator: the shared weights are trained on one uniformly random op per
    edge (single paths); the architecture distribution softmax(α) is trained on the validation split through
    the full mixture; the cell is the best, by validation accuracy with the shared weights, of the
    ``candidates`` most probable cells under that distribution (exact top-k over all 15,625 cells)."""

    name = "setn"

    def weight_sample(self) -> tuple[torch.Tensor, list[int]]:
        indices = torch.randint(NUM_OPS, (NUM_EDGES,)).tolist()  # the global generator, seeded by the search
        return nn.functional.one_hot(torch.tensor(indices), NUM_OPS).to(self.alpha), indices

    def sample(self) -> tuple[torch.Tensor, None]:
        return self.alpha.softmax(dim=1), None

    def candidate_cells(self) -> list[Arch]:
        """The ``candidates`` cells of highest probability under the architecture distribution, most probable first."""
        space = nb201_space()
        log_p = self.alpha.detach().log_softmax(dim=1).cpu().numpy()
        score = log_p[np.arange(NUM_EDGES), space.choices_matrix].sum(axis=1)
        order = np.argsort(-score, kind="stable")[: self.config.candidates]
        return [space.arch(int(i)) for i in order]

    @torch.no_grad()
    def derive(self) -> Arch:
        x, y = self.validation
        self.supernet.train()  # batch statistics: running ones were gathered over every sampled path
        cells, scores = self.candidate_cells(), []
        for arch in cells:
            weights = nn.functional.one_hot(torch.tensor(arch.ops), NUM_OPS).to(self.alpha)
            correct = sum(
                int((self.supernet(x[i : i + 512].to(self.device), weights, list(arch.ops)).argmax(1) ==
                     y[i : i + 512].to(self.device)).sum())
                for i in range(0, len(y), 512)
            )  # fmt: skip
            scores.append(correct / len(y))
        self.scores = scores
        return cells[int(np.argmax(scores))]  # the most probable one among equal scores

    def describe(self) -> dict:
        return super().describe() | {"best_candidate_val_accuracy": round(max(self.scores), 4)}


class PcDarts(DifferentiableSearch):
    """PC-DARTS: DARTS's softmax mixture (first-order) on partial-channel edges (1/``partial_channels`` of the
    channels through the ops, then a channel shuffle), with edge normalisation: each node weighs its incoming
    edges by a softmax over learnable β, which steadies the op choice that partial channels make noisier.
    Every NB201 edge stays in the cell (its topology is fixed), so the cell is the argmax of α per edge."""

    name = "pc-darts"

    @classmethod
    def check_space_params(cls, space: object, params: dict) -> None:
        config = config_from_params(OneShotConfig, params, cls.name)
        if config.channels % config.partial_channels:  # every stage's width is a multiple of channels
            raise TnasbenchError(
                f"channels = {config.channels} does not split into partial_channels = {config.partial_channels} "
                "equal parts: pick channels divisible by it"
            )

    def build_supernet(self, config: NetworkConfig, device: str) -> Supernet:
        self.beta = nn.Parameter((1e-3 * torch.randn(NUM_EDGES)).to(device))  # drawn on the CPU: one stream anywhere
        return Supernet(config, partial_channels=self.config.partial_channels).to(device)

    def architecture(self) -> list[nn.Parameter]:
        return [self.alpha, self.beta]

    def sample(self) -> tuple[tuple[torch.Tensor, torch.Tensor], None]:
        return (self.alpha.softmax(dim=1), incoming_softmax(self.beta)), None

    def weight_sample(self) -> tuple[tuple[torch.Tensor, torch.Tensor], None]:
        (ops, edges), _ = self.sample()
        return (ops.detach(), edges.detach()), None

    def describe(self) -> dict:
        return super().describe() | {"beta": [round(float(v), 4) for v in self.beta.detach().cpu()]}
