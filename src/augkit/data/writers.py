"""Writing images (and labels, and masks) to disk: PNG, JPEG or WebP files in class folders,
npz archives, IDX pairs, WebDataset tar shards and Parquet files; atomically, and with the
same bytes every time for the same pixels. Segmentation masks are written as label PNGs
(``encode_mask_png``), as a ``masks`` array in an npz (``write_npz(masks=...)``), as
``<key>.mask.png`` members of a shard, or as a ``mask`` image column in Parquet.

Inside a shard each sample is ``<key>.npy`` (the uint8 pixels as they are: nothing to encode
or decode, lossless), ``<key>.cls`` (the class index as text, when labeled), ``<key>.json``
(the sample's manifest record, when there is one) and ``<key>.mask.png``. A Parquet file has
an ``image`` column (struct {bytes, path}: PNGs written by ``codecs.fast_png`` without
deflate, the file compressing the whole column with zstd instead), a
``label`` column (int64, a ``ClassLabel`` feature), an optional ``mask`` column of the same
struct, and the manifest's fields (``output``, ``source``, ``index``, ``copy`` (null for an
unchanged original), ``seed``, ``position``, ``params`` (JSON text)); its schema carries the
Hugging Face ``datasets`` features, so ``datasets.load_dataset("parquet", ...)`` decodes
images and labels."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from augkit.data import tables, tars
from augkit.data.codecs import fast_png, fast_pngs, npy_parts
from augkit.data.idx import write_idx
from augkit.data.sources import IMAGES_FOLDER, MASKS_FOLDER, check_images_shape, checked_labels
from augkit.errors import AugkitError
from augkit.files import atomic_write, refuse_existing

# "folder" is the older name of "png": one PNG file per image, in class sub-folders
WRITE_FORMATS = ("png", "folder", "jpeg", "webp", "npz", "idx", "wds", "parquet")
FOLDER_FORMATS = ("png", "jpeg", "webp")  # one image file per sample, in class sub-folders
SHARD_FORMATS = ("wds", "parquet")        # many samples per file: tar shards, Parquet parts
FILE_SUFFIXES = {".npz": "npz", ".tar": "wds", ".parquet": "parquet"}
IMAGE_SUFFIXES_OUT = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
DEFAULT_QUALITY = 90
DEFAULT_SHARD_SIZE = 10_000
_PILLOW_FORMATS = {"jpeg": "JPEG", "webp": "WEBP"}


# json.dumps builds a new C encoder for every call; one kept encoder writes the same text in
# about half the time (a manifest line per output adds up)
_ENCODER = (json.encoder.c_make_encoder(None, json.JSONEncoder().default,
                                        json.encoder.encode_basestring_ascii, None, ": ", ", ",
                                        False, False, True)
            if json.encoder.c_make_encoder is not None else None)


def json_line(value: Any) -> str:
    """``json.dumps(value)``, character for character (default settings), faster."""
    if _ENCODER is None:
        return json.dumps(value)
    return "".join(_ENCODER(value, 0))


class Sample(NamedTuple):
    """One sample of a shard or a Parquet part."""

    key: str                        # its name inside the file (no dot in the last part)
    image: np.ndarray               # uint8 HxW or HxWxC
    label: int                      # -1 when unlabeled
    mask: np.ndarray | None = None  # integer HxW
    record: dict | str | None = None  # its manifest record (or the record's JSON text)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 HxW or HxWxC image; the same bytes every time."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", optimize=False,
                                                      compress_level=6)
    return buffer.getvalue()


def encode_image(image: np.ndarray, format: str = "png", quality: int | None = None,
                 name: str | os.PathLike = "image") -> bytes:
    """The bytes of one image file in a folder format: "png" (as ``encode_png``), "jpeg" or
    "webp" at ``quality`` (1-100, default 90); the same bytes every time."""
    if format == "png":
        return encode_png(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if format == "jpeg" and image.ndim == 3 and image.shape[2] == 4:
        raise AugkitError(f"{name}: an RGBA image; JPEG has no alpha channel, use --format png "
                          "or webp")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(
        buffer, format=_PILLOW_FORMATS[format], quality=check_quality(quality))
    return buffer.getvalue()


def check_quality(quality: int | None) -> int:
    """``quality`` (None: the default 90) checked to be an integer 1..100."""
    if quality is None:
        return DEFAULT_QUALITY
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 100:
        raise AugkitError(f"quality: {quality!r} is not allowed; expected an integer 1-100")
    return quality


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
    buffer = io.BytesIO()
    Image.fromarray(mask_pixels(mask, name)).save(buffer, format="PNG", optimize=False,
                                                  compress_level=6)
    return buffer.getvalue()


def mask_pixels(mask: np.ndarray, name: str | os.PathLike = "mask") -> np.ndarray:
    """An integer HxW mask as the uint8 (values 0..255) or uint16 (up to 65535) array a PNG
    holds; other values raise AugkitError naming ``name``."""
    mask = np.asarray(mask)
    if mask.dtype.kind not in "iu" or mask.ndim != 2:
        raise AugkitError(f"{name}: expected an integer HxW mask, found {mask.dtype} "
                          f"{mask.shape}")
    low, high = (int(mask.min()), int(mask.max())) if mask.size else (0, 0)
    dtype = mask_dtype(low, high)
    if dtype not in (np.uint8, np.uint16):
        raise AugkitError(f"{name}: mask values {low}..{high}; a PNG mask holds 0..65535, "
                          "use --format npz")
    return np.ascontiguousarray(mask.astype(dtype))


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


def shard_bytes(samples: Sequence[Sample], name: str | os.PathLike = "shard") -> bytes:
    """One WebDataset tar shard: ``<key>.npy``, ``<key>.cls``, ``<key>.json`` and
    ``<key>.mask.png`` for each sample (the last three when it has them), in order. A
    record given as text is stored as it is (JSON already)."""
    return b"".join(_shard_parts(samples, name))


def _shard_parts(samples: Sequence[Sample], name: str | os.PathLike) -> list:
    names, datas = [], []
    for sample in samples:
        names.append(f"{sample.key}.npy")
        datas.append(npy_parts(sample.image))  # the pixels written from the array itself
        if sample.label >= 0:
            names.append(f"{sample.key}.cls")
            datas.append(b"%d" % sample.label)
        if sample.record is not None:
            record = sample.record
            names.append(f"{sample.key}.json")
            datas.append((record if isinstance(record, str) else json_line(record)).encode())
        if sample.mask is not None:
            names.append(f"{sample.key}.mask.png")
            datas.append(fast_png(mask_pixels(sample.mask, f"{name}: {sample.key}")))
    return tars.archive_parts(names, datas)


def write_shard(path: str | os.PathLike, samples: Sequence[Sample], overwrite: bool = True
                ) -> None:
    """Write ``samples`` as one WebDataset tar shard (``shard_bytes``), atomically."""
    parts = _shard_parts(samples, path)
    with atomic_write(path, overwrite=overwrite) as f:
        if hasattr(os, "writev"):
            _write_parts(f.fileno(), parts)
        else:
            f.write(b"".join(parts))


def _write_parts(fd: int, parts: list) -> None:
    """Write buffers one after the other with few system calls (``os.writev``), and no copy
    of them joined into one."""
    for start in range(0, len(parts), 1024):  # at most IOV_MAX buffers a call
        batch = parts[start: start + 1024]
        written, wanted = os.writev(fd, batch), sum(map(len, batch))
        if written < wanted:  # a short write: the rest, plainly
            rest = memoryview(b"".join(batch))[written:]
            while rest:
                rest = rest[os.write(fd, rest):]


def write_parquet_part(path: str | os.PathLike, samples: Sequence[Sample],
                       class_names: Sequence[str] = (), overwrite: bool = True) -> None:
    """Write ``samples`` as one Parquet file in the Hugging Face ``datasets`` layout (see the
    module's docstring), atomically; ``class_names`` name the labels 0, 1, ..."""
    columns: dict[str, Any] = {"image": (fast_pngs([s.image for s in samples], 0),
                                         [f"{s.key}.png" for s in samples])}
    types = {"image": "image", "mask": "image", "label": "int64", **tables.MANIFEST_COLUMNS}
    features: dict[str, Any] = {"image": {"_type": "Image"}}
    labels = [s.label for s in samples]
    if labels and min(labels) >= 0:
        columns["label"] = labels
        names = list(class_names) or [str(i) for i in range(max(labels) + 1)]
        names += [str(i) for i in range(len(names), max(labels) + 1)]
        features["label"] = {"names": names, "_type": "ClassLabel"}
    if any(s.mask is not None for s in samples):
        columns["mask"] = ([None if s.mask is None else
                            fast_png(mask_pixels(s.mask, f"{path}: {s.key}"), 0)
                            for s in samples],
                           [None if s.mask is None else f"{s.key}.mask.png" for s in samples])
        features["mask"] = {"_type": "Image"}
    if samples and samples[0].record is not None:
        records = [json.loads(s.record) if isinstance(s.record, str) else s.record
                   for s in samples]
        columns.update(_manifest_columns(records))
        features.update({name: {"dtype": kind, "_type": "Value"}
                         for name, kind in tables.MANIFEST_COLUMNS.items()})
    tables.write_parquet(path, columns, types, features, overwrite=overwrite)


def _manifest_columns(records: list[dict]) -> dict[str, list]:
    """The manifest fields of ``records`` as columns: ``copy`` null for an unchanged
    original, ``params`` as JSON text (a ``params`` given as text is that already)."""
    columns = {name: [r.get(name) for r in records] for name in tables.MANIFEST_COLUMNS}
    columns["copy"] = [c if isinstance(c, int) else None for c in columns["copy"]]
    columns["params"] = [p if p is None or isinstance(p, str) else json_line(p)
                         for p in columns["params"]]  # text already: JSON
    return columns


def output_format(out: str | os.PathLike, format: str | None) -> str:
    """The format to write ``out`` in: ``format`` when given (checked against the name),
    else from the name's suffix (``.npz``: npz, ``.tar``: one WebDataset shard, ``.parquet``:
    one Parquet file; no suffix: a folder of PNGs); another suffix is refused."""
    out = Path(out)
    suffix = out.suffix.lower()
    if format is not None and format not in WRITE_FORMATS:
        raise AugkitError(f"format: {format!r} is not allowed; expected one of "
                          f"{', '.join(WRITE_FORMATS)}")
    if suffix in (".png", ".jpg", ".jpeg", ".webp", ".bmp"):
        raise AugkitError(f"{out}: names an image file; the output is a dataset: a folder "
                          "(PNG, JPEG or WebP files, IDX, tar shards or Parquet parts) or a "
                          "file ending in .npz, .tar or .parquet")
    named = FILE_SUFFIXES.get(suffix)
    if format is None:
        if suffix and named is None:
            raise AugkitError(f"{out}: unknown suffix {suffix!r}; name a folder (PNG files, or "
                              "another folder format with --format) or a file ending in .npz, "
                              ".tar or .parquet")
        return named or "png"
    format = "png" if format == "folder" else format
    if named is not None and named != format:
        raise AugkitError(f"{out}: a {suffix} name for --format {format}; name a folder, or "
                          f"use --format {named}")
    if format == "npz" and suffix != ".npz":
        raise AugkitError(f"{out}: --format npz writes one file; give it a name ending in .npz")
    return format


def check_shard_size(shard_size: int | None) -> int:
    """``shard_size`` (None: the default 10,000) checked to be an integer >= 1."""
    if shard_size is None:
        return DEFAULT_SHARD_SIZE
    if isinstance(shard_size, bool) or not isinstance(shard_size, int) or shard_size < 1:
        raise AugkitError(f"shard_size: {shard_size!r} is not allowed; expected an integer >= 1")
    return shard_size


def check_format_options(format: str, quality: int | None, shard_size: int | None) -> None:
    """Refuse a ``quality`` or ``shard_size`` that ``format`` does not take, or a bad one."""
    if quality is not None and format not in ("jpeg", "webp"):
        raise AugkitError(f"quality: only for --format jpeg or webp, not {format}")
    if shard_size is not None and format not in SHARD_FORMATS:
        raise AugkitError(f"shard_size: only for --format wds or parquet, not {format}")
    if quality is not None:
        check_quality(quality)
    if shard_size is not None:
        check_shard_size(shard_size)


def write_dataset(out: str | os.PathLike, images: np.ndarray, labels: np.ndarray | None,
                  format: str | None = None, overwrite: bool = False,
                  prefix: str = "images", masks: np.ndarray | None = None,
                  quality: int | None = None, shard_size: int | None = None) -> Path:
    """Write uint8 images (N, H, W[, C]), their labels (or None) and integer masks (N, H, W;
    or None) to ``out`` in ``format`` (see ``output_format``). Image files go in class
    sub-folders (under ``images/``, with ``masks/`` beside, when there are masks); ``wds`` and
    ``parquet`` write one file when ``out`` has their suffix, else ``out/shard-00000.tar``
    or ``out/part-00000.parquet``, ... of ``shard_size`` samples (default 10,000).
    ``quality`` is JPEG's and WebP's. Returns ``out``."""
    out, format = Path(out), output_format(out, format)
    images = np.asarray(images)
    check_images_shape(out, str(images.dtype), images.shape)
    if labels is not None:
        labels = checked_labels(np.asarray(labels), len(images), out)
    if masks is not None:
        masks = _checked_masks(out, masks, images)
    check_format_options(format, quality, shard_size)
    if format == "npz":
        write_npz(out, images, labels, overwrite=overwrite, masks=masks)
    elif format == "idx":
        if masks is not None:
            raise AugkitError(f"{out}: IDX has no place for masks; use --format png, npz, wds "
                              "or parquet")
        check_folder_output(out, overwrite, empty=False)
        write_idx_pair(out, prefix, images, labels, overwrite=overwrite)
    elif format in SHARD_FORMATS:
        _write_shards(out, format, _samples(images, labels, masks), overwrite,
                      check_shard_size(shard_size))
    else:
        check_quality(quality)
        check_folder_output(out, overwrite)
        _write_files(out, format, images, labels, masks, quality, overwrite)
    return out


def _checked_masks(out: Path, masks: np.ndarray, images: np.ndarray) -> np.ndarray:
    masks = np.asarray(masks)
    if masks.dtype.kind not in "iu" or masks.shape != images.shape[:3]:
        raise AugkitError(f"{out}: masks of {masks.dtype} {masks.shape}; expected integers of "
                          f"shape {images.shape[:3]} (N, H, W of the images)")
    return masks


def _samples(images: np.ndarray, labels: np.ndarray | None, masks: np.ndarray | None
             ) -> list[Sample]:
    return [Sample(f"{i:06d}", image, -1 if labels is None else int(labels[i]),
                   None if masks is None else masks[i]) for i, image in enumerate(images)]


def _write_shards(out: Path, format: str, samples: list[Sample], overwrite: bool,
                  shard_size: int) -> None:
    write = write_shard if format == "wds" else write_parquet_part
    if out.suffix.lower() in FILE_SUFFIXES:
        write(out, samples, overwrite=overwrite)
        return
    check_folder_output(out, overwrite)
    name = "shard-{:05d}.tar" if format == "wds" else "part-{:05d}.parquet"
    for number, start in enumerate(range(0, len(samples), shard_size)):
        write(out / name.format(number), samples[start: start + shard_size], overwrite=True)


def _write_files(out: Path, format: str, images: np.ndarray, labels: np.ndarray | None,
                 masks: np.ndarray | None, quality: int | None, overwrite: bool) -> None:
    suffix = IMAGE_SUFFIXES_OUT[format]
    for i, image in enumerate(images):
        label = -1 if labels is None else int(labels[i])
        stem = f"{label}/{i:06d}" if label >= 0 else f"{i:06d}"
        path = out / (f"{IMAGES_FOLDER}/{stem}" if masks is not None else stem)
        with atomic_write(path.with_name(path.name + suffix), overwrite=overwrite) as f:
            f.write(encode_image(image, format, quality, path))
        if masks is not None:
            with atomic_write(out / MASKS_FOLDER / f"{stem}.png", overwrite=overwrite) as f:
                f.write(encode_mask_png(masks[i], out / MASKS_FOLDER / f"{stem}.png"))


def check_folder_output(out: Path, overwrite: bool, empty: bool = True) -> None:
    """Refuse an output folder that is a file, or (``empty``) that holds files already."""
    if out.exists() and not out.is_dir():
        raise AugkitError(f"{out}: is an existing file; the output is a folder, choose "
                          "another name")
    if empty and out.is_dir() and any(out.iterdir()) and not overwrite:
        raise AugkitError(f"{out}: is not empty; pass --overwrite or choose another folder")


__all__ = ["DEFAULT_QUALITY", "DEFAULT_SHARD_SIZE", "FILE_SUFFIXES", "FOLDER_FORMATS",
           "IMAGE_SUFFIXES_OUT", "SHARD_FORMATS", "WRITE_FORMATS", "Sample",
           "check_folder_output", "check_format_options", "check_quality", "check_shard_size",
           "encode_image", "encode_mask_png", "encode_png", "json_line", "mask_dtype",
           "mask_pixels", "output_format", "save_png", "shard_bytes", "write_dataset",
           "write_idx_pair", "write_npz", "write_parquet_part", "write_shard"]
