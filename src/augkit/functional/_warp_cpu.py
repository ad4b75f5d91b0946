"""A compiled uint8 sampler for affine warps and resized crops on the CPU.

It computes exactly what ``geometry.warp`` computes with torch (float64 positions snapped to
integers within 1e-9, float64 cubic weights, float32 interpolation in the same order,
rounding half to even) without full-size temporaries, so the two agree bit for bit: bilinear
a row at a time on interleaved pixels (positions, each window's bytes as two words, then
vectorized lerps), nearest and bicubic a pixel at a time on planes. Floors stay floats until
clipped, so that positions far outside (which torch's float floor keeps exact) do not
overflow an integer. Pillow's NEAREST affine sampler is here too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from augkit.functional import _layout_cpu
from augkit.functional._resample_cpu import _clamp, _load_long
from augkit.functional._vector_ir import gather, pointer, splat

f32 = np.float32
CUBIC_A = -0.75  # the cubic convolution kernel of torch's grid_sample and bicubic upsampling


@njit(inline="always")
def _snap(v):
    nearest = np.floor(v + 0.5)  # a tie is never within 1e-9 of an integer
    return nearest if abs(v - nearest) < 1e-9 else v


@njit(inline="always")
def _px(src, n, c, y, x, height, width, fill):
    if x < 0 or x >= width or y < 0 or y >= height:
        return fill[c]
    return f32(src[n, c, y, x])


@njit(inline="always")
def _to_uint8(v):
    r = math.floor(v)
    d = v - r  # exact in float64
    if d > 0.5 or (d == 0.5 and r % 2 != 0):  # round half to even, as torch.round does
        r += 1
    return np.uint8(min(max(r, 0), 255))


@njit(inline="always")
def _cubic_near(d):
    return ((CUBIC_A + 2.0) * d - (CUBIC_A + 3.0)) * d * d + 1.0


@njit(inline="always")
def _cubic_far(d):
    return ((CUBIC_A * d - 5.0 * CUBIC_A) * d + 8.0 * CUBIC_A) * d - 4.0 * CUBIC_A


@njit(inline="always")
def _cubic_taps(s, size, edge, index, weight):
    """The four neighbours of position ``s`` and their weights (float64, then float32)."""
    f = np.floor(s)  # a float: far-off positions stay exact
    t = s - f
    weight[0] = f32(_cubic_far(t + 1.0))
    weight[1] = f32(_cubic_near(t))
    weight[2] = f32(_cubic_near(1.0 - t))
    weight[3] = f32(_cubic_far(2.0 - t))
    first = np.int64(min(max(f, -4.0), size + 3.0))  # clipped: the conversion would overflow
    for i in range(4):
        index[i] = _clamp(first - 1 + i, size) if edge else first - 1 + i


@njit(inline="always")
def _bicubic(src, out, n, y, x, sx, sy, fill, edge, xs, ys, wx, wy):
    channels, height, width = src.shape[1], src.shape[2], src.shape[3]
    _cubic_taps(sx, width, edge, xs, wx)
    _cubic_taps(sy, height, edge, ys, wy)
    for c in range(channels):
        total = f32(0.0)
        for j in range(4):
            row = _px(src, n, c, ys[j], xs[0], height, width, fill) * wx[0]
            for i in range(1, 4):
                row = row + _px(src, n, c, ys[j], xs[i], height, width, fill) * wx[i]
            total = row * wy[0] if j == 0 else total + row * wy[j]
        out[n, c, y, x] = _to_uint8(total)


@njit(cache=True, nogil=True)
def _warp_bicubic(src, out, inverse, fill, edge):
    """The bicubic mode, a pixel at a time (``_bicubic``)."""
    out_h, out_w = out.shape[2], out.shape[3]
    xs, ys = np.empty(4, np.int64), np.empty(4, np.int64)
    wx, wy = np.empty(4, np.float32), np.empty(4, np.float32)
    for n in range(src.shape[0]):
        m0, m1, m2 = inverse[n, 0], inverse[n, 1], inverse[n, 2]
        m3, m4, m5 = inverse[n, 3], inverse[n, 4], inverse[n, 5]
        for y in range(out_h):
            for x in range(out_w):
                sx = _snap(m0 * x + m1 * y + m2)
                sy = _snap(m3 * x + m4 * y + m5)
                _bicubic(src, out, n, y, x, sx, sy, fill, edge, xs, ys, wx, wy)


@njit(inline="always")
def _blend(v00, v01, v10, v11, wx, wy):
    """``geometry._bilinear``'s float32 lerps of a 2x2 window, in its order, rounded half to
    even (as torch) and clipped to a byte."""
    one = f32(1.0)
    top = v00 * (one - wx) + v01 * wx
    bottom = v10 * (one - wx) + v11 * wx
    v = np.rint(top * (one - wy) + bottom * wy)
    return np.uint8(min(max(v, f32(0.0)), f32(255.0)))


@njit(inline="always")
def _bilinear_pixel(flat, width, height, channels, x0, y0, wx, wy, fill, edge, values, x):
    """One pixel as ``_bilinear_row`` computes it (window corner ``(x0, y0)``), any corner
    outside the image taking ``fill`` (or, with ``edge``, the clamped corner): the pixels
    its pair reads miss."""
    x1, y1 = x0 + 1, y0 + 1
    if edge:
        x0, x1 = _clamp(x0, width), _clamp(x1, width)
        y0, y1 = _clamp(y0, height), _clamp(y1, height)
    for c in range(channels):
        values[c, x] = _blend(_corner(flat, width, height, channels, x0, y0, c, fill),
                              _corner(flat, width, height, channels, x1, y0, c, fill),
                              _corner(flat, width, height, channels, x0, y1, c, fill),
                              _corner(flat, width, height, channels, x1, y1, c, fill), wx, wy)


@njit(inline="always")
def _corner(flat, width, height, channels, x, y, c, fill):
    # without branches: the same test as a chain of ``and``s ran 30x slower here
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    at = min(max((y * width + x) * channels + c, 0), flat.size - 1)
    return f32(flat[at]) if inside else fill[c]


@njit(inline="always")
def _bilinear_row(flat, width, height, sxs, sys, fill, edge, weights, corners, starts, whole,
                  away, pairs, values):
    """One output row of an interleaved image (``flat``, 1 to 4 channels as ``values`` has
    rows) sampled bilinearly at ``sxs``, ``sys`` as ``geometry._bilinear`` does, into
    ``values`` (a row per channel): the float32 lerps in its order, rounded half to even.
    Weights and where each pixel's 2x2 window starts in one vectorized loop; the window as
    two 8-byte words, a pixel and its right neighbour in each; every channel's lerps in a
    vectorized loop (a pixel with no corner inside takes the fill there); then pixels whose
    window passes an edge (or the image's last bytes) one by one."""
    channels, out_w = values.shape
    row_bytes = width * channels
    last_pair = flat.size - 8
    for x in range(out_w):
        sx, sy = sxs[x], sys[x]
        fx, fy = np.floor(sx), np.floor(sy)  # floats: far-off positions stay exact
        weights[0, x], weights[1, x] = f32(sx - fx), f32(sy - fy)
        # clipped before the integer conversion, which far-off positions would overflow
        ix = np.int64(min(max(fx, -2.0), width + 1.0))
        iy = np.int64(min(max(fy, -2.0), height + 1.0))
        corners[0, x], corners[1, x] = ix, iy
        start = iy * row_bytes + ix * channels
        whole[x] = (ix >= 0) & (ix + 1 < width) & (iy >= 0) & (iy + 1 < height) & (
            start + row_bytes <= last_pair)
        # no corner inside: every corner the fill (left to the vectorized loop)
        away[x] = ~edge & ((ix + 1 < 0) | (ix >= width) | (iy + 1 < 0) | (iy >= height))
        starts[x] = start if whole[x] else 0
    if last_pair >= row_bytes:  # else no window is whole, and none is read at 0
        for x in range(out_w):
            pairs[0, x] = _load_long(flat, starts[x])
            pairs[1, x] = _load_long(flat, starts[x] + row_bytes)
    for c in range(channels):
        near, far = np.uint64(8 * c), np.uint64(8 * (c + channels))
        fill_c = fill[c]
        for x in range(out_w):
            v00 = f32(np.int32((pairs[0, x] >> near) & np.uint64(255)))
            v01 = f32(np.int32((pairs[0, x] >> far) & np.uint64(255)))
            v10 = f32(np.int32((pairs[1, x] >> near) & np.uint64(255)))
            v11 = f32(np.int32((pairs[1, x] >> far) & np.uint64(255)))
            if away[x]:
                v00 = v01 = v10 = v11 = fill_c
            values[c, x] = _blend(v00, v01, v10, v11, weights[0, x], weights[1, x])
    for x in range(out_w):
        if not (whole[x] or away[x]):  # some corners inside, some not
            _bilinear_pixel(flat, width, height, channels, corners[0, x], corners[1, x],
                            weights[0, x], weights[1, x], fill, edge, values, x)


@njit(inline="always")
def _bilinear_rows(src, out, n, y, sxs, sys, fill, edge, scratch):
    """Row ``y`` of planar ``out[n]`` from interleaved ``src[n]`` (``_bilinear_row``)."""
    weights, corners, starts, whole, away, pairs, values = scratch
    _bilinear_row(src[n].reshape(-1), src.shape[2], src.shape[1], sxs, sys, fill, edge,
                  weights, corners, starts, whole, away, pairs, values)
    for c in range(values.shape[0]):
        out[n, c, y] = values[c]


@njit(inline="always")
def _row_scratch(out_w, channels):
    """``_bilinear_row``'s arrays for rows of ``out_w`` pixels: weights, window corners,
    window starts, whole and away flags, the window words, the channels' values."""
    return (np.empty((2, out_w), np.float32), np.empty((2, out_w), np.int64),
            np.empty(out_w, np.int64), np.empty(out_w, np.bool_), np.empty(out_w, np.bool_),
            np.zeros((2, out_w), np.uint64), np.empty((channels, out_w), np.uint8))


@njit(cache=True, nogil=True)
def _warp_bilinear(src, out, inverse, fill, edge):
    """The bilinear mode of ``_warp`` from interleaved ``(N, H, W, C)`` images of 1 to 4
    channels into planar ``(N, C, h, w)`` ones, a row at a time (``_bilinear_row``): the
    same bytes."""
    out_w = out.shape[3]
    sxs, sys = np.empty(out_w), np.empty(out_w)
    scratch = _row_scratch(out_w, src.shape[3])
    for n in range(src.shape[0]):
        m0, m1, m2 = inverse[n, 0], inverse[n, 1], inverse[n, 2]
        m3, m4, m5 = inverse[n, 3], inverse[n, 4], inverse[n, 5]
        for y in range(out.shape[2]):
            for x in range(out_w):
                sxs[x] = _snap(m0 * x + m1 * y + m2)
                sys[x] = _snap(m3 * x + m4 * y + m5)
            _bilinear_rows(src, out, n, y, sxs, sys, fill, edge, scratch)


@njit(cache=True, nogil=True)
def _sample_bilinear(src, out, src_x, src_y, fill, edge):
    """``geometry.sample_at``'s bilinear mode at given positions ``(N, h, w)`` (float64) from
    interleaved images of 1 to 4 channels into planar ones (``_bilinear_row``)."""
    scratch = _row_scratch(out.shape[3], src.shape[3])
    for n in range(src.shape[0]):
        for y in range(out.shape[2]):
            _bilinear_rows(src, out, n, y, src_x[n, y], src_y[n, y], fill, edge, scratch)


def _by_four_channels(run: Any, src: np.ndarray, out: np.ndarray, fill: np.ndarray) -> None:
    """``run(src, out, fill)`` from an interleaved batch into a planar one, four channels at
    a time (the compiled bilinear row reads a pixel and its neighbour as one 8-byte
    word)."""
    for first in range(0, src.shape[3], 4):
        part = src if src.shape[3] <= 4 else np.ascontiguousarray(src[..., first:first + 4])
        run(part, out[:, first:first + 4], fill[first:first + 4])


def sample_bilinear_uint8(images: np.ndarray, planar: bool, src_x: np.ndarray,
                          src_y: np.ndarray, fill: np.ndarray, border: str = "fill"
                          ) -> np.ndarray:
    """A uint8 batch, ``(N, C, H, W)`` when ``planar`` (else interleaved), sampled
    bilinearly at ``(src_x, src_y)`` (``(N, h, w)`` pixels), as ``geometry.sample_at``
    samples it."""
    src = _layout_cpu.interleaved(images) if planar else np.ascontiguousarray(images)
    out = np.empty((src.shape[0], src.shape[3], *src_x.shape[1:]), np.uint8)
    xs, ys = np.ascontiguousarray(src_x, np.float64), np.ascontiguousarray(src_y, np.float64)
    _by_four_channels(lambda a, b, f: _sample_bilinear(a, b, xs, ys, f, border == "edge"),
                      src, out, np.ascontiguousarray(fill, np.float32))
    return out if planar else _layout_cpu.interleaved(out)


@njit(cache=True, nogil=True)
def _warp_nearest(src, out, inverse, fill, edge):
    """The nearest mode alone: one position and one bounds test per pixel, bytes copied."""
    channels, height, width = src.shape[1], src.shape[2], src.shape[3]
    out_h, out_w = out.shape[2], out.shape[3]
    fill_bytes = np.empty(channels, np.uint8)
    for c in range(channels):
        fill_bytes[c] = _to_uint8(fill[c])
    for n in range(src.shape[0]):
        m0, m1, m2 = inverse[n, 0], inverse[n, 1], inverse[n, 2]
        m3, m4, m5 = inverse[n, 3], inverse[n, 4], inverse[n, 5]
        for y in range(out_h):
            for x in range(out_w):
                # floors as floats, clipped before the conversion a far-off one overflows
                ix = np.int64(min(max(np.floor(_snap(m0 * x + m1 * y + m2) + 0.5), -1.0),
                                  width + 1.0))
                iy = np.int64(min(max(np.floor(_snap(m3 * x + m4 * y + m5) + 0.5), -1.0),
                                  height + 1.0))
                if edge:
                    ix, iy = _clamp(ix, width), _clamp(iy, height)
                if ix < 0 or ix >= width or iy < 0 or iy >= height:
                    for c in range(channels):
                        out[n, c, y, x] = fill_bytes[c]
                else:
                    for c in range(channels):
                        out[n, c, y, x] = src[n, c, iy, ix]


def warp_uint8(images: np.ndarray, planar: bool, inverse: np.ndarray, size: tuple[int, int],
               interpolation: str, fill: np.ndarray, border: str) -> np.ndarray:
    """Warp a uint8 batch: ``(N, C, H, W)`` when ``planar``, else ``(N, H, W, C)``;
    ``interpolation`` is "nearest", "bilinear" or "bicubic". Bilinear samples interleaved
    pixels (a window's channels in one place), the others planes."""
    n = images.shape[0]
    matrices = np.ascontiguousarray(inverse, np.float64).reshape(n, 6)
    fills = np.ascontiguousarray(fill, np.float32)
    edge = border == "edge"
    if interpolation == "bilinear":
        src = _layout_cpu.interleaved(images) if planar else np.ascontiguousarray(images)
        out = np.empty((n, src.shape[3], *size), np.uint8)
        _by_four_channels(lambda a, b, f: _warp_bilinear(_layout_cpu.read_only(a), b, matrices,
                                                          f, edge), src, out, fills)
        return out if planar else _layout_cpu.interleaved(out)
    src = _layout_cpu.read_only(np.ascontiguousarray(images) if planar
                                else _layout_cpu.planar(images))
    out = np.empty((n, src.shape[1], *size), np.uint8)
    if interpolation == "nearest":
        _warp_nearest(src, out, matrices, fills, edge)
    else:
        _warp_bicubic(src, out, matrices, fills, edge)
    return out if planar else _layout_cpu.interleaved(out)


@njit(inline="always")
def _fix16(v):
    return np.int64(math.floor(v * 65536.0 + 0.5))


@njit(inline="always")
def _row_sources(data, in_h, in_w, y, yo, index):
    """Flat source index of every pixel of output row ``y`` (-1 outside), as
    ``pillow_sampling`` does: float64 steps for a pure scale and shift (``yo``: the row's
    source y, stepped by ``data[4]`` row after row as Pillow does), 16.16 fixed point
    otherwise."""
    out_w = index.shape[0]
    a0, a1, a2, a3, a4, a5 = data[0], data[1], data[2], data[3], data[4], data[5]
    if a1 == 0.0 and a3 == 0.0:
        iy = -1 if yo < 0 else np.int64(yo)
        xo = a2 + a0 * 0.5
        for x in range(out_w):
            ix = -1 if xo < 0 else np.int64(xo)
            inside = ix >= 0 and ix < in_w and iy >= 0 and iy < in_h
            index[x] = iy * in_w + ix if inside else -1
            xo += a0
        return
    f0, f1, f3, f4 = _fix16(a0), _fix16(a1), _fix16(a3), _fix16(a4)
    x_start, y_start = _fix16(a2 + a1 * 0.5 + a0 * 0.5), _fix16(a5 + a4 * 0.5 + a3 * 0.5)
    xx, yy = x_start + f1 * y, y_start + f4 * y  # exact integers: sums are products
    for x in range(out_w):
        ix, iy = xx >> 16, yy >> 16
        inside = ix >= 0 and ix < in_w and iy >= 0 and iy < in_h
        index[x] = iy * in_w + ix if inside else -1
        xx += f0
        yy += f3


# Pillow's NEAREST affine, 16 output pixels at a time as explicit vector code (LLVM IR,
# lowered for the machine's vector unit): their 16.16 positions, one masked gather of a 4-byte
# word per pixel (pixels outside take the fill), and a shuffle down to the channels' bytes.
_LANES = 16


def _words_or_fill(builder, data, start, early, inside, fills):
    """Each lane's word gathered from ``data`` at ``start`` and shifted down ``early`` bits
    where ``inside``, else its ``fills`` word; no gather when no lane is inside."""
    any_inside = builder.icmp_unsigned("!=", builder.bitcast(inside, ir.IntType(_LANES)),
                                       ir.Constant(ir.IntType(_LANES), 0))
    with builder.if_else(any_inside, likely=True) as (then, otherwise):
        with then:
            read = gather(builder, data, start, inside, fills)
            read = builder.select(inside, builder.lshr(read, early), fills)
            read_block = builder.block
        with otherwise:
            fill_block = builder.block
    words = builder.phi(fills.type)
    words.add_incoming(read, read_block)
    words.add_incoming(fills, fill_block)
    return words


@intrinsic
def _nearest_group(typingctx, flat, out, to, xx, yy, step_x, step_y, width, height, fill,
                   channels, wide):
    """``_LANES`` output pixels of Pillow's NEAREST affine into ``out[to:]``: pixel ``k``'s
    16.16 source is ``(xx + k * step_x, yy + k * step_y)`` in the image ``flat`` (``width``
    by ``height`` pixels of ``channels`` interleaved bytes, at least 4 bytes in all, fewer
    than 2**31); outside it, the ``fill`` word. Positions in 64-bit lanes when ``wide``,
    else (every one of them within int32) in 32-bit lanes, twice as many a vector. The last
    pixel's word is read one to three bytes early and shifted down, so no read passes the
    image's end."""
    if not (isinstance(channels, types.IntegerLiteral)
            and isinstance(wide, types.BooleanLiteral)):
        return None
    size, long_lanes = channels.literal_value, wide.literal_value

    def codegen(context, builder, signature, args):
        flat_v, out_v, to_v, xx_v, yy_v, fx_v, fy_v, w_v, h_v, fill_v = args[:10]
        i8, i32, i64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)
        v32 = ir.VectorType(i32, _LANES)
        kind = ir.VectorType(i64, _LANES) if long_lanes else v32

        def lane_value(value):
            return splat(builder, value if long_lanes else builder.trunc(value, i32), kind)

        def source(start, step):  # the 16.16 position's whole part
            moved = builder.mul(lane_value(step), ir.Constant(kind, list(range(_LANES))))
            return builder.ashr(builder.add(lane_value(start), moved),
                                ir.Constant(kind, [16] * _LANES))

        ix, iy = source(xx_v, fx_v), source(yy_v, fy_v)
        inside = builder.and_(builder.icmp_unsigned("<", ix, lane_value(w_v)),
                              builder.icmp_unsigned("<", iy, lane_value(h_v)))
        if long_lanes:
            ix, iy = builder.trunc(ix, v32), builder.trunc(iy, v32)
        row_bytes = builder.trunc(builder.mul(w_v, ir.Constant(i64, size)), i32)
        at = builder.add(builder.mul(iy, splat(builder, row_bytes, v32)),
                         builder.mul(ix, ir.Constant(v32, [size] * _LANES)))
        array = context.make_array(signature.args[0])(context, builder, flat_v)
        last = splat(builder, builder.trunc(builder.sub(array.nitems, ir.Constant(
            i64, 4)), i32), v32)
        start = builder.select(builder.icmp_signed("<", at, last), at, last)
        early = builder.shl(builder.sub(at, start), ir.Constant(v32, [3] * _LANES))
        words = _words_or_fill(builder, array.data, start, early, inside,
                               splat(builder, fill_v, v32))
        mask = [4 * k + c for k in range(_LANES) for c in range(size)]
        picked = builder.shuffle_vector(builder.bitcast(words, ir.VectorType(i8, 4 * _LANES)),
                                        ir.Constant(ir.VectorType(i8, 4 * _LANES), None),
                                        ir.Constant(ir.VectorType(i32, len(mask)), mask))
        builder.store(picked, pointer(context, builder, signature.args[1], out_v, to_v,
                                       ir.VectorType(i8, len(mask))), align=1)
        return context.get_dummy_value()
    return types.void(flat, out, types.intp, types.int64, types.int64, types.int64,
                      types.int64, types.intp, types.intp, types.uint32, channels, wide), codegen


