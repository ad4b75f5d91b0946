"""Automatic augmentation policies built from augkit's own ops: torchvision's ``RandAugment``
and ``TrivialAugmentWide``, with their operation spaces and magnitudes.

Every sample draws its own operations, magnitude bins and signs, so a batch is augmented as
if each image had gone through the policy alone, and the draw replays. The colour ops are
Pillow's ``ImageEnhance`` and the histogram ops Pillow's ``ImageOps`` (bit-identical on
uint8), as on torchvision's PIL path; the geometric ops are augkit's ``affine``. Like
torchvision's, these policies move images only: a call with boxes, masks or keypoints is
refused.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import (
    affine,
    autocontrast,
    brightness,
    color,
    contrast,
    dispatch,
    equalize,
    posterize,
    sharpness,
    solarize,
)
from augkit.functional.geometry import check_interpolation
from augkit.transforms.base import Params, Transform
from augkit.transforms.targets import Targets

Magnitudes = Callable[[int, int, int], np.ndarray | None]


def _linspace(high: float, scale_by: str | None = None) -> Magnitudes:
    def magnitudes(bins: int, height: int, width: int) -> np.ndarray:
        top = high * {None: 1, "width": width, "height": height}[scale_by]
        return torch.linspace(0.0, top, bins).double().numpy()  # torchvision's float32 steps
    return magnitudes


def _posterize_bits(spread: int) -> Magnitudes:
    def magnitudes(bins: int, height: int, width: int) -> np.ndarray:
        return (8 - (torch.arange(bins) / ((bins - 1) / spread))).round().int().numpy()
    return magnitudes


def _solarize_levels(bins: int, height: int, width: int) -> np.ndarray:
    return torch.linspace(1.0, 0.0, bins).double().numpy()


def _space(shear: float, translate: Magnitudes, translate_y: Magnitudes, rotate: float,
           enhance: float, bits_spread: int) -> dict[str, tuple[Magnitudes | None, bool]]:
    return {
        "Identity": (None, False),
        "ShearX": (_linspace(shear), True),
        "ShearY": (_linspace(shear), True),
        "TranslateX": (translate, True),
        "TranslateY": (translate_y, True),
        "Rotate": (_linspace(rotate), True),
        "Brightness": (_linspace(enhance), True),
        "Color": (_linspace(enhance), True),
        "Contrast": (_linspace(enhance), True),
        "Sharpness": (_linspace(enhance), True),
        "Posterize": (_posterize_bits(bits_spread), False),
        "Solarize": (_solarize_levels, False),
        "AutoContrast": (None, False),
        "Equalize": (None, False),
    }


RAND_AUGMENT = _space(0.3, _linspace(150.0 / 331.0, "width"), _linspace(150.0 / 331.0, "height"),
                      30.0, 0.9, 4)
TRIVIAL_AUGMENT_WIDE = _space(0.99, _linspace(32.0), _linspace(32.0), 135.0, 0.99, 6)


def apply_op(img: Any, name: str, magnitude: np.ndarray, interpolation: str, fill: Any) -> Any:
    """One policy operation with per-sample ``magnitude`` (torchvision's meanings)."""
    geometric = dict(interpolation=interpolation, fill=fill)
    zeros = np.zeros_like(magnitude)
    if name == "Identity":
        return img
    if name in ("ShearX", "ShearY"):
        degrees = np.degrees(np.arctan(magnitude))
        shear = np.stack([degrees, zeros] if name == "ShearX" else [zeros, degrees], axis=1)
        return affine(img, shear=shear, center=(0, 0), **geometric)
    if name in ("TranslateX", "TranslateY"):
        pixels = np.trunc(magnitude)
        shift = np.stack([pixels, zeros] if name == "TranslateX" else [zeros, pixels], axis=1)
        return affine(img, translate=shift, **geometric)
    if name == "Rotate":
        return affine(img, angle=-magnitude, **geometric)  # rotate is counter-clockwise
    enhance = {"Brightness": brightness, "Color": color, "Contrast": contrast,
               "Sharpness": sharpness}
    if name in enhance:
        return enhance[name](img, 1.0 + magnitude)
    if name == "Posterize":
        return posterize(img, magnitude.astype(np.int64))
    if name == "Solarize":
        bound = 255.0 if getattr(img, "dtype", torch.uint8) in (torch.uint8, np.uint8) else 1.0
        return solarize(img, bound * magnitude)
    return autocontrast(img) if name == "AutoContrast" else equalize(img)


class _Policy(Transform):
    """Draws, per sample and step, an operation, a magnitude bin and a sign."""

    space: dict[str, tuple[Magnitudes | None, bool]]

    def __init__(self, num_ops: int, num_magnitude_bins: int, interpolation: Any, fill: Any,
                 *, seed: int | None, generator: torch.Generator | None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        for name, value, low in (("num_ops", num_ops, 0), ("num_magnitude_bins",
                                                           num_magnitude_bins, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise AugkitError(f"{name}: {value!r} is not allowed; expected an integer >= "
                                  f"{low}")
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = check_interpolation(interpolation)
        self.fill = 0 if fill is None else fill
        self._steps = num_ops

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        ops = torch.randint(len(self.space), (batch, self._steps), generator=generator)
        bins = self.draw_bins(batch, generator)
        signs = torch.where(torch.rand(batch, self._steps, generator=generator) <= 0.5, -1, 1)
        return {"ops": ops, "bins": bins, "signs": signs}

    @abstractmethod
    def draw_bins(self, batch: int, generator: torch.Generator | None) -> torch.Tensor:
        """(N, steps) magnitude bins."""

    def apply(self, img: Any, params: Params) -> Any:
        height, width = dispatch.image_size(img)
        names = list(self.space)
        batch = dispatch.batch_size(img)
        for step in range(params["ops"].shape[1]):
            ops = params["ops"][:, step]
            magnitudes = self._magnitudes(ops, params["bins"][:, step],
                                          params["signs"][:, step], height, width)
            img = self._apply_step(img, batch, ops, magnitudes, names)
        return img

    def _magnitudes(self, ops: torch.Tensor, bins: torch.Tensor, signs: torch.Tensor,
                    height: int, width: int) -> np.ndarray:
        out = np.zeros(len(ops))
        for i, (op, index, sign) in enumerate(zip(ops.tolist(), bins.tolist(), signs.tolist(),
                                                  strict=True)):
            make, signed = self.space[list(self.space)[op]]
            if make is not None:
                value = float(make(self.num_magnitude_bins, height, width)[index])
                out[i] = value * sign if signed else value
        return out

    def _apply_step(self, img: Any, batch: int | None, ops: torch.Tensor,
                    magnitudes: np.ndarray, names: list[str]) -> Any:
        if batch is None:
            return apply_op(img, names[int(ops[0])], magnitudes[:1], self.interpolation,
                            self.fill)
        out = img.clone()
        for op in ops.unique().tolist():
            index = (ops == op).nonzero().squeeze(1)
            device_index = index.to(img.device)
            out[device_index] = apply_op(img[device_index], names[op],
                                         magnitudes[index.numpy()], self.interpolation,
                                         self.fill)
        return out

    def apply_targets(self, targets: Targets, params: Params, size: tuple[int, int]
                      ) -> Targets:
        raise AugkitError(f"{type(self).__name__}: moves images only (as torchvision's does); "
                          "masks, boxes and keypoints cannot follow its geometric ops")


class RandAugment(_Policy):
    """torchvision's ``RandAugment``: ``num_ops`` operations per image, each at bin
    ``magnitude`` of ``num_magnitude_bins``, with a random sign where the op has one."""

    space = RAND_AUGMENT

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation: Any = "nearest", fill: Any = None, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(num_ops, num_magnitude_bins, interpolation, fill, seed=seed,
                         generator=generator)
        if isinstance(magnitude, bool) or not isinstance(magnitude, int) \
                or not 0 <= magnitude < num_magnitude_bins:
            raise AugkitError(f"magnitude: {magnitude!r} is not allowed; expected an integer "
                              f"in [0, {num_magnitude_bins})")
        self.num_ops, self.magnitude = num_ops, magnitude

    def draw_bins(self, batch: int, generator: torch.Generator | None) -> torch.Tensor:
        return torch.full((batch, self.num_ops), self.magnitude, dtype=torch.int64)


class TrivialAugmentWide(_Policy):
    """torchvision's ``TrivialAugmentWide``: one operation per image at a uniformly drawn
    magnitude bin, over the wide ranges."""

    space = TRIVIAL_AUGMENT_WIDE

    def __init__(self, num_magnitude_bins: int = 31, interpolation: Any = "nearest",
                 fill: Any = None, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(1, num_magnitude_bins, interpolation, fill, seed=seed,
                         generator=generator)

    def draw_bins(self, batch: int, generator: torch.Generator | None) -> torch.Tensor:
        return torch.randint(self.num_magnitude_bins, (batch, 1), generator=generator)


__all__ = ["RAND_AUGMENT", "TRIVIAL_AUGMENT_WIDE", "RandAugment", "TrivialAugmentWide",
           "apply_op"]
