"""Fast, lossless, deterministic encodings of one image inside a container (a WebDataset
shard, a Parquet row): PNG written directly with zlib (``fast_png``) and numpy's ``.npy``
(``npy_bytes`` / ``read_npy``).

``fast_png`` filters every row with PNG's "Up" filter (a numpy subtraction) and deflates at
a zlib ``level``; any PNG reader decodes it. At level 1 a 224x224 RGB photo takes about 2.1 ms
(Pillow's PNG writer: 5.4 ms at level 1, 16 ms at its default 6) for a file 1% larger than
level 6's. At level 0 (stored, not compressed) it takes 0.3 ms, and a Parquet file compresses
the whole column instead (zstd): smaller than per-image deflate, and faster. ``.npy`` stores
the pixels as they are: nothing to encode or decode.
"""

from __future__ import annotations

import ast
import io
import struct
import zlib
from functools import cache

import numpy as np

from augkit.errors import AugkitError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels: gray, gray+alpha, RGB, RGBA
_NPY_MAGIC = b"\x93NUMPY"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def _png_frame(width: int, height: int, depth: int, color: int) -> tuple[bytes, bytes]:
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return PNG_SIGNATURE + _png_chunk(b"IHDR", header), _png_chunk(b"IEND", b"")


def fast_png(image: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes of a uint8 HxW / HxWxC (C 1..4) or uint16 HxW array, lossless and the same
    bytes every time: the "Up" filter on every row, zlib at ``level``."""
    return fast_pngs([image], level)[0]


def fast_pngs(images: list[np.ndarray], level: int = 1) -> list[bytes]:
    """``fast_png`` of each image; images of one shape next to each other are filtered
    together in one numpy pass."""
    out: list[bytes] = []
    start = 0
    while start < len(images):
        first = np.asarray(images[start])
        stop = start + 1
        while (stop < len(images) and images[stop].shape == first.shape
               and images[stop].dtype == first.dtype):
            stop += 1
        out += _encoded_run(np.stack([np.asarray(a) for a in images[start:stop]]), level)
        start = stop
    return out


def _encoded_run(images: np.ndarray, level: int) -> list[bytes]:
    """PNGs of a stack of same-shape images (N, H, W[, C])."""
    if images.ndim == 4 and images.shape[3] == 1:
        images = images[..., 0]
    count, height, width = images.shape[:3]
    channels = 1 if images.ndim == 3 else images.shape[3]
    if images.dtype == np.uint16 and images.ndim == 3:
        rows = images.astype(">u2").view(np.uint8).reshape(count, height, -1)
    elif images.dtype == np.uint8 and channels in _COLOR_TYPES:
        rows = images.reshape(count, height, -1)
    else:
        raise AugkitError(f"expected uint8 HxW or HxWxC (C 1-4) or uint16 HxW pixels for a PNG; "
                          f"found {images.dtype} {images.shape[1:]}")
    filtered = np.empty((count, height, rows.shape[2] + 1), np.uint8)
    filtered[:, :, 0] = 2  # "Up": each byte minus the byte above it (above row 0: zeros)
    filtered[:, 0, 1:] = rows[:, 0]
    np.subtract(rows[:, 1:], rows[:, :-1], out=filtered[:, 1:, 1:])
    head, tail = _png_frame(width, height, 8 * images.itemsize, _COLOR_TYPES[channels])
    encoded = []
    for one in filtered:
        data = zlib.compress(one, level)
        encoded.append(b"".join((head, struct.pack(">I", len(data)), b"IDAT", data,
                                 struct.pack(">I", zlib.crc32(data, _IDAT_CRC)), tail)))
    return encoded


_IDAT_CRC = zlib.crc32(b"IDAT")


_CHANNELS = {0: 1, 2: 3, 6: 4}  # PNG colour type: gray, RGB, RGBA


def read_simple_png(data: bytes) -> np.ndarray | None:
    """The pixels of a plain PNG as ``fast_png`` writes it (gray, RGB or RGBA at 8 bits, or
    gray at 16; no other chunks than IHDR, IDAT and IEND; every row filtered "None" or
    "Up"), decoded in numpy: the same array Pillow gives, several times faster. None for any
    other PNG, and for damaged data: Pillow reads those and says what is wrong."""
    if data[:8] != PNG_SIGNATURE:
        return None
    position, header, idat = 8, None, []
    while position + 12 <= len(data):
        size, kind = struct.unpack(">I4s", data[position: position + 8])
        body = data[position + 8: position + 8 + size]
        crc = data[position + 8 + size: position + 12 + size]
        if len(crc) < 4 or struct.unpack(">I", crc)[0] != zlib.crc32(kind + body):
            return None
        position += 12 + size
        if kind == b"IEND":
            return _unfiltered(header, b"".join(idat)) if header else None
        if kind == b"IHDR" and header is None and size == 13:
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT" and header is not None:
            idat.append(body)
        else:
            return None
    return None


def _unfiltered(header: tuple, compressed: bytes) -> np.ndarray | None:
    width, height, depth, color, _, _, interlace = header
    if interlace or color not in _CHANNELS or depth not in (8, 16) or (
            depth == 16 and color != 0):
        return None
    row = width * _CHANNELS[color] * depth // 8
    try:
        raw = np.frombuffer(zlib.decompress(compressed), np.uint8)
    except zlib.error:
        return None
    if raw.size != height * (row + 1):
        return None
    rows = raw.reshape(height, row + 1)
    filters = rows[:, 0]
    if (filters == 2).all() or (filters[0] in (0, 2) and (filters[1:] == 2).all()):
        pixels = np.cumsum(rows[:, 1:], axis=0, dtype=np.uint8)  # "Up": add the row above
    elif (filters == 0).all():
        pixels = rows[:, 1:].copy()
    else:
        return None
    if depth == 16:
        return pixels.view(">u2").astype(np.uint16).reshape(height, width)
    shape = (height, width) if color == 0 else (height, width, _CHANNELS[color])
    return pixels.reshape(shape)


@cache
def _npy_header(shape: tuple[int, ...], dtype: str) -> bytes:
    """numpy's own version 1.0 header for an array of ``shape`` and ``dtype``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False,
                                                  "shape": shape})
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    """The ``.npy`` file of a numeric array, as ``np.save`` writes it."""
    return b"".join(npy_parts(array))


