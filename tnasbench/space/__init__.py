"""NAS-Bench-201 cell space: cells, encodings, index order, the network."""

from tnasbench.space.arch import EDGES, NUM_CELLS, OPS, Arch, all_cells
from tnasbench.space.space import SearchSpace, nb201_space

__all__ = ["EDGES", "NUM_CELLS", "OPS", "Arch", "SearchSpace", "all_cells", "nb201_space"]
