"""Pillow's generic ``Image.transform`` engine on uint8 batches: every output pixel centre
``(x + 0.5, y + 0.5)`` mapped through ``data`` (output to input, continuous coordinates) by
the perspective formula, then sampled with Pillow's NEAREST, BILINEAR or BICUBIC filter.

The arithmetic is Pillow's own: float64 positions, bilinear and bicubic in float64 with its
edge clipping, results truncated to uint8 (bicubic clamped first), pixels whose position falls
outside the input set to ``fill``. RGBA goes through premultiplied alpha first, as Pillow
does for its smooth filters (done by the caller).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from augkit.functional._layout_cpu import _to_interleaved, _to_planar
from augkit.functional._resample_cpu import _clamp, _load_word
from augkit.functional._vector_ir import gather, pointer, splat, vector_call

MODES = {"nearest": 0, "bilinear": 1, "bicubic": 2}


@njit(inline="always")
def _cubic(v1, v2, v3, v4, d):
    p1 = v2
    p2 = -v1 + v3
    p3 = 2.0 * (v1 - v2) + v3 - v4
    p4 = -v1 + v2 - v3 + v4
    return p1 + d * (p2 + d * (p3 + d * p4))


@njit(inline="always")
def _clipped_window(image, words, x, ix, iy):
    """Pixel ``x``'s 4x4 window (corner ``(iy, ix)``) reaching past an edge, written into
    ``words`` as ``bicubic_rows`` reads a whole one, from rows and columns clipped to the
    image: what Pillow's edge handling comes to (it clips columns, and repeats the last
    row's result for rows past either end, which are the clipped rows' values)."""
    height, width, channels = image.shape
    for k in range(4):
        row = _clamp(iy + k, height)
        w0 = w1 = w2 = w3 = np.uint32(0)  # the row's 4C bytes as C words
        for j in range(4):
            column = _clamp(ix + j, width)
            for c in range(channels):
                at = j * channels + c
                value = np.uint32(image[row, column, c]) << np.uint32((at & 3) * 8)
                if at < 4:
                    w0 |= value
                elif at < 8:
                    w1 |= value
                elif at < 12:
                    w2 |= value
                else:
                    w3 |= value
        first = k * channels
        words[first, x] = w0
        if channels > 1:
            words[first + 1, x] = w1
        if channels > 2:
            words[first + 2, x] = w2
        if channels > 3:
            words[first + 3, x] = w3


@njit(inline="always")
def _coefficients(data):
    """The 8 transform coefficients as scalars, and whether the map is affine (then the
    division by a denominator of exactly 1 is skipped)."""
    a = (data[0], data[1], data[2], data[3], data[4], data[5], data[6], data[7])
    return a, data[6] == 0.0 and data[7] == 0.0


@njit(inline="always")
def _source(a, affine, x, y):
    """Output pixel ``(x, y)``'s centre through the transform ``a``, as Pillow computes
    it."""
    xc, yc = x + 0.5, y + 0.5
    xin = a[0] * xc + a[1] * yc + a[2]
    yin = a[3] * xc + a[4] * yc + a[5]
    if not affine:
        den = a[6] * xc + a[7] * yc + 1.0
        xin, yin = xin / den, yin / den
    return xin, yin


@njit(inline="always")
def _row_positions(coefficients, y, width, height, floor_x, floor_y, dxs, dys, inside,
                   first, last):
    """For pixels ``first`` to ``last`` (unsigned) of output row ``y``: each centre through
    the transform, whether that lands inside the input, and (moved half a pixel back, as
    Pillow's filters read) the floors and fractions of the position (0 outside)."""
    a, affine = _coefficients(coefficients)
    for x in range(first, last):
        xin, yin = _source(a, affine, x, y)
        inside[x] = xin >= 0.0 and xin < width and yin >= 0.0 and yin < height
        xs, ys = xin - 0.5, yin - 0.5
        fx, fy = math.floor(xs), math.floor(ys)
        dxs[x], dys[x] = xs - fx, ys - fy
        floor_x[x], floor_y[x] = (int(fx), int(fy)) if inside[x] else (0, 0)


# Pillow's BILINEAR 16 output pixels at a time as explicit vector code (LLVM IR, lowered for
# the machine's vector unit): a quick pass checked lane by lane, and Pillow's own float64
# steps for a group where some lane's check fails.
#
# The quick pass computes each position as Pillow does (float64, in its order), then the floor
# and fraction of position - 1/2 from the bits of position - 1/2 + 1.5 * 2**20, whose low 32
# bits are the fraction in units of 2**-32 (one addition, then integer steps). Whether a
# position lies inside compares its bits as unsigned integers, which orders doubles from +0 up
# (no position is -0: a -0 offset is made +0 first, and a quotient gets + 0.0). The lerps run
# in float32, 16 lanes a vector; their result v is within 1.5e-4 of the exact real value of
# Pillow's lerps on Pillow's fractions (8-bit values, the fractions within 3e-8 of Pillow's,
# every rounding counted as if unfused), and Pillow's float64 result is within 1e-12 of that.
# v + 768 rounds v to a multiple of 2**-14, whose bits hold v's integer part k (mod 256) and
# its fraction q (14 bits); where 4 <= q < 2**14 - 4, the real value lies in (k, k + 1), so
# Pillow's truncated result is k. A lane whose four bytes are equal is exact either way
# (Pillow adds 0 to them). A lane fails where q is nearer a whole number and its bytes are
# not all equal, where a position's fraction rounded to 0 (its floor may then be one more
# than Pillow's, its window not Pillow's), or where its lower word would be read past the
# image's end. On photos turned by a generic angle 1 or 2 groups in 100 fail; most groups of
# a turn by almost nothing, or of a whole-pixel shift, do.
# A group whose every window lies in the image (floors from 0 to width - 2 and height - 3)
# reads each window row's two pixels as one 8-byte word, without clipping or masks, and
# stores no fill: 80% of the groups of a photo turned by 30 degrees (kernel 95 to 79-82 us
# at 224x224 RGB).
_GROUP, _LANES = 16, 8
_GRID, _FRACTION_BITS, _EDGE = 768.0, 14, 4  # v + 768: steps of 2**-14; sure where
# 4 <= q < 2**14 - 4
_CENTRE = 1.5 * 2.0 ** 20  # a position below 2**19 plus this: 32 fraction bits
_CENTRE_WORD = int(np.float64(_CENTRE).view(np.int64)) >> 32
_I1, _I8, _I32, _I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
_F32, _F64 = ir.FloatType(), ir.DoubleType()
_V32, _V64, _VF = (ir.VectorType(t, _LANES) for t in (_I32, _I64, _F64))
_W1, _W32, _WF = (ir.VectorType(t, _GROUP) for t in (_I1, _I32, _F32))


def _lanes(kind, value):
    return ir.Constant(kind, [value] * kind.count)


def _interleave(builder, planes):
    """One ``<NC x i8>`` vector of pixels from ``C`` (1 to 4) ``<N x i8>`` channel vectors."""
    count, lanes = len(planes), planes[0].type.count
    if count == 1:
        return planes[0]
    wide = [_joined_lanes(builder, planes[k], planes[k + 1] if k + 1 < count else planes[k])
            for k in range(0, count, 2)]
    mask = [c * lanes + x for x in range(lanes) for c in range(count)]
    second = wide[1] if len(wide) > 1 else wide[0]
    return builder.shuffle_vector(wide[0], second, ir.Constant(
        ir.VectorType(_I32, len(mask)), mask))


def _joined_lanes(builder, first, second):
    """The ``2N`` lanes of two ``N``-lane vectors, ``first``'s first."""
    count = first.type.count
    return builder.shuffle_vector(first, second, ir.Constant(
        ir.VectorType(_I32, 2 * count), list(range(2 * count))))


def _half(builder, vector, half):
    """Lanes ``8 * half`` to ``8 * half + 7`` of a 16-lane vector."""
    return builder.shuffle_vector(vector, vector, ir.Constant(
        _V32, list(range(half * _LANES, (half + 1) * _LANES))))


def _low(builder, v, bound):
    return builder.select(builder.icmp_signed("<", v, bound), v, bound)


def _high(builder, v, bound):
    return builder.select(builder.icmp_signed(">", v, bound), v, bound)


def _low_unsigned(builder, v, other):
    return builder.select(builder.icmp_unsigned("<", v, other), v, other)


def _joined(builder, value, other, block, other_block):
    """``value`` coming from ``block``, ``other`` from ``other_block``."""
    joined = builder.phi(value.type)
    joined.add_incoming(value, block)
    joined.add_incoming(other, other_block)
    return joined


def _centres(builder, columns, yc, coef, affine):
    """8 pixel centres of the row whose centre is ``yc`` through the transform, as Pillow
    computes them (a perspective's quotient + 0.0, so never -0); ``columns``: their
    ``a[0] * xc``, ``a[3] * xc`` and ``a[6] * xc``, which every row shares."""
    def through(column, second, third):  # column + second * yc + third, in that order
        return builder.fadd(builder.fadd(column, splat(builder, builder.fmul(second, yc),
                                                       _VF)), splat(builder, third, _VF))

    xin, yin = through(columns[0], coef[1], coef[2]), through(columns[1], coef[4], coef[5])
    with builder.if_else(affine, likely=True) as (then, otherwise):
        with then:
            plain = builder.block
        with otherwise:  # a perspective: divided by its denominator, as Pillow does
            den = through(columns[2], coef[7], ir.Constant(_F64, 1.0))
            xd, yd = (builder.fadd(builder.fdiv(value, den), _lanes(_VF, 0.0))
                      for value in (xin, yin))
            divided = builder.block
    return (_joined(builder, value, quotient, plain, divided)
            for value, quotient in ((xin, xd), (yin, yd)))


def _positions(builder, columns, yc, coef, width, height, affine):
    """8 pixels of the row whose centre is ``yc`` (``columns`` as ``_centres`` takes them):
    whether each centre lands inside the image, the floors (0 outside) and fractions of its
    position moved half a pixel back, as ``_source`` and ``_row_positions`` compute them."""
    xin, yin = _centres(builder, columns, yc, coef, affine)
    zero = _lanes(_VF, 0.0)
    inside = builder.and_(
        builder.and_(builder.fcmp_ordered(">=", xin, zero), builder.fcmp_ordered(
            "<", xin, splat(builder, builder.sitofp(width, _F64), _VF))),
        builder.and_(builder.fcmp_ordered(">=", yin, zero), builder.fcmp_ordered(
            "<", yin, splat(builder, builder.sitofp(height, _F64), _VF))))
    xs, ys = builder.fsub(xin, _lanes(_VF, 0.5)), builder.fsub(yin, _lanes(_VF, 0.5))
    floor_x, floor_y = vector_call(builder, "floor", xs), vector_call(builder, "floor", ys)
    # inside, floors lie in [-1, size - 1]; outside lanes convert 0 instead
    ix = builder.fptosi(builder.select(inside, floor_x, zero), _V32)
    iy = builder.fptosi(builder.select(inside, floor_y, zero), _V32)
    return inside, ix, iy, builder.fsub(xs, floor_x), builder.fsub(ys, floor_y)


def _window(builder, array, ix, iy, inside, width, height, channels):
    """For 16 lanes (floors ``ix``, ``iy``): each half's two window rows as 8-byte words
    (the pixel, then its right neighbour), from rows and columns clipped to the image, and
    whether the neighbour was clipped onto the pixel (then it is the pixel; a clipped row
    repeats the first row's lerp, which the same row's bytes give)."""
    one, zero = _lanes(_W32, 1), _lanes(_W32, 0)

    def last(size):
        return splat(builder, builder.trunc(builder.sub(size, ir.Constant(_I64, 1)), _I32),
                     _W32)

    left, right = _high(builder, ix, zero), _low(builder, builder.add(ix, one), last(width))
    top, below = _high(builder, iy, zero), _low(builder, builder.add(iy, one), last(height))
    row_bytes = splat(builder, builder.trunc(builder.mul(width, ir.Constant(_I64, channels)),
                                             _I32), _W32)
    column = builder.mul(left, _lanes(_W32, channels))
    final = splat(builder, builder.trunc(builder.sub(array.nitems, ir.Constant(_I64, 8)),
                                         _I32), _W32)

    def pairs(row):  # read early near the image's end, then shifted down
        at = builder.add(builder.mul(row, row_bytes), column)
        start = _low(builder, at, final)
        shift = builder.shl(builder.sub(at, start), _lanes(_W32, 3))
        words = []
        for half in range(2):
            read = gather(builder, array.data, _half(builder, start, half),
                          _half(builder, inside, half), _lanes(_V64, 0))
            words.append(builder.lshr(read, builder.zext(_half(builder, shift, half), _V64)))
        return words

    return pairs(top), pairs(below), builder.icmp_signed("==", left, right)


def _lerps(builder, upper, lower, alone, dx, dy, inside, fill, channels):
    """Each channel's ``<8 x i8>`` result: Pillow's three lerps in float64, truncated;
    ``fill``'s byte outside."""
    planes = []
    for c in range(channels):
        def lerp(words, c=c):
            near = builder.and_(builder.lshr(words, _lanes(_V64, 8 * c)), _lanes(_V64, 255))
            far = builder.and_(builder.lshr(words, _lanes(_V64, 8 * (c + channels))),
                               _lanes(_V64, 255))
            far = builder.select(alone, near, far)
            return builder.fadd(builder.sitofp(near, _VF), builder.fmul(
                builder.sitofp(builder.sub(far, near), _VF), dx))

        v1, v2 = lerp(upper), lerp(lower)
        value = builder.fptosi(builder.fadd(v1, builder.fmul(builder.fsub(v2, v1), dy)), _V32)
        filled = builder.and_(builder.lshr(splat(builder, fill, _V32), _lanes(_V32, 8 * c)),
                              _lanes(_V32, 255))
        planes.append(builder.trunc(builder.select(inside, value, filled),
                                    ir.VectorType(_I8, _LANES)))
    return planes


def _quick_positions(builder, columns, yc, coef, affine):
    """The quick pass's positions for 8 pixels of the row whose centre is ``yc`` (``columns``
    as ``_centres`` takes them): the centres through the transform, and for x and y the bits
    of ``position + _CENTRE - 1/2`` (``<8 x i64>``): floor(position - 1/2) in the high word
    (plus ``_CENTRE_WORD``), the fraction of position - 1/2 in units of 2**-32 in the low
    word. Valid for positions inside an image under 2**18 pixels a side."""
    xin, yin = _centres(builder, columns, yc, coef, affine)

    def moved(value):
        return builder.bitcast(builder.fadd(value, _lanes(_VF, _CENTRE - 0.5)), _V64)

    return xin, yin, moved(xin), moved(yin)


def _inside(builder, halves, width, height):
    """Which of a group's 16 centres (``halves`` as ``_quick_positions`` gives them) lie
    inside the image: from their bits as unsigned integers, which order doubles from +0 up
    (no centre is -0)."""
    def below(value, size):
        bound = builder.bitcast(builder.sitofp(size, _F64), _I64)
        return builder.icmp_unsigned("<", builder.bitcast(value, _V64),
                                     splat(builder, bound, _V64))

    return _joined_lanes(builder, *(builder.and_(below(xin, width), below(yin, height))
                                    for xin, yin, _, _ in halves))


def _split(builder, halves, k):
    """Floors, fractions (units of 2**-32) and float32 fractions of a group's 16 positions
    from the bits ``halves[:][k]`` of ``_quick_positions``."""
    words = _joined_lanes(builder, *(builder.bitcast(half[k], _W32) for half in halves))
    floor, fraction = (builder.shuffle_vector(words, words, ir.Constant(
        _W32, [2 * x + high for x in range(_GROUP)])) for high in (1, 0))
    return (builder.sub(floor, _lanes(_W32, _CENTRE_WORD)), fraction,
            builder.fmul(builder.uitofp(fraction, _WF), _lanes(_WF, 2.0 ** -32)))


def _below_each(builder, values, bound):
    """Lanes of ``values`` in [0, ``bound``) (``bound`` an i64, at least 0)."""
    return builder.icmp_unsigned("<", values, splat(builder, builder.trunc(bound, _I32),
                                                    _W32))


def _interior_taps(builder, array, ix, iy, width, channels):
    """``_quick_window``'s taps where every lane's window lies in the image, its lower row
    above the last: each window row's two pixels read as one 8-byte word (half the gathered
    elements of two 4-byte words), then split into the pixel's and its neighbour's 4 bytes.
    No word reaches past the image's end where ``(width + 2) * channels >= 8``."""
    row_bytes = splat(builder, builder.trunc(builder.mul(width, ir.Constant(_I64, channels)),
                                             _I32), _W32)
    upper = builder.add(builder.mul(iy, row_bytes), builder.mul(ix, _lanes(_W32, channels)))
    lower = builder.add(upper, row_bytes)
    every = _lanes(ir.VectorType(_I1, _LANES), 1)
    bytes64 = ir.VectorType(_I8, 64)
    taps = []
    for row in (upper, lower):
        words = [builder.bitcast(gather(builder, array.data, _half(builder, row, half), every,
                                        _lanes(_V64, 0)), bytes64) for half in range(2)]
        for first in (0, channels):
            taps.append(builder.bitcast(builder.shuffle_vector(words[0], words[1], ir.Constant(
                ir.VectorType(_I32, 64), [8 * x + first + k for x in range(_GROUP)
                                          for k in range(4)])), _W32))
    return taps


def _quick_window(builder, array, ix, iy, inside, width, height, channels):
    """The quick pass's taps for 16 lanes (floors ``ix``, ``iy``): the 4 bytes from each
    window pixel (upper near and far, lower near and far; ``<16 x i32>``), read from rows and
    columns clipped to the image as ``_window`` reads them, and the lanes inside whose last
    word would reach past the image's end (left unread: the group is done again)."""
    zero = _lanes(_W32, 0)

    def at_edge(floor, size):  # floor -1 or size - 1: the neighbour is clipped onto it
        return builder.icmp_unsigned(">=", floor, splat(builder, builder.trunc(
            builder.sub(size, ir.Constant(_I64, 1)), _I32), _W32))

    left, top = _high(builder, ix, zero), _high(builder, iy, zero)
    row_bytes = splat(builder, builder.trunc(builder.mul(width, ir.Constant(_I64, channels)),
                                             _I32), _W32)
    upper = builder.add(builder.mul(top, row_bytes), builder.mul(left, _lanes(_W32, channels)))
    lower = builder.add(upper, builder.select(at_edge(iy, height), zero, row_bytes))
    step = builder.select(at_edge(ix, width), zero, _lanes(_W32, channels))
    final = splat(builder, builder.trunc(builder.sub(array.nitems, ir.Constant(_I64, 4)),
                                         _I32), _W32)
    readable = builder.select(inside, builder.icmp_signed("<=", builder.add(lower, step),
                                                          final), _lanes(_W1, 0))
    past = builder.xor(inside, readable)
    taps = [gather(builder, array.data, at, readable, zero)
            for at in (upper, builder.add(upper, step), lower, builder.add(lower, step))]
    return taps, past


def _fmuladd(builder, a, b, c):
    """``a * b + c``, fused where the machine can."""
    kind = a.type
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
        kind, [kind, kind, kind]), f"llvm.fmuladd.v{kind.count}f32")
    return builder.call(function, [a, b, c])


