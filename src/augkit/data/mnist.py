"""The MNIST digits, bundled with augkit so that everything works offline.

The four canonical IDX files ship gzipped inside the package and are verified against their
SHA-256 sums before use. ``load_mnist(root=...)`` reads a copy elsewhere and, with
``download_missing=True``, fetches missing files from the usual mirrors, verified the same way.
"""

from __future__ import annotations

import os
import shutil
import urllib.request
from functools import cache
from pathlib import Path

import numpy as np

from augkit.data.idx import read_idx
from augkit.errors import AugkitError
from augkit.files import atomic_path, sha256

BUNDLED_DIR = Path(__file__).parent / "bundled" / "mnist"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


@cache
def _expected_sums() -> dict[str, str]:
    sums = {}
    for line in (BUNDLED_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    return sums


def verify(path: Path, name: str | None = None) -> None:
    """Raise a ValueError unless ``path`` has the checksum of MNIST file ``name``."""
    expected = _expected_sums()[name or path.name]
    if not path.is_file():
        raise AugkitError(f"{path}: MNIST file is missing")
    actual = sha256(path)
    if actual != expected:
        raise AugkitError(f"{path}: checksum mismatch (sha256 {actual[:16]}..., expected "
                          f"{expected[:16]}...); the file is corrupt or not the MNIST original")


def download(name: str, root: Path, mirrors: tuple[str, ...] | None = None) -> Path:
    """Fetch one MNIST file into ``root`` from the first mirror that serves it intact."""
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    errors = []
    for mirror in MIRRORS if mirrors is None else mirrors:
        try:
            with atomic_path(target) as tmp:
                with urllib.request.urlopen(mirror + name, timeout=60) as response, \
                        open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
                verify(tmp, name)
        except (OSError, ValueError) as error:
            errors.append(f"{mirror}: {error}")
            continue
        return target
    raise AugkitError(f"{target}: could not download MNIST file; " + "; ".join(errors))


@cache
def _verified_bundle() -> bool:
    for names in FILES.values():
        for name in names:
            verify(BUNDLED_DIR / name)
    return True


def load_mnist(split: str = "train", root: str | os.PathLike | None = None,
               download_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images ``(N, 28, 28)`` uint8 and labels ``(N,)`` int64 for ``"train"`` or ``"test"``.

    >>> images, labels = load_mnist("test")
    >>> images.shape, labels[:5].tolist()
    ((10000, 28, 28), [7, 2, 1, 0, 4])
    """
    if split not in FILES:
        raise AugkitError(f"split: {split!r} is not allowed; expected 'train' or 'test'")
    if root is None:
        _verified_bundle()
        directory = BUNDLED_DIR
    else:
        directory = Path(root)
    paths = []
    for name in FILES[split]:
        path = directory / name
        if root is not None:
            if not path.exists() and (directory / name[:-3]).exists():
                path = directory / name[:-3]  # an unpacked copy; read as raw IDX
            elif not path.exists():
                if not download_missing:
                    raise AugkitError(f"{path}: MNIST file is missing (pass download_missing=True "
                                      "to fetch it)")
                path = download(name, directory)
            if path.suffix == ".gz":
                verify(path)
        paths.append(path)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise AugkitError(f"{paths[0]}: expected uint8 images of shape (N, H, W), got "
                          f"{images.dtype} {images.shape}")
    if labels.shape != (images.shape[0],):
        raise AugkitError(f"{paths[1]}: {labels.shape[0] if labels.ndim else 0} labels for "
                          f"{images.shape[0]} images")
    return images, labels.astype(np.int64)
