"""Reading image datasets on disk: class folders, IDX pairs, npz archives, the bundled MNIST.

``open_source`` turns what a user names into an ``ImageSource`` that reads one image at a
time and never writes; ``read_image`` decodes one file to uint8 pixels.

Segmentation masks come along in two layouts: a folder pair (``images/`` and ``masks/``
sub-folders, each ``images/<rel>.<ext>`` with its mask ``masks/<rel>.png``, a PNG of mode L,
P, I;16 or I and the image's size) and an npz with a ``masks`` array (N, H, W) of integers
beside ``images``. ``ImageSource.has_masks`` says which sources carry them and
``ImageSource.read_mask`` reads one, as int64 HxW label values (a P-mode mask gives its
palette indices).
"""

from __future__ import annotations

import gzip
import os
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from augkit.data import mnist
from augkit.data.idx import read_idx
from augkit.errors import AugkitError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
_IDX_IMAGES = re.compile(r"images[-.]idx[34]-ubyte(\.gz)?$")
IMAGES_FOLDER, MASKS_FOLDER = "images", "masks"
MASK_MODES = "L, P, I;16 or I"
_EXPECTED = ("expected a folder of PNG, JPEG, BMP or WebP images (optionally in class "
             "sub-folders), a folder holding an IDX images/labels pair, an IDX images file, "
             "a .npz file with 'images', 'mnist' or 'mnist:test'")


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
        return self._masks()[index].astype(np.int64)

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

    def __getstate__(self) -> dict:
        # Workers reload the arrays themselves; indexed names are cheap to rebuild.
        state = {key: value for key, value in self.__dict__.items() if key != "_cache"}
        if self.kind != "folder":
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


def _decode(path: Path, convert: Any) -> np.ndarray:
    try:
        with Image.open(path) as img:
            img.load()
            return convert(img)
    except UnreadableImage:
        raise
    except (PermissionError, FileNotFoundError, IsADirectoryError) as error:
        raise UnreadableImage(path, error.strerror.lower()) from None
    except Image.DecompressionBombError as error:
        raise UnreadableImage(path, f"too many pixels to decode safely ({error})") from None
    except UnidentifiedImageError:
        empty = path.stat().st_size == 0
        raise UnreadableImage(path, "empty file" if empty else
                              "not an image (cannot identify image file)") from None
    # Pillow's decoders report corrupt data with many exception types.
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UnreadableImage(path, f"truncated or corrupt image data ({detail})") from None


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
    """The dataset at ``path``: an image folder, an IDX pair, an npz file or ``"mnist[:test]"``."""
    if isinstance(path, str) and path.split(":")[0] == "mnist" and not os.path.exists(path):
        return _open_mnist(path)
    path = Path(path)
    if path.is_dir():
        images_file = _idx_in_folder(path)
        if images_file is not None:
            return _open_idx(images_file, shown=path)
        if (path / IMAGES_FOLDER).is_dir() and (path / MASKS_FOLDER).is_dir():
            return _open_pair(path)
        return _open_folder(path)
    if not path.exists():
        raise AugkitError(f"{path}: no such file or folder; {_EXPECTED}")
    if path.suffix.lower() == ".npz":
        return _open_npz(path)
    if _idx_header(path) is not None:
        return _open_idx(path, shown=path)
    raise AugkitError(f"{path}: not a dataset; {_EXPECTED}")


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
    name = re.sub("idx[34]", "idx1", images_file.name.replace("images", "labels"))
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



def load_arrays(source: ImageSource) -> tuple[np.ndarray, np.ndarray]:
    """All images stacked as (N, H, W) or (N, H, W, C) uint8, and their int64 labels."""
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