def _byte(builder, words, c):
    """Byte ``c`` of each lane's word of a ``<16 x i32>``, as int32 lanes."""
    zero = ir.Constant(ir.VectorType(_I8, 64), None)
    mask = [index for x in range(_GROUP) for index in (4 * x + c, 64, 64, 64)]
    return builder.bitcast(builder.shuffle_vector(builder.bitcast(
        words, ir.VectorType(_I8, 64)), zero, ir.Constant(ir.VectorType(_I32, 4 * _GROUP),
                                                           mask)), _W32)


def _quick_lerps(builder, taps, dx, dy, inside, fill, channels):
    """The quick pass's lerps over 16 lanes (``taps`` as ``_quick_window`` gives them;
    ``dx``, ``dy`` float32): the pixels as one word each (channel c in byte c), ``fill``
    outside, and each lane inside whose result is not sure."""
    nothing = _lanes(_W1, 0)
    packed, unsure = _lanes(_W32, 0), nothing
    steps = 2 ** _FRACTION_BITS
    for c in range(channels):
        a, b, c_, d = (_byte(builder, words, c) for words in taps)
        across, below = builder.sub(b, a), builder.sub(d, c_)
        v1 = _fmuladd(builder, builder.sitofp(across, _WF), dx, builder.sitofp(a, _WF))
        v2 = _fmuladd(builder, builder.sitofp(below, _WF), dx, builder.sitofp(c_, _WF))
        rise = builder.fsub(v2, v1)
        value = _fmuladd(builder, rise, dy, v1)
        # flat: both rows even, so v1 = a and v2 = c exactly, and the rise c - a is +0.0
        flat = builder.icmp_signed("==", builder.or_(builder.or_(across, below),
                                                     builder.bitcast(rise, _W32)),
                                   _lanes(_W32, 0))
        # v + 768 + 4 steps: its fraction q + 4 (wrapped) below 8 where q is one of the 4
        # steps either side of a whole number; else its whole part is v's
        bits = builder.bitcast(builder.fadd(value, _lanes(_WF, _GRID + _EDGE / steps)), _W32)
        near = builder.icmp_unsigned("==", builder.and_(bits, _lanes(
            _W32, steps - 2 * _EDGE)), _lanes(_W32, 0))
        unsure = builder.or_(unsure, builder.select(flat, nothing, near))
        whole = builder.and_(builder.lshr(bits, _lanes(_W32, _FRACTION_BITS)),
                             _lanes(_W32, 255))
        packed = builder.or_(packed, builder.shl(whole, _lanes(_W32, 8 * c)))
    if inside is None:  # every lane inside
        return packed, unsure
    packed = builder.select(inside, packed, splat(builder, fill, _W32))
    return packed, builder.select(inside, unsure, nothing)


