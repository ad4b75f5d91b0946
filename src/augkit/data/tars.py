"""The tar files of WebDataset shards: writing members quickly with the same bytes every time,
and finding every member of a shard without Python's ``tarfile`` (a hundred thousand small
members are indexed in a few vectorized passes).

``member(name, data)`` is one regular file (a POSIX ustar header, mode 0644, owner 0, time 0,
as ``tarfile`` writes it with ``USTAR_FORMAT``; a name too long for ustar gets a pax header)
and ``END`` closes an archive. ``scan(buffer)`` returns the regular files' names, data offsets
and sizes, and a line describing any damage (a truncated or corrupt archive): the members
before the damage are all returned, and a member whose data is cut short is returned last with
the size its header gives (so that its offset plus size lies past the end).
"""

from __future__ import annotations

import tarfile
from typing import NamedTuple

import numpy as np

BLOCK = 512
END = b"\0" * (2 * BLOCK)
_MAGIC = np.frombuffer(b"ustar", np.uint8)
_REGULAR = (ord("0"), 0, ord("7"))  # regular file types: "0", the old NUL, contiguous


_MODE_OWNER = b"0000644\0" + b"0000000\0" * 2  # mode 0644, uid 0, gid 0
_TIME = b"00000000000\0"                     # mtime 0
_AFTER_SUM = b"0" + b"\0" * 100 + b"ustar\0" + b"00" + b"\0" * 80  # type, link, magic, owner
_CONSTANT_SUM = sum(_MODE_OWNER) + sum(_TIME) + sum(_AFTER_SUM) + 8 * 32  # sum field as blanks


def _ustar_header(name: bytes, size: int) -> bytes | None:
    """The ustar header ``tarfile`` writes for a regular file; None when ``name`` is too long."""
    prefix = b""
    if len(name) > 100:
        cut = name.find(b"/", len(name) - 101)  # as tarfile splits: the longest name part
        if not 0 < cut <= 155:
            return None
        prefix, name = name[:cut], name[cut + 1:]
    size_field = b"%011o\0" % size
    checksum = _CONSTANT_SUM + sum(name) + sum(prefix) + sum(size_field)
    return b"".join((name.ljust(100, b"\0"), _MODE_OWNER, size_field, _TIME,
                     b"%06o\0 " % checksum, _AFTER_SUM, prefix.ljust(155, b"\0"), b"\0" * 12))


def member(name: str, data: bytes) -> bytes:
    """One regular file of a tar archive: its header, its data and the padding to a block."""
    encoded = name.encode("utf-8")
    header = _ustar_header(encoded, len(data))
    if header is None:  # a long name: tarfile's pax header, made as deterministic
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime, info.uname, info.gname = len(data), 0o644, 0, "", ""
        header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    return header + data + b"\0" * (-len(data) % BLOCK)


Data = bytes | memoryview | tuple[bytes | memoryview, ...]  # a tuple: pieces of one file


def _pieces(data: Data) -> tuple[bytes | memoryview, ...]:
    return data if isinstance(data, tuple) else (data,)


def archive(names: list[str], datas: list[Data]) -> bytes:
    """A whole tar archive of regular files, the same bytes as ``member`` for each and
    ``END``: the ustar headers made together in numpy (a long name falls back to
    ``member``). A file's data may come in pieces (a tuple), written one after the other."""
    return b"".join(archive_parts(names, datas))


def archive_parts(names: list[str], datas: list[Data]) -> list[bytes | memoryview]:
    """``archive`` as the pieces to write one after the other (headers, data, padding);
    data given as views is not copied."""
    encoded = [name.encode("utf-8") for name in names]
    if not encoded or max(map(len, encoded)) > 100:
        return [member(n, b"".join(_pieces(d))) for n, d in zip(names, datas, strict=True)] \
            + [END]
    sizes = np.fromiter((sum(map(len, _pieces(d))) for d in datas), np.int64, len(datas))
    headers = np.empty((len(encoded), BLOCK), np.uint8)
    headers[:] = _EMPTY_HEADER
    name_bytes = np.array(encoded, "S100").view(np.uint8).reshape(-1, 100)
    headers[:, :100] = name_bytes
    size_digits = _octal_digits(sizes, 11)
    headers[:, 124:135] = size_digits
    # the empty header's sum counts its name as empty and its size as 0; add what differs
    checksums = (_EMPTY_SUM + name_bytes.sum(axis=1, dtype=np.int64)
                 + size_digits.sum(axis=1, dtype=np.int64) - 11 * ord("0"))
    headers[:, 148:154] = _octal_digits(checksums, 6)
    rows = memoryview(headers.reshape(-1)).cast("B")
    parts = []
    for i, (data, size) in enumerate(zip(datas, sizes.tolist(), strict=True)):
        parts += (rows[i * BLOCK: (i + 1) * BLOCK], *_pieces(data), _PADS[-size % BLOCK])
    parts.append(END)
    return parts


