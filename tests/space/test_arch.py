import numpy as np
import pandas as pd
import pytest

from tnasbench.errors import TnasbenchError
from tnasbench.space import NUM_CELLS, Arch, all_cells, nb201_space
from tnasbench.space.arch import PATH_ENCODING_SIZE
from tnasbench.testing import TEST200


@pytest.fixture(scope="module")
def shared_table():
    return pd.read_csv(TEST200)


def test_index_order_matches_the_shared_table_row_by_row(shared_table):
    space = nb201_space()
    assert [space.arch(i).to_string() for i in range(NUM_CELLS)] == shared_table["ArchitectureString"].tolist()


def test_string_tuple_index_round_trip_over_all_cells():
    space = nb201_space()
    for i in range(NUM_CELLS):
        arch = space.arch(i)
        assert Arch.from_string(arch.to_string()) == arch
        assert Arch.from_code(arch.code) == arch
        assert space.index(arch) == i
    assert len({a.code for a in all_cells()}) == NUM_CELLS


def test_canonical_key_reproduces_unique_string(shared_table):
    space = nb201_space()
    keys = [space.arch(i).canonical_key for i in range(NUM_CELLS)]
    assert keys == shared_table["UniqueString"].tolist()
    assert len(set(keys)) == 6466


def test_cells_differing_only_on_a_dead_edge_share_a_key():
    # node 1 feeds nothing (its outgoing edges are none), so its input op does not matter
    a = Arch.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    b = Arch.from_string("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    c = Arch.from_string("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|skip_connect~1|none~2|")
    assert a != b and a.canonical_key == b.canonical_key != c.canonical_key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "|nor_conv_3x3~0|",
        "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|",
    ],
)
def test_bad_strings_are_refused(text):
    with pytest.raises(TnasbenchError, match="not an NB201 cell string"):
        Arch.from_string(text)


def test_invalid_op_ids_are_refused():
    with pytest.raises(TnasbenchError):
        Arch((0, 1, 2, 3, 4, 5))
    with pytest.raises(TnasbenchError):
        Arch((0, 1, 2))


def test_one_hot_has_one_op_per_edge():
    arch = Arch((0, 1, 2, 3, 4, 0))
    encoding = arch.one_hot().reshape(6, 5)
    assert encoding.sum(axis=1).tolist() == [1] * 6
    assert encoding.argmax(axis=1).tolist() == list(arch.ops)


def test_path_encoding_counts_live_paths():
    all_conv = Arch((3,) * 6)
    # 4 paths, but the two two-edge paths carry the same op sequence (conv, conv): 3 bits
    assert all_conv.path_encoding().sum() == 3
    assert Arch((0,) * 6).path_encoding().sum() == 0
    only_direct = Arch((0, 0, 0, 1, 0, 0))
    assert only_direct.path_encoding().sum() == 1
    assert nb201_space().path_matrix.shape == (NUM_CELLS, PATH_ENCODING_SIZE)


def test_path_encoding_separates_cells_that_differ_on_a_live_path():
    a, b = Arch((3, 3, 3, 3, 3, 3)), Arch((3, 3, 3, 2, 3, 3))
    assert not np.array_equal(a.path_encoding(), b.path_encoding())


def test_mutations_are_all_single_edge_neighbours():
    arch = Arch((1, 2, 3, 4, 0, 1))
    neighbours = arch.mutations()
    assert len(neighbours) == len(set(neighbours)) == 24
    assert all(sum(x != y for x, y in zip(n.ops, arch.ops, strict=True)) == 1 for n in neighbours)


def test_dag_is_topologically_ordered_and_wires_ops():
    types, edges = Arch((3, 1, 2, 4, 0, 1)).dag()
    assert len(types) == 8 and types[0] == 0 and types[-1] == 6
    assert all(u < v for u, v in edges)
    # edge 0 (0->1) feeds the ops leaving node 1: edges 2 (1->2) and 4 (1->3)
    assert (1, 3) in edges and (1, 5) in edges
    # ops entering node 3 (edges 3, 4, 5) feed the output
    assert {(4, 7), (5, 7), (6, 7)} <= set(edges)