def _quick_group(builder, array, halves, width, height, fill, channels, interior_ok):
    """The quick pass over a group from its positions (``halves`` as ``_quick_positions``
    gives them): its pixels as one word each, and whether some lane inside is not sure
    (then the group is done again Pillow's way). A group whose every window lies in the image
    (``interior_ok``: the image is wide enough that no such window's last word reaches past
    its end, the lower row kept above the last) takes no clipping and no fill; a group
    wholly outside is the fill."""
    (ix, fx, dx), (iy, fy, dy) = _split(builder, halves, 2), _split(builder, halves, 3)
    # the floor may be off by one where a fraction rounded to 0
    on_edge = builder.icmp_unsigned("==", _low_unsigned(builder, fx, fy), _lanes(_W32, 0))
    one, two = ir.Constant(_I64, 1), ir.Constant(_I64, 2)
    interior = builder.and_(interior_ok, _all(builder, builder.and_(
        _below_each(builder, ix, builder.sub(width, one)),
        _below_each(builder, iy, builder.sub(height, two)))))
    with builder.if_else(interior, likely=True) as (whole, part):
        with whole:
            taps = _interior_taps(builder, array, ix, iy, width, channels)
            whole_pixels, whole_unsure = _quick_lerps(builder, taps, dx, dy, None, fill,
                                                      channels)
            whole_unsure = _any(builder, builder.or_(whole_unsure, on_edge))
            whole_block = builder.block
        with part:
            inside = _inside(builder, halves, width, height)
            with builder.if_else(_any(builder, inside), likely=True) as (some, none):
                with some:
                    taps, past = _quick_window(builder, array, ix, iy, inside, width, height,
                                               channels)
                    pixels, unsure = _quick_lerps(builder, taps, dx, dy, inside, fill,
                                                  channels)
                    unsure = _any(builder, builder.or_(builder.or_(unsure, past), builder.select(
                        inside, on_edge, _lanes(_W1, 0))))
                    some_block = builder.block
                with none:
                    outside = splat(builder, fill, _W32)
                    none_block = builder.block
            part_pixels = _joined(builder, pixels, outside, some_block, none_block)
            part_unsure = _joined(builder, unsure, ir.Constant(_I1, 0), some_block, none_block)
            part_block = builder.block
    return (_joined(builder, whole_pixels, part_pixels, whole_block, part_block),
            _joined(builder, whole_unsure, part_unsure, whole_block, part_block))


