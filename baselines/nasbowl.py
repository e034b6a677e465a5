"""NAS-BOWL (Ru et al., ICLR 2021): a GP with the Weisfeiler-Lehman graph kernel (grakel) on cell DAGs,
expected improvement, candidates from mutations of the incumbents plus random cells.

The WL depth and the noise level are chosen each iteration by the GP's marginal likelihood, as in
the paper; the GP itself is the textbook Cholesky form over grakel's normalised kernel matrices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tnasbench.lazy import lazy_import
from tnasbench.searchers.observing import ObservingSearcher
from tnasbench.searchers.params import config_from_params
from tnasbench.searchers.protocol import SearchContext
from tnasbench.space import SearchSpace

if TYPE_CHECKING:  # grakel (with scikit-learn) takes ~0.9 s to import: only a NAS-BOWL step needs it
    from grakel import Graph

linalg, stats = lazy_import("scipy.linalg"), lazy_import("scipy.stats")


@dataclass(frozen=True)
class NasbowlConfig:
    initial: int = 10
    depths: tuple[int, ...] = (1, 2, 3)  # WL iterations to choose from
    noises: tuple[float, ...] = (1e-3, 1e-2, 1e-1)  # noise variances (standardised units) to choose from
    parents: int = 10  # incumbents whose neighbours are candidates
    random_candidates: int = 100

    def __post_init__(self) -> None:
        if self.initial < 2 or not self.depths or not self.noises:
            raise ValueError("nasbowl: initial must be at least 2 and depths and noises non-empty")


def cell_graph(space: SearchSpace, arch: Any) -> Graph:
    """The space's op-on-node DAG of ``arch`` as a grakel graph labelled by node type (input, op, output)."""
    from grakel import Graph

    types, links = space.dag(arch)
    edges = {u: [] for u in range(len(types))}
    for u, v in links:
        edges[u].append(v)
    return Graph(edges, node_labels={v: space.node_types[t] for v, t in enumerate(types)})


class Nasbowl(ObservingSearcher):
    """Params: see ``NasbowlConfig``."""

    name = "nasbowl"
    params_type = NasbowlConfig
    large_spaces = True

    def setup(self, space: SearchSpace, context: SearchContext, seed: int) -> None:
        self.config = config_from_params(NasbowlConfig, self.params, self.name)
        self.start(space, seed)
        self.chosen: tuple[int, float] | None = None  # (WL depth, noise) of the last fit

    def ask(self) -> Any:
        if len(self.observed) < self.config.initial:
            return self.random_unseen()
        candidates = self._candidates()
        mean, std, best = self.posterior(candidates)
        z = (mean - best) / std
        ei = std * (stats.norm.pdf(z) + z * stats.norm.cdf(z))
        return self.cell(candidates[int(np.argmax(ei))])

    def _candidates(self) -> list[int]:
        """Mutations of the incumbents plus random cells, none evaluated yet."""
        randoms = set(self.random_ids(self.config.random_candidates))
        return sorted(self.mutations_of_best(self.config.parents) | (randoms - set(self.observed)))

    def posterior(self, candidates: list[int]) -> tuple[np.ndarray, np.ndarray, float]:
        """Mean and std at the candidates and the incumbent, in standardised units, under the best (depth, noise)."""
        from grakel.kernels import VertexHistogram, WeisfeilerLehman

        y = np.asarray(self.accuracies)
        y = (y - y.mean()) / (y.std() + 1e-12)
        train = [cell_graph(self._space, self.cell(i)) for i in self.observed]
        test = [cell_graph(self._space, self.cell(i)) for i in candidates]
        fits = []
        for depth in self.config.depths:
            kernel = WeisfeilerLehman(n_iter=depth, normalize=True, base_graph_kernel=VertexHistogram)
            gram = kernel.fit_transform(train)
            for noise in self.config.noises:
                fits.append((log_marginal_likelihood(gram, y, noise), depth, noise, kernel, gram))
        _, depth, noise, kernel, gram = max(fits, key=lambda fit: fit[0])
        self.chosen = (depth, noise)
        cross = kernel.transform(test)  # [candidates, train], normalised: the prior variance is 1
        factor = linalg.cho_factor(gram + noise * np.eye(len(y)), lower=True)
        mean = cross @ linalg.cho_solve(factor, y)
        reduced = linalg.solve_triangular(factor[0], cross.T, lower=True)
        std = np.sqrt(np.clip(1.0 - (reduced**2).sum(0), 1e-12, None))
        return mean, std, float(y.max())


def log_marginal_likelihood(gram: np.ndarray, y: np.ndarray, noise: float) -> float:
    factor = linalg.cho_factor(gram + noise * np.eye(len(y)), lower=True)
    return float(
        -0.5 * y @ linalg.cho_solve(factor, y) - np.log(np.diag(factor[0])).sum() - 0.5 * len(y) * np.log(2 * np.pi)
    )