@njit(cache=True, nogil=True)
def _nearest_rows(flat, rows, data, fill_word, width, height, channels):
    """One image's NEAREST affine (not a pure scale) for 1 to 4 ``channels`` (a literal):
    ``flat`` its ``height`` by ``width`` pixels (4 bytes to 2**31), ``rows`` the output's
    (at least ``_LANES`` pixels wide), 16 pixels a step (a row's last step overlaps the one
    before)."""
    out_h, out_w = rows.shape[0], rows.shape[1] // channels
    a0, a1, a3, a4 = data[0], data[1], data[3], data[4]
    f0, f1, f3, f4 = _fix16(a0), _fix16(a1), _fix16(a3), _fix16(a4)
    x_start, y_start = _fix16(data[2] + a1 * 0.5 + a0 * 0.5), _fix16(data[5] + a4 * 0.5
                                                                     + a3 * 0.5)
    for y in range(out_h):
        xx, yy = x_start + f1 * y, y_start + f4 * y
        end_x, end_y = xx + f0 * (out_w - 1), yy + f3 * (out_w - 1)
        narrow = max(abs(xx), abs(yy), abs(end_x), abs(end_y)) < 2**31 - 2**20
        for step in range((out_w + _LANES - 1) // _LANES):
            x = min(step * _LANES, out_w - _LANES)
            if narrow:
                _nearest_group(flat, rows[y], x * channels, xx + f0 * x, yy + f3 * x, f0, f3,
                               width, height, fill_word, channels, False)
            else:
                _nearest_group(flat, rows[y], x * channels, xx + f0 * x, yy + f3 * x, f0, f3,
                               width, height, fill_word, channels, True)


@njit(cache=True, nogil=True)
def _pillow_nearest_interleaved(src, out, data, fill):
    """Pillow's NEAREST ``Image.transform(AFFINE)`` on interleaved (N, H, W, C) pixels, as
    Pillow keeps them. Maps other than a pure scale and shift, of 1 to 4 channels onto
    outputs at least 16 wide, take ``_nearest_rows``'s gathers; the rest each output row's
    sources, then each pixel's channels copied from one place."""
    height, width = src.shape[1], src.shape[2]
    out_h, out_w, channels = out.shape[1], out.shape[2], out.shape[3]
    vector = out_w >= _LANES and 4 <= height * width * channels < 2**31 and channels <= 4
    fill_word = np.uint32(0)
    for c in range(min(channels, 4)):
        fill_word |= np.uint32(fill[c]) << np.uint32(8 * c)
    flats = src.reshape((src.shape[0], -1))
    rows = out.reshape((out.shape[0], out_h, out_w * channels))
    index = np.empty(out_w, np.int64)
    for n in range(src.shape[0]):
        if vector and not (data[n, 1] == 0.0 and data[n, 3] == 0.0):
            if channels == 1:
                _nearest_rows(flats[n], rows[n], data[n], fill_word, width, height, 1)
            elif channels == 2:
                _nearest_rows(flats[n], rows[n], data[n], fill_word, width, height, 2)
            elif channels == 3:
                _nearest_rows(flats[n], rows[n], data[n], fill_word, width, height, 3)
            else:
                _nearest_rows(flats[n], rows[n], data[n], fill_word, width, height, 4)
            continue
        pixels = src[n].reshape(-1, channels)
        yo = data[n, 5] + data[n, 4] * 0.5
        for y in range(out_h):
            _row_sources(data[n], height, width, y, yo, index)
            yo += data[n, 4]
            target = out[n, y]
            if channels == 3:
                for x in range(out_w):
                    j = index[x]
                    if j >= 0:
                        target[x, 0], target[x, 1], target[x, 2] = \
                            pixels[j, 0], pixels[j, 1], pixels[j, 2]
                    else:
                        target[x, 0], target[x, 1], target[x, 2] = fill[0], fill[1], fill[2]
            else:
                for x in range(out_w):
                    j = index[x]
                    for c in range(channels):
                        target[x, c] = pixels[j, c] if j >= 0 else fill[c]


@njit(cache=True, nogil=True)
def _pillow_nearest_planar(src, out, data, fill, image, image_read):
    """``_pillow_nearest_interleaved`` on planar (N, C, H, W) images into planar ``out``,
    an image at a time through the interleaved (1, H, W, C) ``image`` (``image_read`` a
    read-only view of it, the type the sampler is compiled for), so that each image's
    copies stay in the cache (a batch of 64 224x224 RGB images: 90 to 41 us an image)."""
    moved = np.empty((1, out.shape[2], out.shape[3], src.shape[1]), np.uint8)
    for n in range(src.shape[0]):
        _layout_cpu._to_interleaved(src[n:n + 1], image)
        _pillow_nearest_interleaved(image_read, moved, data[n:n + 1], fill)
        _layout_cpu._to_planar(moved, out[n:n + 1])


def pillow_nearest_uint8(images: np.ndarray, planar: bool, data: np.ndarray,
                         fill: np.ndarray, out_size: tuple[int, int] | None = None
                         ) -> np.ndarray:
    """Pillow's NEAREST affine on a uint8 batch, ``(N, C, H, W)`` when ``planar`` (else
    interleaved), onto a canvas of ``out_size`` (default the input's). Planar images of
    several channels are sampled interleaved: a turned row reads across the image, and one
    load then serves every channel of a pixel."""
    src = _layout_cpu.read_only(np.ascontiguousarray(images))
    matrices = np.ascontiguousarray(data, np.float64).reshape(-1, 6)
    fills = np.ascontiguousarray(fill, np.uint8)
    n, size = src.shape[0], out_size or (src.shape[2:4] if planar else src.shape[1:3])
    if not planar:
        out = np.empty((n, *size, src.shape[3]), np.uint8)
        _pillow_nearest_interleaved(src, out, matrices, fills)
        return out
    if src.shape[1] == 1:  # the same bytes in either layout
        out = np.empty((n, *size, 1), np.uint8)
        _pillow_nearest_interleaved(src.reshape(n, *src.shape[2:4], 1), out, matrices, fills)
        return out.reshape(n, 1, *size)
    out = np.empty((n, src.shape[1], *size), np.uint8)
    image = np.empty((1, *src.shape[2:4], src.shape[1]), np.uint8)
    _pillow_nearest_planar(src, out, matrices, fills, image, _layout_cpu.read_only(image))
    return out