def _all(builder, lanes):
    """Whether every lane of a ``<16 x i1>`` is set."""
    return builder.icmp_unsigned("==", builder.bitcast(lanes, ir.IntType(_GROUP)),
                                 ir.Constant(ir.IntType(_GROUP), 2 ** _GROUP - 1))


def _any(builder, lanes):
    """Whether some lane of a ``<16 x i1>`` is set."""
    return builder.icmp_unsigned("!=", builder.bitcast(lanes, ir.IntType(_GROUP)),
                                 ir.Constant(ir.IntType(_GROUP), 0))


def _pixel_bytes(builder, words, channels):
    """The ``<16C x i8>`` of 16 pixels held as one word each (channel c in byte c)."""
    packed = builder.bitcast(words, ir.VectorType(_I8, 4 * _GROUP))
    if channels == 4:
        return packed
    return builder.shuffle_vector(packed, packed, ir.Constant(
        ir.VectorType(_I32, channels * _GROUP),
        [4 * x + c for x in range(_GROUP) for c in range(channels)]))


def _exact_group(context, builder, signature, args, coef, columns, size, planar):
    """Pillow's float64 steps over a group, stored."""
    flat_v, out_v, to_v, _, _, yc_v, _, fill_v, width_v, height_v = args[:10]
    halves = [_positions(builder, columns[half], yc_v, coef, width_v, height_v, args[11])
              for half in range(2)]
    inside, ix, iy = (_joined_lanes(builder, halves[0][k], halves[1][k]) for k in range(3))
    array = context.make_array(signature.args[0])(context, builder, flat_v)
    upper, lower, alone = _window(builder, array, ix, iy, inside, width_v, height_v, size)
    for half, (inside_h, _, _, dx, dy) in enumerate(halves):
        planes = _lerps(builder, upper[half], lower[half], _half(builder, alone, half), dx, dy,
                        inside_h, fill_v, size)
        if planar:
            stores = [(plane, builder.add(to_v, builder.add(builder.mul(
                args[14], ir.Constant(to_v.type, c)), ir.Constant(to_v.type, half * _LANES))))
                for c, plane in enumerate(planes)]
        else:
            stores = [(_interleave(builder, planes), builder.add(to_v, ir.Constant(
                to_v.type, half * _LANES * size)))]
        for pixels, at in stores:
            builder.store(pixels, pointer(context, builder, signature.args[1], out_v, at,
                                          pixels.type), align=1)


def _columns(context, builder, array_type, array, x):
    """Each half's ``a[0] * xc``, ``a[3] * xc`` and ``a[6] * xc`` from the (3, w) float64
    ``array`` of them, from pixel ``x`` on."""
    count = cgutils.unpack_tuple(builder, context.make_array(array_type)(
        context, builder, array).shape, 2)[1]
    return [[builder.load(pointer(context, builder, array_type, array, builder.add(
        builder.mul(count, ir.Constant(count.type, k)), builder.add(
            x, ir.Constant(x.type, half * _LANES))), _VF), align=8) for k in range(3)]
        for half in range(2)]


