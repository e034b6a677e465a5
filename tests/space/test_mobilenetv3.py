"""The MobileNetV3 (OFA) space: canonical cells, OFA's 128-d encoding, mutations, notation, the DAG view, and
the refusals of everything that needs every cell."""

import numpy as np
import pytest

from tnasbench.errors import TnasbenchError
from tnasbench.space import get_space, space_names
from tnasbench.space.mobilenetv3 import (
    ENCODING_WIDTH,
    SLOTS,
    STAGES,
    MobileNetV3Space,
    canonical_choices,
    mobilenetv3_space,
)


@pytest.fixture(scope="module")
def space() -> MobileNetV3Space:
    return mobilenetv3_space()


def test_registered_and_sized_as_ofa_counts(space):
    assert "mobilenetv3" in space_names() and get_space("mobilenetv3") is space
    assert not space.enumerable
    assert space.size == (9**2 + 9**3 + 9**4) ** 5 * 5  # per stage: 2, 3 or 4 layers of 9 (kernel, expand) each
    assert len(space.dimensions) == STAGES + 2 * SLOTS + 1


def test_make_canonicalises_skipped_layers_so_one_subnet_is_one_cell(space):
    choices = (
        [0] * STAGES + [2] * SLOTS + [1] * SLOTS + [3]
    )  # 208 px  # depth 2 everywhere: slots 3, 4 of each stage skipped
    cell = space.make(choices)
    assert all(cell.choices[STAGES + j] == 0 for j in range(SLOTS) if j % 4 >= 2)
    other = list(choices)
    other[STAGES + 2] = 1  # a skipped slot's kernel: the same subnet
    assert space.make(other) == cell
    assert space.contains(cell) and not space.contains(type(cell)(tuple(choices)))  # non-canonical: not a cell
    rows = np.array([choices, other])
    assert (canonical_choices(rows) == np.array([cell.choices, cell.choices])).all()


def test_bad_choices_are_one_clear_error(space):
    with pytest.raises(TnasbenchError, match="need 5 depth ids"):
        space.make([0] * 10)
    with pytest.raises(TnasbenchError, match="need 5 depth ids"):
        space.make([3] + [0] * (STAGES + 2 * SLOTS))


def test_the_encoding_is_ofas_predictor_input(space):
    rng = np.random.default_rng(0)
    cells = space.sample_many(rng, 200)
    x = space.encode("onehot", cells)
    assert x.shape == (200, ENCODING_WIDTH) == (200, 128)
    for cell, row in zip(cells, x, strict=True):
        layers = len(space.layers(cell))
        assert row[:60].sum() == row[60:120].sum() == layers  # a kernel and an expand one-hot per existing layer
        assert row[120:].sum() == 1 and row[120 + (space.resolution(cell) - 112) // 16] == 1  # slot 0 is 112 px
    largest = space.encode("onehot", [space.largest()])[0]
    assert largest[2:60:3].all() and largest[62:120:3].all() and largest[127] == 1  # k7 and e6 everywhere, 224 px


def test_other_encodings_are_refused_naming_the_one_it_has(space):
    with pytest.raises(TnasbenchError, match="no path encoding .* use encoding = 'onehot'"):
        space.encode("path", [space.largest()])
    with pytest.raises(TnasbenchError, match="cannot be enumerated"):
        space.encoding("onehot")


def test_neighbours_differ_in_one_meaningful_choice(space):
    cell = space.sample_many(np.random.default_rng(1), 1)[0]
    neighbours = space.neighbours(cell)
    assert len(neighbours) == len(set(neighbours)) and cell not in neighbours
    layers = len(space.layers(cell))
    assert len(neighbours) == 2 * STAGES + 4 * layers + 4  # depths, each layer's kernel and expand, resolution
    for other in neighbours:
        assert space.contains(other)
        changed = [d for d in range(STAGES) if other.choices[d] != cell.choices[d]]
        if not changed:  # same depths: exactly one choice differs
            assert sum(a != b for a, b in zip(other.choices, cell.choices, strict=True)) == 1


def test_notation_round_trips(space):
    for cell in [space.largest(), space.smallest(), *space.sample_many(np.random.default_rng(2), 50)]:
        text = space.to_string(cell)
        assert space.parse(text) == cell
    assert space.to_string(space.smallest()) == "r160 | k3e3 k3e3 | k3e3 k3e3 | k3e3 k3e3 | k3e3 k3e3 | k3e3 k3e3"
    with pytest.raises(TnasbenchError, match="not a mobilenetv3 cell"):
        space.parse("r224 | k3e3")


def test_the_dag_is_a_chain_without_skipped_layers(space):
    cell = space.sample_many(np.random.default_rng(3), 1)[0]
    types, edges = space.dag(cell)
    assert len(types) == len(space.layers(cell)) + 2
    assert edges == [(u, u + 1) for u in range(len(types) - 1)]
    assert space.node_types[types[0]] == f"input@{space.resolution(cell)}" and space.node_types[types[-1]] == "output"
    assert [space.node_types[t] for t in types[1:-1]] == [f"k{k}e{e}" for k, e in space.layers(cell)]


def test_whole_space_questions_are_refused_in_one_line(space):
    for ask in (lambda: len(space), lambda: space.arch(0), lambda: space.index(space.largest())):
        with pytest.raises(TnasbenchError, match="cannot be enumerated .* candidate pool"):
            ask()


def test_sampling_is_seeded_and_draws_every_dimension(space):
    first = space.sample_many(np.random.default_rng(4), 300)
    assert first == space.sample_many(np.random.default_rng(4), 300)
    assert first != space.sample_many(np.random.default_rng(5), 300)
    depths = {d for cell in first for d in space.depths(cell)}
    resolutions = {space.resolution(cell) for cell in first}
    assert depths == {2, 3, 4} and resolutions == {160, 176, 192, 208, 224}  # OFA's, the predictor's range
