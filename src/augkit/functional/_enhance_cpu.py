"""Compiled uint8 kernels for the four ImageEnhance ops, bit-identical to Pillow.

Pillow's arithmetic, which these kernels reproduce exactly:
- blend: ``out = (uint8) clip(deg + f * (img - deg), 0, 255)``, evaluated in float32 as a
  multiply followed by a separate add (no fused multiply-add), truncated toward zero;
- luma (``convert("L")``): ``(19595 R + 38470 G + 7471 B + 0x8000) >> 16``;
- contrast's gray level: ``int(mean(luma) + 0.5)``;
- SMOOTH: ``round((sum of the 3x3 neighbourhood + 4 * centre) / 13)``, border pixels kept.
  ``(s + 6) * 5042 >> 16`` equals ``(s + 6) // 13`` for every reachable ``s`` (checked in
  the tests) and, unlike a division, vectorizes.

Two memory layouts: *interleaved* batches ``(N, H, W, C)`` (numpy and PIL order) and *planar*
batches ``(N, C, H, W)`` (torch order). The loops are written so that LLVM vectorizes them:
constant channel strides (one specialization per channel count), unsigned integer math and
non-negative indices. A 4th channel is alpha and is copied unchanged.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from numba import njit
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic

from augkit.functional._layout_cpu import read_only

f32 = np.float32
u32 = np.uint32
_LUMA_R, _LUMA_G, _LUMA_B, _LUMA_HALF = u32(19595), u32(38470), u32(7471), u32(0x8000)
_ZERO, _MAX = f32(0.0), f32(255.0)


@njit(inline="always")
def _blend_px(deg, value, factor):
    t = deg + factor * (f32(value) - deg)
    return np.uint8(min(max(t, _ZERO), _MAX))


@njit(inline="always")
def _luma(r, g, b):
    return (u32(r) * _LUMA_R + u32(g) * _LUMA_G + u32(b) * _LUMA_B + _LUMA_HALF) >> u32(16)


# ---- pointwise pieces on flat, contiguous runs ---------------------------------------------


@njit(inline="always")
def _copy(src, dst):
    for i in range(src.size):
        dst[i] = src[i]


@njit(inline="always")
def _blend_const(src, dst, deg, factor):
    for i in range(src.size):
        dst[i] = _blend_px(deg, src[i], factor)


@njit(inline="always")
def _blend_const_skip_alpha(src, dst, deg, factor):
    for p in range(src.size // 4):
        for c in range(3):
            dst[4 * p + c] = _blend_px(deg, src[4 * p + c], factor)
        dst[4 * p + 3] = src[4 * p + 3]


@njit(inline="always")
def _luma_sum_interleaved(src, C):
    total = 0
    for p in range(src.size // C):
        total += _luma(src[C * p], src[C * p + 1], src[C * p + 2])
    return total


@njit(inline="always")
def _luma_sum_planar(r, g, b):
    total = 0
    for i in range(r.size):
        total += _luma(r[i], g[i], b[i])
    return total


@njit(inline="always")
def _sum_u8(src):
    total = 0
    for i in range(src.size):
        total += u32(src[i])
    return total


@njit(inline="always")
def _color_interleaved(src, dst, factor, C):
    for p in range(src.size // C):
        gray = f32(_luma(src[C * p], src[C * p + 1], src[C * p + 2]))
        for c in range(3):
            dst[C * p + c] = _blend_px(gray, src[C * p + c], factor)
        if C == 4:
            dst[C * p + 3] = src[C * p + 3]


@njit(inline="always")
def _color_planar(r, g, b, out_r, out_g, out_b, factor):
    for i in range(r.size):
        gray = f32(_luma(r[i], g[i], b[i]))
        out_r[i] = _blend_px(gray, r[i], factor)
        out_g[i] = _blend_px(gray, g[i], factor)
        out_b[i] = _blend_px(gray, b[i], factor)


# ---- sharpness on (H, W * C) rows ----------------------------------------------------------


@njit(inline="always")
def _sharpness_rows(src, dst, factor, colsum, C):
    """SMOOTH-and-blend on interior pixels; border rows and columns are copied."""
    H, WC = src.shape
    dst[0, :] = src[0, :]
    dst[H - 1, :] = src[H - 1, :]
    if H < 3 or WC < 3 * C:
        dst[:, :] = src[:, :]
        return
    inner = WC - 2 * C
    for y in range(1, H - 1):
        for i in range(WC):
            colsum[i] = np.uint16(src[y - 1, i]) + np.uint16(src[y, i]) + np.uint16(src[y + 1, i])
        for c in range(C):
            dst[y, c] = src[y, c]
            dst[y, WC - C + c] = src[y, WC - C + c]
        for j in range(inner):
            centre = src[y, j + C]
            s = u32(colsum[j]) + u32(colsum[j + C]) + u32(colsum[j + 2 * C]) + u32(4) * u32(centre)
            smooth = f32(((s + u32(6)) * u32(5042)) >> u32(16))
            dst[y, j + C] = _blend_px(smooth, centre, factor)
        if C == 4:
            for p in range(WC // 4):
                dst[y, 4 * p + 3] = src[y, 4 * p + 3]


# ---- per-sample kernels -------------------------------------------------------------------
# Interleaved samples are (H, W * C); planar samples are (C, H, W). Every call below passes
# the channel count as a literal so that each branch is compiled for a constant stride.

COLOR, BRIGHTNESS, CONTRAST, SHARPNESS = 0, 1, 2, 3
OPS = {"color": COLOR, "brightness": BRIGHTNESS, "contrast": CONTRAST, "sharpness": SHARPNESS}


@njit(inline="always")
def _interleaved_blend_const(src, dst, deg, factor, C):
    if C == 4:
        _blend_const_skip_alpha(src, dst, deg, factor)
    else:
        _blend_const(src, dst, deg, factor)


@njit(inline="always")
def _interleaved_op(op, src, dst, factor, scratch, C):
    flat, out = src.reshape(-1), dst.reshape(-1)
    if op == COLOR:
        if C == 1:
            _copy(flat, out)
        else:
            _color_interleaved(flat, out, factor, C)
    elif op == BRIGHTNESS:
        _interleaved_blend_const(flat, out, _ZERO, factor, C)
    elif op == CONTRAST:
        total = _sum_u8(flat) if C == 1 else _luma_sum_interleaved(flat, C)
        mean_level = f32(int(total / (flat.size // C) + 0.5))
        _interleaved_blend_const(flat, out, mean_level, factor, C)
    else:
        _sharpness_rows(src, dst, factor, scratch, C)


@njit(nogil=True)
def _interleaved_sample(op, channels, src, dst, factor, scratch):
    if channels == 1:
        _interleaved_op(op, src, dst, factor, scratch, 1)
    elif channels == 3:
        _interleaved_op(op, src, dst, factor, scratch, 3)
    else:
        _interleaved_op(op, src, dst, factor, scratch, 4)


@njit(nogil=True)
def _planar_sample(op, src, dst, factor, scratch):
    channels = src.shape[0]
    n_color = min(channels, 3)
    if op == COLOR:
        if channels == 1:
            _copy(src[0].reshape(-1), dst[0].reshape(-1))
        else:
            _color_planar(src[0].reshape(-1), src[1].reshape(-1), src[2].reshape(-1),
                          dst[0].reshape(-1), dst[1].reshape(-1), dst[2].reshape(-1), factor)
    elif op == BRIGHTNESS:
        _blend_const(src[:n_color].reshape(-1), dst[:n_color].reshape(-1), _ZERO, factor)
    elif op == CONTRAST:
        if channels == 1:
            total = _sum_u8(src[0].reshape(-1))
        else:
            total = _luma_sum_planar(src[0].reshape(-1), src[1].reshape(-1), src[2].reshape(-1))
        mean_level = f32(int(total / src[0].size + 0.5))
        _blend_const(src[:n_color].reshape(-1), dst[:n_color].reshape(-1), mean_level, factor)
    else:
        for c in range(n_color):
            _sharpness_rows(src[c], dst[c], factor, scratch, 1)
    if channels == 4:
        _copy(src[3].reshape(-1), dst[3].reshape(-1))


@intrinsic
def _read_only_view(typingctx, array):
    """The same array typed read-only, so that every step runs one compiled sample kernel."""
    def codegen(context, builder, signature, args):
        return impl_ret_borrowed(context, builder, signature.return_type, args[0])
    return array.copy(readonly=True)(array), codegen


@njit(inline="always")
def _target(step, steps, dst, tmp):
    # ping-pong between tmp and dst so that the last step writes dst
    return dst if (steps - 1 - step) % 2 == 0 else tmp


@njit(cache=True, nogil=True)
def _interleaved_chain(codes, src, dst, factors, channels):
    """Run each sample's ops (``codes[n]``, with ``factors[n]``) back to back while it is hot."""
    n_samples, height, row = src.shape
    steps = codes.shape[1]
    scratch = np.empty(row, np.uint16)
    tmp = np.empty((height, row) if steps > 1 else (1, 1), np.uint8)
    for n in range(n_samples):
        _interleaved_sample(codes[n, 0], channels, src[n], _target(0, steps, dst[n], tmp),
                            factors[n, 0], scratch)
        for step in range(1, steps):
            source = _read_only_view(_target(step - 1, steps, dst[n], tmp))
            _interleaved_sample(codes[n, step], channels, source,
                                _target(step, steps, dst[n], tmp), factors[n, step], scratch)


