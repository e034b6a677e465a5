"""The NAS-Bench-201 cell: 6 edges of a 4-node DAG, each one of 5 operations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from tnasbench.errors import TnasbenchError

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# Edge k of the official string connects EDGES[k] = (from_node, to_node).
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_EDGES = len(EDGES)
NUM_OPS = len(OPS)
NUM_CELLS = NUM_OPS**NUM_EDGES  # 15,625
# Input-to-output paths through the cell, as edge indices (length 1, 2 and 3).
PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
PATH_OPS = OPS[1:]  # paths through a "none" edge carry nothing, so they are not encoded
PATH_ENCODING_SIZE = sum(len(PATH_OPS) ** n for n in (1, 2, 3))  # 84
# Node types of the op-on-node DAG used by graph encoders (D-VAE / TNAS style).
DAG_NODE_TYPES: tuple[str, ...] = ("input", *OPS, "output")


@dataclass(frozen=True, order=True)
class Arch:
    """An NB201 cell as a tuple of 6 op ids, in the official string's edge order."""

    ops: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.ops) != NUM_EDGES or any(not 0 <= int(o) < NUM_OPS for o in self.ops):
            raise TnasbenchError(f"invalid NB201 cell {self.ops!r}: need 6 op ids in 0..4")
        object.__setattr__(self, "ops", tuple(int(o) for o in self.ops))

    @property
    def choices(self) -> tuple[int, ...]:
        """The space protocol's name for the op ids (one choice per edge)."""
        return self.ops

    # --- conversions -------------------------------------------------------
    @classmethod
    def from_string(cls, text: str) -> Arch:
        """Parse the official string, e.g. ``|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|``."""
        nodes = text.strip().split("+")
        ops: list[int] = []
        try:
            if len(nodes) != 3:
                raise ValueError
            for to_node, node in enumerate(nodes, start=1):
                tokens = [t for t in node.split("|") if t]
                if len(tokens) != to_node:
                    raise ValueError
                for from_node, token in enumerate(tokens):
                    name, source = token.split("~")
                    if int(source) != from_node:
                        raise ValueError
                    ops.append(OPS.index(name))
        except ValueError:
            raise TnasbenchError(f"not an NB201 cell string: {text!r}") from None
        return cls(tuple(ops))

    def to_string(self) -> str:
        """The official NB201 string of this cell."""
        parts, k = [], 0
        for to_node in (1, 2, 3):
            tokens = []
            for from_node in range(to_node):
                tokens.append(f"{OPS[self.ops[k]]}~{from_node}")
                k += 1
            parts.append("|" + "|".join(tokens) + "|")
        return "+".join(parts)

    @property
    def code(self) -> int:
        """Base-5 number of the ops, edge 0 most significant (the order of ``all_cells``)."""
        value = 0
        for op in self.ops:
            value = value * NUM_OPS + op
        return value

    @classmethod
    def from_code(cls, code: int) -> Arch:
        ops = []
        for _ in range(NUM_EDGES):
            code, op = divmod(code, NUM_OPS)
            ops.append(op)
        return cls(tuple(reversed(ops)))

    # --- encodings ---------------------------------------------------------
    def one_hot(self) -> np.ndarray:
        """Flat 6x5 one-hot encoding (30 values)."""
        out = np.zeros((NUM_EDGES, NUM_OPS), dtype=np.float32)
        out[np.arange(NUM_EDGES), self.ops] = 1.0
        return out.ravel()

    def path_encoding(self) -> np.ndarray:
        """BANANAS path encoding: which op sequences connect input to output (84 values)."""
        return edge_cell_paths(self.ops, NUM_OPS)

    def dag(self) -> tuple[list[int], list[tuple[int, int]]]:
        """Op-on-node DAG: 8 nodes (input, one per edge, output) in topological order.

        Returns node types (indices into ``DAG_NODE_TYPES``) and directed edges.
        Node 0 is the input, node 1 + k the op of cell edge k, node 7 the output.
        """
        return edge_cell_dag(self.ops, NUM_OPS)

    # --- neighbourhood -----------------------------------------------------
    def mutations(self) -> list[Arch]:
        """All 24 cells that differ from this one on exactly one edge."""
        return [
            Arch(self.ops[:e] + (op,) + self.ops[e + 1 :])
            for e in range(NUM_EDGES)
            for op in range(NUM_OPS)
            if op != self.ops[e]
        ]

    @cached_property
    def canonical_key(self) -> str:
        """NB201's isomorphism key (``to_unique_str(consider_zero=True)``): 6,466 classes.

        A node is the sorted sum of its inputs; ``skip_connect`` passes its input's
        string on, ``none`` (or a zero input) gives ``#``, any other op wraps it.
        """
        return edge_cell_key([OPS[o] for o in self.ops])

    def __str__(self) -> str:
        return self.to_string()


def all_cells() -> Iterator[Arch]:
    """Every cell of the space, in base-5 code order."""
    for code in range(NUM_CELLS):
        yield Arch.from_code(code)


# --- NB201's 4-node edge cell, shared with spaces on the same DAG (TransNAS-Bench-101 micro) ----------


def edge_cell_paths(ops: tuple[int, ...], num_ops: int) -> np.ndarray:
    """Which op sequences connect input to output, op 0 (``none``) carrying nothing."""
    k = num_ops - 1
    out = np.zeros(k + k * k + k**3, dtype=np.float32)
    offsets = {1: 0, 2: k, 3: k + k * k}
    for path in PATHS:
        path_ops = [ops[e] for e in path]
        if 0 in path_ops:
            continue
        position = 0
        for op in path_ops:
            position = position * k + (op - 1)
        out[offsets[len(path)] + position] = 1.0
    return out


def edge_cell_dag(ops: tuple[int, ...], num_ops: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Op-on-node DAG of an edge cell: input, one node per edge (type 1 + op), output (type num_ops + 1)."""
    types = [0] + [1 + op for op in ops] + [num_ops + 1]
    links: list[tuple[int, int]] = []
    for k, (src, dst) in enumerate(EDGES):
        if src == 0:
            links.append((0, 1 + k))
        else:
            links += [(1 + j, 1 + k) for j, (_, d) in enumerate(EDGES) if d == src]
        if dst == 3:
            links.append((1 + k, len(EDGES) + 1))
    return types, sorted(links)


def edge_cell_key(op_names: list[str]) -> str:
    """Isomorphism key of an edge cell (NB201's ``to_unique_str(consider_zero=True)``).

    A node is the sorted sum of its inputs; ``skip_connect`` passes its input's
    string on, ``none`` (or a zero input) gives ``#``, any other op wraps it.
    """
    nodes = ["0"]
    k = 0
    for to_node in (1, 2, 3):
        terms = []
        for from_node in range(to_node):
            op, source = op_names[k], nodes[from_node]
            k += 1
            if op == "none" or source == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(source)
            else:
                terms.append(f"({source})@{op}")
        nodes.append("+".join(sorted(terms)))
    return nodes[3]
