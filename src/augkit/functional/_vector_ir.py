"""Pieces of explicit vector code (LLVM IR in numba intrinsics, lowered for the machine's own
vector unit) shared by the compiled kernels: a splat, a vector pointer into an array, a
transposed store, per-lane byte addresses, a masked gather and a pairwise multiply-add."""

from __future__ import annotations

import functools

import llvmlite.binding as llvm
from llvmlite import ir
from numba.core import cgutils, config


def splat(builder, value, vector_type):
    """``value`` in every lane of ``vector_type``."""
    lanes = vector_type.count
    one = builder.insert_element(ir.Constant(vector_type, ir.Undefined), value,
                                 ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(one, one, ir.Constant(ir.VectorType(ir.IntType(32), lanes),
                                                        [0] * lanes))


def pointer(context, builder, array_type, array, offset, vector_type):
    """A ``vector_type`` pointer to element ``offset`` of a contiguous numba array."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [offset]), vector_type.as_pointer())


def store_transposed(context, builder, array_type, array, to, stride, tile, columns):
    """Store ``tile`` (rows of ``columns`` bytes, one after another) transposed: its column
    ``c`` as the bytes from ``to + c * stride`` of a contiguous uint8 array."""
    rows = tile.type.count // columns
    for c in range(columns):
        column = builder.shuffle_vector(tile, tile, ir.Constant(ir.VectorType(
            ir.IntType(32), rows), [r * columns + c for r in range(rows)]))
        offset = builder.add(to, builder.mul(stride, ir.Constant(stride.type, c)))
        builder.store(column, pointer(context, builder, array_type, array, offset,
                                      column.type), align=1)


class _VectorGEP(ir.instructions.Instruction):
    """``getelementptr i8, base, <N x i32> offsets`` (llvmlite's builder takes scalar
    offsets only): addresses that the gather takes as 32-bit offsets from one base."""

    def __init__(self, parent, base, offsets):
        super().__init__(parent, ir.VectorType(base.type, offsets.type.count),
                         "getelementptr", [base, offsets])

    def descr(self, buf):
        base, offsets = self.operands
        buf.append(f"getelementptr i8, {base.type} {base.get_reference()}, "
                   f"{offsets.type} {offsets.get_reference()}\n")


def gather(builder, base, offsets, mask, passthru):
    """Per lane, the element of ``passthru``'s type at byte ``offsets`` (``<N x i32>``) from
    the ``i8*`` ``base`` where ``mask`` is set (unaligned), ``passthru`` elsewhere; masked
    lanes read nothing."""
    addresses = _VectorGEP(builder.block, base, offsets)
    builder._insert(addresses)
    lanes, element = passthru.type.count, passthru.type.element
    pointers = ir.VectorType(element.as_pointer(), lanes)
    width = element.width
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
        passthru.type, [pointers, ir.IntType(32), mask.type, passthru.type]),
        f"llvm.masked.gather.v{lanes}i{width}.v{lanes}p0")
    return builder.call(function, [builder.bitcast(addresses, pointers),
                                   ir.Constant(ir.IntType(32), 1), mask, passthru])


def vector_call(builder, name, value):
    """The LLVM intrinsic ``llvm.<name>`` of one floating vector (``floor``, say)."""
    kind = value.type
    suffix = f"v{kind.count}f{64 if isinstance(kind.element, ir.DoubleType) else 32}"
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(kind, [kind]),
                                              f"llvm.{name}.{suffix}")
    return builder.call(function, [value])


@functools.cache
def wide_pairs() -> bool:
    """Whether numba compiles for this machine's own CPU and it multiplies and adds pairs
    of 16-bit lanes 32 lanes at a time (AVX-512BW's ``pmaddwd``)."""
    if config.CPU_NAME not in (None, "host") or config.CPU_FEATURES is not None:
        return False
    return bool(llvm.get_host_cpu_features().get("avx512bw"))


def multiply_add_pairs(builder, first, second):
    """``first[2i] * second[2i] + first[2i + 1] * second[2i + 1]`` for each ``i``: two
    ``<2N x i16>`` (``2N`` a multiple of 32) into ``<N x i32>``, exact (no pair is two
    products of -32768), by AVX-512BW's ``pmaddwd`` 32 lanes at a time (where
    ``wide_pairs()``)."""
    count, lanes, i32 = first.type.count, 32, ir.IntType(32)
    part = ir.VectorType(ir.IntType(16), lanes)
    function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
        ir.VectorType(i32, lanes // 2), [part, part]), "llvm.x86.avx512.pmaddw.d.512")
    sums = []
    for start in range(0, count, lanes):
        picked = ir.Constant(ir.VectorType(i32, lanes), list(range(start, start + lanes)))
        sums.append(builder.call(function, [builder.shuffle_vector(v, v, picked)
                                            for v in (first, second)]))
    while len(sums) > 1:
        size = sums[0].type.count
        sums = [builder.shuffle_vector(sums[k], sums[k + 1], ir.Constant(ir.VectorType(
            i32, 2 * size), list(range(2 * size)))) for k in range(0, len(sums), 2)]
    return sums[0]