@njit(cache=True, nogil=True)
def _planar_chain(codes, src, dst, factors):
    n_samples, channels, height, width = src.shape
    steps = codes.shape[1]
    scratch = np.empty(width, np.uint16)
    tmp = np.empty((channels, height, width) if steps > 1 else (1, 1, 1), np.uint8)
    for n in range(n_samples):
        _planar_sample(codes[n, 0], src[n], _target(0, steps, dst[n], tmp), factors[n, 0],
                       scratch)
        for step in range(1, steps):
            source = _read_only_view(_target(step - 1, steps, dst[n], tmp))
            _planar_sample(codes[n, step], source, _target(step, steps, dst[n], tmp),
                           factors[n, step], scratch)


class _Pool:
    """Threads for splitting a batch; the kernels release the GIL. Rebuilt after a fork."""

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._pid = -1
        self._lock = threading.Lock()

    def map(self, fn, chunks: list[tuple]) -> None:
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                                    thread_name_prefix="augkit")
                self._pid = os.getpid()
            executor = self._executor
        for future in [executor.submit(fn, *chunk) for chunk in chunks]:
            future.result()


_POOL = _Pool()
# below this many bytes per batch, one thread is faster than handing work out
_MIN_PARALLEL_BYTES = 1 << 20


def enhance_uint8(ops: Sequence[str], images: np.ndarray, factors: np.ndarray, planar: bool,
                  order: np.ndarray | None = None) -> np.ndarray:
    """Apply ``ops`` in sequence to a contiguous uint8 batch; ``factors`` is ``(N, len(ops))``.

    ``images`` is ``(N, H, W, C)`` when ``planar`` is false and ``(N, C, H, W)`` when true.
    ``order`` (``(N, len(ops))`` positions into ``ops``) gives each sample its own order.
    The batch is split over ``torch.get_num_threads()`` threads (one inside DataLoader
    workers).
    """
    n = images.shape[0]
    channels = images.shape[1] if planar else images.shape[3]
    if channels == 1 and "color" in ops and len(ops) > 1:
        # colour is the identity on gray images: drop it from the chain
        keep = [i for i, op in enumerate(ops) if op != "color"]
        ops = [ops[i] for i in keep]
        factors = np.asarray(factors).reshape(n, -1)[:, keep]
        if order is not None:
            order = np.asarray(order)
            new_position = np.full(order.shape[1], -1)
            new_position[keep] = np.arange(len(keep))
            order = new_position[order[np.isin(order, keep)].reshape(n, len(keep))]
    codes = np.array([OPS[op] for op in ops], dtype=np.int64)
    factors = np.ascontiguousarray(factors, dtype=np.float32).reshape(n, len(ops))
    if order is None:
        codes = np.broadcast_to(codes, (n, len(ops)))
    else:
        order = np.asarray(order, dtype=np.int64)
        codes = codes[order]
        factors = np.take_along_axis(factors, order, axis=1)
    # read-only views: one compiled signature whether or not the caller's arrays are writable
    codes, images = read_only(np.ascontiguousarray(codes)), read_only(images)
    out = np.empty_like(images)
    if planar:
        run, args = _planar_chain, (codes, images, out, factors)
    else:
        _, height, width, channels = images.shape
        rows = images.reshape(n, height, width * channels)
        args = (codes, rows, out.reshape(rows.shape), factors)

        def run(*chunk: np.ndarray) -> None:
            _interleaved_chain(*chunk, channels)
    threads = min(torch.get_num_threads(), n)
    if threads > 1 and images.nbytes >= _MIN_PARALLEL_BYTES:
        bounds = np.linspace(0, n, threads + 1).astype(int)
        chunks = [tuple(a[lo:hi] for a in args) for lo, hi in itertools.pairwise(bounds)]
        _POOL.map(run, chunks)
    else:
        run(*args)
    return out


@njit(cache=True, nogil=True)
def add_weighted(total, weights, images, first):
    """``total[n] (+)= weights[n] * images[n]`` over (N, ...) float32 sums and uint8 images:
    each product rounded to float32, then added, as ``total + weights * images`` in torch
    (``first``: the sums start from the products)."""
    flat_total = total.reshape(total.shape[0], -1)
    flat_images = images.reshape(images.shape[0], -1)
    for n in range(flat_total.shape[0]):
        w, sums, pixels = np.float32(weights[n]), flat_total[n], flat_images[n]
        if first:
            for i in range(sums.shape[0]):
                sums[i] = w * np.float32(pixels[i])
        else:
            for i in range(sums.shape[0]):
                sums[i] = sums[i] + w * np.float32(pixels[i])