def npy_parts(array: np.ndarray) -> tuple[bytes, memoryview]:
    """``npy_bytes`` as its header and a view of the array's own bytes (no copy of them)."""
    array = np.ascontiguousarray(array)
    if array.dtype.kind not in "biuf":
        raise AugkitError(f"expected a numeric array for .npy, found {array.dtype}")
    return _npy_header(array.shape, array.dtype.str), memoryview(array.reshape(-1)).cast("B")


@cache
def _parse_npy_header(header: bytes) -> tuple[np.dtype, tuple[int, ...]]:
    fields = ast.literal_eval(header.decode("latin1"))
    dtype = np.dtype(fields["descr"])
    if fields["fortran_order"] or dtype.kind not in "biuf":
        raise ValueError(f"unsupported .npy array ({dtype}, fortran_order "
                         f"{fields['fortran_order']})")
    return dtype, tuple(int(n) for n in fields["shape"])


def npy_layout(data: bytes | memoryview) -> tuple[int, np.dtype, tuple[int, ...]]:
    """Where the values of a ``.npy`` file start, their dtype and shape; raises ValueError."""
    head = bytes(data[:10])
    if head[:6] != _NPY_MAGIC or len(head) < 10:
        raise ValueError("not a .npy file (no numpy magic)")
    if head[6] == 1:
        start, size = 10, struct.unpack("<H", head[8:10])[0]
    else:
        start, size = 12, struct.unpack("<I", bytes(data[8:12]))[0]
    dtype, shape = _parse_npy_header(bytes(data[start:start + size]))
    return start + size, dtype, shape


def read_npy(data: bytes | memoryview) -> np.ndarray:
    """The array of a ``.npy`` file's bytes (numeric dtypes only, never pickles); raises
    ValueError when the bytes are not such a file or are cut short."""
    offset, dtype, shape = npy_layout(data)
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) - offset < count * dtype.itemsize:
        raise ValueError(f"truncated .npy data ({len(data) - offset} of "
                         f"{count * dtype.itemsize} bytes)")
    return np.frombuffer(data, dtype, count, offset).reshape(shape).copy()


__all__ = ["fast_png", "fast_pngs", "npy_bytes", "npy_layout", "npy_parts", "read_npy",
           "read_simple_png"]
