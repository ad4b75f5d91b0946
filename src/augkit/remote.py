"""Datasets behind a URI that ``pyarrow.fs`` opens (``s3://``, ``gs://``, ``hdfs://``,
``abfs://``, ``file://``, ...), for the commands that take paths.

An input is copied once into a local staging folder under the cache and read from there. An
output is written into a staging folder of its own, then copied up when the command ends
well; a run that was interrupted continues from that folder when rerun, and a destination that
already holds a run is copied down first, so that augkit sees what is there. pyarrow comes
with the ``parquet`` extra; it is imported only when a URI is given.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from augkit.errors import AugkitError
from augkit.files import cache_dir

_DONE = ".augkit-staged"


def is_uri(value: str | Path) -> bool:
    """Whether ``value`` names a location by URI (``scheme://...``) rather than a path."""
    text = str(value)
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.isidentifier() and len(scheme) > 1


def _open(uri: str, name: str) -> tuple[Any, str]:
    try:
        import pyarrow
        import pyarrow.fs
    except ImportError:
        raise AugkitError(f"{name}: {uri} is a URI, which needs pyarrow; pip install "
                          "'augkit[parquet]'") from None
    try:
        return pyarrow.fs.FileSystem.from_uri(uri)
    except (pyarrow.ArrowException, OSError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise AugkitError(f"{name}: {uri} cannot be opened through pyarrow.fs: {reason}"
                          ) from None


def _staging(uri: str, role: str) -> Path:
    digest = hashlib.sha256(uri.encode()).hexdigest()[:16]
    name = PurePosixPath(uri.rstrip("/")).name or "root"
    return cache_dir() / "remote" / f"{digest}-{role}" / name


def _exists(filesystem: Any, path: str) -> bool:
    import pyarrow.fs

    return filesystem.get_file_info(path).type != pyarrow.fs.FileType.NotFound


def _copy(source: str, destination: str, source_fs: Any, destination_fs: Any) -> None:
    import pyarrow.fs

    if source_fs.get_file_info(source).type == pyarrow.fs.FileType.File:
        parent = str(PurePosixPath(destination).parent)
        destination_fs.create_dir(parent, recursive=True)
    pyarrow.fs.copy_files(source, destination, source_filesystem=source_fs,
                          destination_filesystem=destination_fs)


def _listing(filesystem: Any, path: str) -> str:
    """Names, sizes and modification times of what ``path`` holds: a copy is fresh while
    this is unchanged."""
    import pyarrow.fs

    info = filesystem.get_file_info(path)
    entries = [info] if info.type == pyarrow.fs.FileType.File else filesystem.get_file_info(
        pyarrow.fs.FileSelector(path, recursive=True))
    return "\n".join(sorted(f"{e.path}\t{e.size}\t{e.mtime_ns}" for e in entries))


def stage_input(location: str, name: str = "src") -> str:
    """``location`` itself when it is a path; for a URI, a local copy of what it names (made
    again only when the files there change)."""
    if not is_uri(location):
        return location
    filesystem, path = _open(location, name)  # first: without pyarrow, one line
    import pyarrow.fs

    if not _exists(filesystem, path):
        raise AugkitError(f"{name}: {location} does not exist")
    local = _staging(location, "in")
    done, listing = local.parent / _DONE, _listing(filesystem, path)
    if not done.exists() or done.read_text() != listing:
        if local.is_file():
            local.unlink()
        else:
            shutil.rmtree(local, ignore_errors=True)
        done.unlink(missing_ok=True)
        local.parent.mkdir(parents=True, exist_ok=True)
        _copy(path, str(local), filesystem, pyarrow.fs.LocalFileSystem())
        done.write_text(listing)
    return str(local)


@contextmanager
def staged_output(location: str, name: str = "dst", overwrite: bool = False
                  ) -> Iterator[str]:
    """A local folder to write ``location``'s contents in, copied up to the URI when the
    block ends without an error; a plain path is yielded as it is."""
    if not is_uri(location):
        yield location
        return
    filesystem, path = _open(location, name)  # first: without pyarrow, one line
    import pyarrow.fs

    local_fs = pyarrow.fs.LocalFileSystem()
    local = _staging(location, "out")
    local.parent.mkdir(parents=True, exist_ok=True)
    if not local.exists() and _exists(filesystem, path) and not overwrite:
        _copy(path, str(local), filesystem, local_fs)  # what is there already, to resume
    yield str(local)
    if not local.exists():
        return
    there = filesystem.get_file_info(path).type
    if overwrite and there == pyarrow.fs.FileType.Directory:
        filesystem.delete_dir_contents(path)
    elif overwrite and there == pyarrow.fs.FileType.File:
        filesystem.delete_file(path)
    if local.is_dir():
        filesystem.create_dir(path, recursive=True)
    _copy(str(local), path, local_fs, filesystem)


__all__ = ["is_uri", "stage_input", "staged_output"]
