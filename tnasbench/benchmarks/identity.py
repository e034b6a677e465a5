"""One identity per dataset, whatever it is called: a target is never in its own meta-training data."""

from __future__ import annotations

from pathlib import PurePath

# lower-cased spellings (torchvision class names, folder names, NB201's) -> the dataset id
ALIASES = {
    "cifar10": "cifar10",
    "cifar-10": "cifar10",
    "cifar100": "cifar100",
    "cifar-100": "cifar100",
    "imagenet16-120": "imagenet16-120",
    "imagenet16": "imagenet16-120",
    "imagenet16_120": "imagenet16-120",
    "imagenet": "imagenet16-120",  # NB201's tables call ImageNet16-120 "imagenet"
    "mnist": "mnist",
    "fashion-mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "fashion_mnist": "fashion-mnist",
    "digits": "digits",
    "svhn": "svhn",
}


def dataset_id(name: str) -> str:
    """The dataset ``name`` stands for: ``torchvision/CIFAR10``, ``folder/.../cifar10`` and ``cifar10`` are one.

    A folder is known by its last path part; a name with no alias is its own id (lower-cased).
    """
    if name.startswith("torchvision/"):
        name = name.split("/", 1)[1]
    elif name.startswith("folder/"):
        name = PurePath(name.split("/", 1)[1].rstrip("/")).name
    key = name.strip().lower()
    return ALIASES.get(key, key)