@intrinsic
def _bilinear_group(typingctx, flat, out, to, columns, x, yc, a, fill, width, height,
                    channels, affine, quick, planar, plane):
    """``_GROUP`` output pixels of Pillow's BILINEAR ``transform`` from pixel ``x`` of the
    row whose centre is ``yc``, into ``out[to:]``: ``flat`` the image (``width`` by
    ``height`` pixels of ``channels`` interleaved bytes, 8 bytes to 2**31), ``columns`` the
    output columns' ``a[0] * xc``, ``a[3] * xc`` and ``a[6] * xc`` as a (3, w) array,
    ``a`` the 8 coefficients, none -0 (``affine``: the last two are 0, and the division is
    left out as Pillow leaves it out), ``fill`` the outside's bytes as one word; ``quick``:
    the image is under 2**18 pixels a side, so the quick pass may be tried; ``planar`` (a
    literal): the output's channels are planes, each ``plane`` bytes after the one before
    (else its pixels are interleaved)."""
    if not isinstance(channels, types.IntegerLiteral) or not isinstance(
            planar, types.BooleanLiteral):
        return None
    size, planar_out = channels.literal_value, planar.literal_value

    def codegen(context, builder, signature, args):
        flat_v, out_v, to_v, columns_v, x_v, yc_v, a_v, fill_v, width_v, height_v = args[:10]
        coef = [builder.extract_value(a_v, k) for k in range(8)]
        array = context.make_array(signature.args[0])(context, builder, flat_v)
        columns = _columns(context, builder, signature.args[3], columns_v, x_v)

        def store(words):  # 16 pixels held as one word each
            if not planar_out:
                pixels = _pixel_bytes(builder, words, size)
                builder.store(pixels, pointer(context, builder, signature.args[1], out_v, to_v,
                                              pixels.type), align=1)
                return
            packed = builder.bitcast(words, ir.VectorType(_I8, 4 * _GROUP))
            for c in range(size):
                plane_bytes = builder.shuffle_vector(packed, packed, ir.Constant(
                    _W32, [4 * x + c for x in range(_GROUP)]))
                at = builder.add(to_v, builder.mul(args[14], ir.Constant(to_v.type, c)))
                builder.store(plane_bytes, pointer(context, builder, signature.args[1], out_v,
                                                   at, plane_bytes.type), align=1)

        with builder.if_else(args[12], likely=True) as (tried, untried):
            with tried:
                halves = [_quick_positions(builder, columns[half], yc_v, coef, args[11])
                          for half in range(2)]
                # no interior window's last word reaches past the end; height - 2 >= 0
                interior_ok = builder.and_(builder.icmp_signed(">=", builder.mul(builder.add(
                    width_v, ir.Constant(_I64, 2)), ir.Constant(_I64, size)),
                    ir.Constant(_I64, 8)), builder.icmp_signed(">=", height_v, ir.Constant(
                        _I64, 2)))
                pixels, unsure = _quick_group(builder, array, halves, width_v, height_v,
                                              fill_v, size, interior_ok)
                with builder.if_else(unsure, likely=False) as (again, sure):
                    with again:
                        _exact_group(context, builder, signature, args, coef, columns, size,
                                     planar_out)
                    with sure:
                        store(pixels)
            with untried:
                _exact_group(context, builder, signature, args, coef, columns, size,
                             planar_out)
        return context.get_dummy_value()
    return types.void(flat, out, types.intp, columns, types.intp, types.float64, a,
                      types.uint32, types.intp, types.intp, channels, types.boolean,
                      types.boolean, planar, types.intp), codegen


@njit(inline="always")
def _quick_setup(coefficients, out_w):
    """What the quick passes take from an image's 8 ``coefficients``: the coefficients with
    their offsets + 0.0 (a -0 made +0, which Pillow's steps treat alike, so no position is
    -0), and each output column's ``a[0] * xc``, ``a[3] * xc`` and ``a[6] * xc`` (every row
    shares them)."""
    a = (coefficients[0], coefficients[1], coefficients[2] + 0.0, coefficients[3],
         coefficients[4], coefficients[5] + 0.0, coefficients[6], coefficients[7])
    columns = np.empty((3, out_w))
    for x in range(out_w):
        columns[0, x], columns[1, x], columns[2, x] = a[0] * (x + 0.5), a[3] * (x + 0.5), \
            a[6] * (x + 0.5)
    return a, columns


@njit(inline="always")
def _fill_word(fill, channels):
    """The fill's ``channels`` bytes as one word, channel c in byte c."""
    word = np.uint32(0)
    for c in range(channels):
        word |= np.uint32(fill[c]) << np.uint32(8 * c)
    return word


