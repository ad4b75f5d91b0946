"""Dataset readers and writers, and the bundled MNIST."""

from augkit.data.datasets import (
    IMAGE_SUFFIXES,
    ImageDataset,
    ImageSource,
    OutputExistsError,
    UnreadableImage,
    load_arrays,
    open_source,
    read_image,
    save_png,
    write_idx_pair,
    write_npz,
)
from augkit.data.idx import read_idx, write_idx
from augkit.data.mnist import load_mnist
from augkit.data.photos import load_photo, load_photos

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageDataset",
    "ImageSource",
    "OutputExistsError",
    "UnreadableImage",
    "load_arrays",
    "load_mnist",
    "load_photo",
    "load_photos",
    "open_source",
    "read_idx",
    "read_image",
    "save_png",
    "write_idx",
    "write_idx_pair",
    "write_npz",
]
