"""Random transforms: draw per-sample parameters, then call ``augkit.functional`` kernels."""

from augkit.transforms.base import REGISTRY, Transform
from augkit.transforms.color import (
    RandomBrightness,
    RandomColor,
    RandomContrast,
    RandomEnhance,
    RandomSharpness,
)
from augkit.transforms.container import Compose
from augkit.transforms.serialization import from_dict, load, save, to_json, to_yaml

__all__ = [
    "REGISTRY",
    "Compose",
    "RandomBrightness",
    "RandomColor",
    "RandomContrast",
    "RandomEnhance",
    "RandomSharpness",
    "Transform",
    "from_dict",
    "load",
    "save",
    "to_json",
    "to_yaml",
]
