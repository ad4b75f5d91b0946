"""A ``torch.utils.data.Dataset`` over an image source on disk."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch

from augkit.data.arrays import to_nchw
from augkit.data.sources import ImageSource, open_source


class ImageDataset(torch.utils.data.Dataset):
    """(image, label) pairs from an ImageSource: uint8 (C,H,W) tensors, optionally transformed.

    >>> images = ImageDataset("mnist:test")
    >>> image, label = images[0]
    >>> image.shape, image.dtype, label
    (torch.Size([1, 28, 28]), torch.uint8, 7)
    """

    def __init__(self, source: ImageSource | str | os.PathLike,
                 transform: Callable | None = None) -> None:
        self.source = source if isinstance(source, ImageSource) else open_source(source)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = to_nchw(self.source.read(index)[None])[0]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.source.labels[index])
