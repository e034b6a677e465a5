"""Dataset encoder φ: Set-Transformer blocks over samples within each class, then across classes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

FEATURE_SIDE = 8  # images are reduced to 8×8 grey levels: a fixed, parameter-free feature map


def image_features(sample: Mapping[int, np.ndarray]) -> torch.Tensor:
    """Per-class image sample ``{label: [n, (c,) h, w]}`` → features ``[classes, n, 64]``.

    Every class must hold the same number of images (``image_sample`` draws them so).
    """
    sizes = {len(images) for images in sample.values()}
    if len(sizes) != 1:
        raise ValueError(f"every class needs the same number of images, got sizes {sorted(sizes)}")
    classes = []
    for label in sorted(sample):
        x = torch.as_tensor(np.asarray(sample[label]), dtype=torch.float32)
        if x.ndim == 4:  # colour: average the channels
            x = x.mean(dim=1)
        x = nn.functional.adaptive_avg_pool2d(x.unsqueeze(1), FEATURE_SIDE).flatten(1)
        classes.append((x - x.mean()) / (x.std() + 1e-6))
    return torch.stack(classes)


class _AttentionBlock(nn.Module):
    """MAB(X, Y) of the Set Transformer: LN(H + rFF(H)) with H = LN(X + Attention(X, Y, Y))."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.feed = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.norm1(x + self.attention(x, y, y, need_weights=False)[0])
        return self.norm2(h + self.feed(h))


class SetBlock(nn.Module):
    """Self-attention over a set (SAB) followed by pooling by multi-head attention to one vector (PMA)."""

    def __init__(self, in_width: int, width: int, heads: int) -> None:
        super().__init__()
        self.embed = nn.Linear(in_width, width)
        self.self_attention = _AttentionBlock(width, heads)
        self.seed = nn.Parameter(torch.randn(1, 1, width) * 0.1)
        self.pool = _AttentionBlock(width, heads)

    def forward(self, sets: torch.Tensor) -> torch.Tensor:
        """``[batch, set size, in_width]`` → ``[batch, width]``, invariant to the order within each set."""
        h = self.embed(sets)
        h = self.self_attention(h, h)
        return self.pool(self.seed.expand(len(sets), -1, -1), h).squeeze(1)


class DatasetEncoder(nn.Module):
    """φ(D): the first block summarises each class's samples, the second the set of classes."""

    def __init__(self, in_width: int = FEATURE_SIDE**2, hidden: int = 64, latent: int = 16, heads: int = 4) -> None:
        super().__init__()
        self.latent = latent
        self.within_class = SetBlock(in_width, hidden, heads)
        self.across_classes = SetBlock(hidden, hidden, heads)
        self.project = nn.Linear(hidden, latent)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``[classes, samples, in_width]`` → ``[latent]``."""
        per_class = self.within_class(features)
        return self.project(self.across_classes(per_class.unsqueeze(0))).squeeze(0)
