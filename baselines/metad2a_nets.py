"""MetaD2A's networks: the dataset codes, the accuracy predictor and the conditional cell generator."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

from baselines.metad2a import TARGET
from tnasbench.tnas.arch_encoder import DagGruEncoder
from tnasbench.tnas.dataset_encoder import DatasetEncoder

if TYPE_CHECKING:
    from baselines.metad2a import MetaD2AConfig


class TaskCodes(nn.Module):
    """A code per meta task (``0 .. tasks-1``) and for the target (``TARGET``): learned embeddings, the
    target's their mean, or the Set Transformer over image features (the target's features last)."""

    def __init__(self, tasks: int, width: int, hidden: int, features: list[torch.Tensor] | None = None) -> None:
        super().__init__()
        self.features = features
        if features is None:
            self.table = nn.Parameter(0.1 * torch.randn(tasks, width))
        else:
            self.encoder = DatasetEncoder(features[0].shape[-1], hidden, width, heads=math.gcd(hidden, 4))

    def forward(self, task: int) -> torch.Tensor:
        if self.features is not None:
            return self.encoder(self.features[task])
        return self.table.mean(0) if task == TARGET else self.table[task]


class Predictor(nn.Module):
    """Accuracy predictor: DAG GRU code of the cell and the dataset code into an MLP."""

    def __init__(self, num_types: int, codes: TaskCodes, hidden: int, code: int) -> None:
        super().__init__()
        self.encoder, self.codes = DagGruEncoder(hidden, hidden, num_types), codes
        self.head = nn.Sequential(nn.Linear(hidden + code, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, types: torch.Tensor, adjacency: torch.Tensor, task: int) -> torch.Tensor:
        h = self.encoder(types, adjacency)
        return self.head(torch.cat([h, self.codes(task).expand(len(h), -1)], dim=1)).squeeze(1)


class Generator(nn.Module):
    """Conditional VAE over cells: DAG GRU encoder to q(z | cell); a GRU decoder emitting one categorical
    choice per dimension, in the space's order, from z, the dataset code and the previous choice."""

    def __init__(self, sizes: tuple[int, ...], num_types: int, codes: TaskCodes, config: MetaD2AConfig) -> None:
        super().__init__()
        self.sizes, self.latent, self.codes = sizes, config.latent, codes
        self.offsets = [sum(sizes[:d]) for d in range(len(sizes))]
        self.encoder = DagGruEncoder(config.hidden, 2 * config.latent, num_types)
        condition = config.latent + config.code
        self.embed = nn.Embedding(sum(sizes) + 1, config.hidden)  # every dimension's choices, then a start token
        self.start = nn.Linear(condition, config.hidden)
        self.cell = nn.GRUCell(config.hidden + condition, config.hidden)
        self.heads = nn.ModuleList(nn.Linear(config.hidden, size) for size in sizes)

    def _decode(self, condition: torch.Tensor, choices: torch.Tensor | None = None) -> tuple[list, torch.Tensor]:
        """Logits per dimension and the choices: ``choices`` fed back (teacher forcing), else sampled."""
        h = torch.tanh(self.start(condition))
        token = torch.full((len(condition),), sum(self.sizes), dtype=torch.long)
        logits, picked = [], []
        for d, head in enumerate(self.heads):
            h = self.cell(torch.cat([self.embed(token), condition], dim=1), h)
            logits.append(head(h))
            pick = choices[:, d] if choices is not None else torch.multinomial(F.softmax(logits[-1], 1), 1).squeeze(1)
            picked.append(pick)
            token = pick + self.offsets[d]
        return logits, torch.stack(picked, dim=1)

    def loss(self, types: torch.Tensor, adjacency: torch.Tensor, choices: torch.Tensor, task: int, beta: float):
        """Negative ELBO per cell: reconstruction cross-entropy + β KL(q(z | cell) ‖ N(0, I))."""
        mean, log_var = self.encoder(types, adjacency).chunk(2, dim=1)
        z = mean + (0.5 * log_var).exp() * torch.randn_like(mean)
        logits, _ = self._decode(torch.cat([z, self.codes(task).expand(len(z), -1)], dim=1), choices)
        recon = sum(F.cross_entropy(out, choices[:, d]) for d, out in enumerate(logits))
        kl = -0.5 * (1 + log_var - mean**2 - log_var.exp()).sum(1).mean()
        return recon + beta * kl

    @torch.no_grad()
    def sample(self, count: int, task: int) -> torch.Tensor:
        """``count`` cells' choices decoded from z ~ N(0, I) for ``task``'s dataset code."""
        z = torch.randn(count, self.latent)
        return self._decode(torch.cat([z, self.codes(task).expand(count, -1)], dim=1))[1]
