"""Reference datasets for evaluation: real train and test splits, and their feature net.

``"mnist"`` is the bundled MNIST with its shipped feature net. A path may be a folder with
``train`` and ``test`` sub-folders, an IDX folder holding ``train-*`` and ``t10k-*`` pairs
(Fashion-MNIST, EMNIST, ...), or any single dataset augkit reads, of which a fixed sixth is
held out as the test split. Its feature net is trained on first use and cached under a key
made of the dataset's checksum and the net's version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from augkit.data import ImageSource, load_arrays, load_mnist, open_source
from augkit.eval.features import (
    NET_VERSION,
    WEIGHTS_DIR,
    FeatureNet,
    TrainSchedule,
    accuracy,
    cache_dir,
    load_net,
    predict,
    save_net,
    train_feature_net,
)


@dataclass
class Reference:
    """Real data to compare samples with."""

    name: str
    key: str
    train_images: torch.Tensor  # (N, C, H, W) uint8
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    num_classes: int
    _net: FeatureNet | None = field(default=None, repr=False)
    _test_features: torch.Tensor | None = field(default=None, repr=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])

    def feature_net(self, schedule: TrainSchedule | None = None,
                    progress: bool = True) -> FeatureNet:
        """The shipped net for MNIST; for other data a cached one, trained on first use with
        ``schedule`` (default: the same schedule as MNIST's)."""
        if self._net is None:
            self._net = _shipped_or_cached_net(self, schedule or TrainSchedule(), progress)
        return self._net

    def test_features(self, progress: bool = True) -> torch.Tensor:
        """Features of the test split (computed once)."""
        if self._test_features is None:
            self._test_features, _ = predict(self.feature_net(progress=progress),
                                             self.test_images)
        return self._test_features


def as_batch(images: np.ndarray) -> torch.Tensor:
    """(N, H, W) or (N, H, W, C) uint8 to a contiguous (N, C, H, W) tensor."""
    images = images[..., None] if images.ndim == 3 else images
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()


def as_arrays(batch: torch.Tensor) -> np.ndarray:
    """The inverse of ``as_batch``: (N, C, H, W) to (N, H, W) for one channel, else
    (N, H, W, C)."""
    images = batch.permute(0, 2, 3, 1).numpy()
    return images[..., 0] if images.shape[-1] == 1 else images


def _digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode())
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _arrays(source: ImageSource) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = load_arrays(source)
    if (labels < 0).any():
        raise ValueError(f"{source.path}: the reference dataset needs labels (class "
                         "sub-folders, an IDX labels file or 'labels' in the npz)")
    return as_batch(images), torch.from_numpy(labels.astype(np.int64))


_MNIST: list[Reference] = []


def load_reference(spec: str | Path) -> Reference:
    """Real train and test splits for ``spec`` (``"mnist"``, kept once loaded, or a path)."""
    if str(spec) == "mnist":
        if not _MNIST:
            (train_x, train_y), (test_x, test_y) = load_mnist("train"), load_mnist("test")
            _MNIST.append(Reference("mnist", "mnist", as_batch(train_x),
                                    torch.from_numpy(train_y), as_batch(test_x),
                                    torch.from_numpy(test_y), 10))
        return _MNIST[0]
    path = Path(spec)
    if not path.exists():
        raise ValueError(f"{path}: reference dataset not found; expected 'mnist' or a path")
    if path.is_dir() and (path / "train").is_dir() and (path / "test").is_dir():
        train, test = open_source(path / "train"), open_source(path / "test")
        train_x, train_y = _arrays(train)
        test_x, test_y = _arrays(test)
        files = train.input_files() + test.input_files()
    else:
        test_file = next(iter(sorted(path.glob("t10k-images-idx*-ubyte*"))), None) \
            if path.is_dir() else None
        train = open_source(path)
        train_x, train_y = _arrays(train)
        files = train.input_files()
        if test_file is not None:
            test = open_source(test_file)
            test_x, test_y = _arrays(test)
            files += test.input_files()
        else:  # hold out a fixed sixth as the test split
            order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(0))
            held = order[: max(1, len(order) // 6)]
            kept = order[max(1, len(order) // 6):]
            test_x, test_y = train_x[held], train_y[held]
            train_x, train_y = train_x[kept], train_y[kept]
    if train_x.shape[1:] != test_x.shape[1:]:
        raise ValueError(f"{path}: train images are {tuple(train_x.shape[1:])} but test images "
                         f"are {tuple(test_x.shape[1:])}")
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    return Reference(str(path), _digest(files)[:16], train_x, train_y, test_x, test_y,
                     num_classes)


def _shipped_or_cached_net(reference: Reference, schedule: TrainSchedule,
                           progress: bool) -> FeatureNet:
    if reference.key == "mnist":
        model, _ = load_net(WEIGHTS_DIR / "mnist_feature_net.safetensors")
        return model
    name = f"{reference.key}-v{NET_VERSION}-steps{schedule.steps}.safetensors"
    path = cache_dir() / "feature_nets" / name
    if path.exists():
        model, meta = load_net(path)
        if tuple(meta.get("image_shape", ())) == reference.image_shape:
            return model
    model = train_feature_net(reference.train_images, reference.train_labels,
                              reference.num_classes, schedule, progress=progress)
    save_net(model, path, {
        "dataset": reference.name,
        "dataset_key": reference.key,
        "image_shape": list(reference.image_shape),
        "test_accuracy": accuracy(model, reference.test_images, reference.test_labels),
    })
    return model
