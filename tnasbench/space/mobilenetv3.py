"""Once-for-All's elastic MobileNetV3 space (Cai et al., 2020), as MetaD2A and TNAS search it.

Five stages of 2, 3 or 4 inverted-residual layers; each layer a kernel (3, 5, 7) and an expand
ratio (3, 4, 6); one input resolution (160-224 in steps of 16: OFA's search range; its predictor, fed
128 or 144 px, ranks them above 160 px, outside what it was fit on). 7,371^5 x 5 = 1.1e20 subnets, so
the space is not enumerable (``LargeSpace``): searchers score candidate pools.

A cell's choices are (depth of stage 1..5, kernel of slot 1..20, expand of slot 1..20,
resolution); slots past a stage's depth are skipped and canonically hold choice 0, so each
subnet is one cell. The ``onehot`` encoding is OFA's 128-d accuracy-predictor input.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from tnasbench.errors import TnasbenchError
from tnasbench.space.large import LargeSpace
from tnasbench.space.protocol import Cell, Dag, Dimension

STAGES, MAX_DEPTH = 5, 4
SLOTS = STAGES * MAX_DEPTH
DEPTHS = (2, 3, 4)
KERNELS = (3, 5, 7)
EXPANDS = (3, 4, 6)
RESOLUTIONS = (160, 176, 192, 208, 224)  # OFA's searched resolutions, the ones its accuracy predictor was fit on
LAYER_TYPES = tuple(f"k{k}e{e}" for k in KERNELS for e in EXPANDS)
ENCODING_WIDTH = 2 * 3 * SLOTS + 8  # OFA's predictor: kernel and expand one-hots per slot, 8 resolution slots
RESOLUTION_OFFSET = (RESOLUTIONS[0] - 112) // 16  # OFA's resolution one-hot starts at 112 px; 160 is its slot 3


class MobileNetV3Space(LargeSpace):
    """OFA's MobileNetV3 subnets; the DAG is a chain: input (typed by resolution), one node per layer
    (typed by kernel and expand), output. Skipped layers are absent, so chains differ in length."""

    name = "mobilenetv3"
    dimensions = (
        *(Dimension(f"depth{s + 1}", tuple(map(str, DEPTHS))) for s in range(STAGES)),
        *(Dimension(f"kernel{j + 1}", tuple(map(str, KERNELS))) for j in range(SLOTS)),
        *(Dimension(f"expand{j + 1}", tuple(map(str, EXPANDS))) for j in range(SLOTS)),
        Dimension("resolution", tuple(map(str, RESOLUTIONS))),
    )
    node_types = (*(f"input@{r}" for r in RESOLUTIONS), *LAYER_TYPES, "output")
    fixed_topology = False

    @property
    def size(self) -> int:
        per_stage = sum(len(KERNELS) ** d * len(EXPANDS) ** d for d in DEPTHS)
        return per_stage**STAGES * len(RESOLUTIONS)

    def make(self, choices: Sequence[int]) -> Cell:
        values = [int(c) for c in choices]
        if len(values) != len(self.dimensions) or not all(
            0 <= v < len(d.choices) for v, d in zip(values, self.dimensions, strict=True)
        ):
            raise TnasbenchError(
                f"invalid {self.name} cell {tuple(values)!r}: need {STAGES} depth ids (0-2), {SLOTS} kernel ids "
                f"(0-2), {SLOTS} expand ids (0-2) and a resolution id (0-{len(RESOLUTIONS) - 1})"
            )
        return Cell(tuple(canonical_choices(np.array([values]))[0].tolist()))  # a skipped slot holds choice 0

    # --- what a cell is -----------------------------------------------------------
    @staticmethod
    def depths(cell: Cell) -> list[int]:
        return [DEPTHS[d] for d in cell.choices[:STAGES]]

    def active_slots(self, cell: Cell) -> list[int]:
        """Slot numbers (0..19) of the layers the subnet has, in order."""
        return [s * MAX_DEPTH + p for s, depth in enumerate(self.depths(cell)) for p in range(depth)]

    def layers(self, cell: Cell) -> list[tuple[int, int]]:
        """(kernel size, expand ratio) of each layer the subnet has, in order."""
        kernel, expand = cell.choices[STAGES : STAGES + SLOTS], cell.choices[STAGES + SLOTS : STAGES + 2 * SLOTS]
        return [(KERNELS[kernel[j]], EXPANDS[expand[j]]) for j in self.active_slots(cell)]

    @staticmethod
    def resolution(cell: Cell) -> int:
        return RESOLUTIONS[cell.choices[-1]]

    def canonical_key(self, cell: Cell) -> str:
        return self.to_string(cell)  # make() already keeps one cell per subnet

    def neighbours(self, cell: Cell) -> list[Cell]:
        """Subnets one choice away: a stage's depth, an existing layer's kernel or expand, the resolution."""
        active = set(self.active_slots(cell))
        found: dict[Cell, None] = {}
        for d, dimension in enumerate(self.dimensions):
            if STAGES <= d < STAGES + 2 * SLOTS and (d - STAGES) % SLOTS not in active:
                continue  # a skipped slot's choice changes nothing
            for value in range(len(dimension.choices)):
                if value != cell.choices[d]:
                    found[self.make(cell.choices[:d] + (value,) + cell.choices[d + 1 :])] = None
        return list(found)

    def dag(self, cell: Cell) -> Dag:
        types = [cell.choices[-1]]
        types += [len(RESOLUTIONS) + LAYER_TYPES.index(f"k{k}e{e}") for k, e in self.layers(cell)]
        types.append(len(self.node_types) - 1)
        return types, [(u, u + 1) for u in range(len(types) - 1)]

    # --- encodings ----------------------------------------------------------------
    def encode(self, name: str, cells: Sequence[Cell]) -> np.ndarray:
        """``onehot``: OFA's 128-d predictor input (kernel one-hot per slot, expand one-hot per slot, resolution
        one-hot; skipped slots all zero), rows in the order of ``cells``."""
        if name != "onehot":
            raise TnasbenchError(
                f"the {self.name} space has no {name} encoding (its chains differ in length): use encoding = 'onehot'"
            )
        return encode_choices(np.array([c.choices for c in cells], dtype=np.int64).reshape(len(cells), -1))

    # --- notation -----------------------------------------------------------------
    def to_string(self, cell: Cell) -> str:
        """``r160 | k3e4 k5e6 | k7e3 k3e3 k5e4 | ...``: resolution, then each stage's layers."""
        layers = iter(self.layers(cell))
        stages = [" ".join(f"k{k}e{e}" for k, e in (next(layers) for _ in range(depth))) for depth in self.depths(cell)]
        return f"r{self.resolution(cell)} | " + " | ".join(stages)

    def parse(self, text: str) -> Cell:
        hint = "write it as to_string does, e.g. 'r224 | k3e4 k5e6 | ...' with 5 stages of 2-4 layers"
        parts = [p.strip() for p in text.split("|")]
        try:
            resolution = RESOLUTIONS.index(int(parts[0].removeprefix("r")))
            stages = [p.split() for p in parts[1:]]
            if len(stages) != STAGES or not all(len(s) in DEPTHS for s in stages):
                raise ValueError
            kernels, expands = [0] * SLOTS, [0] * SLOTS
            for s, layers in enumerate(stages):
                for p, layer in enumerate(layers):
                    kernel, _, expand = layer.removeprefix("k").partition("e")
                    kernels[s * MAX_DEPTH + p] = KERNELS.index(int(kernel))
                    expands[s * MAX_DEPTH + p] = EXPANDS.index(int(expand))
        except (ValueError, IndexError):
            raise TnasbenchError(f"not a {self.name} cell: {text!r} ({hint})") from None
        return self.make([DEPTHS.index(len(s)) for s in stages] + kernels + expands + [resolution])

    def largest(self) -> Cell:
        """Every stage 4 layers of kernel 7, expand 6, at 224 px."""
        return self.make([2] * STAGES + [2] * SLOTS + [2] * SLOTS + [len(RESOLUTIONS) - 1])

    def smallest(self) -> Cell:
        """Every stage 2 layers of kernel 3, expand 3, at 160 px."""
        return self.make([0] * (STAGES + 2 * SLOTS + 1))


