"""Named pipelines, so that every part of augkit that means "the usual augmentation" means
the same one, and a user can tell which one a run used.

- ``study_log()``: the study log's four photometric ops (Pillow's colour, brightness,
  contrast and sharpness), one random factor each per image, at the log's ranges (colour and
  sharpness 0 to 9.9, brightness 0.4 to 1.9, contrast 1 to 2, in steps of 0.1). Strong on
  photos; made for grayscale digits.
- ``small_jitter()``: a small random affine move: up to 8 degrees of rotation, 8% of
  translation on each axis, 0.9 to 1.1 scale.
- ``digits()``: ``study_log()`` then ``small_jitter()``; the default of ``augkit augment``,
  of the study's classical arms and of the feature net's training.
"""

from __future__ import annotations

from augkit.transforms.color import RandomEnhance
from augkit.transforms.container import Compose
from augkit.transforms.geometry import RandomAffine


def study_log() -> RandomEnhance:
    """The study log's four photometric ops at the log's ranges."""
    return RandomEnhance()


def small_jitter() -> RandomAffine:
    """Up to 8 degrees, 8% translation per axis, scale 0.9 to 1.1."""
    return RandomAffine(degrees=8, translate=(0.08, 0.08), scale=(0.9, 1.1))


def digits() -> Compose:
    """``study_log()`` then ``small_jitter()``."""
    return Compose([study_log(), small_jitter()])


PRESETS = {"study-log": study_log, "small-jitter": small_jitter, "digits": digits}

__all__ = ["PRESETS", "digits", "small_jitter", "study_log"]
