"""TransNAS-Bench-101 micro: NB201's 4-node cell with 4 ops per edge, 4,096 cells."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from tnasbench.errors import TnasbenchError
from tnasbench.space.arch import EDGES, edge_cell_dag, edge_cell_key, edge_cell_paths
from tnasbench.space.protocol import Cell, Dag, Dimension, SearchSpace

# Op ids as TransNAS-Bench-101 numbers them (0 zeroize, 1 skip, 2 conv 1x1, 3 conv 3x3), NB201's names.
MICRO_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3")


class TransNasMicroSpace(SearchSpace):
    """All 4^6 cells in base-4 code order (edge 0 most significant), edges in NB201's order."""

    name = "transnas101-micro"
    dimensions = tuple(Dimension(f"edge{u}->{v}", MICRO_OPS) for u, v in EDGES)
    node_types = ("input", *MICRO_OPS, "output")

    def __init__(self) -> None:
        ops = len(MICRO_OPS)
        codes = np.arange(ops ** len(EDGES))
        digits = (codes[:, None] // ops ** np.arange(len(EDGES) - 1, -1, -1)) % ops
        super().__init__([Cell(tuple(int(d) for d in row)) for row in digits])

    def make(self, choices: Sequence[int]) -> Cell:
        choices = tuple(int(c) for c in choices)
        if len(choices) != len(EDGES) or not all(0 <= c < len(MICRO_OPS) for c in choices):
            raise TnasbenchError(f"invalid {self.name} cell {choices!r}: need 6 op ids in 0..3")
        return Cell(choices)

    def dag(self, cell: Cell) -> Dag:
        return edge_cell_dag(cell.choices, len(MICRO_OPS))

    def path_encoding(self, cell: Cell) -> np.ndarray:
        return edge_cell_paths(cell.choices, len(MICRO_OPS))

    def canonical_key(self, cell: Cell) -> str:
        return edge_cell_key([MICRO_OPS[o] for o in cell.choices])

    def to_string(self, cell: Cell) -> str:
        """TransNAS-Bench-101's own string, ``64-41414-{a}_{b}{c}_{d}{e}{f}``."""
        a, b, c, d, e, f = cell.choices
        return f"64-41414-{a}_{b}{c}_{d}{e}{f}"

    def parse(self, text: str) -> Cell:
        if text.startswith("64-41414-"):
            digits = text.removeprefix("64-41414-").replace("_", "")
            if not digits.isdigit():
                raise TnasbenchError(f"not a {self.name} cell: {text!r} (e.g. 64-41414-3_32_132)")
            return self.index_cell(self.make([int(c) for c in digits]))
        return super().parse(text)


@cache
def transnas_micro_space() -> TransNasMicroSpace:
    return TransNasMicroSpace()
