"""The deep-kernel GP surrogate: ξ([ψ(arch), φ(dataset)]) → Matérn-5/2 kernel → exact GP."""

from __future__ import annotations

import gpytorch
import torch
from torch import nn

from tnasbench.gp import exact_nll, exact_posterior
from tnasbench.space.arch import DAG_NODE_TYPES
from tnasbench.tnas.arch_encoder import CellGraphs, DagGruEncoder, ListedGraphs, OneHotEncoder
from tnasbench.tnas.config import TnasConfig
from tnasbench.tnas.dataset_encoder import DatasetEncoder


class _ExactGP(gpytorch.models.ExactGP):
    def __init__(self, likelihood: gpytorch.likelihoods.GaussianLikelihood) -> None:
        super().__init__(None, None, likelihood)
        self.mean = gpytorch.means.ConstantMean()
        self.kernel = gpytorch.kernels.ScaleKernel(gpytorch.kernels.MaternKernel(nu=2.5))

    def forward(self, z: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        return gpytorch.distributions.MultivariateNormal(self.mean(z), self.kernel(z))


def _mlp(widths: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=False)):
        layers.append(nn.Linear(a, b))
        if k < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DeepKernelSurrogate(nn.Module):
    """All of w: encoders ψ and φ, head ξ and the GP's hyper-parameters (GP part in float64)."""

    def __init__(
        self,
        config: TnasConfig,
        use_data: bool,
        graphs: CellGraphs | ListedGraphs | None = None,
        num_types: int | None = None,
    ) -> None:
        """``graphs``: the space's cells (node types and edges size the encoder); without them ``num_types`` node
        types (a space too large to list), else NB201's."""
        super().__init__()
        if graphs is not None:
            num_types = graphs.num_types
        num_types = num_types or len(DAG_NODE_TYPES)
        if config.arch_encoder == "gru":
            self.arch_encoder = DagGruEncoder(config.arch_hidden, config.arch_latent, num_types)
        elif isinstance(graphs, ListedGraphs):
            raise ValueError("the one-hot encoder needs cells of one size; a large space's cells differ: use gru")
        else:
            nodes = graphs.types.shape[1] if graphs is not None else 8
            edges = nodes * (nodes - 1) // 2 if graphs is not None and graphs.adjacency.dim() == 3 else 0
            self.arch_encoder = OneHotEncoder(config.arch_hidden, config.arch_latent, num_types, nodes, edges)
        self.data_encoder = DatasetEncoder(hidden=config.data_hidden, latent=config.data_latent) if use_data else None
        width = config.arch_latent + (config.data_latent if use_data else 0)
        self.head = _mlp([width, *config.head])
        self.likelihood = gpytorch.likelihoods.GaussianLikelihood().double()
        self.gp = _ExactGP(self.likelihood).double()

    def finetuned_parameters(self) -> list[nn.Parameter]:
        """What meta-test fine-tuning trains: the head and the GP; the encoders stay frozen."""
        return [*self.head.parameters(), *self.gp.parameters()]

    def data_code(self, features: torch.Tensor | None) -> torch.Tensor | None:
        if self.data_encoder is None:
            return None
        if features is None:
            raise ValueError("this surrogate has a dataset encoder and needs the dataset's image features")
        return self.data_encoder(features)

    def features(self, arch_codes: torch.Tensor, data_code: torch.Tensor | None) -> torch.Tensor:
        """Kernel inputs of cells given their arch codes ``[B, latent]`` and the dataset's code."""
        if data_code is not None:
            arch_codes = torch.cat([arch_codes, data_code.expand(len(arch_codes), -1)], dim=1)
        return self.head(arch_codes).double()

    def nll(self, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Negative exact marginal log likelihood (per point) of ``targets`` at ``features`` (gpytorch's value)."""
        return exact_nll(self.gp.mean, self.gp.kernel, self.likelihood.noise.squeeze(), features, targets)

    def predict(
        self, train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and variance of the latent function at ``test_x``, conditioned on the training data."""
        self.gp.eval()
        noise = self.likelihood.noise.squeeze()
        return exact_posterior(self.gp.mean, self.gp.kernel, noise, train_x, train_y, test_x, jitter=1e-8)
