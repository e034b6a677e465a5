"""BANANAS's predictor: an ensemble of feed-forward networks run as one batched network."""

from __future__ import annotations

import torch
from torch import nn


class EnsembleMLP(nn.Module):
    """``members`` independent MLPs evaluated as one batched network (weights ``[members, in, out]``)."""

    def __init__(self, members: int, inputs: int, layers: int, width: int) -> None:
        super().__init__()
        sizes = [inputs] + [width] * layers + [1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1 / a**0.5
            self.weights.append(nn.Parameter(torch.empty(members, a, b).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(members, 1, b).uniform_(-bound, bound)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[n, inputs]`` → predictions ``[members, n]``."""
        h = x.expand(len(self.weights[0]), -1, -1)
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if k < len(self.weights) - 1:
                h = torch.relu(h)
        return h.squeeze(-1)
