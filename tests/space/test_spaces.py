"""Every registered space honours the protocol; the TransNAS-Bench-101 and NAS-Bench-Graph spaces are theirs."""

import numpy as np
import pytest

from tnasbench.cli import main
from tnasbench.errors import TnasbenchError
from tnasbench.space import get_space, space_names
from tnasbench.space.graph import LINKS, decode_key, encode_key

SPACES = ("nb201", "transnas101-micro", "nasbench-graph")


def test_the_three_spaces_are_registered(capsys):
    assert set(SPACES) <= set(space_names())
    assert main(["list", "spaces"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in SPACES)


def test_an_unknown_space_is_one_clear_error():
    with pytest.raises(TnasbenchError, match="unknown space 'nb2001'.*did you mean 'nb201'"):
        get_space("nb2001")


@pytest.mark.parametrize("name", SPACES)
def test_indices_round_trip_and_cells_are_distinct(name):
    space = get_space(name)
    rng = np.random.default_rng(0)
    for index in rng.choice(len(space), 50, replace=False).tolist():
        cell = space.arch(index)
        assert space.index(cell) == index
        assert space.parse(space.to_string(cell)) == cell
        assert space.find(space.choices_of(cell)) == cell
    assert len(set(space.archs)) == len(space)


@pytest.mark.parametrize("name", SPACES)
def test_neighbours_differ_in_exactly_one_choice_and_lie_in_the_space(name):
    space = get_space(name)
    for index in np.random.default_rng(1).choice(len(space), 30, replace=False).tolist():
        cell = space.arch(index)
        neighbours = space.neighbours(cell)
        assert neighbours, "every cell needs a neighbour for local search and evolution"
        for other in neighbours:
            assert space.contains(other)
            assert sum(a != b for a, b in zip(space.choices_of(cell), space.choices_of(other), strict=True)) == 1


@pytest.mark.parametrize("name", SPACES)
def test_encodings_cover_every_cell(name):
    space = get_space(name)
    onehot = space.one_hot_matrix
    assert onehot.shape == (len(space), sum(len(d.choices) for d in space.dimensions))
    assert np.all(onehot.sum(axis=1) == len(space.dimensions))
    assert len(np.unique(onehot, axis=0)) == len(space)
    assert space.adjacency_matrix.shape[0] == len(space)
    types, links = space.dag(space.arch(0))
    assert all(0 <= t < len(space.node_types) for t in types)
    assert all(u < v for u, v in links), "nodes are in a topological order"
    assert types[0] == 0 and types[-1] == len(space.node_types) - 1  # input first, output last


def test_isomorphism_classes_of_the_edge_cells():
    assert len(np.unique(get_space("nb201").canonical_ids)) == 6466
    micro = get_space("transnas101-micro")
    classes = len(np.unique(micro.canonical_ids))
    assert 1000 < classes < 4096  # zeroed and skip-only paths merge cells
    assert micro.path_matrix.shape == (4096, 3 + 9 + 27)
    assert micro.to_string(micro.make((3, 3, 2, 1, 3, 2))) == "64-41414-3_32_132"
    assert micro.parse("64-41414-3_32_132") == micro.make((3, 3, 2, 1, 3, 2))


def test_graph_space_is_the_packages_cells_one_per_class():
    space = get_space("nasbench-graph")
    assert len(space) == 26206
    assert space.path_matrix is None
    assert len(np.unique(space.canonical_ids)) == len(space)  # the benchmark keeps one cell per class
    for key in (0, 10000, 81234, 88888):
        assert encode_key(decode_key(key)) == key
    chain = space.make((LINKS.index((0, 1, 2, 3)), 1, 1, 1, 1))
    assert space.dag(chain)[1] == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    star = space.make((LINKS.index((0, 0, 0, 0)), 0, 1, 2, 3))
    assert space.dag(star)[1] == [(0, 1), (0, 2), (0, 3), (0, 4), (1, 5), (2, 5), (3, 5), (4, 5)]
    with pytest.raises(TnasbenchError, match="not a cell of the nasbench-graph space"):
        space.index(space.make((0, 8, 8, 8, 8)))  # all-skip cells are not in the benchmark
