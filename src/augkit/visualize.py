"""Pictures of what a pipeline does: each source image beside augmented copies of it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from augkit.errors import AugkitError
from augkit.transforms import Transform


def grid(rows: Sequence[Sequence[Image.Image]], gap: int = 4, scale: int = 1,
         background: int = 255) -> Image.Image:
    """Tile equally sized images row by row into one RGB image."""
    if not rows or not rows[0]:
        raise AugkitError("rows: expected at least one row with one image")
    width, height = rows[0][0].size
    cell_w, cell_h = width * scale, height * scale
    columns = max(len(row) for row in rows)
    canvas = Image.new("RGB", (columns * cell_w + (columns + 1) * gap,
                               len(rows) * cell_h + (len(rows) + 1) * gap),
                       (background,) * 3)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            if img.size != (width, height):
                raise AugkitError(f"rows[{r}][{c}]: size {img.size} differs from {(width, height)}")
            tile = img.convert("RGB")
            if scale != 1:
                tile = tile.resize((cell_w, cell_h), Image.NEAREST)
            canvas.paste(tile, (gap + c * (cell_w + gap), gap + r * (cell_h + gap)))
    return canvas


def before_after(images: Sequence[Image.Image | np.ndarray], pipeline: Transform,
                 copies: int = 5, scale: int = 1) -> Image.Image:
    """One row per image: the original, then ``copies`` augmented versions."""
    rows = []
    for img in images:
        pil = Image.fromarray(img) if isinstance(img, np.ndarray) else img
        rows.append([pil] + [pipeline(pil) for _ in range(copies)])
    return grid(rows, scale=scale)
