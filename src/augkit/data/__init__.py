"""Datasets: reading (``sources``), writing (``writers``), the tensor boundary (``arrays``),
the bundled MNIST and photos."""

from augkit.data.arrays import LoadedDataset, load_dataset, to_nchw, to_nhwc
from augkit.data.dataset import ImageDataset
from augkit.data.idx import read_idx, write_idx
from augkit.data.mnist import load_mnist
from augkit.data.photos import load_photo, load_photos
from augkit.data.sources import (
    IMAGE_SUFFIXES,
    ImageSource,
    UnreadableImage,
    load_arrays,
    open_source,
    read_image,
    read_mask,
)
from augkit.data.writers import (
    WRITE_FORMATS,
    encode_mask_png,
    encode_png,
    mask_dtype,
    output_format,
    save_png,
    write_dataset,
    write_idx_pair,
    write_npz,
)
from augkit.files import OutputExistsError

__all__ = [
    "IMAGE_SUFFIXES",
    "WRITE_FORMATS",
    "ImageDataset",
    "ImageSource",
    "LoadedDataset",
    "OutputExistsError",
    "UnreadableImage",
    "encode_mask_png",
    "encode_png",
    "load_arrays",
    "load_dataset",
    "load_mnist",
    "load_photo",
    "load_photos",
    "mask_dtype",
    "open_source",
    "output_format",
    "read_idx",
    "read_image",
    "read_mask",
    "save_png",
    "to_nchw",
    "to_nhwc",
    "write_dataset",
    "write_idx",
    "write_idx_pair",
    "write_npz",
]
