"""Search spaces: the protocol, NAS-Bench-201 (cells, encodings, index order, the network) and the others."""

from tnasbench.space.arch import EDGES, NUM_CELLS, OPS, Arch, all_cells
from tnasbench.space.protocol import Cell, Dimension, SearchSpace
from tnasbench.space.registry import get_space, register_space, space_names
from tnasbench.space.space import NB201Space, nb201_space

__all__ = [
    "EDGES",
    "NUM_CELLS",
    "OPS",
    "Arch",
    "Cell",
    "Dimension",
    "NB201Space",
    "SearchSpace",
    "all_cells",
    "get_space",
    "nb201_space",
    "register_space",
    "space_names",
]
