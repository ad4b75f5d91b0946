"""Reading and writing the IDX format of MNIST, Fashion-MNIST and EMNIST (raw or gzipped).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values, big-endian, row-major.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from augkit.errors import AugkitError
from augkit.files import write_bytes_atomically

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as error:
        raise AugkitError(f"{path}: cannot read IDX file ({error.strerror})") from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise AugkitError(f"{path}: corrupt or truncated gzip data ({error})") from None
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or raw), in native byte order."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise AugkitError(f"{path}: {len(data)} bytes is too short for an IDX header")
    zero1, zero2, code, ndim = data[0], data[1], data[2], data[3]
    if zero1 or zero2 or code not in _TYPES or ndim == 0:
        raise AugkitError(f"{path}: bad IDX magic number {data[:4].hex()}; expected 0000 "
                          "followed by a type code (08, 09, 0b, 0c, 0d, 0e) and a dimension count")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise AugkitError(f"{path}: truncated IDX header ({len(data)} of {header} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "extra data"
        raise AugkitError(f"{path}: IDX file of shape {shape} should be {expected} bytes, "
                          f"found {len(data)} ({problem})")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as IDX (gzipped when ``path`` ends in ``.gz``), atomically."""
    path = Path(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise AugkitError(f"{path}: IDX cannot store dtype {array.dtype}; expected uint8, int8, "
                          "int16, int32, float32 or float64")
    if array.ndim == 0 or array.ndim > 255:
        raise AugkitError(f"{path}: IDX needs 1 to 255 dimensions, got {array.ndim}")
    code = _CODES[native]
    payload = (bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
               + np.ascontiguousarray(array, dtype=_TYPES[code]).tobytes())
    if path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=6, mtime=0)
    write_bytes_atomically(path, payload)
