"""Reading image datasets on disk: class folders, IDX pairs, npz archives, WebDataset tar
shards, Parquet files and ``datasets.Dataset.save_to_disk`` folders, the bundled MNIST.

``open_source`` turns what a user names into an ``ImageSource`` that reads one image at a
time and never writes; ``read_image`` decodes one file to uint8 pixels, upright (its EXIF
orientation applied, so that pixels are what a viewer shows).

Segmentation masks come along in two layouts: a folder pair (``images/`` and ``masks/``
sub-folders, each ``images/<rel>.<ext>`` with its mask ``masks/<rel>.png``, a PNG of mode L,
P, I;16 or I and the image's size) and an npz with a ``masks`` array (N, H, W) of integers
beside ``images``. ``ImageSource.has_masks`` says which sources carry them and
``ImageSource.read_mask`` reads one, as int64 HxW label values (a P-mode mask gives its
palette indices).

Shards and tables (``CONTAINER_KINDS``) hold many samples per file. A tar shard's samples are
its members grouped by key as WebDataset groups them (``<key>.npy`` or an image file, optional
``<key>.cls``, ``<key>.json``, ``<key>.mask.png`` / ``.mask.npy``); a Parquet or Arrow table's
are its rows (an ``image`` column of struct {bytes, path}, optional ``label`` and ``mask``).
What cannot be read (a sample without its image, a truncated archive, a part without an image
column inside a folder of parts) stays in the source as a sample that raises
``UnreadableImage`` with one line saying why, so that ``augkit augment`` lists it as skipped
and ``load_arrays`` skips it with that line; everything before the damage is read.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import mmap
import os
import re
import struct
import sys
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from augkit.data import mnist, tables, tars
from augkit.data.codecs import npy_layout, read_npy, read_simple_png
from augkit.data.idx import read_idx
from augkit.errors import AugkitError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
_IDX_IMAGES = re.compile(r"images[-.]idx[34]-ubyte(\.gz)?$")
IMAGES_FOLDER, MASKS_FOLDER = "images", "masks"
MASK_MODES = "L, P, I;16 or I"
_EXPECTED = ("expected a folder of PNG, JPEG, BMP or WebP images (optionally in class "
             "sub-folders), a folder holding an IDX images/labels pair, an IDX images file, "
             "a .npz file with 'images', a .tar shard or a folder of them, a .parquet file or "
             "a folder of them, a datasets save_to_disk folder, 'mnist' or 'mnist:test'")
CONTAINER_KINDS = ("wds", "parquet", "arrow")  # many samples per file
TAR_IMAGE_EXTENSIONS = (b"npy", b"png", b"jpg", b"jpeg", b"webp", b"bmp", b"ppm", b"pgm",
                        b"tif", b"tiff")
_OPEN_MAPS = 8  # shard files kept mapped at once while reading one sample at a time


class UnreadableImage(AugkitError):
    """An input that cannot be decoded; str() is one line: '<path>: <reason>'."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason

    def __reduce__(self):
        return type(self), (self.path, self.reason)