_EMPTY_HEADER = np.frombuffer(_ustar_header(b"", 0), np.uint8)
_EMPTY_SUM = int(_EMPTY_HEADER.sum()) - int(_EMPTY_HEADER[148:156].sum()) + 8 * 32
_PADS = [b"\0" * n for n in range(BLOCK)]


def _octal_digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded octal ASCII digits of each value, ``width`` of them."""
    places = 8 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // places % 8 + 48).astype(np.uint8)


class Members(NamedTuple):
    """The regular files of an archive in order, and what stopped the reading early."""

    names: np.ndarray    # bytes (numpy "S" strings), UTF-8 names
    offsets: np.ndarray  # int64 start of each member's data in the archive
    sizes: np.ndarray    # int64 bytes of data
    problem: str | None  # one line: truncated or corrupt (the members before it are listed)


def scan(buffer: bytes | memoryview | np.ndarray) -> Members:
    """Every regular file of the tar archive in ``buffer``: a vectorized pass for plain ustar
    archives (what augkit and most tools write), a member-by-member walk otherwise."""
    data = np.frombuffer(buffer, np.uint8)
    fast = _scan_ustar(data)
    return fast if fast is not None else _walk(data)


def octal_fields(fields: np.ndarray) -> np.ndarray | None:
    """Octal numbers in fixed-width ASCII rows (digits, then NUL or space: what tar writes);
    None when a row holds anything else."""
    digits = fields[:, :-1].astype(np.int64) - 48
    last = fields[:, -1]
    if not (((digits >= 0) & (digits <= 7)).all() and ((last == 0) | (last == 32)).all()):
        return None
    return digits @ (8 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64))


def _scan_ustar(data: np.ndarray) -> Members | None:
    """The fast path: headers found by their magic, checked to chain one to the next."""
    count = len(data) // BLOCK
    blocks = data[: count * BLOCK].reshape(count, BLOCK)
    found = np.flatnonzero(blocks[:, 257] == _MAGIC[0])
    found = found[(blocks[found, 257:262] == _MAGIC).all(axis=1)]
    if not len(found) or found[0] != 0:
        return None
    sizes = octal_fields(blocks[found, 124:136])
    types = blocks[found, 156]
    if sizes is None or not ((types == _REGULAR[0]) | (types == 0) | (types == _REGULAR[2])).all():
        return None
    following = found + 1 + (sizes + BLOCK - 1) // BLOCK
    if not (following[:-1] == found[1:]).all():
        return None  # "ustar" inside some data, or headers this path does not read
    names = _names(blocks, found)
    end = int(following[-1])
    problem = _end_problem(blocks, end, count, len(data), names[-1])
    return Members(names, (found.astype(np.int64) + 1) * BLOCK, sizes, problem)


def _names(blocks: np.ndarray, found: np.ndarray) -> np.ndarray:
    """The members' names as "S" strings, ustar's prefix joined on with a slash."""
    width = _longest(blocks, found)
    names = np.ascontiguousarray(blocks[found, :width]).view(f"S{width}").ravel()
    if not blocks[found, 345].any():
        return names
    prefixes = np.ascontiguousarray(blocks[found, 345:500]).view("S155").ravel()
    joined = [p + b"/" + n if p else n for p, n in zip(prefixes.tolist(), names.tolist(),
                                                      strict=True)]
    return np.array(joined, dtype=f"S{max(map(len, joined))}")


def _longest(blocks: np.ndarray, found: np.ndarray) -> int:
    """The length of the longest name field (NUL-padded, so a binary search over columns)."""
    low, high = 1, 100  # some name reaches past column low - 1; none past column high - 1
    while low < high:
        middle = (low + high) // 2
        if blocks[found, middle].any():
            low = middle + 1
        else:
            high = middle
    return low


def _end_problem(blocks: np.ndarray, end: int, count: int, length: int, last: bytes
                 ) -> str | None:
    """What is wrong after the last header's data: nothing, a cut, or no end marker."""
    name = last.decode("utf-8", "replace")
    if end > count:
        return f"truncated: the archive ends inside the data of {name} (at byte {length:,})"
    if end == count and length % BLOCK:
        return f"truncated: the archive ends inside a member's header (at byte {length:,})"
    if end == count:
        return f"truncated: the archive ends after {name} without its end blocks"
    if blocks[end].any():
        return f"corrupt: no tar header at byte {end * BLOCK:,}"
    return None


