"""Writing images (and labels) to disk: PNG files, npz archives, IDX pairs; atomically, and
with the same bytes every time for the same pixels. Segmentation masks are written as label
PNGs (``encode_mask_png``) or as a ``masks`` array in an npz (``write_npz(masks=...)``)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from augkit.data.idx import write_idx
from augkit.data.sources import check_images_shape, checked_labels
from augkit.errors import AugkitError
from augkit.files import atomic_write, refuse_existing

# "folder" is the older name of "png": one PNG file per image, in class sub-folders
WRITE_FORMATS = ("png", "folder", "npz", "idx")


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 HxW or HxWxC image; the same bytes every time."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", optimize=False,
                                                      compress_level=6)
    return buffer.getvalue()


def mask_dtype(low: int, high: int) -> np.dtype:
    """The smallest of uint8, uint16, int32 and int64 that holds the values ``low..high``."""
    for dtype in (np.uint8, np.uint16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def encode_mask_png(mask: np.ndarray, name: str | os.PathLike = "mask") -> bytes:
    """PNG bytes of an integer HxW mask, its values kept exactly: mode L when they fit in
    0..255, I;16 up to 65535; the same bytes every time. Other values (negative, or above
    65535) raise AugkitError naming ``name``: a PNG cannot hold them."""
    mask = np.asarray(mask)
    if mask.dtype.kind not in "iu" or mask.ndim != 2:
        raise AugkitError(f"{name}: expected an integer HxW mask, found {mask.dtype} "
                          f"{mask.shape}")
    low, high = (int(mask.min()), int(mask.max())) if mask.size else (0, 0)
    dtype = mask_dtype(low, high)
    if dtype not in (np.uint8, np.uint16):
        raise AugkitError(f"{name}: mask values {low}..{high}; a PNG mask holds 0..65535, "
                          "use --format npz")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(mask.astype(dtype))).save(
        buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def save_png(path: str | os.PathLike, image: np.ndarray, overwrite: bool = False) -> None:
    """Write a uint8 HxW or HxWxC image as PNG, with the same bytes every time."""
    image = np.asarray(image)
    check_images_shape(Path(path), str(image.dtype), image.shape, batch=False)
    data = encode_png(image)
    with atomic_write(path, overwrite=overwrite) as f:
        f.write(data)


def write_npz(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray | None,
              overwrite: bool = False, masks: np.ndarray | None = None) -> None:
    """Write ``images`` (and ``labels``, and integer ``masks`` (N, H, W), when given) as a
    compressed npz archive."""
    images = np.asarray(images)
    check_images_shape(Path(path), str(images.dtype), images.shape)
    arrays = {"images": images}
    if labels is not None:
        arrays["labels"] = checked_labels(np.asarray(labels), len(images), Path(path))
    if masks is not None:
        masks = np.asarray(masks)
        if masks.dtype.kind not in "iu" or masks.shape != images.shape[:3]:
            raise AugkitError(f"{path}: masks of {masks.dtype} {masks.shape}; expected "
                              f"integers of shape {images.shape[:3]}")
        arrays["masks"] = masks
    with atomic_write(path, overwrite=overwrite) as f:
        _savez_deterministic(f, arrays)


def _savez_deterministic(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed zip timestamps, so equal arrays give equal bytes."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array),
                                          allow_pickle=False)


def write_idx_pair(folder: str | os.PathLike, prefix: str, images: np.ndarray,
                   labels: np.ndarray | None, overwrite: bool = False
                   ) -> tuple[Path, Path | None]:
    """Write ``<prefix>-images-idx3-ubyte.gz`` (idx4 for HxWxC) and its labels file, gzipped."""
    folder, images = Path(folder), np.asarray(images)
    images_file = folder / f"{prefix}-images-idx{images.ndim}-ubyte.gz"
    check_images_shape(images_file, str(images.dtype), images.shape)
    labels_file = None if labels is None else folder / f"{prefix}-labels-idx1-ubyte.gz"
    if labels is not None:
        labels = checked_labels(np.asarray(labels), len(images), labels_file)
        labels = labels.astype(np.uint8 if 0 <= labels.min() <= labels.max() < 256 else np.int32)
    refuse_existing(images_file, overwrite)
    refuse_existing(labels_file, overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(images_file, images)
    if labels_file is not None:
        write_idx(labels_file, labels)
    return images_file, labels_file


def output_format(out: str | os.PathLike, format: str | None) -> str:
    """The format to write ``out`` in: ``format`` when given (checked against the name),
    else from the name's suffix (``.npz``: npz; no suffix: a folder of PNGs)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if format is not None and format not in WRITE_FORMATS:
        raise AugkitError(f"format: {format!r} is not allowed; expected one of "
                          f"{', '.join(WRITE_FORMATS)}")
    if suffix in (".png", ".jpg", ".jpeg", ".webp", ".bmp"):
        raise AugkitError(f"{out}: names an image file; the output is a dataset: a folder "
                          "(PNG files) or a .npz file")
    if format is None:
        return "npz" if suffix == ".npz" else "png"
    if format == "folder":
        format = "png"
    if suffix == ".npz" and format != "npz":
        raise AugkitError(f"{out}: a .npz name for --format {format}; name a folder, or use "
                          "--format npz")
    if format == "npz" and suffix != ".npz":
        raise AugkitError(f"{out}: --format npz writes one file; give it a name ending in .npz")
    return format


def write_dataset(out: str | os.PathLike, images: np.ndarray, labels: np.ndarray | None,
                  format: str | None = None, overwrite: bool = False,
                  prefix: str = "images") -> Path:
    """Write uint8 images (N, H, W[, C]) and their labels (or None) to ``out`` in ``format``
    (see ``output_format``); class sub-folders for PNGs. Returns ``out``."""
    out, format = Path(out), output_format(out, format)
    images = np.asarray(images)
    check_images_shape(out, str(images.dtype), images.shape)
    if labels is not None:
        labels = checked_labels(np.asarray(labels), len(images), out)
    if format == "npz":
        write_npz(out, images, labels, overwrite=overwrite)
    elif format == "idx":
        check_folder_output(out, overwrite, empty=False)
        write_idx_pair(out, prefix, images, labels, overwrite=overwrite)
    else:
        check_folder_output(out, overwrite)
        for i, image in enumerate(images):
            label = -1 if labels is None else int(labels[i])
            folder = out / str(label) if label >= 0 else out
            save_png(folder / f"{i:06d}.png", image, overwrite=overwrite)
    return out


def check_folder_output(out: Path, overwrite: bool, empty: bool = True) -> None:
    """Refuse an output folder that is a file, or (``empty``) that holds files already."""
    if out.exists() and not out.is_dir():
        raise AugkitError(f"{out}: is an existing file; the output is a folder, choose "
                          "another name")
    if empty and out.is_dir() and any(out.iterdir()) and not overwrite:
        raise AugkitError(f"{out}: is not empty; pass --overwrite or choose another folder")


__all__ = ["WRITE_FORMATS", "check_folder_output", "encode_mask_png", "encode_png", "mask_dtype",
           "output_format", "save_png", "write_dataset", "write_idx_pair", "write_npz"]
