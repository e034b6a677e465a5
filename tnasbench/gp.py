"""The exact GP posterior at many points from one Cholesky factor (shared by TNAS and the BoTorch baselines)."""

from __future__ import annotations

import torch
from torch import nn

CHUNK = 8192  # test points per cross-covariance block


@torch.no_grad()
def exact_posterior(
    mean: nn.Module,
    kernel: nn.Module,
    noise: torch.Tensor,
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    test_x: torch.Tensor,
    jitter: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and variance of the latent function at ``test_x`` for gpytorch ``mean`` and ``kernel``
    modules and observation ``noise`` (a scalar or one value per training point).

    The textbook form: one Cholesky factor of the training kernel, the test-train cross-covariance
    block by block. gpytorch's own prediction builds the N×N test covariance (or, batched, the
    train-train kernel once per candidate), which is what makes scoring all 15,625 cells slow.
    """
    eye = torch.eye(len(train_x), dtype=train_x.dtype, device=train_x.device)
    factor = torch.linalg.cholesky(kernel(train_x).to_dense() + (noise.expand(len(train_x)) + jitter) * eye)
    alpha = torch.cholesky_solve((train_y - mean(train_x)).unsqueeze(-1), factor)
    means, variances = [], []
    for chunk in test_x.split(CHUNK):
        cross = kernel(chunk, train_x).to_dense()  # [chunk, n]
        means.append(mean(chunk) + (cross @ alpha).squeeze(-1))
        reduced = torch.linalg.solve_triangular(factor, cross.T, upper=False)
        variances.append((kernel(chunk, diag=True) - reduced.pow(2).sum(0)).clamp_min(1e-12))
    return torch.cat(means), torch.cat(variances)
