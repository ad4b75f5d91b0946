"""uint8 batches between the interleaved (N, H, W, C) and planar (N, C, H, W) layouts.

A compiled copy row by row: numpy's and torch's transposing copies walk one side with a
stride of C or of a whole plane, and took 36 us (to planar) and 120 us (to interleaved) for
one 224x224 RGB image, where these take 3 and 3.4 us. Two mirror-image kernels rather than
one with a direction flag: with the flag the copy to planar lost its vectorised loop (3 to
20 us).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from augkit.functional._vector_ir import pointer, store_transposed


@njit(cache=True, nogil=True)
def _to_planar(src, dst):
    images, height, width, channels = src.shape
    for n in range(images):
        for y in range(height):
            row = src[n, y]
            if channels == 3:
                red, green, blue = dst[n, 0, y], dst[n, 1, y], dst[n, 2, y]
                for x in range(width):
                    red[x], green[x], blue[x] = row[x, 0], row[x, 1], row[x, 2]
            else:
                for c in range(channels):
                    plane = dst[n, c, y]
                    for x in range(width):
                        plane[x] = row[x, c]


@njit(cache=True, nogil=True)
def _to_interleaved(src, dst):
    images, channels, height, width = src.shape
    for n in range(images):
        for y in range(height):
            row = dst[n, y]
            if channels == 3:  # a constant stride: the stores vectorize (19 to 3.4 us)
                flat = row.reshape(-1)
                red, green, blue = src[n, 0, y], src[n, 1, y], src[n, 2, y]
                for x in range(width):
                    flat[3 * x], flat[3 * x + 1], flat[3 * x + 2] = red[x], green[x], blue[x]
            elif channels == 4:
                flat = row.reshape(-1)
                red, green, blue, alpha = src[n, 0, y], src[n, 1, y], src[n, 2, y], src[n, 3, y]
                for x in range(width):
                    flat[4 * x], flat[4 * x + 1] = red[x], green[x]
                    flat[4 * x + 2], flat[4 * x + 3] = blue[x], alpha[x]
            else:
                for c in range(channels):
                    plane = src[n, c, y]
                    for x in range(width):
                        row[x, c] = plane[x]


_TILE = 16


@intrinsic
def _transpose_tile(typingctx, src, at, stride, dst, to, dst_stride):
    """The 16x16 bytes at ``src[at:]`` (rows ``stride`` apart) transposed into ``dst[to:]``
    (rows ``dst_stride`` apart): 16 row loads, shuffles, 16 row stores (a byte loop walks one
    side with a stride, 3.5x slower at 224x224)."""
    def codegen(context, builder, signature, args):
        i8, i32 = ir.IntType(8), ir.IntType(32)
        rows = []
        for r in range(_TILE):
            offset = builder.add(args[1], builder.mul(args[2], context.get_constant(
                types.intp, r)))
            rows.append(builder.load(pointer(context, builder, signature.args[0], args[0],
                                             offset, ir.VectorType(i8, _TILE)), align=1))
        while len(rows) > 1:  # one vector of the whole tile, row after row
            lanes = 2 * rows[0].type.count
            rows = [builder.shuffle_vector(rows[k], rows[k + 1], ir.Constant(
                ir.VectorType(i32, lanes), list(range(lanes)))) for k in range(0, len(rows), 2)]
        store_transposed(context, builder, signature.args[3], args[3], args[4], args[5],
                         rows[0], _TILE)
        return context.get_dummy_value()
    return types.void(src, types.intp, types.intp, dst, types.intp, types.intp), codegen


@njit(cache=True, nogil=True)
def transpose_plane(plane, out):
    """``out`` (W, H) = ``plane`` (H, W) transposed, both contiguous uint8: 16x16 tiles in
    vector code, the edges' bytes one by one."""
    height, width = plane.shape
    src, dst = plane.reshape(-1), out.reshape(-1)
    whole_h, whole_w = height - height % _TILE, width - width % _TILE
    for y in range(0, whole_h, _TILE):
        for x in range(0, whole_w, _TILE):
            _transpose_tile(src, y * width + x, width, dst, x * height + y, height)
    for y in range(height):
        start = 0 if y >= whole_h else whole_w
        for x in range(start, width):
            out[x, y] = plane[y, x]


_MIRRORED = 16  # pixels a mirror step reverses


@intrinsic
def _mirror_step(typingctx, src, at, dst, to, channels):
    """The 16 pixels of ``channels`` bytes at ``src[at:]`` in reverse order into ``dst[to:]``
    (one load, one shuffle, one store)."""
    if not isinstance(channels, types.IntegerLiteral):
        return None
    size = channels.literal_value
    chunk = ir.VectorType(ir.IntType(8), _MIRRORED * size)

    def codegen(context, builder, signature, args):
        pixels = builder.load(pointer(context, builder, signature.args[0], args[0], args[1],
                                      chunk), align=1)
        mask = [(_MIRRORED - 1 - p) * size + c for p in range(_MIRRORED) for c in range(size)]
        builder.store(builder.shuffle_vector(pixels, pixels, ir.Constant(ir.VectorType(
            ir.IntType(32), len(mask)), mask)), pointer(
                context, builder, signature.args[2], args[2], args[3], chunk), align=1)
        return context.get_dummy_value()
    return types.void(src, types.intp, dst, types.intp, channels), codegen


