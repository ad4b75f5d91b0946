"""A few real photographs bundled with augkit (224x224 RGB) for demos, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from augkit.errors import AugkitError

PHOTOS_DIR = Path(__file__).parent / "bundled" / "photos"
PHOTO_NAMES = ("astronaut", "coffee", "chelsea")


def load_photo(name: str) -> Image.Image:
    """One bundled photo as an RGB PIL image."""
    if name not in PHOTO_NAMES:
        raise AugkitError(f"name: {name!r} is not a bundled photo; expected one of "
                          f"{', '.join(PHOTO_NAMES)}")
    with Image.open(PHOTOS_DIR / f"{name}.png") as img:
        return img.convert("RGB")


def load_photos() -> list[Image.Image]:
    """All bundled photos."""
    return [load_photo(name) for name in PHOTO_NAMES]
