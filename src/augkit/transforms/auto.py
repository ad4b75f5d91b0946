"""Automatic augmentation policies built from augkit's own ops: torchvision's ``AutoAugment``
(its ImageNet, CIFAR10 and SVHN policies), ``RandAugment``, ``TrivialAugmentWide`` and
``AugMix``, with their operation spaces and magnitudes.

Every sample draws its own operations, magnitude bins and signs, so a batch is augmented as
if each image had gone through the policy alone, and the draw replays. The colour ops are
Pillow's ``ImageEnhance`` and the histogram ops Pillow's ``ImageOps`` (bit-identical on
uint8), as on torchvision's PIL path; the geometric ops are augkit's ``affine``. Like
torchvision's, these policies move images only: a call with boxes, masks or keypoints is
refused.
"""

from __future__ import annotations

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
    invert,
    posterize,
    sharpness,
    solarize,
)
from augkit.functional._enhance_cpu import add_weighted
from augkit.functional.geometry import check_interpolation
from augkit.transforms.base import Params, Transform
from augkit.transforms.calls import put_samples, take_samples
from augkit.transforms.targets import Targets

Magnitudes = Callable[[int, int, int], np.ndarray | None]


def _linspace(top: float | Callable[[int, int], float]) -> Magnitudes:
    """Bins from 0 to ``top`` (a number, or a function of the image's height and width)."""
    def magnitudes(bins: int, height: int, width: int) -> np.ndarray:
        high = top(height, width) if callable(top) else top
        return torch.linspace(0.0, high, bins).double().numpy()  # torchvision's float32 steps
    return magnitudes


def _posterize_bits(spread: int, most: int = 8) -> Magnitudes:
    def magnitudes(bins: int, height: int, width: int) -> np.ndarray:
        return (most - (torch.arange(bins) / ((bins - 1) / spread))).round().int().numpy()
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


RAND_AUGMENT = _space(0.3, _linspace(lambda h, w: 150.0 / 331.0 * w),
                      _linspace(lambda h, w: 150.0 / 331.0 * h), 30.0, 0.9, 4)
TRIVIAL_AUGMENT_WIDE = _space(0.99, _linspace(32.0), _linspace(32.0), 135.0, 0.99, 6)
AUTO_AUGMENT = {**{k: v for k, v in RAND_AUGMENT.items() if k != "Identity"},
                "Invert": (None, False)}
_AUGMIX_GEOMETRY_AND_HISTOGRAM = {
    "ShearX": (_linspace(0.3), True),
    "ShearY": (_linspace(0.3), True),
    "TranslateX": (_linspace(lambda h, w: w / 3.0), True),
    "TranslateY": (_linspace(lambda h, w: h / 3.0), True),
    "Rotate": (_linspace(30.0), True),
    "Posterize": (_posterize_bits(4, most=4), False),
    "Solarize": (_solarize_levels, False),
    "AutoContrast": (None, False),
    "Equalize": (None, False),
}
AUGMIX = {**_AUGMIX_GEOMETRY_AND_HISTOGRAM,
          **{name: (_linspace(0.9), True)
             for name in ("Brightness", "Color", "Contrast", "Sharpness")}}
AUGMIX_PARTIAL = _AUGMIX_GEOMETRY_AND_HISTOGRAM

