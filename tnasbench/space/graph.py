"""NAS-Bench-Graph's GNN space: 4 computing nodes, each one input (a link pattern) and one of 9 ops.

The 26,206 cells are the benchmark's own, one per isomorphism class, in the order of its
embedded tables (the ``nas-bench-graph`` package). A cell's choices are (link pattern, op of node 1..4).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from tnasbench.errors import TnasbenchError
from tnasbench.space.protocol import Cell, Dag, Dimension, SearchSpace

# The package's nine link patterns: entry i is the input of computing node i + 1 (0 = the graph input).
LINKS: tuple[tuple[int, ...], ...] = (
    (0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 1, 3),
    (0, 1, 1, 1), (0, 1, 1, 2), (0, 1, 2, 2), (0, 1, 2, 3),
)  # fmt: skip
GNN_OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
HASH_BASE = len(GNN_OPS) + 1  # the package's key: link id, then the four op ids, in base 10


def decode_key(key: int) -> tuple[int, ...]:
    """(link id, op 1..4) of the package's integer key."""
    ops = []
    for _ in range(4):
        key, op = divmod(key, HASH_BASE)
        ops.append(op)
    return (key, *reversed(ops))


def encode_key(choices: Sequence[int]) -> int:
    link, *ops = choices
    key = link
    for op in ops:
        key = key * HASH_BASE + op
    return key


class GraphSpace(SearchSpace):
    """The benchmark's 26,206 GNN cells; the DAG's edges differ between cells (9 link patterns)."""

    name = "nasbench-graph"
    dimensions = (
        Dimension("links", tuple("".join(map(str, link)) for link in LINKS)),
        *(Dimension(f"node{k}", GNN_OPS) for k in range(1, 5)),
    )
    node_types = ("input", *GNN_OPS, "output")
    fixed_topology = False

    def __init__(self, keys: Sequence[int]) -> None:
        super().__init__([Cell(decode_key(int(k))) for k in keys])

    def make(self, choices: Sequence[int]) -> Cell:
        choices = tuple(int(c) for c in choices)
        if len(choices) != 5 or not 0 <= choices[0] < len(LINKS) or not all(0 <= c < len(GNN_OPS) for c in choices[1:]):
            raise TnasbenchError(f"invalid {self.name} cell {choices!r}: need a link id in 0..8 and 4 op ids in 0..8")
        return Cell(choices)

    def dag(self, cell: Cell) -> Dag:
        """Input (node 0), computing nodes 1..4 typed by their op, output (node 5) fed by every leaf."""
        link, *ops = cell.choices
        sources = LINKS[link]
        types = [0] + [1 + op for op in ops] + [len(GNN_OPS) + 1]
        edges = [(src, k + 1) for k, src in enumerate(sources)]
        used = set(sources)
        edges += [(node, 5) for node in range(1, 5) if node not in used]
        return types, sorted(edges)

    def to_string(self, cell: Cell) -> str:
        link, *ops = cell.choices
        return f"links {''.join(map(str, LINKS[link]))}: " + ",".join(GNN_OPS[o] for o in ops)

    def parse(self, text: str) -> Cell:
        if text.startswith("links "):
            pattern, _, names = text.removeprefix("links ").partition(": ")
            try:
                choices = [LINKS.index(tuple(int(c) for c in pattern))] + [GNN_OPS.index(n) for n in names.split(",")]
            except ValueError:
                raise TnasbenchError(f"not a {self.name} cell: {text!r}") from None
            return self.index_cell(self.make(choices))
        return super().parse(text)


@cache
def graph_space() -> GraphSpace:
    """The space in the embedded tables' key order (the same for all eight datasets)."""
    from tnasbench.benchmarks.graph import read_bench

    return GraphSpace(list(read_bench("cora")))