def _active(rows: np.ndarray) -> np.ndarray:
    """Which of the 20 slots each row of choices uses ``[n, 20]``."""
    depth = np.asarray(DEPTHS)[rows[:, :STAGES]]
    return (np.arange(MAX_DEPTH)[None, None, :] < depth[:, :, None]).reshape(len(rows), SLOTS)


def canonical_choices(rows: np.ndarray) -> np.ndarray:
    """Rows of choices with every skipped slot's kernel and expand set to 0 (what ``make`` does, vectorised)."""
    rows = np.array(rows, dtype=np.int64)
    skipped = ~_active(rows)
    rows[:, STAGES : STAGES + SLOTS][skipped] = 0
    rows[:, STAGES + SLOTS : STAGES + 2 * SLOTS][skipped] = 0
    return rows


def encode_choices(rows: np.ndarray) -> np.ndarray:
    """OFA's 128-d predictor input of each row of (canonical) choices."""
    out = np.zeros((len(rows), ENCODING_WIDTH), dtype=np.float32)
    index, slots = np.nonzero(_active(rows))
    out[index, 3 * slots + rows[index, STAGES + slots]] = 1.0
    out[index, 3 * SLOTS + 3 * slots + rows[index, STAGES + SLOTS + slots]] = 1.0
    out[np.arange(len(rows)), 6 * SLOTS + RESOLUTION_OFFSET + rows[:, -1]] = 1.0
    return out


@cache
def mobilenetv3_space() -> MobileNetV3Space:
    return MobileNetV3Space()
