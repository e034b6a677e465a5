"""Architecture encoders ψ: a D-VAE-style bidirectional GRU over the cell DAG, or an MLP on one-hot."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch
from torch import nn

from tnasbench.space import SearchSpace
from tnasbench.space.arch import DAG_NODE_TYPES  # NB201 defaults


@dataclass(frozen=True)
class CellGraphs:
    """Every cell of a space as a DAG: node types ``[cells, nodes]`` and the adjacency (adj[u, v]: edge
    u→v), ``[nodes, nodes]`` where every cell has the same edges (NB201), else ``[cells, nodes, nodes]``."""

    types: torch.Tensor
    adjacency: torch.Tensor
    num_types: int

    def of(self, cells: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Types and adjacency of ``cells``, as the encoders take them."""
        return self.types[cells], self.adjacency if self.adjacency.dim() == 2 else self.adjacency[cells]

    def encode(self, encoder: nn.Module, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Codes of cells ``rows`` (every cell when None)."""
        return encoder(self.types, self.adjacency) if rows is None else encoder(*self.of(rows))

    def key(self) -> list[str]:
        """What identifies these cells beyond the meta tasks' checksums (the space's index: nothing)."""
        return []


@dataclass(frozen=True)
class ListedGraphs:
    """The DAGs of listed cells of a space too large to enumerate (its meta tables' cells): row i is
    ``cells[i]``. Chains of different lengths are encoded in groups of equal length."""

    space: SearchSpace
    cells: tuple
    num_types: int

    @classmethod
    def of_cells(cls, space: SearchSpace, cells: list) -> ListedGraphs:
        return cls(space, tuple(cells), len(space.node_types))

    def encode(self, encoder: nn.Module, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Codes of rows ``rows`` (every row when None), with gradients when the encoder trains."""
        chosen = self.cells if rows is None else [self.cells[int(r)] for r in rows]
        return encode_dags(encoder, self.space, chosen)

    def key(self) -> list[str]:
        text = "\n".join(self.space.to_string(c) for c in self.cells)
        return [f"cells={hashlib.sha256(text.encode()).hexdigest()[:16]}"]


@cache
def cell_graphs(space: SearchSpace) -> CellGraphs:
    """The space's DAG view of every cell, in index order."""
    dags = [space.dag(space.arch(i)) for i in range(len(space))]
    nodes = len(dags[0][0])
    all_types = torch.tensor(np.array([types for types, _ in dags]), dtype=torch.long)
    if space.fixed_topology and any(links != dags[0][1] for _, links in dags):
        raise ValueError(f"the {space.name} space says fixed_topology, but its cells' DAG edges differ: set it False")
    adjacency = torch.zeros(len(dags) if not space.fixed_topology else 1, nodes, nodes, dtype=torch.bool)
    for k, (_, links) in enumerate(dags[: len(adjacency)]):
        for u, v in links:
            adjacency[k, u, v] = True
    return CellGraphs(all_types, adjacency[0] if space.fixed_topology else adjacency, len(space.node_types))


def encode_dags(encoder: nn.Module, space: SearchSpace, cells: list) -> torch.Tensor:
    """Codes ``[len(cells), latent]`` of cells whose DAGs may differ in size (a large space's chains): the
    encoder runs once per node count, on one shared adjacency where the group's edges agree."""
    dags = [_dag_of(space, c) for c in cells]
    weight = next(encoder.parameters())
    codes = weight.new_zeros(len(cells), encoder.latent)
    groups: dict[int, list[int]] = {}
    for k, (types, _) in enumerate(dags):
        groups.setdefault(len(types), []).append(k)
    for nodes, members in groups.items():
        types = torch.tensor([dags[k][0] for k in members], dtype=torch.long, device=weight.device)
        adjacency = torch.zeros(len(members), nodes, nodes, dtype=torch.bool, device=weight.device)
        for row, k in enumerate(members):
            for u, v in dags[k][1]:
                adjacency[row, u, v] = True
        shared = bool((adjacency == adjacency[0]).all())
        codes[members] = encoder(types, adjacency[0] if shared else adjacency)
    return codes


def _dag_of(space: SearchSpace, cell: object) -> tuple:
    """``space.dag(cell)``, remembered: meta-training encodes the same listed cells in every minibatch."""
    try:
        return _dags[(space.name, cell)]
    except KeyError:
        if len(_dags) > 200_000:
            _dags.clear()
        found = _dags[(space.name, cell)] = space.dag(cell)
        return found


_dags: dict[tuple[str, object], tuple] = {}


class _GatedMessage(nn.Module):
    """D-VAE's message of a node to its successors: sigmoid(g(h_u)) * m(h_u); a node's input is the sum."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.gate = nn.Linear(hidden, hidden)
        self.map = nn.Linear(hidden, hidden, bias=False)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.gate(states)) * self.map(states)


@cache
def _lineages(adjacency: bytes, nodes: int) -> tuple[tuple[list[int], list[int]], ...]:
    """Per node of a DAG given as the bytes of its boolean adjacency: its ancestors and itself, sorted, and its
    predecessors (remembered: every pass of the encoder walks the same few DAGs)."""
    edges = np.frombuffer(adjacency, dtype=bool).reshape(nodes, nodes)
    found: list[set[int]] = []
    for v in range(nodes):
        found.append({v}.union(*(found[u] for u in range(v) if edges[u, v])))
    return tuple((sorted(found[v]), [u for u in range(v) if edges[u, v]]) for v in range(nodes))


def _distinct(keys: torch.Tensor, base: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row of the first occurrence of each distinct row of ``keys`` (values < ``base``), each row's index."""
    if base ** keys.shape[1] < 2**62:  # one integer per row: a 1-d unique is a sort, the row-wise one is slow
        keys = keys @ base ** torch.arange(keys.shape[1], dtype=keys.dtype, device=keys.device)
        _, inverse = torch.unique(keys, return_inverse=True)
    else:
        _, inverse = torch.unique(keys, dim=0, return_inverse=True)
    count = int(inverse.max()) + 1
    rows = torch.arange(len(keys), device=keys.device)
    first = torch.full((count,), len(keys), dtype=torch.long, device=keys.device)
    first = first.scatter_reduce_(0, inverse, rows, reduce="amin")
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
        if adjacency.dim() == 3:
            return self._pass_per_cell(types, adjacency, cell, message)
        eye = torch.eye(self.num_types, dtype=self.project.weight.dtype, device=self.project.weight.device)
        sent: list[tuple[torch.Tensor, torch.Tensor]] = []  # per node: messages of its distinct states, index
        for v, (lineage, preds) in enumerate(_lineages(adjacency.cpu().numpy().tobytes(), len(adjacency))):
            first, inverse = _distinct(types[:, lineage], self.num_types)
            if preds:
                incoming = sum(sent[u][0][sent[u][1][first]] for u in preds)
            else:
                incoming = eye.new_zeros(len(first), self.hidden)
            state = cell(eye[types[first, v]], incoming)
            if v == len(adjacency) - 1:
                return state[inverse]
            sent.append((message(state), inverse))
        raise ValueError("a cell DAG needs at least one node")

    def _pass_per_cell(
        self, types: torch.Tensor, adjacency: torch.Tensor, cell: nn.GRUCell, message: nn.Module
    ) -> torch.Tensor:
        """``_pass`` where each cell has its own edges (``adjacency [B, n, n]``): every node of every cell."""
        eye = torch.eye(self.num_types, dtype=self.project.weight.dtype, device=self.project.weight.device)
        weights = adjacency.to(eye.dtype)
        sent: list[torch.Tensor] = []
        for v in range(types.shape[1]):
            incoming = sum((weights[:, u, v, None] * sent[u] for u in range(v)), eye.new_zeros(len(types), self.hidden))
            state = cell(eye[types[:, v]], incoming)
            if v == types.shape[1] - 1:
                return state
            sent.append(message(state))
        raise ValueError("a cell DAG needs at least one node")

    def forward(self, types: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """``types [B, n]`` node-type indices, ``adjacency [n, n]`` (or ``[B, n, n]``) → codes ``[B, latent]``."""
        ahead = self._pass(types, adjacency, self.forward_cell, self.forward_sum)
        reverse = torch.arange(types.shape[1] - 1, -1, -1)
        flipped = adjacency[..., reverse, :][..., :, reverse].transpose(-1, -2)
        back = self._pass(types[:, reverse], flipped, self.backward_cell, self.backward_sum)
        return self.project(torch.cat([ahead, back], dim=1))


class OneHotEncoder(nn.Module):
    """The ``tnas-onehot`` ablation: an MLP on the one-hot op of every op node instead of the graph (and,
    where cells differ in their edges, the adjacency's upper triangle)."""

    def __init__(
        self, hidden: int = 128, latent: int = 16, num_types: int = len(DAG_NODE_TYPES), nodes: int = 8, edges: int = 0
    ) -> None:
        super().__init__()
        self.num_types, self.latent = num_types, latent
        width = (num_types - 2) * (nodes - 2) + edges  # op nodes' ops (input and output are in every cell)
        self.net = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, latent))

    def forward(self, types: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        ops = types[:, 1:-1] - 1  # op nodes only; input and output are the same in every cell
        x = nn.functional.one_hot(ops, self.num_types - 2).flatten(1).to(self.net[0].weight.dtype)
        if adjacency.dim() == 3:  # the edges differ between cells: they are part of the encoding
            rows, cols = torch.triu_indices(adjacency.shape[1], adjacency.shape[2], 1)
            x = torch.cat([x, adjacency[:, rows, cols].to(x.dtype)], dim=1)
        return self.net(x)
