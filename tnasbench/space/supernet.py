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


class Supernet(NB201Network):
    """The NB201 macro skeleton with mixed cells; ``forward(x, weights [6, 5], indices)``."""

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__(None, config, cell_factory=MixedCell)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, indices: list[int] | None = None) -> torch.Tensor:
        h = self.stem(x)
        for layer in self.layers:
            h = layer(h, weights, indices) if isinstance(layer, MixedCell) else layer(h)
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
