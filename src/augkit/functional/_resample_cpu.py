"""Compiled passes of Pillow's separable resampling on uint8 (see ``augkit.functional.resize``).

The vertical pass takes images as ``(M, H, W, C)``, per-output ``bounds`` (first input
index, tap count) and the fixed-point taps ``coeffs`` (22 fractional bits); the horizontal
one rows of ``W * C`` values and per-value tables (see ``horizontal_pass``). Both round and
clip as Pillow's ``clip8``.
Sums stay in int32 as Pillow's do: 255 times the taps' absolute sum (below 2 for every
filter) times 2**22 is below 2**31.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from augkit.functional._vector_ir import (
    gather,
    multiply_add_pairs,
    pointer,
    splat,
    store_transposed,
    wide_pairs,
)

PRECISION_BITS = 22  # Pillow's 32 - 8 - 2
_HALF = np.int32(1 << (PRECISION_BITS - 1))


# Pillow's filters (``Resample.c``), numbered as ``resize._KERNELS``; the Hamming window's
# constants are C floats there (0.54f, 0.46f)
_HAMMING_A, _HAMMING_B = float(np.float32(0.54)), float(np.float32(0.46))


@njit(inline="always")
def _sinc(x):
    if x == 0.0:
        return 1.0
    x = x * math.pi
    return math.sin(x) / x


@njit(inline="always")
def _filter(kernel, x):
    if kernel == 0:  # box
        return 1.0 if -0.5 < x <= 0.5 else 0.0
    x_abs = abs(x)
    if kernel == 1:  # bilinear
        return 1.0 - x_abs if x_abs < 1.0 else 0.0
    if kernel == 2:  # hamming
        if x_abs == 0.0:
            return 1.0
        if x_abs >= 1.0:
            return 0.0
        x_abs = x_abs * math.pi
        return math.sin(x_abs) / x_abs * (_HAMMING_A + _HAMMING_B * math.cos(x_abs))
    if kernel == 3:  # bicubic, a = -0.5
        if x_abs < 1.0:
            return (1.5 * x_abs - 2.5) * x_abs * x_abs + 1
        if x_abs < 2.0:
            return (((x_abs - 5) * x_abs + 8) * x_abs - 4) * -0.5
        return 0.0
    return _sinc(x) * _sinc(x / 3) if -3.0 <= x < 3.0 else 0.0  # lanczos


@njit(cache=True, nogil=True)
def precompute(in_size, out_size, first, scale, kernel, support):
    """Pillow's ``precompute_coeffs``: per output ``(first input, tap count)`` and the taps
    normalised to sum 1, in the same double operations in the same order (the sum runs left
    to right, so the loop does not vectorize and every sine is the C library's)."""
    filterscale = max(scale, 1.0)
    support = support * filterscale
    ksize = math.ceil(support) * 2 + 1
    bounds = np.zeros((out_size, 2), np.int64)
    weights = np.zeros((out_size, ksize), np.float64)
    inverse = 1.0 / filterscale
    for xx in range(out_size):
        center = first + (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        count = min(int(center + support + 0.5), in_size) - xmin
        total = 0.0
        for x in range(count):
            w = _filter(kernel, (x + xmin - center + 0.5) * inverse)
            weights[xx, x] = w
            total += w
        if total != 0.0:
            for x in range(count):
                weights[xx, x] /= total
        bounds[xx, 0], bounds[xx, 1] = xmin, count
    return bounds, weights


@njit(inline="always")
def _clip8(total):
    """Pillow's ``clip8``: 255 from ``1 << 30``, 0 at 0 and below, else ``total >> 22``; as
    a clamp of the shifted sum, without branches, so that the loops over sums vectorize."""
    return np.uint8(min(max(total >> PRECISION_BITS, 0), 255))


# The columns' pass runs on blocks of 8 rows. The block is first interleaved so that an
# input value's 8 rows are 8 adjacent bytes (one uint64); a tap of 4 output values is then
# one gather of 4 words, their 8 rows each summed against the 4 weights spread over the rows
# (vector code). Without the interleave, the taps of one output value are loads from 8
# distant rows and stay scalar (3x to 4x slower at 224x224 RGB).
BLOCK = 8
_SWEPT = 4  # output values a sweep step takes: 4 x 8 rows = 32 int32 lanes


def _bytes_at(builder, data, offset, lanes):
    """``lanes`` bytes from ``data[offset:]`` as a ``<lanes x i8>``."""
    vector = builder.bitcast(builder.gep(data, [offset]), ir.VectorType(
        ir.IntType(8), lanes).as_pointer())
    return builder.load(vector, align=1)


_LOW_BITS = 11  # a weight as high * 2**11 + low, both halves in 16 bits
_BLOCK_WORDS = 8  # 16-bit lanes in 128 bits: two taps are paired within such blocks


@njit(inline="always")
def _pair_word(first, second):
    """Two 16-bit values in one int32, ``first`` in the low half."""
    return np.int32(np.uint32((first & 0xFFFF) | ((second & 0xFFFF) << 16)))


@njit(cache=True, nogil=True)
def pair_words(weights):
    """``_tap_sums``'s weights from fixed-point ``weights`` (taps, n), each under 2**23 in
    magnitude: for taps ``2p`` and ``2p + 1`` of each of the ``n``, their high halves
    (``w >> 11``) as one int32 (``[p, 0]``) and their low ones (``w & 2047``, ``[p, 1]``),
    a missing last tap 0."""
    taps, n = weights.shape
    words = np.empty(((taps + 1) // 2, 2, n), np.int32)
    for p in range(words.shape[0]):
        for v in range(n):
            first = np.int64(weights[2 * p, v])
            second = np.int64(weights[2 * p + 1, v]) if 2 * p + 1 < taps else np.int64(0)
            words[p, 0, v] = _pair_word(first >> _LOW_BITS, second >> _LOW_BITS)
            words[p, 1, v] = _pair_word(first & (2 ** _LOW_BITS - 1),
                                        second & (2 ** _LOW_BITS - 1))
    return words


@njit(cache=True, nogil=True)
def row_pair_words(coeffs):
    """``pair_words`` of each output row's taps ``coeffs`` (rows, taps), a row's words
    together: ``[y, 2p + half]``."""
    words = pair_words(coeffs.T)
    pairs = np.empty((coeffs.shape[0], 2 * words.shape[0]), np.int32)
    for y in range(coeffs.shape[0]):
        for p in range(words.shape[0]):
            pairs[y, 2 * p], pairs[y, 2 * p + 1] = words[p, 0, y], words[p, 1, y]
    return pairs


def _tap_sums(builder, count, samples, tap_weights, pair_weights, lanes):
    """``half + sum_k samples(k) * tap_weights(k)`` for ``k < count`` (a runtime count),
    int32 lanes (``samples(k)``: ``<lanes x i8>``; ``tap_weights(k)``: ``<lanes x i32>``;
    ``lanes`` a multiple of 32), the sums kept in vector registers across the taps.

    Where the machine multiplies and adds 16-bit pairs 32 lanes at a time (``wide_pairs``),
    two taps at a time: their bytes paired in 16-bit lanes, and ``pair_weights(p, half)``
    the lanes' weights of taps ``2p`` and ``2p + 1`` paired the same way (``pair_words``:
    each weight w as (w >> 11) * 2**11 + (w & 2047), ``half`` 0 for the high halves, 1 for
    the low; ``<lanes x i16>``, one lane's pair of weights repeated over its 128-bit block),
    each pair multiplied and added exactly (``multiply_add_pairs``: one instruction for 16
    lanes, against two for a 32-bit multiply). The high and low sums are joined at the end.
    Pairs are woven within 128-bit blocks (the first four values of each block, then the
    last four), so the pairing is the machine's unpack, and the sums are put back in order
    once. Every step wraps as int32 does, and Pillow's sum fits in one, so the result is
    Pillow's sum exactly. Elsewhere (AVX2 measured the pairs 20% to 40% slower), a 32-bit
    multiply a tap."""
    if not wide_pairs():
        vector = ir.VectorType(ir.IntType(32), lanes)
        totals = cgutils.alloca_once_value(builder, ir.Constant(vector, [int(_HALF)] * lanes))
        with cgutils.for_range(builder, count) as loop:
            builder.store(builder.add(builder.load(totals), builder.mul(
                builder.zext(samples(loop.index), vector), tap_weights(loop.index))), totals)
        return builder.load(totals)
    i16, i32 = ir.IntType(16), ir.IntType(32)
    vector, half_words = ir.VectorType(i32, lanes), ir.VectorType(i16, lanes)
    weaves = [ir.Constant(ir.VectorType(i32, lanes), [
        at for block in range(0, lanes, _BLOCK_WORDS) for i in range(4)
        for at in (block + part * 4 + i, lanes + block + part * 4 + i)]) for part in (0, 1)]
    sums = ir.VectorType(i32, lanes // 2)
    zero_sums = ir.Constant(sums, [0] * (lanes // 2))
    totals = [[cgutils.alloca_once_value(builder, zero_sums) for _ in range(2)]
              for _ in range(2)]  # [high, low] sums of each weave
    one = ir.Constant(count.type, 1)
    last = builder.sub(count, one)
    with cgutils.for_range(builder, builder.ashr(builder.add(count, one), one)) as loop:
        k = builder.shl(loop.index, one)
        second = builder.add(k, one)  # past the last tap: read the last again, weighed 0
        second = builder.select(builder.icmp_signed("<", second, count), second, last)
        first_values = builder.zext(samples(k), half_words)
        second_values = builder.zext(samples(second), half_words)
        values = [builder.shuffle_vector(first_values, second_values, weave)
                  for weave in weaves]
        for half in range(2):
            weights = pair_weights(loop.index, half)
            for part in range(2):
                total = totals[half][part]
                builder.store(builder.add(builder.load(total), multiply_add_pairs(
                    builder, values[part], weights)), total)
    shift = ir.Constant(sums, [_LOW_BITS] * (lanes // 2))
    joined = [builder.add(builder.shl(builder.load(totals[0][part]), shift),
                          builder.load(totals[1][part])) for part in range(2)]
    in_order = [(x % _BLOCK_WORDS) // 4 * (lanes // 2) + x // _BLOCK_WORDS * 4 + x % 4
                for x in range(lanes)]
    ordered = builder.shuffle_vector(joined[0], joined[1], ir.Constant(
        ir.VectorType(i32, lanes), in_order))
    return builder.add(ordered, ir.Constant(vector, [int(_HALF)] * lanes))


def _clip_bytes(builder, totals):
    """``_clip8`` of every lane of an int32 vector of sums, as bytes."""
    lanes = totals.type.count
    vector = totals.type
    shifted = builder.ashr(totals, ir.Constant(vector, [PRECISION_BITS] * lanes))
    low, high = ir.Constant(vector, [0] * lanes), ir.Constant(vector, [255] * lanes)
    shifted = builder.select(builder.icmp_signed(">", shifted, low), shifted, low)
    shifted = builder.select(builder.icmp_signed("<", shifted, high), shifted, high)
    return builder.trunc(shifted, ir.VectorType(ir.IntType(8), lanes))


@intrinsic
def _sweep_step(typingctx, block, offsets, weights, pairs, v, clipped):
    """Output values ``v`` to ``v + 3`` of a block, every row: ``clip8(half + sum_k
    block[offsets[k, v] + r] * weights[k, v])`` into ``clipped[v * 8:]``: each tap's 4
    values' words (their 8 rows) gathered from the block at byte ``offsets`` (taps,
    values), the weights as ``pair_words`` gives them (``pairs``: (taps + 1) // 2, 2,
    values), each value's spread over its 8 rows."""
    def codegen(context, builder, signature, args):
        lanes = _SWEPT * BLOCK
        rows = context.make_array(signature.args[0])(context, builder, args[0])
        where = context.make_array(signature.args[1])(context, builder, args[1])
        weights = context.make_array(signature.args[2])(context, builder, args[2])
        table = context.make_array(signature.args[3])(context, builder, args[3])
        taps, values = cgutils.unpack_tuple(builder, where.shape, 2)
        first = builder.mul(args[4], context.get_constant(types.intp, BLOCK))
        i32 = ir.IntType(32)
        every = ir.Constant(ir.VectorType(ir.IntType(1), _SWEPT), [1] * _SWEPT)
        nothing = ir.Constant(ir.VectorType(ir.IntType(64), _SWEPT), [0] * _SWEPT)

        def sample(k):  # the 4 values' words of tap k
            at = builder.load(builder.bitcast(builder.gep(where.data, [builder.add(
                builder.mul(k, values), args[4])]), ir.VectorType(i32, _SWEPT).as_pointer()),
                align=4)
            words = gather(builder, rows.data, at, every, nothing)
            return builder.bitcast(words, ir.VectorType(ir.IntType(8), lanes))

        def spread_weights(pair, half):  # each value's word over its 4 lanes of a weave
            at = builder.add(builder.mul(builder.add(builder.mul(pair, ir.Constant(
                pair.type, 2)), ir.Constant(pair.type, half)), values), args[4])
            four = builder.load(builder.bitcast(builder.gep(table.data, [at]), ir.VectorType(
                i32, _SWEPT).as_pointer()), align=4)
            spread = builder.shuffle_vector(four, four, ir.Constant(ir.VectorType(
                i32, lanes // 2), [q // 4 for q in range(lanes // 2)]))
            return builder.bitcast(spread, ir.VectorType(ir.IntType(16), lanes))

        def tap_weights(k):  # each value's weight over its 8 rows
            four = builder.load(builder.bitcast(builder.gep(weights.data, [builder.add(
                builder.mul(k, values), args[4])]), ir.VectorType(i32, _SWEPT).as_pointer()),
                align=4)
            return builder.shuffle_vector(four, four, ir.Constant(ir.VectorType(
                i32, lanes), [q // BLOCK for q in range(lanes)]))

        totals = _tap_sums(builder, taps, sample, tap_weights, spread_weights, lanes)
        builder.store(_clip_bytes(builder, totals), pointer(
            context, builder, signature.args[5], args[5], first, ir.VectorType(
                ir.IntType(8), lanes)), align=1)
        return context.get_dummy_value()
    return types.void(block, offsets, weights, pairs, types.intp, clipped), codegen


_ROWS_STEP = 32  # values a rows' step sums


@intrinsic
def _rows_step(typingctx, image, at, stride, weights, pairs, count, out, to):
    """``out[to:to + 32] = clip8(half + sum_k image[at + k * stride:][:32] * weights[k])``
    for ``k < count``: 32 values of an output row of the rows' pass, the row's weights also
    as ``pair_words`` gives them (``pairs``: (count + 1) // 2 * 2 words)."""
    def codegen(context, builder, signature, args):
        source = context.make_array(signature.args[0])(context, builder, args[0])
        taps = context.make_array(signature.args[3])(context, builder, args[3])
        table = context.make_array(signature.args[4])(context, builder, args[4])

        def sample(k):
            return _bytes_at(builder, source.data, builder.add(args[1], builder.mul(
                k, args[2])), _ROWS_STEP)

        def tap_weights(k):
            return splat(builder, builder.load(builder.gep(taps.data, [k])), ir.VectorType(
                ir.IntType(32), _ROWS_STEP))

        def pair_weights(pair, half):  # the one word over every lane
            word = builder.load(builder.gep(table.data, [builder.add(builder.mul(
                pair, ir.Constant(pair.type, 2)), ir.Constant(pair.type, half))]))
            return builder.bitcast(splat(builder, word, ir.VectorType(
                ir.IntType(32), _ROWS_STEP // 2)), ir.VectorType(ir.IntType(16), _ROWS_STEP))

        totals = _tap_sums(builder, args[5], sample, tap_weights, pair_weights, _ROWS_STEP)
        builder.store(_clip_bytes(builder, totals), pointer(
            context, builder, signature.args[6], args[6], args[7],
            ir.VectorType(ir.IntType(8), _ROWS_STEP)), align=1)
        return context.get_dummy_value()
    return types.void(image, types.intp, types.intp, weights, pairs, types.intp, out,
                      types.intp), codegen


@njit(cache=True, nogil=True)
def column_tables(bounds, fixed, in_size, channels):
    """``horizontal_pass``'s tables from one axis' taps, for rows of ``channels``
    interleaved values: for each of the widest output's ``k`` taps, every output value's
    input word as a byte offset into an 8-row block (``offsets``), its weight (``weights``)
    and the weights paired (``pair_words``). An output with fewer taps starts early enough
    to stay inside the row and gets zero weights around its own, which leaves its sums as
    Pillow's."""
    out_size = bounds.shape[0]
    taps = 0
    for x in range(out_size):
        taps = max(taps, bounds[x, 1])
    values = out_size * channels
    offsets = np.empty((taps, values), np.int32)
    weights = np.zeros((taps, values), np.int32)
    for x in range(out_size):
        start = min(bounds[x, 0], in_size - taps)
        shift = bounds[x, 0] - start
        for k in range(taps):
            own = k - shift
            weight = fixed[x, own] if 0 <= own < bounds[x, 1] else 0
            for c in range(channels):
                v = x * channels + c
                offsets[k, v] = ((start + k) * channels + c) * BLOCK
                weights[k, v] = weight
    return offsets, weights, pair_words(weights)


@intrinsic
def _block_rows(typingctx, block, at, dst, to, stride):
    """``_GROUP`` values of each of a block's 8 rows, from ``block[at:]`` (value after value,
    its 8 rows' bytes together) into ``dst[to + y * stride:]`` for row ``y``: one load, a
    shuffle a row (a loop would read the block at a stride of 8 and stay scalar)."""
    def codegen(context, builder, signature, args):
        i8 = ir.IntType(8)
        values = builder.load(pointer(context, builder, signature.args[0], args[0], args[1],
                                      ir.VectorType(i8, _GROUP * BLOCK)), align=1)
        store_transposed(context, builder, signature.args[2], args[2], args[3], args[4],
                         values, BLOCK)
        return context.get_dummy_value()
    return types.void(block, types.intp, dst, types.intp, types.intp), codegen


@njit(cache=True, nogil=True)
def horizontal_pass(src, dst, first_row, offsets, weights, pairs, channels):
    """``dst[m, y, v]`` from input row ``first_row + y``, rows of ``W * C`` interleaved
    values: ``sum_k`` of the input value at ``offsets[k, v]`` (of its 8-row block) times
    ``weights[k, v]`` (``column_tables`` makes the tables for ``channels``), 8 rows at a
    time."""
    images, out_rows, values = dst.shape
    taps = offsets.shape[0]
    block = np.empty(src.shape[2] * BLOCK, np.uint8)
    clipped = np.empty(values * BLOCK, np.uint8)
    last = first_row + out_rows - 1
    for m in range(images):
        for y0 in range(0, out_rows, BLOCK):
            r = first_row + y0
            l0, l1, l2, l3 = src[m, r], src[m, min(r + 1, last)], src[m, min(r + 2, last)], \
                src[m, min(r + 3, last)]
            l4, l5, l6, l7 = src[m, min(r + 4, last)], src[m, min(r + 5, last)], \
                src[m, min(r + 6, last)], src[m, min(r + 7, last)]
            for j in range(src.shape[2]):
                b = j * BLOCK
                block[b], block[b + 1], block[b + 2], block[b + 3] = l0[j], l1[j], l2[j], l3[j]
                block[b + 4], block[b + 5], block[b + 6], block[b + 7] = l4[j], l5[j], l6[j], \
                    l7[j]
            if values >= _SWEPT:
                for step in range((values + _SWEPT - 1) // _SWEPT):
                    _sweep_step(block, offsets, weights, pairs,
                                min(step * _SWEPT, values - _SWEPT), clipped)
            else:
                for q in range(values * BLOCK):
                    v, row = q // BLOCK, q % BLOCK
                    total = _HALF
                    for k in range(taps):
                        total += np.int32(block[offsets[k, v] + row]) * weights[k, v]
                    clipped[q] = _clip8(total)
            if y0 + BLOCK <= out_rows and values >= _GROUP:
                image = dst[m].reshape(-1)
                for step in range((values + _GROUP - 1) // _GROUP):
                    v = min(step * _GROUP, values - _GROUP)
                    _block_rows(clipped, v * BLOCK, image, y0 * values + v, values)
                continue
            for y in range(min(BLOCK, out_rows - y0)):
                out = dst[m, y0 + y]
                for v in range(values):
                    out[v] = clipped[v * BLOCK + y]


@njit(cache=True, nogil=True)
def vertical_pass(src, dst, bounds, coeffs, pairs):
    """``dst[m, y]``: the taps of output row ``y`` over the rows of ``src``, each row one run
    of ``W * C`` values, 32 values a step; ``pairs``: ``row_pair_words(coeffs)``."""
    images, out_h = dst.shape[0], dst.shape[1]
    values = dst.shape[2] * dst.shape[3]
    flat_src = src.reshape(images, -1)
    flat_dst = dst.reshape(images, -1)
    for m in range(images):
        image, out = flat_src[m], flat_dst[m]
        for y in range(out_h):
            start, count, weights, row_pairs = bounds[y, 0], bounds[y, 1], coeffs[y], pairs[y]
            if values >= _ROWS_STEP:
                for step in range((values + _ROWS_STEP - 1) // _ROWS_STEP):
                    j = min(step * _ROWS_STEP, values - _ROWS_STEP)
                    _rows_step(image, start * values + j, values, weights, row_pairs, count,
                               out, y * values + j)
                continue
            for j in range(values):
                total = _HALF
                for k in range(count):
                    total += np.int32(image[(start + k) * values + j]) * weights[k]
                out[y * values + j] = _clip8(total)


def _unaligned_load(width):
    def load(typingctx, array, offset):
        kind = types.uint32 if width == 4 else types.uint64

        def codegen(context, builder, signature, args):
            data = context.make_array(signature.args[0])(context, builder, args[0]).data
            pointer = context.get_value_type(kind).as_pointer()
            return builder.load(builder.bitcast(builder.gep(data, [args[1]]), pointer),
                                align=1)
        return kind(array, types.intp), codegen
    load.__doc__ = (f"The {width} bytes of a contiguous uint8 array from ``offset`` as one "
                    f"uint{width * 8} (unaligned).")
    return intrinsic(load)


_load_word = _unaligned_load(4)
_load_long = _unaligned_load(8)


@intrinsic
def _store_word(typingctx, array, offset, word):
    """Write a uint32 as the 4 bytes of a contiguous uint8 array from ``offset``."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        word = context.get_value_type(types.uint32).as_pointer()
        builder.store(args[2], builder.bitcast(builder.gep(data, [args[1]]), word), align=1)
        return context.get_dummy_value()
    return types.void(array, types.intp, types.uint32), codegen


@njit(inline="always")
def _clamp(i, size):
    """An index clipped to ``0 .. size - 1`` (an edge pixel repeated)."""
    return min(max(i, 0), size - 1)


@njit(inline="always")
def _copy_three(src, at, dst, to):
    dst[to], dst[to + 1], dst[to + 2] = src[at], src[at + 1], src[at + 2]


@njit(cache=True, nogil=True)
def gather_pass(src, dst, rows, cols):
    """``dst[m, y, x] = src[m, rows[y], cols[x]]`` (NEAREST) on contiguous interleaved
    batches. RGB pixels move as one 4-byte word each, written in order so that each word's
    fourth byte is overwritten by the next pixel (a row's last pixel, and a read that would
    pass the end of ``src``, go byte by byte): 1.4x to 1.6x faster than three byte moves."""
    images, out_h, out_w, channels = dst.shape
    if channels != 3:
        for m in range(images):
            for y in range(out_h):
                line, out = src[m, rows[y]], dst[m, y]
                for x in range(out_w):
                    col = np.uintp(cols[x])  # unsigned: no check for negative indices
                    for c in range(channels):
                        out[x, c] = line[col, c]
        return
    flat_src, flat_dst = src.reshape(-1), dst.reshape(-1)
    last_word = flat_src.size - 4
    in_row, in_image = src.shape[2] * 3, src.shape[1] * src.shape[2] * 3
    for m in range(images):
        for y in range(out_h):
            line = m * in_image + rows[y] * in_row
            out = (m * out_h + y) * out_w * 3
            if line + in_row <= last_word:  # no word of this row passes the end of src
                for x in range(out_w - 1):
                    _store_word(flat_dst, out + x * 3, _load_word(flat_src, line + cols[x] * 3))
            else:
                for x in range(out_w - 1):
                    at = line + cols[x] * 3
                    if at <= last_word:
                        _store_word(flat_dst, out + x * 3, _load_word(flat_src, at))
                    else:
                        _copy_three(flat_src, at, flat_dst, out + x * 3)
            _copy_three(flat_src, line + cols[out_w - 1] * 3, flat_dst, out + out_w * 3 - 3)


@njit(cache=True, nogil=True)
def gather_planes(src, dst, rows, cols):
    """``gather_pass`` on planar ``(N, C, H, W)`` batches: one index load serves the three
    planes of RGB, and an output row whose source row repeats the previous one is copied
    (half as long as gathering every row, when enlarging)."""
    images, channels, out_h, out_w = dst.shape
    for m in range(images):
        for y in range(out_h):
            row = rows[y]
            if y > 0 and row == rows[y - 1]:
                for c in range(channels):
                    before, out = dst[m, c, y - 1], dst[m, c, y]
                    for x in range(out_w):
                        out[x] = before[x]
            elif channels == 3:
                l0, l1, l2 = src[m, 0, row], src[m, 1, row], src[m, 2, row]
                o0, o1, o2 = dst[m, 0, y], dst[m, 1, y], dst[m, 2, y]
                for x in range(out_w):
                    col = np.uintp(cols[x])
                    o0[x], o1[x], o2[x] = l0[col], l1[col], l2[col]
            else:
                for c in range(channels):
                    line, out = src[m, c, row], dst[m, c, y]
                    for x in range(out_w):
                        out[x] = line[np.uintp(cols[x])]


# A box filter shrinking an axis by a whole factor gives every output the same taps: the
# mean of its own ``factor`` inputs, one fixed-point weight. Those passes run as explicit
# vector code (LLVM IR, lowered for the machine's own vector unit): a group of outputs'
# inputs is loaded at once and split by shuffles, where a loop would read bytes at a
# stride and stay scalar. Factors from 2 to 8.
_GROUP = 16  # output pixels a columns' step makes
_ROW_BYTES = 64  # output values a rows' step makes
MAX_BOX_FACTOR = 8


@njit(cache=True)
def box_weight(factor):
    """Pillow's fixed-point tap of a box shrinking by a whole ``factor``: 1 / factor in 22
    bits, rounded half away from zero as its ``precompute_coeffs`` does."""
    return np.int32(0.5 + (1.0 / factor) * (1 << PRECISION_BITS))


def _box_mean(builder, total, factor):
    """Pillow's fixed-point mean of ``factor`` bytes from a vector of their i16 sums, as
    bytes: ``(sum * weight + half) >> 22``, at most 255 (its ``clip8``; sums are never
    negative). For a power of two the weight is exact and that is ``(sum + factor / 2) >>
    log2(factor)``, all in i16 (for 2, the vector unit's byte average)."""
    i8, i16, i32, lanes = ir.IntType(8), ir.IntType(16), ir.IntType(32), total.type.count
    weight = int(box_weight(factor))
    if weight * factor == 1 << PRECISION_BITS:
        bits = factor.bit_length() - 1
        vector = ir.VectorType(i16, lanes)
        mean = builder.lshr(builder.add(total, ir.Constant(vector, [factor // 2] * lanes)),
                            ir.Constant(vector, [bits] * lanes))
        return builder.trunc(mean, ir.VectorType(i8, lanes))
    vector = ir.VectorType(i32, lanes)
    scaled = builder.add(builder.mul(builder.zext(total, vector),
                                     ir.Constant(vector, [weight] * lanes)),
                         ir.Constant(vector, [int(_HALF)] * lanes))
    shifted = builder.lshr(scaled, ir.Constant(vector, [PRECISION_BITS] * lanes))
    top = ir.Constant(vector, [255] * lanes)
    clipped = builder.select(builder.icmp_unsigned("<", shifted, top), shifted, top)
    return builder.trunc(clipped, ir.VectorType(i8, lanes))


@intrinsic
def _box_columns_group(typingctx, src, at, dst, to, factor, channels):
    """``_GROUP`` output pixels of a box columns' pass: ``dst[to:]`` from the
    ``_GROUP * factor`` pixels of ``channels`` interleaved bytes at ``src[at:]``."""
    if not (isinstance(factor, types.IntegerLiteral)
            and isinstance(channels, types.IntegerLiteral)):
        return None
    step, width = factor.literal_value, channels.literal_value
    lanes = _GROUP * width

    def codegen(context, builder, signature, args):
        i8, i16, i32 = ir.IntType(8), ir.IntType(16), ir.IntType(32)
        inputs = ir.VectorType(i8, lanes * step)
        block = builder.load(pointer(context, builder, signature.args[0], args[0], args[1],
                                      inputs), align=1)
        total = None
        for k in range(step):  # tap k of every output: bytes (factor * x + k) * C + c
            mask = [(step * x + k) * width + c for x in range(_GROUP) for c in range(width)]
            tap = builder.zext(builder.shuffle_vector(block, block, ir.Constant(
                ir.VectorType(i32, lanes), mask)), ir.VectorType(i16, lanes))
            total = tap if total is None else builder.add(total, tap)
        builder.store(_box_mean(builder, total, step),
                      pointer(context, builder, signature.args[2], args[2], args[3],
                               ir.VectorType(i8, lanes)), align=1)
        return context.get_dummy_value()
    return types.void(src, at, dst, to, factor, channels), codegen


@intrinsic
def _box_rows_group(typingctx, src, at, stride, dst, to, factor):
    """``_ROW_BYTES`` values of a box rows' pass: ``dst[to:]`` from the ``factor`` rows
    ``stride`` apart at ``src[at:]``."""
    if not isinstance(factor, types.IntegerLiteral):
        return None
    step = factor.literal_value

    def codegen(context, builder, signature, args):
        i8, i16 = ir.IntType(8), ir.IntType(16)
        row_type = ir.VectorType(i8, _ROW_BYTES)
        total = None
        for k in range(step):
            offset = builder.add(args[1], builder.mul(args[2], context.get_constant(
                types.intp, k)))
            row = builder.load(pointer(context, builder, signature.args[0], args[0], offset,
                                        row_type), align=1)
            wide = builder.zext(row, ir.VectorType(i16, _ROW_BYTES))
            total = wide if total is None else builder.add(total, wide)
        builder.store(_box_mean(builder, total, step),
                      pointer(context, builder, signature.args[3], args[3], args[4], row_type),
                      align=1)
        return context.get_dummy_value()
    return types.void(src, types.intp, types.intp, dst, types.intp, factor), codegen


@intrinsic
def _pick_columns_group(typingctx, src, at, dst, to, factor, channels):
    """``_GROUP`` output pixels of a NEAREST pass taking every ``factor``-th pixel:
    ``dst[to:]`` from pixels 0, factor, 2 * factor, ... of ``channels`` interleaved bytes at
    ``src[at:]`` (one load of ``_pick_read`` bytes, one shuffle)."""
    if not (isinstance(factor, types.IntegerLiteral)
            and isinstance(channels, types.IntegerLiteral)):
        return None
    step, width = factor.literal_value, channels.literal_value
    lanes = _GROUP * width

    def codegen(context, builder, signature, args):
        i8, i32 = ir.IntType(8), ir.IntType(32)
        block = builder.load(pointer(context, builder, signature.args[0], args[0], args[1],
                                      ir.VectorType(i8, _pick_read(step, width))), align=1)
        mask = [step * x * width + c for x in range(_GROUP) for c in range(width)]
        picked = builder.shuffle_vector(block, block, ir.Constant(ir.VectorType(i32, lanes),
                                                                  mask))
        builder.store(picked, pointer(context, builder, signature.args[2], args[2], args[3],
                                       ir.VectorType(i8, lanes)), align=1)
        return context.get_dummy_value()
    return types.void(src, at, dst, to, factor, channels), codegen


def _pick_read(factor: int, channels: int) -> int:
    """The bytes a NEAREST group loads: from its first pixel to its last one's end, rounded up
    to whole 16 bytes (a load of an odd length is split into pieces down to single bytes)."""
    span = ((_GROUP - 1) * factor + 1) * channels
    return -(-span // 16) * 16


@functools.cache
def pick_columns(factor: int, channels: int) -> Callable[..., None]:
    """NEAREST's pass when its source columns step by a whole ``factor`` (2 to
    ``MAX_BOX_FACTOR``), compiled for it and ``channels``: ``(src, dst, rows, first)``
    takes, for output row ``y`` of each ``(M, H, W * C)`` image, input row ``rows[y]``'s
    pixels ``first``, ``first + factor``, ... (shuffles 16 pixels at a time)."""
    read = _pick_read(factor, channels)

    @njit(cache=True, nogil=True)
    def run(src, dst, rows, first):
        images, out_h, values = dst.shape
        in_h, row_bytes = src.shape[1], src.shape[2]
        group = _GROUP * channels
        flat_src, flat_dst = src.reshape(-1), dst.reshape(-1)  # offsets, not row views
        end = flat_src.size  # a load may run on into the next row, not past the batch
        for m in range(images):
            for y in range(out_h):
                line = (m * in_h + rows[y]) * row_bytes + first * channels
                out = (m * out_h + y) * values
                for step in range((values + group - 1) // group):
                    to = max(min(step * group, values - group), 0)
                    at = line + to * factor
                    if values >= group and at + read <= end:
                        _pick_columns_group(flat_src, at, flat_dst, out + to, factor,
                                            channels)
                        continue
                    for v in range(to, min(to + group, values)):
                        flat_dst[out + v] = flat_src[line + (v // channels) * factor
                                                     * channels + v % channels]
    return run


@njit(inline="always")
def _mean8(total, weight):
    return min((total * weight + _HALF) >> PRECISION_BITS, 255)


@njit(inline="always")
def _box_line_columns(line, out, first, weight, factor, channels):
    """One row through a box columns' pass: output pixel ``x`` of ``channels`` interleaved
    bytes the mean of input pixels ``first + factor * x`` onward (``factor`` and
    ``channels`` compile-time constants)."""
    values = out.shape[0]
    group = _GROUP * channels
    if values < group:  # narrower than one vector step
        for v in range(values):
            at = (first + (v // channels) * factor) * channels + v % channels
            total = 0
            for k in range(factor):
                total += line[at + k * channels]
            out[v] = _mean8(total, weight)
        return
    # the last step ends at the row's end, over values the one before made (the same)
    for step in range((values + group - 1) // group):
        to = min(step * group, values - group)
        _box_columns_group(line, first * channels + to * factor, out, to, factor, channels)


@njit(inline="always")
def _box_line_rows(rows, top, out, weight, factor):
    """The mean of rows ``top`` to ``top + factor`` of a contiguous 2-D array into ``out``
    (``factor`` a compile-time constant)."""
    values = out.shape[0]
    if values < _ROW_BYTES:
        for v in range(values):
            total = 0
            for k in range(factor):
                total += rows[top + k, v]
            out[v] = _mean8(total, weight)
        return
    for step in range((values + _ROW_BYTES - 1) // _ROW_BYTES):
        to = min(step * _ROW_BYTES, values - _ROW_BYTES)
        _box_rows_group(rows, top * values + to, values, out, to, factor)


@functools.cache
def box_shrink(factor_x: int, factor_y: int, channels: int) -> Callable[..., None]:
    """Both passes of a box shrinking ``(M, H, W * C)`` rows by whole factors (1 to
    ``MAX_BOX_FACTOR``; 1: that axis is not resized), compiled for those factors and
    ``channels`` (the vector shuffles need them as constants), called ``(src, dst,
    first_row, first, rows_first)``. One output row at a time: the ``factor_y`` rows it
    reads through the columns' pass, then their mean (or with ``rows_first``, as Pillow
    orders the passes when the height shrinks much more, the other way round)."""
    wx, wy = box_weight(factor_x), box_weight(factor_y)

    @njit(cache=True, nogil=True)
    def run(src, dst, first_row, first, rows_first):
        images, out_h, values = dst.shape
        narrowed = np.empty((factor_y, values), np.uint8)
        merged = np.empty(src.shape[2], np.uint8)
        for m in range(images):
            image = src[m]
            for y in range(out_h):
                top, out = first_row + factor_y * y, dst[m, y]
                if factor_x == 1:
                    _box_line_rows(image, top, out, wy, factor_y)
                elif factor_y == 1:
                    _box_line_columns(image[top], out, first, wx, factor_x, channels)
                elif rows_first:
                    _box_line_rows(image, top, merged, wy, factor_y)
                    _box_line_columns(merged, out, first, wx, factor_x, channels)
                else:
                    for k in range(factor_y):
                        _box_line_columns(image[top + k], narrowed[k], first, wx, factor_x,
                                          channels)
                    _box_line_rows(narrowed, 0, out, wy, factor_y)
    return run


__all__ = ["BLOCK", "MAX_BOX_FACTOR", "PRECISION_BITS", "box_shrink", "box_weight",
           "column_tables", "gather_pass", "gather_planes", "horizontal_pass", "pick_columns",
           "precompute", "row_pair_words", "vertical_pass"]