SubPolicy = tuple[tuple[str, float, int | None], tuple[str, float, int | None]]
# The learned sub-policies of Cubuk et al. 2019 (AutoAugment), as torchvision lists them:
# (operation, probability, magnitude bin of 10) twice.
POLICIES: dict[str, tuple[SubPolicy, ...]] = {
    "imagenet": (
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
        (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
        (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
        (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
        (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
        (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
        (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ),
    "cifar10": (
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
        (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
        (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
        (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
        (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
        (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
        (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
        (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
        (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
        (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
        (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
        (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
        (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ),
    "svhn": (
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
        (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
        (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
        (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
        (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
        (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
        (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
        (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ),
}


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
    if name == "Invert":
        return invert(img)
    return autocontrast(img) if name == "AutoContrast" else equalize(img)


class _Policy(Transform):
    """Runs, per sample and step, the operation it drew (index -1: none) at its magnitude
    bin and sign."""

    space: dict[str, tuple[Magnitudes | None, bool]]

    def __init__(self, num_magnitude_bins: int, interpolation: Any, fill: Any,
                 *, seed: int | None, generator: torch.Generator | None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        _check_count("num_magnitude_bins", num_magnitude_bins, 2)
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = check_interpolation(interpolation)
        self.fill = 0 if fill is None else fill

    def draw_ops(self, shape: tuple[int, ...],
                 draw_bins: Callable[[tuple[int, ...]], torch.Tensor],
                 generator: torch.Generator | None) -> Params:
        """Uniform operations of ``shape``, then their bins, then a sign each (torchvision's
        order of draws)."""
        ops = torch.randint(len(self.space), shape, generator=generator)
        bins = draw_bins(shape)
        signs = torch.where(torch.rand(shape, generator=generator) <= 0.5, -1, 1)
        return {"ops": ops, "bins": bins, "signs": signs}

    def apply(self, img: Any, params: Params) -> Any:
        return self.run_steps(img, params["ops"], params["bins"], params["signs"])

    def run_steps(self, img: Any, ops: torch.Tensor, bins: torch.Tensor,
                  signs: torch.Tensor) -> Any:
        """The (N, steps) operations one step after the other."""
        height, width = dispatch.image_size(img)
        batch = dispatch.batch_size(img)
        for step in range(ops.shape[1]):
            magnitudes = self._magnitudes(ops[:, step], bins[:, step], signs[:, step],
                                          height, width)
            img = self._apply_step(img, batch, ops[:, step], magnitudes)
        return img

    def _magnitudes(self, ops: torch.Tensor, bins: torch.Tensor, signs: torch.Tensor,
                    height: int, width: int) -> np.ndarray:
        names = list(self.space)
        tables: dict[int, np.ndarray] = {}  # each op's bins, made once per step, not per sample
        out = np.zeros(len(ops))
        for i, (op, index, sign) in enumerate(zip(ops.tolist(), bins.tolist(), signs.tolist(),
                                                  strict=True)):
            make, signed = self.space[names[op]] if op >= 0 else (None, False)
            if make is not None:
                if op not in tables:
                    tables[op] = make(self.num_magnitude_bins, height, width)
                value = float(tables[op][index])
                out[i] = value * sign if signed else value
        return out

    def _apply_step(self, img: Any, batch: int | None, ops: torch.Tensor,
                    magnitudes: np.ndarray) -> Any:
        names = list(self.space)
        if batch is None:
            op = int(ops[0])
            return img if op < 0 else apply_op(img, names[op], magnitudes[:1],
                                               self.interpolation, self.fill)
        out = img.clone()
        for op in ops.unique().tolist():
            if op < 0:
                continue
            index = (ops == op).nonzero().squeeze(1)
            put_samples(out, index, apply_op(take_samples(img, index), names[op],
                                             magnitudes[index.numpy()], self.interpolation,
                                             self.fill))
        return out

    def apply_targets(self, targets: Targets, params: Params, size: tuple[int, int]
                      ) -> Targets:
        raise AugkitError(f"{type(self).__name__}: moves images only (as torchvision's does); "
                          "masks, boxes and keypoints cannot follow its geometric ops")


def _check_count(name: str, value: Any, low: int, high: int | None = None) -> None:
    if (isinstance(value, bool) or not isinstance(value, int) or value < low
            or (high is not None and value > high)):
        expected = f"{low} to {high}" if high is not None else f">= {low}"
        raise AugkitError(f"{name}: {value!r} is not allowed; expected an integer {expected}")


class AutoAugment(_Policy):
    """torchvision's ``AutoAugment``: per image, one of the policy's 25 learned sub-policies,
    whose two operations each run with their own probability at their own magnitude bin of 10
    (``policy``: "imagenet", "cifar10" or "svhn", or torchvision's ``AutoAugmentPolicy``)."""

    space = AUTO_AUGMENT

    def __init__(self, policy: Any = "imagenet", interpolation: Any = "nearest",
                 fill: Any = None, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(10, interpolation, fill, seed=seed, generator=generator)
        key = getattr(policy, "value", policy)  # torchvision's enum holds the same names
        if not isinstance(key, str) or key.lower() not in POLICIES:
            raise AugkitError(f"policy: {policy!r} is not allowed; expected one of "
                              f"{', '.join(POLICIES)}")
        self.policy = key.lower()
        table = POLICIES[self.policy]
        names = list(self.space)
        self._ops = torch.tensor([[names.index(op) for op, _, _ in sub] for sub in table])
        self._chances = torch.tensor([[chance for _, chance, _ in sub] for sub in table],
                                     dtype=torch.float64)
        self._bins = torch.tensor([[bin_ or 0 for _, _, bin_ in sub] for sub in table])

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        chosen = torch.randint(len(self._ops), (batch,), generator=generator)
        runs = torch.rand(batch, 2, generator=generator, dtype=torch.float64) \
            <= self._chances[chosen]
        signs = torch.where(torch.rand(batch, 2, generator=generator) <= 0.5, -1, 1)
        return {"sub_policies": chosen, "ops": torch.where(runs, self._ops[chosen], -1),
                "bins": self._bins[chosen], "signs": signs}


class RandAugment(_Policy):
    """torchvision's ``RandAugment``: ``num_ops`` operations per image, each at bin
    ``magnitude`` of ``num_magnitude_bins``, with a random sign where the op has one."""

    space = RAND_AUGMENT

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation: Any = "nearest", fill: Any = None, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(num_magnitude_bins, interpolation, fill, seed=seed,
                         generator=generator)
        _check_count("num_ops", num_ops, 0)
        if isinstance(magnitude, bool) or not isinstance(magnitude, int) \
                or not 0 <= magnitude < num_magnitude_bins:
            raise AugkitError(f"magnitude: {magnitude!r} is not allowed; expected an integer "
                              f"in [0, {num_magnitude_bins})")
        self.num_ops, self.magnitude = num_ops, magnitude

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return self.draw_ops((batch, self.num_ops),
                             lambda shape: torch.full(shape, self.magnitude), generator)


class TrivialAugmentWide(_Policy):
    """torchvision's ``TrivialAugmentWide``: one operation per image at a uniformly drawn
    magnitude bin, over the wide ranges."""

    space = TRIVIAL_AUGMENT_WIDE

    def __init__(self, num_magnitude_bins: int = 31, interpolation: Any = "nearest",
                 fill: Any = None, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(num_magnitude_bins, interpolation, fill, seed=seed,
                         generator=generator)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return self.draw_ops(
            (batch, 1),
            lambda shape: torch.randint(self.num_magnitude_bins, shape, generator=generator),
            generator)


class AugMix(_Policy):
    """torchvision's ``AugMix`` (Hendrycks et al. 2020): ``mixture_width`` chains of 1-3
    operations (or ``chain_depth``) at bins below ``severity`` of 10, mixed with weights from
    a Dirichlet(``alpha``) and blended with the original by a Beta(``alpha``, ``alpha``)
    weight; uint8 results are truncated, as torchvision's are. Unlike torchvision, which
    draws one chain of operations per batch, every sample draws its own."""

    def __init__(self, severity: int = 3, mixture_width: int = 3, chain_depth: int = -1,
                 alpha: float = 1.0, all_ops: bool = True, interpolation: Any = "bilinear",
                 fill: Any = None, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(10, interpolation, fill, seed=seed, generator=generator)
        _check_count("severity", severity, 1, 10)
        _check_count("mixture_width", mixture_width, 1)
        if chain_depth != -1:
            _check_count("chain_depth", chain_depth, 1)
        if (isinstance(alpha, bool) or not isinstance(alpha, (int, float))
                or not 0 < alpha < np.inf):
            raise AugkitError(f"alpha: {alpha!r} is not allowed; expected a number > 0")
        if not isinstance(all_ops, bool):
            raise AugkitError(f"all_ops: {all_ops!r} is not allowed; expected True or False")
        self.severity, self.mixture_width, self.chain_depth = severity, mixture_width, \
            chain_depth
        self.alpha, self.all_ops = float(alpha), all_ops

    @property
    def space(self) -> dict[str, tuple[Magnitudes | None, bool]]:  # a property: pickles
        return AUGMIX if self.all_ops else AUGMIX_PARTIAL

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        # torch has no seeded Dirichlet; numpy's, seeded from this transform's generator
        dirichlet = np.random.default_rng(
            int(torch.randint(1 << 62, (1,), generator=generator)))
        blend = dirichlet.dirichlet([self.alpha, self.alpha], size=batch)
        weights = dirichlet.dirichlet([self.alpha] * self.mixture_width, size=batch) \
            * blend[:, 1:]
        longest = self.chain_depth if self.chain_depth > 0 else 3
        shape = (batch, self.mixture_width, longest)
        if self.chain_depth > 0:
            depths = torch.full(shape[:2], self.chain_depth)
        else:
            depths = torch.randint(1, 4, shape[:2], generator=generator)
        params = self.draw_ops(
            shape, lambda shape: torch.randint(self.severity, shape, generator=generator),
            generator)
        params["ops"] = torch.where(torch.arange(longest) < depths[..., None], params["ops"], -1)
        return {"original_weights": torch.from_numpy(blend[:, 0]),
                "chain_weights": torch.from_numpy(weights), **params}

    def apply(self, img: Any, params: Params) -> Any:
        def kernel(images: torch.Tensor) -> torch.Tensor:
            if images.dtype == torch.uint8 and images.device.type == "cpu":
                return uint8_kernel(images)
            work = (images.dtype if images.dtype in (torch.float32, torch.float64)
                    else torch.float32)
            weights = params["original_weights"].to(images.device, work)
            mix = weights[:, None, None, None] * images.to(work)
            for chain in range(self.mixture_width):
                chained = self.run_steps(images, params["ops"][:, chain],
                                         params["bins"][:, chain], params["signs"][:, chain])
                weights = params["chain_weights"][:, chain].to(images.device, work)
                mix += weights[:, None, None, None] * chained.to(work)
            return mix.to(torch.uint8) if images.dtype == torch.uint8 else mix.clamp_(0, 1)

        def uint8_kernel(images: torch.Tensor) -> torch.Tensor:
            """The float32 mix above, compiled: the same products and sums, truncated as
            torch's cast to uint8 (16 224x224 photos: 16 to 2 ms for the mixing)."""
            total = np.empty(images.shape, np.float32)
            add_weighted(total, params["original_weights"].numpy(),
                         images.contiguous().numpy(), True)
            for chain in range(self.mixture_width):
                chained = self.run_steps(images, params["ops"][:, chain],
                                         params["bins"][:, chain], params["signs"][:, chain])
                add_weighted(total, params["chain_weights"][:, chain].numpy(),
                             chained.contiguous().numpy(), False)
            return torch.from_numpy(total.astype(np.uint8))

        return dispatch.apply(img, {}, kernel)


__all__ = ["AUGMIX", "AUGMIX_PARTIAL", "AUTO_AUGMENT", "POLICIES", "RAND_AUGMENT",
           "TRIVIAL_AUGMENT_WIDE", "AugMix", "AutoAugment", "RandAugment", "TrivialAugmentWide",
           "apply_op"]
