"""Progress bars that behave in a log file: at most one line every few seconds when the
output is not a terminal."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

LOG_INTERVAL = 10.0  # seconds between lines when stderr is not a terminal


def progress_bar(*args: Any, disable: bool = False, **kwargs: Any) -> tqdm:
    """``tqdm`` on stderr, refreshed at most every ``LOG_INTERVAL`` seconds off a terminal."""
    file = kwargs.pop("file", sys.stderr)
    interactive = hasattr(file, "isatty") and file.isatty()
    if not interactive:
        kwargs.setdefault("mininterval", LOG_INTERVAL)
        kwargs.setdefault("maxinterval", LOG_INTERVAL * 3)
    kwargs.setdefault("dynamic_ncols", interactive)
    return tqdm(*args, file=file, disable=disable, **kwargs)


__all__ = ["progress_bar"]