@njit(cache=True, nogil=True)
def _mirror_rows(src, dst, channels):
    """Each row of ``src`` (R, W * C) with its pixels in reverse order into ``dst``; 1 to 4
    ``channels`` (a literal)."""
    rows, values = src.shape
    width = values // channels
    for r in range(rows):
        line, out = src[r], dst[r]
        if width < _MIRRORED:
            for x in range(width):
                for c in range(channels):
                    out[x * channels + c] = line[(width - 1 - x) * channels + c]
            continue
        for step in range((width + _MIRRORED - 1) // _MIRRORED):
            x = min(step * _MIRRORED, width - _MIRRORED)  # the last step overlaps
            _mirror_step(line, (width - _MIRRORED - x) * channels, out, x * channels,
                         channels)


@njit(cache=True, nogil=True)
def _mirror(src, dst, channels):
    if channels == 1:
        _mirror_rows(src, dst, 1)
    elif channels == 2:
        _mirror_rows(src, dst, 2)
    elif channels == 3:
        _mirror_rows(src, dst, 3)
    else:
        _mirror_rows(src, dst, 4)


@njit(cache=True, nogil=True)
def _mirror_where(src, dst, flags, channels):
    for n in range(src.shape[0]):
        if flags[n]:
            _mirror(src[n], dst[n], channels)
        else:  # a flat loop, which compiles to wide copies (a 2-D slice copy took 4x longer)
            line, out = src[n].reshape(-1), dst[n].reshape(-1)
            for k in range(line.shape[0]):
                out[k] = line[k]


def mirrored_where(images: np.ndarray, planar: bool, flags: np.ndarray) -> np.ndarray:
    """A uint8 batch (as ``mirrored`` takes it) into a new array, each sample mirrored left to
    right where its flag is set and copied as it is elsewhere: one pass over the batch."""
    src = np.ascontiguousarray(images)
    channels = 1 if planar else src.shape[3]
    if channels > 4:
        return np.where(np.asarray(flags, bool).reshape(-1, 1, 1, 1), src[:, :, ::-1], src)
    out = np.empty_like(src)
    width = src.shape[-1] if planar else src.shape[2]
    _mirror_where(src.reshape(src.shape[0], -1, width * channels),
                  out.reshape(src.shape[0], -1, width * channels),
                  np.ascontiguousarray(flags, np.bool_), channels)
    return out


@njit(cache=True, nogil=True)
def _upside_down_where(src, dst, flags):
    rows = src.shape[2]
    for n in range(src.shape[0]):
        for plane in range(src.shape[1]):
            for r in range(rows):
                line, out = src[n, plane, rows - 1 - r if flags[n] else r], dst[n, plane, r]
                for k in range(line.shape[0]):
                    out[k] = line[k]


def upside_down_where(images: np.ndarray, planar: bool, flags: np.ndarray) -> np.ndarray:
    """A uint8 batch (as ``mirrored`` takes it) into a new array, each sample's rows reversed
    where its flag is set and copied as they are elsewhere: one pass over the batch."""
    src = np.ascontiguousarray(images)
    n, height = src.shape[0], src.shape[2] if planar else src.shape[1]
    planes = src.shape[1] if planar else 1
    out = np.empty_like(src)
    _upside_down_where(src.reshape(n, planes, height, -1), out.reshape(n, planes, height, -1),
                       np.ascontiguousarray(flags, np.bool_))
    return out


def mirrored(images: np.ndarray, planar: bool) -> np.ndarray:
    """A uint8 batch, ``(N, C, H, W)`` when ``planar`` (else ``(N, H, W, C)``), mirrored left
    to right into a new array."""
    src = np.ascontiguousarray(images)
    channels = 1 if planar else src.shape[3]
    if channels > 4:
        return np.ascontiguousarray(src[:, :, ::-1])
    out = np.empty_like(src)
    width = src.shape[-1] if planar else src.shape[2]
    _mirror(src.reshape(-1, width * channels), out.reshape(-1, width * channels), channels)
    return out


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view: compiled kernels then see one type whether or not an array is
    writable."""
    view = array.view()
    view.flags.writeable = False
    return view


def planar(nhwc: np.ndarray) -> np.ndarray:
    """A new contiguous (N, C, H, W) array of an (N, H, W, C) one."""
    return _moved(nhwc, (0, 3, 1, 2), _to_planar)


def interleaved(nchw: np.ndarray) -> np.ndarray:
    """A new contiguous (N, H, W, C) array of an (N, C, H, W) one."""
    return _moved(nchw, (0, 2, 3, 1), _to_interleaved)


def _moved(batch: np.ndarray, axes: tuple[int, ...], copy: Any) -> np.ndarray:
    """``batch`` with its axes in the order ``axes``, contiguous: uint8 through the compiled
    ``copy``, other dtypes through numpy."""
    if batch.dtype != np.uint8:
        return np.ascontiguousarray(batch.transpose(axes))
    out = np.empty(tuple(batch.shape[a] for a in axes), np.uint8)
    copy(np.ascontiguousarray(batch), out)
    return out


__all__ = ["interleaved", "mirrored", "planar", "read_only", "transpose_plane"]