def _walk(data: np.ndarray) -> Members:
    """Member by member, with pax and GNU long names; stops at the first damage."""
    names, offsets, sizes = [], [], []
    position, pending, problem = 0, None, None
    raw = data.tobytes()
    while True:
        if position + BLOCK > len(raw):
            where = "inside a member's header" if position < len(raw) else "without its end blocks"
            problem = f"truncated: the archive ends {where} (at byte {len(raw):,})"
            break
        header = raw[position: position + BLOCK]
        if header == b"\0" * BLOCK:
            break
        try:
            info = tarfile.TarInfo.frombuf(header, "utf-8", "surrogateescape")
        except tarfile.HeaderError as error:
            problem = f"corrupt: bad tar header at byte {position:,} ({error})"
            break
        start = position + BLOCK
        position = start + info.size + (-info.size % BLOCK)
        pending = _apply_header(info, raw[start: start + info.size], pending, names, offsets,
                                sizes, start)
        if start + info.size > len(raw):
            problem = (f"truncated: the archive ends inside the data of {names[-1]} "
                       f"(at byte {len(raw):,})" if names and offsets[-1] == start else
                       f"truncated: the archive ends inside a member (at byte {len(raw):,})")
            break
    encoded = np.array([name.encode("utf-8", "surrogateescape") for name in names], "S")
    return Members(encoded if names else np.zeros(0, "S1"), np.asarray(offsets, np.int64),
                   np.asarray(sizes, np.int64), problem)


def _apply_header(info: tarfile.TarInfo, payload: bytes, pending: str | None,
                  names: list[str], offsets: list[int], sizes: list[int], start: int
                  ) -> str | None:
    """Record one member; returns the long name that a pax or GNU header gives the next."""
    if info.type == tarfile.XHDTYPE:
        for record in payload.split(b"\n"):
            key, _, value = record.partition(b" ")[2].partition(b"=")
            if key == b"path":
                return value.decode("utf-8", "surrogateescape")
        return pending
    if info.type == tarfile.GNUTYPE_LONGNAME:
        return payload.rstrip(b"\0").decode("utf-8", "surrogateescape")
    if info.type in tarfile.REGULAR_TYPES:
        names.append(pending or info.name)
        offsets.append(start)
        sizes.append(info.size)
    return None


def split_keys(names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each member's sample key and extension, as WebDataset splits them: the key is the
    path up to the first dot of the file name, the extension the rest ("a/b.mask.png": key
    "a/b", extension "mask.png"; cut at 24 bytes); both as "S" strings."""
    count = len(names)
    chars = np.ascontiguousarray(names).view(np.uint8).reshape(count, -1)
    width = chars.shape[1]
    columns = np.arange(width)
    slashes = chars == ord("/")
    dots = chars == ord(".")
    if slashes.any():
        last_slash = np.where(slashes, columns, -1).max(axis=1)
        dots &= columns > last_slash[:, None]
    lengths = (chars != 0).sum(axis=1)
    dot = np.where(dots.any(axis=1), dots.argmax(axis=1), lengths)
    keys = np.where(columns < dot[:, None], chars, 0).view(f"S{width}").ravel()
    source = dot[:, None] + 1 + columns[:_EXT_WIDTH]
    exts = np.take_along_axis(chars, np.minimum(source, width - 1), axis=1)
    exts[source >= width] = 0
    return keys, np.ascontiguousarray(exts).view(f"S{exts.shape[1]}").ravel()


_EXT_WIDTH = 24  # extensions are compared to short known ones; longer ones are cut there


__all__ = ["END", "Members", "archive", "archive_parts", "member", "scan", "split_keys"]
