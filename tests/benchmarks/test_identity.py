import numpy as np
import pytest

from tnasbench.benchmarks.identity import dataset_id
from tnasbench.searchers import SearchContext
from tnasbench.searchers.context import build_context
from tnasbench.searchers.protocol import MetaTable
from tnasbench.suite import Budget, TrialSpec


@pytest.mark.parametrize(
    ("alias", "identity"),
    [
        ("cifar10", "cifar10"),
        ("torchvision/CIFAR10", "cifar10"),
        ("folder//data/images/cifar10", "cifar10"),
        ("folder/imgs/CIFAR-10/", "cifar10"),
        ("torchvision/CIFAR100", "cifar100"),
        ("cifar-100", "cifar100"),
        ("imagenet16-120", "imagenet16-120"),
        ("ImageNet16", "imagenet16-120"),
        ("torchvision/MNIST", "mnist"),
        ("torchvision/FashionMNIST", "fashion-mnist"),
        ("fashion-mnist", "fashion-mnist"),
        ("folder/x/my-own-set", "my-own-set"),
    ],
)
def test_every_alias_maps_to_one_dataset(alias, identity):
    assert dataset_id(alias) == identity


@pytest.mark.parametrize("target", ["torchvision/CIFAR10", "torchvision/CIFAR100", "folder//tmp/cifar10"])
def test_a_live_target_never_gets_its_own_nb201_table(target):
    spec = TrialSpec("t", 0, "nb201", target, "val@200", "val@200", "mean", "tnas", "tnas", "{}", Budget(5), 0)
    context = build_context(spec)  # tabular spec, so no images are loaded: only the exclusion is tested
    assert len(context.meta_tables) == 2
    assert dataset_id(target) not in {dataset_id(t.dataset) for t in context.meta_tables}


def test_the_context_refuses_a_meta_table_of_the_target_under_another_name():
    table = MetaTable("cifar10", "val@200", np.zeros(3))
    with pytest.raises(ValueError, match="must not hold that dataset's own table"):
        SearchContext("torchvision/CIFAR10", "val", (table,))
