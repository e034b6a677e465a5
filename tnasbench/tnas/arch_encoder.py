"""Architecture encoders ψ: a D-VAE-style bidirectional GRU over the cell DAG, or an MLP on one-hot."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch import nn

from tnasbench.space import SearchSpace
from tnasbench.space.arch import DAG_NODE_TYPES


@cache
def cell_graphs(space: SearchSpace) -> tuple[torch.Tensor, torch.Tensor]:
    """Node types ``[cells, 8]`` of every cell and the shared adjacency ``[8, 8]`` (adj[u, v]: edge u→v).

    Every NB201 cell has the same op-on-node DAG; only the node types differ.
    """
    types, links = space.arch(0).dag()
    adjacency = torch.zeros(len(types), len(types), dtype=torch.bool)
    for u, v in links:
        adjacency[u, v] = True
    all_types = torch.tensor(np.array([space.arch(i).dag()[0] for i in range(len(space))]), dtype=torch.long)
    return all_types, adjacency


class _GatedSum(nn.Module):
    """D-VAE's aggregation of predecessor states: sum over u of sigmoid(g(h_u)) * m(h_u)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.gate = nn.Linear(hidden, hidden)
        self.map = nn.Linear(hidden, hidden, bias=False)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``states [B, n, h]``, ``mask [n]`` (which nodes are predecessors) → ``[B, h]``."""
        chosen = states[:, mask]
        return (torch.sigmoid(self.gate(chosen)) * self.map(chosen)).sum(dim=1)


class DagGruEncoder(nn.Module):
    """One GRU cell passed forward in topological order, another backward, then a linear layer.

    Nodes must be indexed in a topological order; the result does not depend on which one.
    """

    def __init__(self, hidden: int = 128, latent: int = 16, num_types: int = len(DAG_NODE_TYPES)) -> None:
        super().__init__()
        self.num_types, self.hidden, self.latent = num_types, hidden, latent
        self.forward_cell, self.backward_cell = nn.GRUCell(num_types, hidden), nn.GRUCell(num_types, hidden)
        self.forward_sum, self.backward_sum = _GatedSum(hidden), _GatedSum(hidden)
        self.project = nn.Linear(2 * hidden, latent)

    def _pass(self, onehot: torch.Tensor, adjacency: torch.Tensor, cell: nn.GRUCell, gsum: _GatedSum) -> torch.Tensor:
        batch, nodes, _ = onehot.shape
        states: list[torch.Tensor] = []
        for v in range(nodes):
            preds = adjacency[:v, v]
            if preds.any():
                incoming = gsum(torch.stack(states, dim=1), preds)
            else:
                incoming = onehot.new_zeros(batch, self.hidden)
            states.append(cell(onehot[:, v], incoming))
        return states[-1]

    def forward(self, types: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """``types [B, n]`` node-type indices, ``adjacency [n, n]`` → codes ``[B, latent]``."""
        onehot = nn.functional.one_hot(types, self.num_types).to(self.project.weight.dtype)
        ahead = self._pass(onehot, adjacency, self.forward_cell, self.forward_sum)
        reverse = torch.arange(types.shape[1] - 1, -1, -1)
        back = self._pass(onehot[:, reverse], adjacency[reverse][:, reverse].T, self.backward_cell, self.backward_sum)
        return self.project(torch.cat([ahead, back], dim=1))


class OneHotEncoder(nn.Module):
    """The ``tnas-onehot`` ablation: an MLP on the 30-d one-hot cell encoding instead of the graph."""

    def __init__(self, hidden: int = 128, latent: int = 16, num_types: int = len(DAG_NODE_TYPES)) -> None:
        super().__init__()
        self.num_types, self.latent = num_types, latent
        width = (num_types - 2) * 6  # six op nodes, five ops each
        self.net = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, latent))

    def forward(self, types: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        ops = types[:, 1:-1] - 1  # op nodes only; input and output are the same in every cell
        onehot = nn.functional.one_hot(ops, self.num_types - 2).flatten(1).to(self.net[0].weight.dtype)
        return self.net(onehot)
