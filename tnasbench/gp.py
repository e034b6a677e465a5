"""The exact GP posterior at many points from one Cholesky factor (shared by TNAS and the BoTorch baselines)."""

from __future__ import annotations

import math

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


def matern52(kernel: nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """gpytorch's ``ScaleKernel(MaternKernel(nu=2.5))`` between ``x1`` and ``x2`` as a plain tensor, with the
    same centring and distance clamp, without its lazy-tensor dispatch (which costs more than the maths here)."""
    base = kernel.base_kernel
    if base.nu != 2.5 or (base.ard_num_dims or 1) > 1:
        raise ValueError("matern52 expects ScaleKernel(MaternKernel(nu=2.5)) without ARD")
    centre = x1.mean(dim=0, keepdim=True)
    a, b = (x1 - centre) / base.lengthscale, (x2 - centre) / base.lengthscale
    squared = a.pow(2).sum(-1, keepdim=True) - 2 * a @ b.T + b.pow(2).sum(-1)
    distance = squared.clamp_min(1e-30).sqrt()
    root5 = 5.0**0.5 * distance
    return kernel.outputscale * (1 + root5 + root5.pow(2) / 3) * torch.exp(-root5)


class _GaussianNll(torch.autograd.Function):
    """−log N(r; 0, K) / n with its gradient in closed form, ∂/∂K = (K⁻¹ − ααᵀ) / 2n and ∂/∂r = α / n
    (α = K⁻¹r): one inverse from the factor instead of differentiating through the Cholesky decomposition."""

    @staticmethod
    def forward(ctx, covariance: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        n = len(residual)
        factor = torch.linalg.cholesky(covariance)
        alpha = torch.cholesky_solve(residual.unsqueeze(-1), factor).squeeze(-1)
        ctx.save_for_backward(factor, alpha)
        return 0.5 * (residual @ alpha + 2 * factor.diagonal().log().sum() + n * math.log(2 * math.pi)) / n

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        factor, alpha = ctx.saved_tensors
        n = len(alpha)
        inverse = torch.cholesky_inverse(factor)
        return grad * 0.5 * (inverse - torch.outer(alpha, alpha)) / n, grad * alpha / n


def exact_nll(
    mean: nn.Module, kernel: nn.Module, noise: torch.Tensor, x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """Negative exact marginal log likelihood per point of ``y`` at ``x`` (gpytorch's
    ``ExactMarginalLogLikelihood``, negated; its value and gradient), from one Cholesky factor."""
    covariance = matern52(kernel, x, x) + noise * torch.eye(len(x), dtype=x.dtype, device=x.device)
    return _GaussianNll.apply(covariance, y - mean(x))