@njit(cache=True, nogil=True)
def _bilinear_image(flat, width, height, target, coefficients, fill_word, channels, affine,
                    planar):
    """One image (``flat``: at least 8 bytes, fewer than 2**31) into ``target`` ((h, w, C),
    or (C, h, w) when ``planar``, a literal), at least ``_GROUP`` pixels wide, for 1 to 4
    ``channels`` (a literal); ``affine``: the map has no perspective. 16 pixels a step (a
    row's last step overlaps the one before)."""
    out_h, out_w = (target.shape[1], target.shape[2]) if planar else (target.shape[0],
                                                                       target.shape[1])
    out = target.reshape(-1)
    plane = out_h * out_w
    a, columns = _quick_setup(coefficients, out_w)
    quick = max(width, height) < 2 ** 18
    for y in range(out_h):
        for step in range((out_w + _GROUP - 1) // _GROUP):
            x = min(step * _GROUP, out_w - _GROUP)
            to = y * out_w + x if planar else (y * out_w + x) * channels
            _bilinear_group(flat, out, to, columns, x, y + 0.5, a, fill_word, width, height,
                            channels, affine, quick, planar, plane)


@njit(cache=True, nogil=True)
def _bilinear_channels(flat, width, height, target, coefficients, fill_word, affine, planar):
    channels = target.shape[0] if planar else target.shape[2]
    if channels == 1:
        _bilinear_image(flat, width, height, target, coefficients, fill_word, 1, affine,
                        planar)
    elif channels == 2:
        _bilinear_image(flat, width, height, target, coefficients, fill_word, 2, affine,
                        planar)
    elif channels == 3:
        _bilinear_image(flat, width, height, target, coefficients, fill_word, 3, affine,
                        planar)
    else:
        _bilinear_image(flat, width, height, target, coefficients, fill_word, 4, affine,
                        planar)


@njit(inline="always")
def _bilinear_into(image, target, coefficients, fill, planar):
    height, width, channels = image.shape
    flat = image.reshape(-1)
    if flat.size < 8:
        padded = np.zeros(8 + flat.size, np.uint8)
        padded[:flat.size] = flat
        flat = padded
    fill_word = _fill_word(fill, channels)
    affine = coefficients[6] == 0.0 and coefficients[7] == 0.0
    out_w = target.shape[-1] if planar else target.shape[1]
    if out_w >= _GROUP:
        _bilinear_channels(flat, width, height, target, coefficients, fill_word, affine,
                           planar)
    elif planar:
        wide = np.empty((channels, target.shape[1], _GROUP), np.uint8)
        _bilinear_channels(flat, width, height, wide, coefficients, fill_word, affine, True)
        target[:] = wide[:, :, :out_w]
    else:
        wide = np.empty((target.shape[0], _GROUP, channels), np.uint8)
        _bilinear_channels(flat, width, height, wide, coefficients, fill_word, affine, False)
        target[:] = wide[:, :out_w]


@njit(cache=True, nogil=True)
def bilinear_rows(image, target, coefficients, fill):
    """Pillow's BILINEAR ``transform`` of one interleaved image of 1 to 4 channels (fewer
    than 2**31 bytes) into ``target`` (h, w, C), 16 pixels at a time in vector code
    (``_bilinear_group``): an image of fewer than 8 bytes is read from a padded copy, an
    output narrower than 16 pixels is made 16 wide and cut. Every pixel as Pillow's float64
    steps give it."""
    _bilinear_into(image, target, coefficients, fill, False)


@njit(cache=True, nogil=True)
def bilinear_planes(image, target, coefficients, fill):
    """``bilinear_rows`` into planar ``target`` (C, h, w)."""
    _bilinear_into(image, target, coefficients, fill, True)


@njit(inline="always")
def _tap(words, k, channels, j, c, x):
    """Channel ``c`` of tap ``j`` in row ``k`` of a pixel's 4x4 window (``bicubic_rows``)."""
    at = j * channels + c
    return np.int32((words[k * channels + (at >> 2), x] >> np.uint32((at & 3) * 8)) & 255)


@njit(inline="always")
def _row_cubic(words, k, channels, c, x, d):
    """``_cubic`` of channel ``c`` across row ``k`` of a pixel's 4x4 window. Of four bytes,
    its p2 to p4 are exact small integers, so taken in int32 (the same values as Pillow's
    float64 sums), and the rounding steps are kept in float64."""
    v1, v2 = _tap(words, k, channels, 0, c, x), _tap(words, k, channels, 1, c, x)
    v3, v4 = _tap(words, k, channels, 2, c, x), _tap(words, k, channels, 3, c, x)
    p2, p3, p4 = -v1 + v3, 2 * (v1 - v2) + v3 - v4, -v1 + v2 - v3 + v4
    return v2 + d * (p2 + d * (p3 + d * np.float64(p4)))


# BICUBIC's quick pass, 16 output pixels at a time, for a group whose every 4x4 window lies in the
# image (floors from 1 to width - 3 and height - 4, none whose fraction rounded to 0): positions,
# floors and fractions as BILINEAR's quick pass finds them, each window row's four taps 4-byte
# words gathered 16 lanes at a time, the five cubics of a channel in float32 with fused
# multiply-adds. A group with a lane not sure is done again from the same taps by Pillow's float64
# steps (vector code); a group wholly outside stores the fill; the others (windows reaching past
# an edge) go to the float64 code a run of pixels at a time. A row's cubic of four bytes, p1 + d
# (p2 + d (p3 + d p4)) with |p2| <= 255, |p3| <= 765, |p4| <= 510 and 0 <= d < 1, has
# intermediates under 1,785 in magnitude: its roundings (at most six of at most 2**-24 of those:
# 4.8e-4) and d's (within 6e-8 of Pillow's fraction, times |p2| + 2 |p3| + 3 |p4| <= 3,315: 2e-4)
# keep it within 6.8e-4 of the exact cubic at Pillow's fraction. The column's cubic weighs the
# rows by at most 1.5 in all (1.1e-3); its own roundings, of values under 2,923 (the rows lie in
# [-64, 319]), add at most 1.2e-3, and dy's 3.5e-4. So the float32 value lies within 2.7e-3 of the
# exact one, and Pillow's float64 value within 1e-9 of that. A value within _CUBIC_STEPS steps of
# 2**-14 (3.9e-3) of a whole number in [0, 255] is not sure, unless the channel's 16 bytes are
# equal (then both give that byte exactly); others truncate, and clamp to [0, 255], as Pillow's
# do.
_CUBIC_STEPS = 64


def _cubic_lanes(builder, v1, v2, v3, v4, d):
    """Pillow's cubic of four float32 vectors at ``d``, with fused multiply-adds."""
    p2 = builder.fsub(v3, v1)
    p3 = builder.fsub(builder.fadd(builder.fmul(builder.fsub(v1, v2), _lanes(_WF, 2.0)), v3),
                      v4)
    p4 = builder.fadd(builder.fsub(v2, v1), builder.fsub(v4, v3))
    return _fmuladd(builder, _fmuladd(builder, _fmuladd(builder, p4, d, p3), d, p2), d, v2)


def _pillow_cubic(builder, v1, v2, v3, v4, d):
    """``_cubic`` in float64 vectors, in Pillow's order, each step rounded."""
    p2 = builder.fadd(builder.fneg(v1), v3)
    p3 = builder.fsub(builder.fadd(builder.fmul(_lanes(_VF, 2.0), builder.fsub(v1, v2)), v3),
                      v4)
    p4 = builder.fadd(builder.fsub(builder.fadd(builder.fneg(v1), v2), v3), v4)
    inner = builder.fadd(p3, builder.fmul(d, p4))
    return builder.fadd(v2, builder.fmul(d, builder.fadd(p2, builder.fmul(d, inner))))


def _bicubic_taps(builder, array, ix, iy, width, channels):
    """A group's 4x4 windows (corners one left of and above the floors ``ix``, ``iy``) as
    ``taps[row][column]``: each lane's 4-byte word from there, 16 lanes."""
    one = _lanes(_W32, 1)
    row_bytes = splat(builder, builder.trunc(builder.mul(width, ir.Constant(_I64, channels)),
                                             _I32), _W32)
    start = builder.add(builder.mul(builder.sub(iy, one), row_bytes),
                        builder.mul(builder.sub(ix, one), _lanes(_W32, channels)))
    return [[gather(builder, array.data, builder.add(builder.add(start, builder.mul(
        row_bytes, _lanes(_W32, r))), _lanes(_W32, j * channels)), _lanes(_W1, 1),
        _lanes(_W32, 0)) for j in range(4)] for r in range(4)]


def _bicubic_quick(builder, taps, dx, dy, channels):
    """BICUBIC's quick pass over a group's windows (``taps``; fractions ``dx``, ``dy``
    float32): its pixels as one word each, and the lanes not sure."""
    steps = 2 ** _FRACTION_BITS
    slack = _CUBIC_STEPS / steps
    packed, unsure = _lanes(_W32, 0), _lanes(_W1, 0)
    for c in range(channels):
        rows, seconds, uneven = [], [], _lanes(_W32, 0)
        for r in range(4):
            v1, v2, v3, v4 = (_byte(builder, taps[r][j], c) for j in range(4))
            uneven = builder.or_(uneven, builder.or_(builder.xor(v1, v2), builder.or_(
                builder.xor(v3, v2), builder.xor(v4, v2))))
            seconds.append(v2)
            rows.append(_cubic_lanes(builder, *(builder.sitofp(v, _WF)
                                                for v in (v1, v2, v3, v4)), dx))
        for r in (0, 2, 3):
            uneven = builder.or_(uneven, builder.xor(seconds[r], seconds[1]))
        value = _cubic_lanes(builder, *rows, dy)
        middle = builder.and_(builder.fcmp_ordered(">", value, _lanes(_WF, -slack)),
                              builder.fcmp_ordered("<", value, _lanes(_WF, 255.0 + slack)))
        bits = builder.bitcast(builder.fadd(value, _lanes(_WF, _GRID + slack)), _W32)
        near = builder.icmp_unsigned("==", builder.and_(bits, _lanes(
            _W32, steps - 2 * _CUBIC_STEPS)), _lanes(_W32, 0))
        uneven = builder.icmp_unsigned("!=", uneven, _lanes(_W32, 0))
        unsure = builder.or_(unsure, builder.and_(builder.and_(middle, near), uneven))
        whole = builder.and_(builder.lshr(bits, _lanes(_W32, _FRACTION_BITS)),
                             _lanes(_W32, 255))
        whole = builder.select(builder.fcmp_ordered("<", value, _lanes(_WF, 0.0)),
                               _lanes(_W32, 0), builder.select(builder.fcmp_ordered(
                                   ">", value, _lanes(_WF, 255.0)), _lanes(_W32, 255), whole))
        packed = builder.or_(packed, builder.shl(whole, _lanes(_W32, 8 * c)))
    return packed, unsure


def _bicubic_exact(builder, taps, positions, channels):
    """Pillow's float64 steps over a group's windows (``taps``; ``positions``: each half's
    ``_positions``, whose fractions are Pillow's): its pixels as one word each."""
    packed = []
    for half, (_, _, _, dx, dy) in enumerate(positions):
        words = _lanes(_V32, 0)
        for c in range(channels):
            rows = []
            for r in range(4):
                v1, v2, v3, v4 = (builder.sitofp(_half(builder, _byte(builder, taps[r][j], c),
                                                       half), _VF) for j in range(4))
                rows.append(_pillow_cubic(builder, v1, v2, v3, v4, dx))
            value = _pillow_cubic(builder, *rows, dy)
            whole = builder.select(
                builder.fcmp_ordered("<=", value, _lanes(_VF, 0.0)), _lanes(_V32, 0),
                builder.select(builder.fcmp_ordered(">=", value, _lanes(_VF, 255.0)),
                               _lanes(_V32, 255), builder.fptosi(value, _V32)))
            words = builder.or_(words, builder.shl(whole, _lanes(_V32, 8 * c)))
        packed.append(words)
    return _joined_lanes(builder, *packed)


@intrinsic
def _bicubic_group(typingctx, flat, out, to, columns, x, yc, a, width, height, channels,
                   affine, fill):
    """BICUBIC over ``_GROUP`` output pixels from pixel ``x`` of the row whose centre is
    ``yc``, stored into ``out[to:]`` (interleaved) where every window lies in the image (by
    ``_bicubic_quick``, or ``_bicubic_exact`` where a lane is not sure), or ``fill`` (the
    outside's bytes as one word) where the group lies wholly outside: arguments as
    ``_bilinear_group`` takes them, the image under 2**18 pixels a side. Whether it stored
    them."""
    if not isinstance(channels, types.IntegerLiteral):
        return None
    size = channels.literal_value

    def codegen(context, builder, signature, args):
        flat_v, out_v, to_v, columns_v, x_v, yc_v, a_v, width_v, height_v = args[:9]
        coef = [builder.extract_value(a_v, k) for k in range(8)]
        array = context.make_array(signature.args[0])(context, builder, flat_v)
        columns = _columns(context, builder, signature.args[3], columns_v, x_v)
        halves = [_quick_positions(builder, columns[half], yc_v, coef, args[10])
                  for half in range(2)]
        (ix, fx, dx), (iy, fy, dy) = _split(builder, halves, 2), _split(builder, halves, 3)
        four, five, one = ir.Constant(_I64, 4), ir.Constant(_I64, 5), _lanes(_W32, 1)
        # every window inside (so nothing is read past the image), and no floor that may be
        # one more than Pillow's (where a fraction rounded to 0)
        interior = builder.and_(builder.and_(builder.icmp_signed(">=", width_v, four),
                                             builder.icmp_signed(">=", height_v, five)),
                                _all(builder, builder.and_(
                                    _below_each(builder, builder.sub(ix, one),
                                                builder.sub(width_v, ir.Constant(_I64, 3))),
                                    _below_each(builder, builder.sub(iy, one),
                                                builder.sub(height_v, four)))))
        on_edge = builder.icmp_unsigned("==", _low_unsigned(builder, fx, fy),
                                        _lanes(_W32, 0))
        sure = cgutils.alloca_once_value(builder, ir.Constant(_I1, 0))

        def store(words):
            pixels = _pixel_bytes(builder, words, size)
            builder.store(pixels, pointer(context, builder, signature.args[1], out_v, to_v,
                                          pixels.type), align=1)
            builder.store(ir.Constant(_I1, 1), sure)

        taken = builder.and_(interior, builder.not_(_any(builder, on_edge)))
        with builder.if_else(taken, likely=True) as (whole, part):
            with whole:
                taps = _bicubic_taps(builder, array, ix, iy, width_v, size)
                packed, unsure = _bicubic_quick(builder, taps, dx, dy, size)
                with builder.if_else(_any(builder, unsure), likely=False) as (again, fine):
                    with again:
                        positions = [_positions(builder, columns[half], yc_v, coef, width_v,
                                                height_v, args[10]) for half in range(2)]
                        store(_bicubic_exact(builder, taps, positions, size))
                    with fine:
                        store(packed)
            with part, builder.if_then(builder.not_(_any(builder, _inside(
                    builder, halves, width_v, height_v)))):  # wholly outside: the fill
                store(splat(builder, args[11], _W32))
        return builder.load(sure)
    return types.boolean(flat, out, types.intp, columns, types.intp, types.float64, a,
                         types.intp, types.intp, channels, types.boolean, types.uint32), codegen


@njit(cache=True, nogil=True)
def _bicubic_quick_row(flat, width, height, row, y, columns, a, affine, fill_word, pending,
                       channels):
    """The quick pass over output row ``y`` (``row``: its ``w * C`` bytes), 16 pixels at a
    time, for 1 to 4 ``channels`` (a literal): ``pending`` marks the groups it left, and the
    count of them is returned."""
    out_w = columns.shape[1]
    left = 0
    for step in range(pending.shape[0]):
        x = min(step * _GROUP, out_w - _GROUP)
        pending[step] = not _bicubic_group(flat, row, x * channels, columns, x, y + 0.5, a,
                                           width, height, channels, affine, fill_word)
        left += pending[step]
    return left


@njit(inline="always")
def _bicubic_quick_any(flat, width, height, row, y, columns, a, affine, fill_word, pending):
    """``_bicubic_quick_row`` for the row's channel count, as a literal."""
    channels = row.shape[0] // columns.shape[1]
    if channels == 1:
        return _bicubic_quick_row(flat, width, height, row, y, columns, a, affine, fill_word,
                                  pending, 1)
    if channels == 2:
        return _bicubic_quick_row(flat, width, height, row, y, columns, a, affine, fill_word,
                                  pending, 2)
    if channels == 3:
        return _bicubic_quick_row(flat, width, height, row, y, columns, a, affine, fill_word,
                                  pending, 3)
    return _bicubic_quick_row(flat, width, height, row, y, columns, a, affine, fill_word,
                              pending, 4)


@njit(inline="always")
def _pending_runs(pending, out_w, run_first, run_last):
    """The runs of pending groups as pixel ranges ``run_first[r]`` to ``run_last[r]``; their
    count."""
    runs = 0
    for step in range(pending.shape[0]):
        if pending[step] and (step == 0 or not pending[step - 1]):
            run_first[runs] = min(step * _GROUP, max(out_w - _GROUP, 0))
            runs += 1
        if pending[step]:
            run_last[runs - 1] = min((step + 1) * _GROUP, out_w)
    return runs


@njit(inline="always")
def _bicubic_span(image, flat, out, first, last, floor_x, floor_y, dxs, dys, inside, whole,
                  starts, words, values, fill):
    """Pixels ``first`` to ``last`` (unsigned, so indexing needs no check for negative
    indices and the loops vectorize: twice as fast) of an output row ``out`` by Pillow's
    float64 steps, their positions already found."""
    height, width, channels = image.shape
    row_bytes = width * channels
    for x in range(first, last):  # where each window starts
        ix, iy = floor_x[x] - 1, floor_y[x] - 1
        whole[x] = inside[x] & (ix >= 0) & (ix + 3 < width) & (iy >= 0) & (iy + 3 < height)
        starts[x] = iy * row_bytes + ix * channels if whole[x] else 0
    if width >= 4 and height >= 4:  # else no window is whole, and none starts at 0
        for k in range(4):  # every pixel's words, the window at 0 for the others
            for w in range(channels):
                into, at = words[k * channels + w], k * row_bytes + 4 * w
                for x in range(first, last):
                    into[x] = _load_word(flat, starts[x] + at)
    for x in range(first, last):
        if inside[x] and not whole[x]:
            _clipped_window(image, words, x, floor_x[x] - 1, floor_y[x] - 1)
    for c in range(channels):
        for x in range(first, last):
            dx = dxs[x]
            v = _cubic(_row_cubic(words, 0, channels, c, x, dx),
                       _row_cubic(words, 1, channels, c, x, dx),
                       _row_cubic(words, 2, channels, c, x, dx),
                       _row_cubic(words, 3, channels, c, x, dx), dys[x])
            values[c, x] = 0 if v <= 0.0 else (255 if v >= 255.0 else np.int32(v))
    for x in range(first, last):
        for c in range(channels):
            out[x, c] = np.uint8(values[c, x]) if inside[x] else fill[c]


@njit(cache=True, nogil=True, error_model="numpy")
def bicubic_rows(image, target, coefficients, fill):
    """Pillow's BICUBIC ``transform`` of one interleaved image of 1 to 4 channels into
    ``target`` (h, w, C): 16 pixels at a time by the quick pass (``_bicubic_group``), the
    others (windows reaching past an edge, images 2**18 pixels a side and more, outputs
    under 16 pixels wide) a run of pixels at a time by Pillow's float64 steps: each pixel's
    4x4 window read as ``C`` 4-byte words a window row (its 4C bytes; a window reaching past
    an edge is gathered from clipped rows and columns), then every channel's five cubics in
    float64 (vectorized)."""
    height, width, channels = image.shape
    out_h, out_w = target.shape[0], target.shape[1]
    flat = image.reshape(-1)
    rows = target.reshape((out_h, out_w * channels))
    a, columns = _quick_setup(coefficients, out_w)
    affine = coefficients[6] == 0.0 and coefficients[7] == 0.0
    quick = max(width, height) < 2 ** 18 and out_w >= _GROUP
    fill_word = _fill_word(fill, channels)
    groups = (out_w + _GROUP - 1) // _GROUP
    pending = np.ones(groups, np.bool_)
    run_first, run_last = np.empty(groups, np.int64), np.empty(groups, np.int64)
    floor_x, floor_y = np.empty(out_w, np.int64), np.empty(out_w, np.int64)
    dxs, dys = np.empty(out_w), np.empty(out_w)
    inside, whole = np.empty(out_w, np.bool_), np.empty(out_w, np.bool_)
    starts = np.empty(out_w, np.int64)
    words = np.zeros((4 * channels, out_w), np.uint32)
    values = np.empty((channels, out_w), np.int32)
    for y in range(out_h):
        left = _bicubic_quick_any(flat, width, height, rows[y], y, columns, a, affine,
                                  fill_word, pending) if quick else groups
        if left == 0:
            continue
        for run in range(_pending_runs(pending, out_w, run_first, run_last)):
            first, last = np.uint64(run_first[run]), np.uint64(run_last[run])
            _row_positions(coefficients, y, width, height, floor_x, floor_y, dxs, dys, inside,
                           first, last)
            _bicubic_span(image, flat, target[y], first, last, floor_x, floor_y, dxs, dys,
                          inside, whole, starts, words, values, fill)


@njit(cache=True, nogil=True, error_model="numpy")  # x / 0 is inf, as in C
def _transform_image(image, target, coefficients, fill, mode):
    """One interleaved (H, W, C) image into ``target`` (h, w, C) with NEAREST (``mode``
    0) or BICUBIC (2); BILINEAR's callers call its sampler themselves (interleaved or
    planar output), so each compiles only the one it takes."""
    if mode == 2:
        bicubic_rows(image, target, coefficients, fill)
        return
    height, width, channels = image.shape
    a, affine = _coefficients(coefficients)
    for y in range(target.shape[0]):
        for x in range(target.shape[1]):
            xin, yin = _source(a, affine, x, y)
            if not (xin >= 0.0 and xin < width and yin >= 0.0 and yin < height):
                for c in range(channels):
                    target[y, x, c] = fill[c]
                continue
            ix, iy = int(xin), int(yin)
            for c in range(channels):
                target[y, x, c] = image[iy, ix, c]


@njit(cache=True, nogil=True)
def pillow_transform(src, out, data, fill, mode):
    """``src`` (N, H, W, C) uint8 into ``out`` (N, h, w, C); ``data`` (N, 8) float64. Pixels
    interleaved, as Pillow keeps them, so each sample reads its neighbours' channels from one
    place."""
    for n in range(src.shape[0]):
        if mode == 1:
            bilinear_rows(src[n], out[n], data[n], fill)
        else:
            _transform_image(src[n], out[n], data[n], fill, mode)


@njit(cache=True, nogil=True)
def pillow_transform_planar(src, out, data, fill, mode, image, image_read):
    """``pillow_transform`` of planar (N, C, H, W) images into planar ``out``, an image at a
    time through the interleaved (1, H, W, C) ``image``, which then stays in the cache;
    ``image_read`` is a read-only view of it, so the samplers compile for the one type
    ``pillow_transform`` gives them."""
    moved = np.empty((1, out.shape[2], out.shape[3], src.shape[1]), np.uint8)
    for n in range(src.shape[0]):
        _to_interleaved(src[n:n + 1], image)
        if mode == 1:  # straight into the planes
            bilinear_planes(image_read[0], out[n], data[n], fill)
            continue
        _transform_image(image_read[0], moved[0], data[n], fill, mode)
        _to_planar(moved, out[n:n + 1])
