"""The standard NB201 network (stem, 3 stages of N cells, residual reductions) in torch."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tnasbench.space.arch import EDGES, OPS, Arch

NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "imagenet16-120": 120}
INPUT_SIZE = {"cifar10": 32, "cifar100": 32, "imagenet16-120": 16}


@dataclass(frozen=True)
class NetworkConfig:
    """Macro skeleton: C channels in the first stage, N cells per stage."""

    channels: int = 16
    cells_per_stage: int = 5
    in_channels: int = 3
    num_classes: int = 10

    @property
    def stage_channels(self) -> tuple[int, int, int]:
        c = self.channels
        return (c, 2 * c, 4 * c)


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One candidate operation of a cell edge (stride 1, channels preserved)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown op {name!r}")


class Cell(nn.Module):
    """A fixed cell: node j is the sum of the ops on the edges entering it."""

    def __init__(self, arch: Arch, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(make_op(OPS[op], channels) for op in arch.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for to_node in (1, 2, 3):
            nodes.append(sum(self.edges[k](nodes[src]) for k, (src, dst) in enumerate(EDGES) if dst == to_node))
        return nodes[3]


class ResidualReduction(nn.Module):
    """NB201's residual block between stages: stride 2, channels doubled."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """Stem, then N cells, reduction, N cells, reduction, N cells, then the classifier."""

    def __init__(self, arch: Arch | None, config: NetworkConfig, cell_factory=None) -> None:
        super().__init__()
        make_cell = cell_factory or (lambda c: Cell(arch, c))
        c1, c2, c3 = config.stage_channels
        self.stem = nn.Sequential(nn.Conv2d(config.in_channels, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1))
        layers: list[nn.Module] = []
        for stage, c in enumerate((c1, c2, c3)):
            if stage > 0:
                layers.append(ResidualReduction(c // 2, c))
            layers += [make_cell(c) for _ in range(config.cells_per_stage)]
        self.layers = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.BatchNorm2d(c3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(c3, config.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.layers(self.stem(x))))


def _conv_params(c_in: int, c_out: int, kernel: int) -> int:
    return c_in * c_out * kernel * kernel + 2 * c_out  # conv weights + BN affine


def _edge_params(op: str, c: int) -> int:
    return {"nor_conv_1x1": _conv_params(c, c, 1), "nor_conv_3x3": _conv_params(c, c, 3)}.get(op, 0)


def parameter_count(arch: Arch, config: NetworkConfig) -> int:
    """Exact number of trainable parameters of the network for this cell."""
    c1, c2, c3 = config.stage_channels
    total = config.in_channels * c1 * 9 + 2 * c1  # stem
    for c in (c2, c3):  # reductions
        total += _conv_params(c // 2, c, 3) + _conv_params(c, c, 3) + (c // 2) * c
    for c in (c1, c2, c3):
        total += config.cells_per_stage * sum(_edge_params(OPS[op], c) for op in arch.ops)
    return total + 2 * c3 + c3 * config.num_classes + config.num_classes  # head + classifier


def multiply_accumulates(arch: Arch, config: NetworkConfig, input_size: int) -> int:
    """Exact multiply-accumulates of one forward pass: convolutions and the linear layer."""
    c1, c2, c3 = config.stage_channels
    hw = input_size * input_size
    total = hw * config.in_channels * c1 * 9
    for stage, c in enumerate((c1, c2, c3)):
        if stage > 0:
            c_in, hw = c // 2, ((input_size >> stage) ** 2)
            total += hw * c_in * c * 9 + hw * c * c * 9 + hw * c_in * c
        cell = sum({"nor_conv_1x1": 1, "nor_conv_3x3": 9}.get(OPS[op], 0) for op in arch.ops)
        total += config.cells_per_stage * cell * hw * c * c
    return total + c3 * config.num_classes
