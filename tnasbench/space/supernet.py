"""The NB201 supernet: every cell edge a weighted mixture of the 5 ops, architecture weights shared by all cells."""

from __future__ import annotations

import torch
from torch import nn

from tnasbench.space.arch import EDGES, NUM_EDGES, OPS, Arch
from tnasbench.space.network import NB201Network, NetworkConfig, make_op


class MixedEdge(nn.Module):
    """All five ops of one edge, each with its own weights."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(make_op(name, channels) for name in OPS)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, index: int | None = None) -> torch.Tensor:
        """Soft mixture ``sum_i w_i op_i(x)``; with ``index`` only that op runs (GDAS's hard sampling),
        the other weights added as constants so their gradients still reach the architecture."""
        if index is None:
            return sum(w * op(x) for w, op in zip(weights, self.ops, strict=True))
        return self.ops[index](x) * weights[index] + (weights.sum() - weights[index])


class MixedCell(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedEdge(channels) for _ in range(NUM_EDGES))

    def forward(self, x: torch.Tensor, weights: torch.Tensor, indices: list[int] | None = None) -> torch.Tensor:
        nodes = [x]
        for to_node in (1, 2, 3):
            nodes.append(
                sum(
                    self.edges[k](nodes[src], weights[k], None if indices is None else indices[k])
                    for k, (src, dst) in enumerate(EDGES)
                    if dst == to_node
                )
            )
        return nodes[3]


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` equal groups (ShuffleNet), so every channel is sampled in turn."""
    batch, channels, height, width = x.shape
    return (
        x.view(batch, groups, channels // groups, height, width).transpose(1, 2).reshape(batch, channels, height, width)
    )


class PartialMixedEdge(nn.Module):
    """PC-DARTS's partial-channel edge: 1/``k`` of the channels go through the weighted op mixture, the rest
    pass unchanged, then the channels are shuffled so the next edge samples other ones."""

    def __init__(self, channels: int, k: int) -> None:
        super().__init__()
        if channels % k:
            raise ValueError(f"PC-DARTS: {channels} channels do not split into {k} equal parts: pick another k")
        self.k = k
        self.mixed = MixedEdge(channels // k)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        part = x.shape[1] // self.k
        return channel_shuffle(torch.cat([self.mixed(x[:, :part], weights), x[:, part:]], dim=1), self.k)


class PartialMixedCell(nn.Module):
    """A cell of partial-channel edges with PC-DARTS's edge normalisation: each node sums its incoming edges
    weighted by a softmax over them (``edge_weights [6]``, normalised per node by the caller)."""

    def __init__(self, channels: int, k: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(PartialMixedEdge(channels, k) for _ in range(NUM_EDGES))

    def forward(self, x: torch.Tensor, weights: tuple[torch.Tensor, torch.Tensor], _: None = None) -> torch.Tensor:
        op_weights, edge_weights = weights
        nodes = [x]
        for to_node in (1, 2, 3):
            nodes.append(
                sum(
                    edge_weights[k] * self.edges[k](nodes[src], op_weights[k])
                    for k, (src, dst) in enumerate(EDGES)
                    if dst == to_node
                )
            )
        return nodes[3]


def incoming_softmax(beta: torch.Tensor) -> torch.Tensor:
    """Edge weights ``[6]`` from ``beta [6]``: a softmax over the edges entering each node."""
    weights = torch.empty_like(beta)
    for to_node in (1, 2, 3):
        into = [k for k, (_, dst) in enumerate(EDGES) if dst == to_node]
        weights[into] = beta[into].softmax(dim=0)
    return weights


class Supernet(NB201Network):
    """The NB201 macro skeleton with mixed cells; ``forward(x, weights [6, 5], indices)``. With
    ``partial_channels = k`` the cells are PC-DARTS's and ``weights`` is (op weights, edge weights)."""

    def __init__(self, config: NetworkConfig, partial_channels: int = 0) -> None:
        cells = (lambda c: PartialMixedCell(c, partial_channels)) if partial_channels else MixedCell
        super().__init__(None, config, cell_factory=cells)

    def forward(self, x: torch.Tensor, weights, indices: list[int] | None = None) -> torch.Tensor:
        h = self.stem(x)
        for layer in self.layers:
            h = layer(h, weights, indices) if isinstance(layer, (MixedCell, PartialMixedCell)) else layer(h)
        return self.classifier(self.head(h))


def extract_network(supernet: Supernet, arch: Arch, config: NetworkConfig) -> NB201Network:
    """The standalone network of ``arch`` carrying the supernet's (shared) weights of the chosen ops."""
    network = NB201Network(arch, config)
    state = {}
    for name, value in supernet.state_dict().items():
        parts = name.split(".")
        if "edges" in parts:  # layers.<i>.edges.<k>.ops.<op>.<rest> -> layers.<i>.edges.<k>.<rest>
            k, op = int(parts[parts.index("edges") + 1]), int(parts[parts.index("ops") + 1])
            if op != arch.ops[k]:
                continue
            cut = parts.index("ops")
            name = ".".join(parts[:cut] + parts[cut + 2 :])
        state[name] = value
    network.load_state_dict(state)
    return network
