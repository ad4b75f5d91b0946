"""Small file helpers shared across augkit: checksums, atomic writes and the cache folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from augkit.errors import AugkitError


class OutputExistsError(FileExistsError, AugkitError):
    """A writer was asked to replace an existing file without ``overwrite=True``."""


def sha256(path: Path, digest: Any = None) -> str:
    """Hex SHA-256 of a file's bytes (fed into ``digest`` when one is given)."""
    digest = hashlib.sha256() if digest is None else digest
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def refuse_existing(path: Path | None, overwrite: bool) -> None:
    """Raise ``OutputExistsError`` when ``path`` exists and ``overwrite`` is false."""
    if path is not None and path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: already exists; pass --overwrite to replace it")


def temporary_name(path: Path) -> Path:
    """A hidden name beside ``path``, unique to this process and thread."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", overwrite: bool = True
                 ) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on success it is renamed to
    ``path`` (readers see the old file or the new one, never half of one), on failure it is
    removed. ``overwrite=False`` refuses an existing ``path``. The parent folder is created."""
    path = Path(path)
    refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        with open(tmp, mode) as f:
            yield f
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Like ``atomic_write`` for writers that want a file name rather than a file object
    (safetensors, matplotlib): yields the temporary path, renamed to ``path`` on success."""
    path = Path(path)
    refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: str | os.PathLike, text: str, overwrite: bool = True) -> None:
    """Write ``text`` to ``path`` through ``atomic_write``."""
    with atomic_write(path, "w", overwrite=overwrite) as f:
        f.write(text)


def write_bytes_atomically(path: str | os.PathLike, data: bytes, overwrite: bool = True
                           ) -> None:
    """Write ``data`` to ``path`` through ``atomic_write``."""
    with atomic_write(path, "wb", overwrite=overwrite) as f:
        f.write(data)


def write_many_small(path: Path, data: bytes, staging: Path | None = None) -> None:
    """Write ``data`` to a temporary name, then rename it to ``path``, in few system calls,
    for writing many small files. The temporary file lies beside ``path``, or in ``staging``
    (a folder on the same file system, where one name per thread is reused: renaming out of a
    small folder is cheaper than out of a big one). The folders must exist."""
    tmp = (f"{staging}/{os.getpid()}-{threading.get_ident()}" if staging is not None
           else str(temporary_name(path)))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def cache_dir() -> Path:
    """Where trained feature nets and real-data baselines are cached (``$AUGKIT_CACHE``)."""
    return Path(os.environ.get("AUGKIT_CACHE", Path.home() / ".cache" / "augkit"))


__all__ = ["OutputExistsError", "atomic_path", "atomic_write", "cache_dir", "refuse_existing",
           "sha256", "write_bytes_atomically", "write_many_small", "write_text_atomically"]
