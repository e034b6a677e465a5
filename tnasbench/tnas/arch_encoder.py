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


class _GatedMessage(nn.Module):
    """D-VAE's message of a node to its successors: sigmoid(g(h_u)) * m(h_u); a node's input is the sum."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.gate = nn.Linear(hidden, hidden)
        self.map = nn.Linear(hidden, hidden, bias=False)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.gate(states)) * self.map(states)


def ancestors(adjacency: torch.Tensor) -> list[list[int]]:
    """Per node (in topological order), itself and every node with a path to it."""
    found: list[set[int]] = []
    for v in range(len(adjacency)):
        found.append({v}.union(*(found[u] for u in range(v) if adjacency[u, v])))
    return [sorted(a) for a in found]


def _distinct(keys: torch.Tensor, base: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row of the first occurrence of each distinct row of ``keys`` (values < ``base``), each row's index."""
    if base ** keys.shape[1] < 2**62:  # one integer per row: a 1-d unique is a sort, the row-wise one is slow
        keys = keys @ base ** torch.arange(keys.shape[1], dtype=keys.dtype, device=keys.device)
        _, inverse = torch.unique(keys, return_inverse=True)
    else:
        _, inverse = torch.unique(keys, dim=0, return_inverse=True)
    count = int(inverse.max()) + 1
    rows = torch.arange(len(keys))
    first = torch.full((count,), len(keys), dtype=torch.long).scatter_reduce_(0, inverse, rows, reduce="amin")
    return first, inverse


class DagGruEncoder(nn.Module):
    """One GRU cell passed forward in topological order, another backward, then a linear layer.

    Nodes must be indexed in a topological order; the result does not depend on which one.
    A node's state depends only on the types of itself and its ancestors, so each pass computes it
    once per distinct ancestor typing in the batch (1 for the source, 5 for a node after it, ...),
    not once per cell: the same function at a fraction of the work.
    """

    def __init__(self, hidden: int = 128, latent: int = 16, num_types: int = len(DAG_NODE_TYPES)) -> None:
        super().__init__()
        self.num_types, self.hidden, self.latent = num_types, hidden, latent
        self.forward_cell, self.backward_cell = nn.GRUCell(num_types, hidden), nn.GRUCell(num_types, hidden)
        self.forward_sum, self.backward_sum = _GatedMessage(hidden), _GatedMessage(hidden)
        self.project = nn.Linear(2 * hidden, latent)

    def _pass(self, types: torch.Tensor, adjacency: torch.Tensor, cell: nn.GRUCell, message: nn.Module) -> torch.Tensor:
        """The last node's state for every cell: ``types [B, n]`` in pass order, ``adjacency`` likewise."""
        eye = torch.eye(self.num_types, dtype=self.project.weight.dtype, device=self.project.weight.device)
        sent: list[tuple[torch.Tensor, torch.Tensor]] = []  # per node: messages of its distinct states, index
        for v, lineage in enumerate(ancestors(adjacency)):
            first, inverse = _distinct(types[:, lineage], self.num_types)
            preds = [u for u in range(v) if adjacency[u, v]]
            if preds:
                incoming = sum(sent[u][0][sent[u][1][first]] for u in preds)
            else:
                incoming = eye.new_zeros(len(first), self.hidden)
            state = cell(eye[types[first, v]], incoming)
            if v == len(adjacency) - 1:
                return state[inverse]
            sent.append((message(state), inverse))
        raise ValueError("a cell DAG needs at least one node")

    def forward(self, types: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """``types [B, n]`` node-type indices, ``adjacency [n, n]`` → codes ``[B, latent]``."""
        ahead = self._pass(types, adjacency, self.forward_cell, self.forward_sum)
        reverse = torch.arange(types.shape[1] - 1, -1, -1)
        back = self._pass(types[:, reverse], adjacency[reverse][:, reverse].T, self.backward_cell, self.backward_sum)
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
