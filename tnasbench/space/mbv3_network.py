"""A MobileNetV3 subnet of Once-for-All's elastic space as a torch network, written from the papers'
description (Howard et al. 2019; Cai et al. 2020), trained from scratch by the live benchmark.

Macro skeleton as OFA's MobileNetV3-Large: a 3x3 stride-2 stem (16 channels, h-swish), one fixed
inverted-residual block (expand 1, kernel 3), then the cell's five stages of 2-4 inverted-residual layers
(widths 24/40/80/112/160, first-layer strides 2/2/2/1/2, ReLU in the first two stages and h-swish after,
squeeze-and-excitation in stages 2, 4 and 5), a 1x1 expansion to 6x the last width, global pooling, a
1x1 feature mix to 1280 and the classifier. ``width`` scales every channel count (rounded to 8).
"""

from __future__ import annotations

import torch
from torch import nn

from tnasbench.space.mobilenetv3 import MobileNetV3Space, mobilenetv3_space
from tnasbench.space.protocol import Cell

STAGE_WIDTHS = (24, 40, 80, 112, 160)
STAGE_STRIDES = (2, 2, 2, 1, 2)
STAGE_HSWISH = (False, False, True, True, True)
STAGE_SE = (False, True, False, True, True)
STEM, FEATURE_MIX, FINAL_EXPAND = 16, 1280, 6


def divisible(channels: float, by: int = 8) -> int:
    """Channels rounded to a multiple of ``by`` (never below it, never more than 10% under ``channels``)."""
    rounded = max(by, int(channels + by / 2) // by * by)
    return rounded + by if rounded < 0.9 * channels else rounded


def activation(hswish: bool) -> nn.Module:
    return nn.Hardswish() if hswish else nn.ReLU()


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out)]


class SqueezeExcite(nn.Module):
    """Channel attention: pooled features -> bottleneck (a quarter, rounded to 8) -> hard-sigmoid gates."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        middle = divisible(channels / 4)
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, middle, 1), nn.ReLU(), nn.Conv2d(middle, channels, 1),
            nn.Hardsigmoid(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class InvertedResidual(nn.Module):
    """1x1 expansion (skipped at ratio 1), depthwise k x k, optional SE, linear 1x1 projection; identity
    shortcut where the shape is kept."""

    def __init__(self, c_in: int, c_out: int, kernel: int, expand: int, stride: int, hswish: bool, se: bool) -> None:
        super().__init__()
        middle = divisible(c_in * expand)
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [*conv_bn(c_in, middle, 1), activation(hswish)]
        else:
            middle = c_in
        layers += [*conv_bn(middle, middle, kernel, stride, groups=middle), activation(hswish)]
        if se:
            layers.append(SqueezeExcite(middle))
        layers += conv_bn(middle, c_out, 1)
        self.body = nn.Sequential(*layers)
        self.shortcut = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.shortcut else out


class MobileNetV3Subnet(nn.Module):
    """The network of one ``mobilenetv3`` cell for images of ``in_channels`` channels and ``num_classes`` classes."""

    def __init__(
        self, cell: Cell, in_channels: int = 3, num_classes: int = 10, width: float = 1.0,
        space: MobileNetV3Space | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        space = space if space is not None else mobilenetv3_space()
        stem = divisible(STEM * width)
        blocks: list[nn.Module] = [nn.Sequential(*conv_bn(in_channels, stem, 3, 2), nn.Hardswish())]
        blocks.append(InvertedResidual(stem, stem, 3, 1, 1, False, False))
        layers, c_in = iter(space.layers(cell)), stem
        for s, depth in enumerate(space.depths(cell)):
            c_out = divisible(STAGE_WIDTHS[s] * width)
            for p in range(depth):
                kernel, expand = next(layers)
                stride = STAGE_STRIDES[s] if p == 0 else 1
                blocks.append(InvertedResidual(c_in, c_out, kernel, expand, stride, STAGE_HSWISH[s], STAGE_SE[s]))
                c_in = c_out
        final = divisible(c_in * FINAL_EXPAND)
        mix = divisible(FEATURE_MIX * width) if width > 1 else FEATURE_MIX
        self.features = nn.Sequential(*blocks, *conv_bn(c_in, final, 1), nn.Hardswish())
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(final, mix, 1), nn.Hardswish(), nn.Flatten(), nn.Linear(mix, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
