"""The search-space protocol: a finite, indexed set of cells that searchers meet instead of a cell type.

A space is a subset of a product of categorical dimensions (NB201: 6 edges x 5 ops). It gives
every cell an index (the row of its benchmark tables), samples, a mutation neighbourhood,
one-hot / categorical encodings, a DAG view (node types + adjacency) for graph encoders and WL
kernels, a path encoding where it defines one, and isomorphism classes where they are known.
Everything a searcher needs goes through these methods; nothing outside ``tnasbench/space/``
needs to know what a cell is made of.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from tnasbench.errors import TnasbenchError

Dag = tuple[list[int], list[tuple[int, int]]]  # node types (indices into node_types) and directed edges u -> v


@dataclass(frozen=True)
class Dimension:
    """One categorical choice of a cell (an edge's op, a node's input)."""

    name: str
    choices: tuple[str, ...]


@dataclass(frozen=True, order=True)
class Cell:
    """A cell of a categorical space: one choice index per dimension; its space says what they mean."""

    choices: tuple[int, ...]

    def __str__(self) -> str:
        return "(" + ", ".join(map(str, self.choices)) + ")"


class SearchSpace(ABC):
    """A finite, indexed candidate set. Subclasses give the cells in index order and the DAG view.

    Index order is the row order of the space's benchmark tables. Cells are hashable and carry
    ``choices`` (one index per ``dimensions`` entry). Topology: node ``0`` of every DAG is the input
    and the last node the output, nodes in a topological order.
    """

    name: ClassVar[str]
    dimensions: tuple[Dimension, ...]
    node_types: tuple[str, ...]  # the DAG's node-type names
    fixed_topology: ClassVar[bool] = True  # every cell has the same DAG edges (only node types differ)
    enumerable: ClassVar[bool] = True  # False: too large to list (``LargeSpace``); searchers score a pool

    def __init__(self, cells: Sequence[Hashable]) -> None:
        self.archs: tuple[Any, ...] = tuple(cells)
        self._index = {cell: i for i, cell in enumerate(self.archs)}
        if len(self._index) != len(self.archs):
            raise ValueError(f"{self.name}: a space's cells must be distinct")

    # --- what a subclass gives -------------------------------------------------
    @abstractmethod
    def make(self, choices: Sequence[int]) -> Any:
        """The cell with these choices (it may lie outside the space: check with ``contains``)."""

    @abstractmethod
    def dag(self, cell: Any) -> Dag:
        """Op-on-node DAG of ``cell``: node types (indices into ``node_types``) and sorted edges."""

    def path_encoding(self, cell: Any) -> np.ndarray | None:
        """The BANANAS path encoding where the space defines one, else None."""
        return None

    def canonical_key(self, cell: Any) -> Hashable:
        """Equal keys = the same function (isomorphic cells); by default every cell is its own class."""
        return cell

    def to_string(self, cell: Any) -> str:
        """The cell in the benchmark's own notation."""
        return str(cell)

    def parse(self, text: str) -> Any:
        """The cell written as ``to_string`` writes it, or as its choices ``(1, 0, 3, ...)``."""
        try:
            values = [int(v) for v in text.strip().strip("()[]").split(",")]
        except ValueError:
            raise TnasbenchError(
                f"not a {self.name} cell: {text!r} (write its choices, e.g. {self.archs[0]})"
            ) from None
        return self.index_cell(self.make(values))

    # --- membership and indices ------------------------------------------------
    def __len__(self) -> int:
        return len(self.archs)

    @property
    def size(self) -> int:
        """How many cells the space holds (for a large space, more than any list could)."""
        return len(self.archs)

    def arch(self, index: int) -> Any:
        return self.archs[index]

    def contains(self, cell: object) -> bool:
        try:
            return cell in self._index
        except TypeError:  # unhashable: not a cell
            return False

    def index(self, cell: Any) -> int:
        try:
            return self._index[cell]
        except (KeyError, TypeError):
            raise TnasbenchError(f"{cell!r} is not a cell of the {self.name} space") from None

    def index_cell(self, cell: Any) -> Any:
        """``cell`` itself, after checking it is in the space."""
        self.index(cell)
        return cell

    def find(self, choices: Sequence[int]) -> Any | None:
        """The cell with these choices if the space holds it, else None."""
        try:
            cell = self.make(tuple(int(c) for c in choices))
        except (TnasbenchError, ValueError):
            return None
        return cell if self.contains(cell) else None

    def nearest(self, rows: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """Index of the cell nearest each row of choices by Hamming distance (the lowest index on ties),
        among the ``allowed`` cells (a boolean mask) when given."""
        rows = np.atleast_2d(np.asarray(rows))
        penalty = 0 if allowed is None else (len(self.dimensions) + 1) * ~np.asarray(allowed, dtype=bool)
        found = []
        for start in range(0, len(rows), 64):  # bounded memory: 64 rows x cells x dimensions at a time
            block = rows[start : start + 64]
            distance = (self.choices_matrix[None] != block[:, None]).sum(-1) + penalty
            found.extend(np.argmin(distance, axis=1).tolist())
        return np.asarray(found, dtype=np.int64)

    def sample(self, rng: np.random.Generator) -> Any:
        return self.archs[int(rng.integers(len(self.archs)))]

    def neighbours(self, cell: Any) -> list[Any]:
        """Cells of the space that differ from ``cell`` in exactly one dimension, by (dimension, choice)."""
        choices = self.choices_of(cell)
        found = []
        for d, dimension in enumerate(self.dimensions):
            for value in range(len(dimension.choices)):
                if value != choices[d]:
                    other = self.find(choices[:d] + (value,) + choices[d + 1 :])
                    if other is not None:
                        found.append(other)
        return found

    def choices_of(self, cell: Any) -> tuple[int, ...]:
        return tuple(cell.choices)

    # --- encodings of every cell (row i = cell index i) --------------------------
    @cached_property
    def choices_matrix(self) -> np.ndarray:
        """Every cell's categorical choices (cells x dimensions)."""
        return np.array([self.choices_of(c) for c in self.archs], dtype=np.int64)

    @cached_property
    def one_hot_matrix(self) -> np.ndarray:
        """One-hot of every dimension, concatenated (cells x sum of choices)."""
        blocks = [
            np.eye(len(d.choices), dtype=np.float32)[self.choices_matrix[:, k]] for k, d in enumerate(self.dimensions)
        ]
        return np.concatenate(blocks, axis=1)

    @cached_property
    def path_matrix(self) -> np.ndarray | None:
        """Path encodings of every cell, or None where the space defines none."""
        if self.path_encoding(self.archs[0]) is None:
            return None
        return np.stack([self.path_encoding(c) for c in self.archs])

    @cached_property
    def adjacency_matrix(self) -> np.ndarray:
        """BANANAS' adjacency + ops encoding: the DAG's upper-triangular adjacency and one-hot node types."""
        rows = []
        for cell in self.archs:
            types, links = self.dag(cell)
            n = len(types)
            adjacency = np.zeros((n, n), dtype=np.float32)
            for u, v in links:
                adjacency[u, v] = 1.0
            ops = np.eye(len(self.node_types), dtype=np.float32)[types]
            rows.append(np.concatenate([adjacency[np.triu_indices(n, 1)], ops.ravel()]))
        return np.stack(rows)

    def encoding(self, name: str) -> np.ndarray:
        """``onehot``, ``path`` or ``adjacency`` encodings of every cell, with one clear error for a missing one."""
        if name == "onehot":
            return self.one_hot_matrix
        if name == "adjacency":
            return self.adjacency_matrix
        if name == "path":
            if self.path_matrix is None:
                raise TnasbenchError(
                    f"the {self.name} space has no path encoding: use encoding = 'adjacency' or 'onehot'"
                )
            return self.path_matrix
        raise TnasbenchError(f"unknown encoding {name!r}: choose onehot, path or adjacency")

    def encode(self, name: str, cells: Sequence[Any]) -> np.ndarray:
        """The ``name`` encoding of just these cells (rows in their order)."""
        return self.encoding(name)[[self.index(c) for c in cells]]

    @cached_property
    def canonical_ids(self) -> np.ndarray:
        """Isomorphism-class id of every cell (equal ids = same function)."""
        keys: dict[Hashable, int] = {}
        return np.array([keys.setdefault(self.canonical_key(c), len(keys)) for c in self.archs])

    def one_per_class(self, order: np.ndarray) -> np.ndarray:
        """The cells of ``order`` (indices) that come first of their isomorphism class, in that order."""
        order = np.asarray(order)
        _, first = np.unique(self.canonical_ids[order], return_index=True)
        return order[np.sort(first)]

    def describe(self) -> str:
        dims = " x ".join(str(len(d.choices)) for d in self.dimensions)
        return f"{len(self):,} cells ({dims} choices), DAG of {len(self.dag(self.archs[0])[0])} nodes"
