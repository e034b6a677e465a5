import torch

from tnasbench.benchmarks.live import image_sample
from tnasbench.space import nb201_space
from tnasbench.tnas.arch_encoder import DagGruEncoder, OneHotEncoder, cell_graphs
from tnasbench.tnas.dataset_encoder import DatasetEncoder, image_features


def _digits_features(seed=0):
    return image_features(image_sample("digits", seed=seed, per_class=20))


def test_image_features_are_classes_by_samples_by_64():
    assert _digits_features().shape == (10, 20, 64)


def test_dataset_encoder_shape_and_permutation_invariance():
    torch.manual_seed(0)
    encoder = DatasetEncoder(hidden=32, latent=16).eval()
    features = _digits_features()
    code = encoder(features)
    assert code.shape == (16,)
    within = torch.stack([c[torch.randperm(c.shape[0])] for c in features])  # shuffle samples in each class
    across = features[torch.randperm(features.shape[0])]  # shuffle the classes
    with torch.no_grad():
        torch.testing.assert_close(encoder(within), code, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(encoder(across), code, atol=1e-5, rtol=1e-5)


def test_dataset_encoder_tells_different_samples_apart():
    torch.manual_seed(0)
    encoder = DatasetEncoder(hidden=32, latent=16).eval()
    features = _digits_features()
    half = encoder(features[:5]), encoder(features[5:])
    assert not torch.allclose(half[0], half[1], atol=1e-3)


def test_graph_encoder_gives_every_labelled_cell_its_own_code():
    torch.manual_seed(0)
    graphs = cell_graphs(nb201_space())
    types, adjacency = graphs.types, graphs.adjacency
    with torch.no_grad():
        codes = DagGruEncoder(hidden=16, latent=8)(types, adjacency)
    assert codes.shape == (15625, 8)
    assert len(torch.unique(codes.round(decimals=5), dim=0)) == 15625


def test_graph_encoder_does_not_depend_on_the_topological_order_chosen():
    torch.manual_seed(0)
    graphs = cell_graphs(nb201_space())
    types, adjacency = graphs.types, graphs.adjacency
    encoder = DagGruEncoder(hidden=16, latent=8).eval()
    # nodes 2 (edge 0->2) and 4 (edge 0->3) both hang off the input only: swapping them keeps a topological order
    order = torch.tensor([0, 1, 4, 3, 2, 5, 6, 7])
    assert all(
        adjacency[u, v] <= (order.tolist().index(u) < order.tolist().index(v)) for u in range(8) for v in range(8)
    )
    with torch.no_grad():
        original = encoder(types[:500], adjacency)
        relabelled = encoder(types[:500][:, order], adjacency[order][:, order])
    torch.testing.assert_close(relabelled, original, atol=1e-5, rtol=1e-5)


def test_onehot_encoder_codes_cells_by_their_ops():
    torch.manual_seed(0)
    graphs = cell_graphs(nb201_space())
    types, adjacency = graphs.types, graphs.adjacency
    with torch.no_grad():
        codes = OneHotEncoder(hidden=32, latent=8)(types, adjacency)
    assert codes.shape == (15625, 8)
    assert len(torch.unique(codes.round(decimals=5), dim=0)) == 15625


def _reference_codes(encoder, types, adjacency):
    """D-VAE's recurrences cell by cell, node by node, with no sharing: what the encoder must compute."""
    onehot = torch.nn.functional.one_hot(types, encoder.num_types).float()

    def run(order, links, cell, message):
        states = {}
        for v in order:
            preds = [u for u in order if links[u, v]]
            incoming = sum((message(states[u]) for u in preds), torch.zeros(encoder.hidden))
            states[v] = cell(onehot[v].unsqueeze(0), incoming.unsqueeze(0)).squeeze(0)
        return states[order[-1]]

    n = len(types)
    ahead = run(list(range(n)), adjacency, encoder.forward_cell, encoder.forward_sum)
    back = run(list(range(n - 1, -1, -1)), adjacency.T, encoder.backward_cell, encoder.backward_sum)
    return encoder.project(torch.cat([ahead, back]))


def test_graph_encoder_shares_states_without_changing_the_function():
    torch.manual_seed(0)
    graphs = cell_graphs(nb201_space())
    types, adjacency = graphs.types, graphs.adjacency
    encoder = DagGruEncoder(hidden=16, latent=8)
    cells = torch.randperm(len(types))[:40]
    with torch.no_grad():
        batched = encoder(types[cells], adjacency)
        one_by_one = torch.stack([_reference_codes(encoder, types[c], adjacency) for c in cells])
    torch.testing.assert_close(batched, one_by_one, atol=1e-5, rtol=1e-5)