@dataclass(frozen=True, eq=False)
class ImageSource:
    """A dataset on disk, read one image at a time; never written to.

    >>> source = open_source("mnist:test")
    >>> len(source), source.names[0], source.read(0).shape, int(source.labels[0])
    (10000, 't10k-images-idx3-ubyte.gz[0]', (28, 28), 7)
    """

    kind: str
    path: Path
    names: list[str] = field(repr=False)
    labels: np.ndarray = field(repr=False)
    class_names: list[str]
    _files: tuple[Path, ...] = field(default=(), repr=False)
    _cache: dict = field(default_factory=dict, repr=False)
    #: whether every image has a segmentation mask (a folder pair, an npz with ``masks``)
    has_masks: bool = False
    #: where each sample of a shard or table lies (``CONTAINER_KINDS``); None otherwise
    _entries: Entries | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_root(self) -> Path:
        """The folder that ``names`` are relative to (``path/images`` for a folder pair)."""
        return self.path / IMAGES_FOLDER if self.has_masks and self.kind == "folder" else self.path

    def read(self, index: int) -> np.ndarray:
        """Image ``index`` as uint8 HxW, HxWx3 or HxWx4; raises UnreadableImage."""
        if self.kind == "folder":
            return read_image(self.image_root / self.names[index])
        if self.kind in CONTAINER_KINDS:
            return _container_item(self, index, "image")
        return self._images()[index].copy()

    def mask_path(self, index: int) -> Path:
        """The mask file of image ``index`` of a folder pair: ``masks/<rel>.png``."""
        return self.path / MASKS_FOLDER / (self.names[index].rsplit(".", 1)[0] + ".png")

    def read_mask(self, index: int) -> np.ndarray:
        """Mask ``index`` as int64 HxW label values; raises UnreadableImage."""
        if not self.has_masks:
            raise AugkitError(f"{self.path}: has no masks")
        if self.kind == "folder":
            return read_mask(self.mask_path(index))
        if self.kind in CONTAINER_KINDS:
            return _container_item(self, index, "mask")
        return self._masks()[index].astype(np.int64)

    def record(self, index: int) -> dict | None:
        """The manifest record stored with sample ``index`` (a shard's ``<key>.json``, a
        Parquet row's manifest columns); None when it has none or the source cannot hold
        one."""
        if self.kind not in CONTAINER_KINDS:
            return None
        return _container_record(self, index)

    def input_files(self) -> list[Path]:
        """The files this source reads (images, then masks)."""
        if self.kind == "folder":
            masks = [self.mask_path(i) for i in range(len(self))] if self.has_masks else []
            return [self.image_root / name for name in self.names] + masks
        return list(self._files)

    def _masks(self) -> np.ndarray:
        if "masks" not in self._cache:
            file = self._files[0]
            try:
                with np.load(file, allow_pickle=False) as archive:
                    masks = archive["masks"]
            except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
                raise UnreadableImage(file, f"cannot read masks ({error})") from None
            if masks.shape[0] != len(self):
                raise UnreadableImage(file, f"now holds {masks.shape[0]} masks, "
                                            f"{len(self)} when opened")
            self._cache["masks"] = masks
        return self._cache["masks"]

    def _images(self) -> np.ndarray:
        if "images" not in self._cache:
            file = self._files[0]
            try:
                if self.kind == "idx":
                    images = read_idx(file)
                else:
                    with np.load(file, allow_pickle=False) as archive:
                        images = archive["images"]
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
                reason = str(error).removeprefix(f"{file}: ").splitlines()[0]
                raise UnreadableImage(file, reason) from None
            if images.shape[0] != len(self):
                raise UnreadableImage(file, f"now holds {images.shape[0]} images, "
                                            f"{len(self)} when opened")
            if images.ndim == 4 and images.shape[3] == 1:
                images = np.ascontiguousarray(images[..., 0])
            self._cache["images"] = images
        return self._cache["images"]

    def loaded_arrays(self) -> dict[str, np.ndarray]:
        """The image and mask arrays of an IDX or npz source read so far, for handing to
        another process's ``use_arrays`` (empty for sources read file by file)."""
        return {key: self._cache[key] for key in ("images", "masks") if key in self._cache}

    def use_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Take arrays that another process read from this source's files (its
        ``loaded_arrays``) instead of reading the files again."""
        for key, array in arrays.items():
            if key not in ("images", "masks") or len(array) != len(self):
                raise ValueError(f"{key}: {len(array)} items for a source of {len(self)}")
            self._cache[key] = array

    def __getstate__(self) -> dict:
        # Workers reload the arrays themselves; indexed names are cheap to rebuild.
        state = {key: value for key, value in self.__dict__.items() if key != "_cache"}
        if self.kind in ("idx", "npz"):
            state["names"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _cache={})
        if self.names is None:
            self.__dict__["names"] = _indexed_names(self._files[0].name, len(self.labels))


def _indexed_names(file_name: str, count: int) -> list[str]:
    return [f"{file_name}[{i}]" for i in range(count)]


def read_image(path: Path) -> np.ndarray:
    """One image file as uint8 HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA); raises UnreadableImage."""
    return _decode(path, _pixels)


def read_mask(path: Path) -> np.ndarray:
    """One mask PNG (mode L, P, I;16 or I) as int64 HxW label values, exactly as stored (a
    P-mode mask gives its palette indices); raises UnreadableImage."""
    return _decode(path, lambda img: _mask_values(img, path))


def _mask_values(img: Image.Image, path: Path) -> np.ndarray:
    if not is_mask_mode(img.mode):
        raise UnreadableImage(path, f"a mask of mode {img.mode}; expected {MASK_MODES}")
    return np.asarray(img).astype(np.int64)


def is_mask_mode(mode: str) -> bool:
    """Whether a PIL mode holds integer labels (L, P, I;16, I)."""
    return mode in ("L", "P") or mode == "I" or mode.startswith("I;16")


def _decode(path: Path, convert: Any, data: bytes | None = None) -> np.ndarray:
    """Decode the image file ``path``, or the image bytes ``data`` (named ``path``)."""
    try:
        with Image.open(path if data is None else io.BytesIO(data)) as img:
            img.load()
            return convert(upright(img))
    except UnreadableImage:
        raise
    except (PermissionError, FileNotFoundError, IsADirectoryError) as error:
        raise UnreadableImage(path, error.strerror.lower()) from None
    except Image.DecompressionBombError as error:
        raise UnreadableImage(path, f"too many pixels to decode safely ({error})") from None
    except UnidentifiedImageError:
        empty = path.stat().st_size == 0 if data is None else not data
        raise UnreadableImage(path, "empty file" if empty else
                              "not an image (cannot identify image file)") from None
    # Pillow's decoders report corrupt data with many exception types.
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableImage(path, f"truncated or corrupt image data ({detail})") from None


_ORIENTATION = 0x0112  # the EXIF tag


def upright(img: Image.Image) -> Image.Image:
    """``img`` as it is shown: turned or flipped by its EXIF orientation, as photo viewers
    and Hugging Face ``datasets`` do (a phone's portrait JPEG is stored on its side); the
    image itself when it has no orientation to apply."""
    if img.getexif().get(_ORIENTATION, 1) in (0, 1):
        return img
    return ImageOps.exif_transpose(img)


def _pixels(img: Image.Image) -> np.ndarray:
    if img.mode in ("L", "RGB", "RGBA"):
        return np.array(img)
    if img.mode.startswith("I"):
        wide = np.asarray(img).astype(np.int64)
        return (np.clip(wide, 0, 65535) >> 8).astype(np.uint8)
    if img.mode in ("1", "F"):
        return np.array(img.convert("L"))
    alpha = img.mode in ("LA", "La", "PA", "RGBa") or "transparency" in img.info
    return np.array(img.convert("RGBA" if alpha else "RGB"))


def open_source(path: str | os.PathLike) -> ImageSource:
    """The dataset at ``path``: an image folder, an IDX pair, an npz file, a tar shard or a
    folder of them, a Parquet file or a folder of them, a ``save_to_disk`` folder or
    ``"mnist[:test]"``."""
    if isinstance(path, str) and path.split(":")[0] == "mnist" and not os.path.exists(path):
        return _open_mnist(path)
    path = Path(path)
    if path.is_dir():
        return _open_dir(path)
    if not path.exists():
        raise AugkitError(f"{path}: no such file or folder; {_EXPECTED}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _open_npz(path)
    if suffix == ".tar":
        return _open_shards([path], path)
    if suffix in (".parquet", ".arrow"):
        return _open_tables([path], path, suffix[1:])
    if _idx_header(path) is not None:
        return _open_idx(path, shown=path)
    raise AugkitError(f"{path}: not a dataset; {_EXPECTED}")


def _open_dir(path: Path) -> ImageSource:
    images_file = _idx_in_folder(path)
    if images_file is not None:
        return _open_idx(images_file, shown=path)
    if (path / "dataset_dict.json").is_file():
        splits = sorted(p.name for p in path.iterdir() if p.is_dir())
        raise AugkitError(f"{path}: a DatasetDict saved by save_to_disk (splits: "
                          f"{', '.join(splits) or 'none'}); name one split's folder, e.g. "
                          f"{path / (splits[0] if splits else 'train')}")
    if (path / "state.json").is_file() or (path / "dataset_info.json").is_file():
        return _open_saved(path)
    if (path / IMAGES_FOLDER).is_dir() and (path / MASKS_FOLDER).is_dir():
        return _open_pair(path)
    with os.scandir(path) as listing:  # no stat per file: a flat image folder can be big
        files = sorted(path / entry.name for entry in listing if not entry.name.startswith(".")
                       and entry.name.lower().endswith((".tar", ".parquet")) and entry.is_file())
    shards = [p for p in files if p.suffix.lower() == ".tar"]
    parts = [p for p in files if p.suffix.lower() == ".parquet"]
    if shards and parts:
        raise AugkitError(f"{path}: holds both tar shards ({shards[0].name}, ...) and Parquet "
                          f"files ({parts[0].name}, ...); expected one or the other")
    if shards:
        return _open_shards(shards, path)
    if parts:
        return _open_tables(parts, path, "parquet")
    return _open_folder(path)


def _open_mnist(name: str) -> ImageSource:
    splits = {"mnist": "train", "mnist:train": "train", "mnist:test": "test"}
    if name not in splits:
        raise AugkitError(f"{name}: no such file or folder; expected 'mnist', 'mnist:train' "
                          "or 'mnist:test' for the bundled MNIST")
    images_file = mnist.BUNDLED_DIR / mnist.FILES[splits[name]][0]
    source = _open_idx(images_file, shown=images_file)
    source._cache["images"] = mnist.load_mnist(splits[name])[0]  # checksummed
    return source


def _open_folder(root: Path) -> ImageSource:
    top_images, class_files = [], {}
    try:
        with os.scandir(root) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        raise AugkitError(f"{root}: cannot list folder ({error.strerror})") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            files = _images_under(Path(entry.path), root)
            if files:  # a sub-folder without images is not a class
                class_files[entry.name] = files
        elif entry.name.lower().endswith(IMAGE_SUFFIXES):
            top_images.append(entry.name)
    if top_images and class_files:
        raise AugkitError(f"{root}: holds images at the top level ({top_images[0]}, ...) and in "
                          f"class sub-folders ({', '.join(list(class_files)[:3])}, ...); expected "
                          "one or the other")
    if not top_images and not class_files:
        raise AugkitError(f"{root}: no images found (expected PNG, JPEG, BMP or WebP files, "
                          "optionally in class sub-folders)")
    class_names = sorted(class_files)
    names = sorted(top_images + [name for files in class_files.values() for name in files],
                   key=lambda name: name.split("/"))
    if class_names:
        index = {name: i for i, name in enumerate(class_names)}
        labels = np.array([index[name.split("/", 1)[0]] for name in names], np.int64)
    else:
        labels = np.full(len(names), -1, np.int64)
    return ImageSource("folder", root, names, labels, class_names)


def _open_pair(root: Path) -> ImageSource:
    """``root/images`` (plain or in class sub-folders) with a mask for each image in
    ``root/masks``; every mask is checked (present, a label PNG, the image's size) here."""
    images = _open_folder(root / IMAGES_FOLDER)
    source = ImageSource("folder", root, images.names, images.labels, images.class_names,
                         has_masks=True)
    for index, name in enumerate(source.names):
        _check_mask_file(source.mask_path(index), source.image_root / name)
    return source


def _check_mask_file(mask: Path, image: Path) -> None:
    expected = f"expected the mask of {image}: a PNG of mode {MASK_MODES}, of the image's size"
    if not mask.is_file():
        raise AugkitError(f"{mask}: missing; {expected}")
    try:
        with Image.open(mask) as img:
            kind, mode, size = img.format, img.mode, img.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise AugkitError(f"{mask}: unreadable ({detail}); {expected}") from None
    if kind != "PNG" or not is_mask_mode(mode):
        raise AugkitError(f"{mask}: a {kind} image of mode {mode}; {expected}")
    image_size = _image_size(image)
    if image_size is not None and size != image_size:
        raise AugkitError(f"{mask}: {size[0]}x{size[1]} pixels; expected {image_size[0]}x"
                          f"{image_size[1]}, the size of {image}")


def _image_size(path: Path) -> tuple[int, int] | None:
    """An image file's (width, height) from its header; None when unreadable (it is then
    skipped when read)."""
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _images_under(folder: Path, root: Path) -> list[str]:
    found = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = [name for name in dirs if not name.startswith(".")]  # prunes the walk
        relative = Path(current).relative_to(root).as_posix()
        found += [f"{relative}/{name}" for name in files
                  if not name.startswith(".") and name.lower().endswith(IMAGE_SUFFIXES)]
    return found


def _labels_file(images_file: Path) -> Path | None:
    # the last "images" only: write_dataset's default prefix is "images" too
    name = re.sub(r"images([-.]idx)[34]", r"labels\g<1>1", images_file.name)
    stem = name.removesuffix(".gz")
    candidates = [images_file.with_name(stem), images_file.with_name(stem + ".gz")]
    return next((path for path in candidates if path.is_file() and path != images_file), None)


def _idx_in_folder(folder: Path) -> Path | None:
    candidates = sorted(path for path in folder.iterdir()
                        if path.is_file() and _IDX_IMAGES.search(path.name)
                        and not path.name.startswith("."))
    # A folder may keep each file both gzipped and unpacked; count each dataset once.
    by_stem = {path.name.removesuffix(".gz"): path for path in reversed(candidates)}
    paired = [path for path in by_stem.values() if _labels_file(path) is not None]
    choices = paired or list(by_stem.values())
    if len(choices) > 1:
        choices = [path for path in choices if path.name.startswith("train")] or choices
    if len(choices) > 1:
        raise AugkitError(f"{folder}: holds several IDX datasets "
                          f"({', '.join(sorted(path.name for path in choices))}); name one images "
                          "file")
    return choices[0] if choices else None


def _idx_header(path: Path) -> tuple[int, tuple[int, ...]] | None:
    """The type code and shape of an IDX file, read without loading it; None if not IDX."""
    try:
        with open(path, "rb") as raw:
            zipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw) if zipped else raw as f:
                head = f.read(4)
                if len(head) < 4 or head[:2] != b"\0\0" or head[3] == 0:
                    return None
                dims = f.read(4 * head[3])
    except (OSError, EOFError) as error:
        raise AugkitError(f"{path}: cannot read ({error})") from None
    if len(dims) < 4 * head[3]:
        return None
    return head[2], struct.unpack(f">{head[3]}I", dims)


def _open_idx(images_file: Path, shown: Path) -> ImageSource:
    header = _idx_header(images_file)
    if header is None:
        raise AugkitError(f"{images_file}: not an IDX file (no IDX magic number)")
    code, shape = header
    check_images_shape(images_file, "uint8" if code == 0x08 else f"IDX type {code:#04x}", shape)
    labels_file = _labels_file(images_file)
    files = (images_file,) if labels_file is None else (images_file, labels_file)
    labels = (np.full(shape[0], -1, np.int64) if labels_file is None
              else checked_labels(read_idx(labels_file), shape[0], labels_file))
    return ImageSource("idx", shown, _indexed_names(images_file.name, shape[0]), labels,
                       _class_names(labels), files)


def _open_npz(path: Path) -> ImageSource:
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise AugkitError("a single .npy array, not an npz archive")
        with archive:
            if "images" not in archive.files:
                raise AugkitError(f"no 'images' array; found {', '.join(archive.files) or 'none'}")
            shape, dtype = _member_header(archive, "images")
            masks = _member_header(archive, "masks") if "masks" in archive.files else None
            labels = archive["labels"] if "labels" in archive.files else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise AugkitError(f"{path}: cannot read npz ({error})") from None
    check_images_shape(path, str(dtype), shape)
    if masks is not None:
        _check_masks_shape(path, masks, shape)
    labels = (np.full(shape[0], -1, np.int64) if labels is None
              else checked_labels(labels, shape[0], path))
    return ImageSource("npz", path, _indexed_names(path.name, shape[0]), labels,
                       _class_names(labels), (path,), has_masks=masks is not None)


def _member_header(archive: Any, name: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype of one array of an npz, read without loading it."""
    with archive.zip.open(f"{name}.npy") as f:
        version = np.lib.format.read_magic(f)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(f)
    return shape, dtype


def _check_masks_shape(file: Path, masks: tuple[tuple[int, ...], np.dtype],
                       images: tuple[int, ...]) -> None:
    shape, dtype = masks
    if dtype.kind not in "iu" or tuple(shape) != tuple(images[:3]):
        raise AugkitError(f"{file}: 'masks' is {dtype} {tuple(shape)}; expected integer masks "
                          f"of shape {tuple(images[:3])} (N, H, W of 'images')")


def check_images_shape(file: Path, dtype: str, shape: tuple[int, ...], batch: bool = True) -> None:
    ndim = 3 if batch else 2
    if dtype != "uint8" or len(shape) not in (ndim, ndim + 1) or (len(shape) == ndim + 1 and
                                                                  shape[-1] not in (1, 3, 4)):
        expected = "(N, H, W) or (N, H, W, C)" if batch else "(H, W) or (H, W, C)"
        raise AugkitError(f"{file}: expected uint8 images of shape {expected} with C 1, 3 or 4; "
                          f"found {dtype} {tuple(shape)}")
    if batch and shape[0] == 0:
        raise AugkitError(f"{file}: no images (N is 0)")


def checked_labels(labels: np.ndarray, count: int, file: Path) -> np.ndarray:
    if labels.dtype.kind not in "iu":
        raise AugkitError(f"{file}: labels must be integers, found {labels.dtype}")
    if labels.shape != (count,):
        raise AugkitError(f"{file}: labels of shape {labels.shape} for {count} images; expected "
                          f"({count},)")
    labels = labels.astype(np.int64)
    negative = np.flatnonzero(labels < 0)
    if negative.size and not (labels == -1).all():
        raise AugkitError(f"{file}: negative label {labels[negative[0]]} at index {negative[0]}; "
                          "labels must be >= 0, or all -1 for unlabeled data")
    return labels


def _class_names(labels: np.ndarray) -> list[str]:
    return [] if (labels < 0).all() else [str(i) for i in range(int(labels.max()) + 1)]


# ---- shards and tables ---------------------------------------------------------------------

_IMAGE, _MASK, _CLS, _JSON = 1, 2, 3, 4  # what a tar member is to its sample


@dataclass(frozen=True, eq=False)
class Entries:
    """Where each sample of a shard or table dataset lies: its file (an index into the
    source's files) and, for its image, mask and record, the tar member's data offset and
    size (-1, -1 where the sample has none) or, in a table, its row and -1."""

    file: np.ndarray                   # (N,) int64
    image: np.ndarray                  # (N, 2) int64
    mask: np.ndarray | None = None     # (N, 2), or None when no sample has a mask
    record: np.ndarray | None = None   # (N, 2): the <key>.json member (shards only)
    #: why a sample cannot be read, by its index
    errors: dict[int, str] = field(default_factory=dict)
    #: a table's image and mask column names, per file
    columns: tuple[tuple[str, str | None], ...] = ()


@dataclass
class _Part:
    """The samples of one file, before they are joined into a source."""

    keys: list[str]
    labels: np.ndarray
    image: np.ndarray
    mask: np.ndarray
    record: np.ndarray
    errors: dict[int, str]
    columns: tuple[str, str | None] = ("", None)


def _broken_part(key: str, reason: str) -> _Part:
    """A file that gives no samples: one entry that reports ``reason`` when read."""
    none = np.full((1, 2), -1, np.int64)
    return _Part([key], np.full(1, -1, np.int64), none, none.copy(), none.copy(), {0: reason})


def _join_parts(kind: str, shown: Path, files: list[Path], parts: list[_Part],
                class_names: list[str] | None = None) -> ImageSource:
    """One source from the per-file samples; a mask on some samples asks one of all."""
    counts = [len(part.keys) for part in parts]
    names = [f"{name}[{key}]" for name, part in zip([f.name for f in files], parts, strict=True)
             for key in part.keys]
    errors, start = {}, 0
    for part, count in zip(parts, counts, strict=True):
        errors.update({start + i: reason for i, reason in part.errors.items()})
        start += count
    labels = np.concatenate([part.labels for part in parts])
    mask = np.concatenate([part.mask for part in parts])
    has_masks = bool((mask[:, 0] >= 0).any())
    if has_masks:
        for i in np.flatnonzero(mask[:, 0] < 0).tolist():
            errors.setdefault(i, f"{names[i]}: no mask, while other samples have one")
    readable = np.ones(len(labels), bool)
    readable[list(errors)] = False
    entries = Entries(np.repeat(np.arange(len(parts)), counts),
                      np.concatenate([part.image for part in parts]),
                      mask if has_masks else None,
                      np.concatenate([part.record for part in parts]), errors,
                      tuple(part.columns for part in parts))
    if class_names is None:
        class_names = _class_names(np.where(readable, labels, -1))
    return ImageSource(kind, shown, names, labels, class_names, tuple(files),
                       has_masks=has_masks, _entries=entries)


def _file_bytes(path: Path, mapped: bool = False) -> mmap.mmap | bytes:
    """A file's bytes, read (or ``mapped``; b"" for an empty file); AugkitError when it
    cannot be read."""
    try:
        with open(path, "rb") as f:
            if not mapped:
                return f.read()
            if os.fstat(f.fileno()).st_size == 0:
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as error:
        raise AugkitError(f"{path}: cannot read ({error.strerror or error})") from None


def _open_shards(files: list[Path], shown: Path) -> ImageSource:
    """WebDataset tar shards, their samples in file order."""
    parts = [_shard_part(file) for file in files]
    if not any(len(part.keys) > len(part.errors) for part in parts):
        first = next(iter(parts[0].errors.values()), "no samples")
        raise AugkitError(f"{shown}: no readable samples in {len(files)} tar file(s) ({first}); "
                          "expected WebDataset shards of <key>.npy, .png, .jpg or .webp "
                          "members, with optional <key>.cls and <key>.json")
    return _join_parts("wds", shown, files, parts)


def _shard_part(file: Path) -> _Part:
    buffer = _file_bytes(file)
    if not len(buffer):
        return _broken_part("", "empty file; expected a tar archive")
    members = tars.scan(buffer)
    count = len(members.names)
    if not count:
        return _broken_part("", members.problem or "a tar archive without members")
    keys, exts = tars.split_keys(members.names)
    roles = _member_roles(exts)
    cut = members.offsets[-1] + members.sizes[-1] > len(buffer)
    if cut:
        roles[-1] = 0  # its data is incomplete
    new = np.ones(count, bool)
    new[1:] = keys[1:] != keys[:-1]
    sample_of = np.cumsum(new) - 1
    samples = int(sample_of[-1]) + 1
    chosen = {role: _first_per_sample(roles == role, sample_of, samples)
              for role in (_IMAGE, _MASK, _CLS, _JSON)}
    sample_keys = [key.decode("utf-8", "replace") for key in keys[new].tolist()]
    part = _Part(sample_keys, np.full(samples, -1, np.int64),
                 *(_spans(members, chosen[role]) for role in (_IMAGE, _MASK, _JSON)), {})
    _shard_labels(part, buffer, members, chosen[_CLS])
    for i in np.flatnonzero(chosen[_IMAGE] < 0).tolist():
        part.errors[i] = _no_image(sample_keys[i], exts[sample_of == i])
    if members.problem is not None:
        _note_damage(part, members.problem, cut, samples)
    return part


def _member_roles(exts: np.ndarray) -> np.ndarray:
    roles = np.zeros(len(exts), np.int8)
    for ext in TAR_IMAGE_EXTENSIONS:
        roles[exts == ext] = _IMAGE
    roles[(exts == b"mask.png") | (exts == b"mask.npy")] = _MASK
    roles[exts == b"cls"] = _CLS
    roles[exts == b"json"] = _JSON
    return roles


def _first_per_sample(chosen: np.ndarray, sample_of: np.ndarray, samples: int) -> np.ndarray:
    """The first member of each sample where ``chosen`` holds (-1 where none does); a
    sample's members are next to each other, so ``sample_of`` never decreases."""
    members = np.flatnonzero(chosen)
    owners = sample_of[members]
    leading = np.ones(len(members), bool)
    leading[1:] = owners[1:] != owners[:-1]
    first = np.full(samples, -1, np.int64)
    first[owners[leading]] = members[leading]
    return first


def _spans(members: tars.Members, chosen: np.ndarray) -> np.ndarray:
    spans = np.full((len(chosen), 2), -1, np.int64)
    found = chosen >= 0
    spans[found, 0] = members.offsets[chosen[found]]
    spans[found, 1] = members.sizes[chosen[found]]
    return spans


def _no_image(key: str, exts: np.ndarray) -> str:
    found = ", ".join(f"{key}.{ext.decode('utf-8', 'replace')}" for ext in exts.tolist())
    return (f"sample {key}: no image (its members: {found}); expected {key}.npy, .png, .jpg "
            "or .webp")


def _note_damage(part: _Part, problem: str, cut: bool, samples: int) -> None:
    """A truncated or corrupt archive: the sample it cut off, or one more entry, says so."""
    line = f"{problem}; the samples before it are read"
    if cut:
        part.errors[samples - 1] = line
        return
    after = f"after {part.keys[-1]}"
    part.keys.append(after)
    part.labels = np.append(part.labels, -1)
    none = np.full((1, 2), -1, np.int64)
    part.image, part.mask, part.record = (np.concatenate([a, none])
                                          for a in (part.image, part.mask, part.record))
    part.errors[samples] = line


def _shard_labels(part: _Part, buffer: Any, members: tars.Members, chosen: np.ndarray) -> None:
    """Each sample's class from its ``<key>.cls`` member (the index as text)."""
    has = np.flatnonzero(chosen >= 0)
    if not len(has):
        return
    offsets, sizes = members.offsets[chosen[has]], members.sizes[chosen[has]]
    data = np.frombuffer(buffer, np.uint8)
    width = int(min(max(int(sizes.max()), 1), 18))
    columns = np.arange(width)
    chars = data[np.minimum(offsets[:, None] + columns, len(data) - 1)].astype(np.int64) - 48
    inside = columns < sizes[:, None]
    plain = (sizes >= 1) & (sizes <= width) & ((~inside) | ((chars >= 0) & (chars <= 9))).all(1)
    place = np.where(inside, 10 ** np.clip(sizes[:, None] - 1 - columns, 0, 17), 0)
    part.labels[has[plain]] = (np.where(inside, chars, 0) * place).sum(axis=1)[plain]
    for i in np.flatnonzero(~plain).tolist():  # text in another form: " 3\n", or not a number
        text = bytes(buffer[offsets[i]: offsets[i] + sizes[i]])
        sample = int(has[i])
        try:
            part.labels[sample] = int(text)
        except ValueError:
            part.errors[sample] = (f"sample {part.keys[sample]}: {part.keys[sample]}.cls holds "
                                   f"{text[:20]!r}, not a class index")
        if part.labels[sample] < -1:
            part.errors[sample] = f"sample {part.keys[sample]}: negative class {text!r}"


def _open_tables(files: list[Path], shown: Path, kind: str,
                 features: dict[str, Any] | None = None) -> ImageSource:
    """Parquet files (or a save_to_disk folder's Arrow files), their rows in file order."""
    parts, names = [], None
    for file in files:
        try:
            part, file_names = _table_part(file, features)
        except AugkitError as error:
            if len(files) == 1:
                raise
            part, file_names = _broken_part("*", str(error).removeprefix(f"{file}: ")), None
        parts.append(part)
        names = names or file_names
    if all(part.errors for part in parts) and all(len(part.keys) == 1 for part in parts):
        raise AugkitError(f"{shown}: no readable table among {len(files)} file(s) "
                          f"({parts[0].errors[0]})")
    return _join_parts(kind, shown, files, parts, class_names=names)


def _table_part(file: Path, features: dict[str, Any] | None) -> tuple[_Part, list[str] | None]:
    """The rows of one table, and the class names its features give (None without)."""
    schema, rows = tables.open_table(file)
    features = tables.hf_features(schema) or features or {}
    pa = tables.pyarrow(file)
    images = [name for name in schema.names if tables.is_image_type(pa, schema.field(name).type)]
    image = "image" if "image" in images else next((n for n in images if n != "mask"), None)
    if image is None:
        raise AugkitError(f"{file}: no image column (its columns: {', '.join(schema.names)}); "
                          "expected an 'image' column of struct {bytes, path}, as "
                          "datasets.Image() stores it")
    mask = "mask" if "mask" in images and image != "mask" else None
    labels, names = _table_labels(file, schema, features, rows)
    spans = np.stack([np.arange(rows), np.full(rows, -1)], axis=1).astype(np.int64)
    none = np.full((rows, 2), -1, np.int64)
    part = _Part([str(row) for row in range(rows)], labels, spans,
                 spans.copy() if mask else none, none.copy(), {}, (image, mask))
    return part, names


def _table_labels(file: Path, schema: Any, features: dict[str, Any], rows: int
                  ) -> tuple[np.ndarray, list[str] | None]:
    """The ``label`` column (or the first ClassLabel feature) as int64, -1 where missing."""
    column = "label" if "label" in schema.names else next(
        (name for name, spec in features.items() if isinstance(spec, dict)
         and spec.get("_type") == "ClassLabel" and name in schema.names), None)
    if column is None:
        return np.full(rows, -1, np.int64), None
    pa = tables.pyarrow(file)
    kind = schema.field(column).type
    if not pa.types.is_integer(kind):
        raise AugkitError(f"{file}: column {column!r} is {kind}; expected integer class "
                          "indices")
    values = tables.read_columns(file, [column])[column]
    labels = np.array([-1 if v is None or v < 0 else v for v in values], np.int64)
    spec = features.get(column, {})
    names = spec.get("names") if isinstance(spec, dict) else None
    return labels, ([str(n) for n in names] if names else None)


def _open_saved(folder: Path) -> ImageSource:
    """A folder written by ``datasets.Dataset.save_to_disk``: Arrow files, state.json."""
    state, files = folder / "state.json", []
    try:
        if state.is_file():
            files = [folder / entry["filename"]
                     for entry in json.loads(state.read_text())["_data_files"]]
        info = folder / "dataset_info.json"
        features = json.loads(info.read_text()).get("features") if info.is_file() else None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AugkitError(f"{folder}: unreadable save_to_disk metadata ({error})") from None
    files = files or sorted(folder.glob("*.arrow"))
    if not files:
        raise AugkitError(f"{folder}: a save_to_disk folder without .arrow files")
    return _open_tables(files, folder, "arrow", features if isinstance(features, dict) else None)


# -- reading one item of a shard or table

def _container_item(source: ImageSource, index: int, item: str) -> np.ndarray:
    """The image or mask of sample ``index``; raises UnreadableImage."""
    entries = source._entries
    file_index = int(entries.file[index])
    file = source._files[file_index]
    if index in entries.errors:
        raise UnreadableImage(file, entries.errors[index])
    if item == "mask" and entries.mask is None:
        raise AugkitError(f"{source.path}: has no masks")
    span = (entries.image if item == "image" else entries.mask)[index]
    if source.kind == "wds":
        data = _member_bytes(source, file_index, int(span[0]), int(span[1]))
    else:
        data = _cell_bytes(source, file_index, int(span[0]), item)
    sample = source.names[index].removeprefix(file.name)
    try:
        return _decoded(file, data, item)
    except UnreadableImage as error:
        raise UnreadableImage(file, f"sample {sample[1:-1]}: {error.reason}") from None


def _decoded(file: Path, data: bytes | memoryview, item: str) -> np.ndarray:
    """The array of one member's bytes; a ``.npy`` member is copied once, straight from
    the shard's mapped file."""
    if data[:6] != b"\x93NUMPY":
        data = bytes(data)
        simple = read_simple_png(data)  # what augkit writes, without Pillow
        if simple is not None and (item == "image" or simple.ndim == 2):
            return simple if item == "image" else simple.astype(np.int64)
        if item == "image":
            return _decode(file, _pixels, data)
        return _decode(file, lambda img: _mask_values(img, file), data)
    try:
        array = read_npy(data)
    except ValueError as error:
        raise UnreadableImage(file, str(error)) from None
    if item == "mask":
        if array.dtype.kind not in "iu" or array.ndim != 2:
            raise UnreadableImage(file, f"a mask of {array.dtype} {array.shape}; expected "
                                        "integers (H, W)")
        return array.astype(np.int64)
    try:
        check_images_shape(file, str(array.dtype), array.shape, batch=False)
    except AugkitError as error:
        raise UnreadableImage(file, str(error).removeprefix(f"{file}: ")) from None
    return array[..., 0] if array.ndim == 3 and array.shape[2] == 1 else array


def _member_bytes(source: ImageSource, file_index: int, offset: int, size: int
                  ) -> memoryview:
    maps = source._cache.setdefault("maps", OrderedDict())
    if file_index not in maps:
        maps[file_index] = _file_bytes(source._files[file_index], mapped=True)
        while len(maps) > _OPEN_MAPS:
            maps.popitem(last=False)
    maps.move_to_end(file_index)
    buffer = maps[file_index]
    if offset + size > len(buffer):
        raise UnreadableImage(source._files[file_index], "now shorter than when it was opened")
    return memoryview(buffer)[offset: offset + size]


def _table_cells(source: ImageSource, file_index: int, column: str) -> list:
    cells = source._cache.setdefault("cells", OrderedDict())
    key = (file_index, column)
    if key not in cells:
        file = source._files[file_index]
        try:
            cells[key] = tables.read_columns(file, [column])[column]
        except AugkitError as error:
            raise UnreadableImage(file, str(error).removeprefix(f"{file}: ")) from None
        while len(cells) > 4:
            cells.popitem(last=False)
    cells.move_to_end(key)
    return cells[key]


def _cell_bytes(source: ImageSource, file_index: int, row: int, item: str) -> bytes:
    """The encoded image (or mask) in one table cell: its bytes, or the file its path names."""
    file = source._files[file_index]
    image, mask = source._entries.columns[file_index]
    column = image if item == "image" else mask
    cells = _table_cells(source, file_index, column)
    if row >= len(cells):
        raise UnreadableImage(file, f"row {row}: the file now has {len(cells)} rows")
    cell = cells[row] or {}
    if cell.get("bytes") is not None:
        return cell["bytes"]
    path = cell.get("path")
    for candidate in ([Path(path), file.parent / path] if path else []):
        if candidate.is_file():
            return candidate.read_bytes()
    raise UnreadableImage(file, f"row {row}: no {column} bytes, and no file at its path "
                                f"({path!r})")


def _container_record(source: ImageSource, index: int) -> dict | None:
    entries = source._entries
    file_index = int(entries.file[index])
    if index in entries.errors:
        return None
    if source.kind == "wds":
        offset, size = (int(v) for v in entries.record[index])
        if offset < 0:
            return None
        return json.loads(bytes(_member_bytes(source, file_index, offset, size)))
    row = int(entries.image[index, 0])
    try:
        fields = {name: _table_cells(source, file_index, name)[row]
                  for name in tables.MANIFEST_COLUMNS}
    except UnreadableImage:
        return None
    return _record_from_columns(fields, int(source.labels[index]))


def _record_from_columns(fields: dict[str, Any], label: int) -> dict:
    """A manifest record as ``augkit augment`` wrote it, from a Parquet row's columns."""
    record = {"output": fields["output"], "index": fields["index"], "source": fields["source"],
              "label": label, "copy": "original" if fields["copy"] is None else fields["copy"],
              "seed": fields["seed"]}
    if fields["position"] is not None:
        record["position"] = fields["position"]
    record["params"] = None if fields["params"] is None else json.loads(fields["params"])
    return record


# -- reading all of a shard or table at once

def _load_container(source: ImageSource) -> tuple[np.ndarray, np.ndarray]:
    """The readable samples stacked, and their labels; each unreadable one is skipped with
    one line on stderr."""
    entries = source._entries
    for index, reason in sorted(entries.errors.items()):
        _skip_line(source, index, reason)
    readable = np.ones(len(source), bool)
    readable[list(entries.errors)] = False
    indices = np.flatnonzero(readable)
    images = _stacked_npy(source, indices) if source.kind == "wds" else None
    if images is None:
        images, indices = _stacked_decoded(source, indices)
    return images, source.labels[indices].copy()


def _skip_line(source: ImageSource, index: int, reason: str) -> None:
    file = source._files[int(source._entries.file[index])]
    print(f"skipped {file}: {reason}", file=sys.stderr)


def _stacked_decoded(source: ImageSource, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    images, kept = [], []
    for index in indices.tolist():
        try:
            image = source.read(index)
        except UnreadableImage as error:
            print(f"skipped {error}", file=sys.stderr)
            continue
        if images and image.shape != images[0].shape:
            raise AugkitError(f"{source.path}: {source.names[index]} has shape {image.shape}, "
                              f"{source.names[kept[0]]} {images[0].shape}; all images must "
                              "share one size and channel count")
        images.append(image)
        kept.append(index)
    if not images:
        raise AugkitError(f"{source.path}: none of its {len(source)} samples could be read")
    return np.stack(images), np.asarray(kept, np.int64)


def _stacked_npy(source: ImageSource, indices: np.ndarray) -> np.ndarray | None:
    """The fast path for shards of ``.npy`` images of one shape: the pixels copied straight
    out of the mapped files. None when the samples are not all such."""
    entries = source._entries
    if not len(indices):
        return None
    files, spans = entries.file[indices], entries.image[indices]
    if not (spans[:, 1] == spans[0, 1]).all():
        return None
    first = _member_bytes(source, int(files[0]), int(spans[0, 0]), int(spans[0, 1]))
    try:
        start, dtype, shape = npy_layout(first)
    except ValueError:
        return None
    length = int(np.prod(shape)) * dtype.itemsize
    if dtype != np.uint8 or start + length != len(first) or len(shape) not in (2, 3):
        return None
    out = np.empty((len(indices), length), np.uint8)
    expected = np.frombuffer(first[:start], np.uint8)
    bounds = np.flatnonzero(np.diff(files)) + 1  # the samples come in file order
    for low, high in itertools.pairwise([0, *bounds.tolist(), len(indices)]):
        data = np.frombuffer(_file_bytes(source._files[int(files[low])], mapped=True), np.uint8)
        offsets = spans[low:high, 0]
        if not (_gather(data, offsets, start) == expected).all():
            return None  # another dtype or shape somewhere
        _gather(data, offsets + start, length, out[low:high])
    images = out.reshape(len(indices), *shape)
    return images[..., 0] if images.ndim == 4 and images.shape[3] == 1 else images


def _gather(data: np.ndarray, starts: np.ndarray, length: int,
            out: np.ndarray | None = None) -> np.ndarray:
    """Rows of ``length`` bytes at ``starts`` (into ``out`` when given): strided views over
    runs of equal steps, or one join when the steps vary too often."""
    out = np.empty((len(starts), length), np.uint8) if out is None else out
    if len(starts) == 1:
        out[0] = data[starts[0]: starts[0] + length]
        return out
    steps = np.diff(starts)
    bounds = [0, *(np.flatnonzero(steps[1:] != steps[:-1]) + 1).tolist(), len(steps)]
    if len(bounds) > len(starts) // 8 + 2:
        view = memoryview(data)
        joined = b"".join([view[s: s + length] for s in starts.tolist()])
        out[:] = np.frombuffer(joined, np.uint8).reshape(len(starts), length)
        return out
    for low, high in itertools.pairwise(bounds):
        out[low: high + 1] = np.lib.stride_tricks.as_strided(
            data[starts[low]:], shape=(high - low + 1, length), strides=(int(steps[low]), 1))
    return out


def load_arrays(source: ImageSource) -> tuple[np.ndarray, np.ndarray]:
    """All images stacked as (N, H, W) or (N, H, W, C) uint8, and their int64 labels (of a
    shard or table: the readable samples, each other one skipped with one line on stderr)."""
    if source.kind in CONTAINER_KINDS:
        return _load_container(source)
    if source.kind != "folder":
        return source._images().copy(), source.labels.copy()
    first = source.read(0)
    images = np.empty((len(source), *first.shape), np.uint8)
    images[0] = first
    for i in range(1, len(source)):
        image = source.read(i)
        if image.shape != first.shape:
            raise AugkitError(f"{source.image_root / source.names[i]}: shape {image.shape} "
                              f"differs from {first.shape} of the first image "
                              f"({source.names[0]}); all images must share one size and "
                              "channel count")
        images[i] = image
    return images, source.labels.copy()
