"""Reference datasets for evaluation: real train and test splits, and their feature net.

``"mnist"`` is the bundled MNIST with its shipped feature net. A path may be a folder with
``train`` and ``test`` sub-folders, an IDX folder holding ``train-*`` and ``t10k-*`` pairs
(Fashion-MNIST, EMNIST, ...), or any single dataset augkit reads. Of a single labeled dataset
a fixed sixth is held out as the test split; a single unlabeled one is all test split (there
is then no training split, so no real floor). A labeled reference's feature net is trained on
first use and cached under a key made of the dataset's checksum and the net's version; an
unlabeled one has none.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from augkit.data import LoadedDataset, load_dataset, load_mnist, open_source, to_nchw
from augkit.errors import AugkitError
from augkit.eval.features import (
    MNIST_NET,
    NET_VERSION,
    FeatureNet,
    TrainSchedule,
    accuracy,
    load_net,
    predict,
    save_net,
    train_feature_net,
)
from augkit.files import cache_dir, sha256


@dataclass
class Reference:
    """Real data to compare samples with; the labels are None for an unlabeled reference."""

    name: str
    key: str
    train_images: torch.Tensor  # (N, C, H, W) uint8; N may be 0
    train_labels: torch.Tensor | None
    test_images: torch.Tensor
    test_labels: torch.Tensor | None
    num_classes: int  # 0 when unlabeled
    _net: FeatureNet | None = field(default=None, repr=False)
    _features: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.test_images.shape[1:])

    @property
    def labeled(self) -> bool:
        """Whether the reference has labels (and so a feature net and classifier of its own)."""
        return self.test_labels is not None

    def feature_net(self, schedule: TrainSchedule | None = None,
                    progress: bool = True) -> FeatureNet:
        """The shipped net for MNIST; for other data a cached one, trained on first use with
        ``schedule`` (default: the same schedule as MNIST's)."""
        if not self.labeled:
            raise AugkitError(f"{self.name}: the reference has no labels, so it has no feature "
                              "net or classifier of its own")
        if self._net is None:
            self._net = _shipped_or_cached_net(self, schedule or TrainSchedule(), progress)
        return self._net

    def cached_features(self, key: str, compute: Callable[[torch.Tensor], torch.Tensor]
                        ) -> torch.Tensor:
        """``compute(test_images)``, kept under ``key`` (what made the features)."""
        if key not in self._features:
            self._features[key] = compute(self.test_images)
        return self._features[key]

    def test_features(self, progress: bool = True) -> torch.Tensor:
        """Features of the test split from the reference's own net (computed once)."""
        net = self.feature_net(progress=progress)
        return self.cached_features(self.key, lambda images: predict(net, images)[0])


def _digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.name.encode())
        sha256(path, digest)
    return digest.hexdigest()


def _load(spec: str | Path) -> tuple[LoadedDataset, list[Path]]:
    source = open_source(spec)
    return load_dataset(source, what="the reference dataset"), source.input_files()


@functools.cache
def _mnist() -> Reference:
    (train_x, train_y), (test_x, test_y) = load_mnist("train"), load_mnist("test")
    return Reference("mnist", "mnist", to_nchw(train_x), torch.from_numpy(train_y),
                     to_nchw(test_x), torch.from_numpy(test_y), 10)


def _splits(path: Path) -> tuple[LoadedDataset, LoadedDataset | None, list[Path]]:
    """The train and test datasets under ``path`` (test None for a single dataset)."""
    if path.is_dir() and (path / "train").is_dir() and (path / "test").is_dir():
        train, files = _load(path / "train")
        test, test_files = _load(path / "test")
        return train, test, files + test_files
    test_file = next(iter(sorted(path.glob("t10k-images-idx*-ubyte*"))), None) \
        if path.is_dir() else None
    train, files = _load(path)
    if test_file is None:
        return train, None, files
    test, test_files = _load(test_file)
    return train, test, files + test_files


def load_reference(spec: str | Path) -> Reference:
    """Real train and test splits for ``spec`` (``"mnist"``, kept once loaded, or a path)."""
    if str(spec) == "mnist":
        return _mnist()
    path = Path(spec)
    if not path.exists():
        raise AugkitError(f"{path}: reference dataset not found; expected 'mnist' or a path")
    train, test, files = _splits(path)
    train_x, train_y = train.images, train.labels
    if test is None and train_y is None:  # one unlabeled set: all of it is the test split
        test_x, test_y, train_x = train_x, None, train_x[:0]
    elif test is None:  # hold out a fixed sixth as the test split
        order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(0))
        held, kept = order[: max(1, len(order) // 6)], order[max(1, len(order) // 6):]
        test_x, test_y = train_x[held], train_y[held]
        train_x, train_y = train_x[kept], train_y[kept]
    else:
        test_x, test_y = test.images, test.labels
        if train_y is None or test_y is None:  # labels on one side only: use neither
            train_y = test_y = None
    if train_x.shape[1:] != test_x.shape[1:]:
        raise AugkitError(f"{path}: train images are {tuple(train_x.shape[1:])} but test images "
                          f"are {tuple(test_x.shape[1:])}")
    num_classes = 0 if test_y is None else int(max(train_y.max(), test_y.max())) + 1
    return Reference(str(path), _digest(files)[:16], train_x, train_y, test_x, test_y,
                     num_classes)


def _shipped_or_cached_net(reference: Reference, schedule: TrainSchedule,
                           progress: bool) -> FeatureNet:
    if reference.key == "mnist":
        return load_net(MNIST_NET)[0]
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
