"""A compiled check for crops: whether per-sample source indices are plain windows."""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True)
def index_runs(indices, runs):
    """Whether every row of (N, k) source indices is one run of consecutive indices with -1
    (fill) before and after it; if so, ``runs`` (N, 3) gets each row's first output, first
    source and length (a source of 0 for an empty run)."""
    for n in range(indices.shape[0]):
        row = indices[n]
        first = 0
        while first < row.shape[0] and row[first] < 0:
            first += 1
        end = first
        while end < row.shape[0] and row[end] >= 0:
            if end > first and row[end] != row[end - 1] + 1:
                return False
            end += 1
        for i in range(end, row.shape[0]):
            if row[i] >= 0:
                return False
        runs[n, 0], runs[n, 1], runs[n, 2] = first, row[first] if end > first else 0, \
            end - first
    return True
