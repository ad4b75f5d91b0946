"""The tensor boundary: any dataset augkit reads as one uint8 (N, C, H, W) batch and int64
labels, and the two layout converters between numpy's channels-last arrays and torch's
channels-first batches. Every subpackage loads data through ``load_dataset``."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from augkit.data.sources import ImageSource, load_arrays, open_source
from augkit.errors import AugkitError
from augkit.functional._layout_cpu import interleaved, planar

LABEL_POLICIES = ("optional", "required", "drop")


def to_nchw(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) or (N, H, W, C) to a contiguous (N, C, H, W) tensor."""
    if images.ndim == 3:
        return torch.from_numpy(np.ascontiguousarray(images)[:, None])
    return torch.from_numpy(planar(images))


def to_nhwc(batch: torch.Tensor) -> np.ndarray:
    """The inverse of ``to_nchw``: (N, C, H, W) to (N, H, W) for one channel, else
    (N, H, W, C), on the CPU."""
    if batch.shape[1] == 1:
        return batch.detach().cpu()[:, 0].contiguous().numpy()
    return interleaved(batch.detach().cpu().numpy())


@dataclass
class LoadedDataset:
    """A whole dataset in memory."""

    images: torch.Tensor          # (N, C, H, W) uint8
    labels: torch.Tensor | None   # (N,) int64, or None for unlabeled data
    num_classes: int              # 0 when unlabeled
    name: str                     # the path (or name) it was loaded from

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])


def load_dataset(spec: str | os.PathLike | ImageSource, labels: str = "optional",
                 what: str = "dataset") -> LoadedDataset:
    """Every image of ``spec`` (anything ``open_source`` reads) with its labels.

    ``labels``: "optional" keeps labels when every image has one (mixed is an error),
    "required" refuses unlabeled data, "drop" discards any labels. ``what`` names the data
    in error messages ("the reference", "the pool", ...)."""
    if labels not in LABEL_POLICIES:
        raise AugkitError(f"labels: {labels!r} is not allowed; expected one of "
                          f"{', '.join(LABEL_POLICIES)}")
    source = spec if isinstance(spec, ImageSource) else open_source(spec)
    name = str(spec if not isinstance(spec, ImageSource) else spec.path)
    images, label_array = load_arrays(source)
    batch = to_nchw(images)
    unlabeled = bool((label_array < 0).all())
    if labels == "drop" or unlabeled:
        if labels == "required":
            raise AugkitError(f"{name}: {what} needs labels (class sub-folders, an IDX labels "
                              "file or 'labels' in the npz)")
        return LoadedDataset(batch, None, 0, name)
    if bool((label_array < 0).any()):
        raise AugkitError(f"{name}: some images have labels and some do not")
    label_tensor = torch.from_numpy(label_array.astype(np.int64))
    return LoadedDataset(batch, label_tensor, int(label_tensor.max()) + 1, name)


__all__ = ["LoadedDataset", "load_dataset", "to_nchw", "to_nhwc"]
