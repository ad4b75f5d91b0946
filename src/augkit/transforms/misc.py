"""More of torchvision's v2 catalogue: ``Identity``, ``Lambda``, ``RandomChannelPermutation``,
``RandomAdjustSharpness``, ``RandomRotation`` and ``JPEG``.

>>> import torch
>>> from augkit.transforms import RandomRotation
>>> RandomRotation(30, seed=0)(torch.zeros(4, 3, 16, 16, dtype=torch.uint8)).shape
torch.Size([4, 3, 16, 16])
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PIL import Image

from augkit.errors import AugkitError, AugkitTypeError
from augkit.functional import dispatch, permute_channels, rotate, sharpness
from augkit.functional.geometry import affine_matrices, check_interpolation
from augkit.functional.rotate import rotate_masks, rotated_canvas
from augkit.functional.targets import box_areas
from augkit.transforms.base import Params, Transform, check_range, scale_uniform
from augkit.transforms.geometry import Geometric, _check_fill, _check_mask_fill, _symmetric_range
from augkit.transforms.targets import Targets


class Identity(Transform):
    """torchvision's ``Identity``: returns its input."""

    def __init__(self, *, seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def apply(self, img: Any, params: Params) -> Any:
        return img


class Lambda(Identity):
    """torchvision's ``Lambda``: ``fn(img)`` on the image (targets pass unchanged); a
    pipeline holding one cannot be saved."""

    takes_any_input = True  # e.g. FiveCrop's tuple of crops, to stack

    def __init__(self, fn: Callable[[Any], Any], *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(seed=seed, generator=generator)
        if not callable(fn):
            raise AugkitTypeError(f"fn: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def apply(self, img: Any, params: Params) -> Any:
        return self.fn(img)

    def config(self) -> dict[str, Any]:
        raise AugkitError(f"Lambda({getattr(self.fn, '__name__', 'fn')}): a function cannot be "
                          "saved; only augkit transforms serialise")

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.fn, '__name__', type(self.fn).__name__)})"


class RandomChannelPermutation(Transform):
    """torchvision's ``RandomChannelPermutation``: the channels in a random order per sample."""

    def __init__(self, *, seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"keys": torch.rand(batch, 4, generator=generator, dtype=torch.float64)}

    def apply(self, img: Any, params: Params) -> Any:
        return permute_channels(img, params["keys"][:, :dispatch.num_channels(img)].argsort(1))


class SanitizeBoundingBoxes(Identity):
    """torchvision's ``SanitizeBoundingBoxes``: drops boxes narrower or shorter than
    ``min_size`` or smaller than ``min_area`` pixels, with their labels and every other
    box-aligned entry; the image passes. (augkit already drops boxes that leave the image.)"""

    def __init__(self, min_size: float = 1.0, min_area: float = 1.0,
                 labels_getter: Any = "default", *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(seed=seed, generator=generator)
        self.min_size = check_range(min_size, "min_size", 0.0, 1e9)[0]
        self.min_area = check_range(min_area, "min_area", 0.0, 1e18)[0]
        if labels_getter != "default":
            raise AugkitError(f"labels_getter: {labels_getter!r} is not offered; augkit drops "
                              "the labels and every box-aligned entry with their boxes "
                              "(\"default\")")
        self.labels_getter = labels_getter

    def apply_targets(self, targets: Targets, params: Params, size: tuple[int, int]
                      ) -> Targets:
        if targets.boxes is None:
            return targets
        moved = targets.copy()
        for i, boxes in enumerate(moved.boxes):
            sides = boxes[:, 2:] - boxes[:, :2]
            keep = (sides.min(axis=1) >= self.min_size) & (box_areas(boxes) >= self.min_area)
            moved.visibility[i] = moved.visibility[i] * keep
        return moved


class RandomAdjustSharpness(Transform):
    """torchvision's ``RandomAdjustSharpness``: Pillow's sharpness at ``sharpness_factor``
    with probability ``p`` (bit-identical to Pillow on uint8)."""

    def __init__(self, sharpness_factor: float, p: float = 0.5, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.sharpness_factor = check_range(sharpness_factor, "sharpness_factor", 0.0, 1e6)[0]

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def apply(self, img: Any, params: Params) -> Any:
        return sharpness(img, self.sharpness_factor)


class RandomRotation(Geometric):
    """torchvision's ``RandomRotation``: an angle drawn per sample from ``degrees`` (``d``
    means (-d, d); positive turns counter-clockwise) about ``center`` (pixels from the
    top-left corner; default the middle); equals Pillow's ``Image.rotate`` with every
    interpolation, masks move with NEAREST's pixels. ``expand=True`` enlarges the canvas to
    hold the turned image, as Pillow does; the angle is then drawn once per call, as
    torchvision draws it, so that a batch keeps one size."""

    def __init__(self, degrees: Any, interpolation: Any = "nearest", expand: bool = False,
                 center: Any = None, fill: Any = 0, mask_fill: int = 0, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        if not isinstance(expand, bool):
            raise AugkitError(f"expand: {expand!r} is not allowed; expected a bool")
        self.degrees = _symmetric_range(degrees, "degrees", 360.0)
        self.interpolation = check_interpolation(interpolation)
        self.expand = expand
        if center is not None and (not isinstance(center, (list, tuple)) or len(center) != 2):
            raise AugkitError(f"center: {center!r} is not allowed; expected (x, y) in pixels")
        self.center = None if center is None else [float(c) for c in center]
        self.fill, self.mask_fill = _check_fill(fill), _check_mask_fill(mask_fill)

    @property
    def keeps_size(self) -> bool:  # type: ignore[override]
        return not self.expand

    @property
    def size_from_input(self) -> bool:  # type: ignore[override]
        return not self.expand  # an expanded turn's size follows its angle

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        u = torch.rand(1 if self.expand else batch, generator=generator, dtype=torch.float64)
        return {"angle": scale_uniform(u, self.degrees).expand(batch).clone()}

    def apply(self, img: Any, params: Params) -> Any:
        return rotate(img, np.asarray(params["angle"]), self.interpolation, self.expand,
                      self.center, self.fill)

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        angles = np.asarray(params["angle"])
        return lambda masks: rotate_masks(masks, angles, self.expand, self.center,
                                          self.mask_fill)

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        angles = np.asarray(params["angle"])
        n = len(angles)
        forward = affine_matrices(size, -angles, np.zeros((n, 2)), np.ones(n),
                                  np.zeros((n, 2)), self.center)
        out_size = rotated_canvas(angles, size, self.center, self.expand)[1]
        forward[:, 0, 2] += (out_size[1] - size[1]) / 2  # the canvas grows about the centre
        forward[:, 1, 2] += (out_size[0] - size[0]) / 2
        return forward, out_size


class JPEG(Transform):
    """torchvision's ``JPEG``: Pillow's JPEG encoder and decoder at a ``quality`` (1-100)
    drawn per sample from the range (uint8 images with 1 or 3 channels)."""

    def __init__(self, quality: Any, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        low, high = check_range(quality, "quality", 1, 100)
        if low != int(low) or high != int(high):
            raise AugkitError(f"quality: {quality!r} is not allowed; expected whole numbers "
                              "1 to 100")
        self.quality = [int(low), int(high)]

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        low, high = self.quality
        return {"quality": torch.randint(low, high + 1, (batch,), generator=generator)}

    def apply(self, img: Any, params: Params) -> Any:
        def kernel(images: torch.Tensor, quality: torch.Tensor) -> torch.Tensor:
            if images.dtype != torch.uint8:
                raise AugkitTypeError(f"img: JPEG takes uint8 images, got {images.dtype}")
            return torch.from_numpy(uint8(images.cpu().numpy(), True, quality.cpu().numpy())
                                    ).to(images.device)

        def uint8(images: np.ndarray, planar: bool, quality: np.ndarray) -> np.ndarray:
            out = np.empty_like(images)
            for image, q, target in zip(images, quality, out, strict=True):
                _jpeg(image, int(q), planar, target)
            return out

        return dispatch.apply(img, {"quality": params["quality"]}, kernel, uint8,
                              channels=(1, 3), op="JPEG")


def _jpeg(image: np.ndarray, quality: int, planar: bool, out: np.ndarray) -> None:
    """One uint8 image, (C, H, W) when ``planar`` else (H, W, C), through Pillow's JPEG
    encoder and decoder into ``out``. Planes go in and out through Pillow's own merge and
    split, which cost less than reordering the bytes."""
    channels = image.shape[0 if planar else 2]
    if planar:
        picture = Image.fromarray(image[0]) if channels == 1 else Image.merge(
            "RGB", [Image.fromarray(plane) for plane in image])
    else:
        picture = Image.fromarray(image[:, :, 0] if channels == 1 else image)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    decoded = Image.open(io.BytesIO(buffer.getvalue()))
    if planar:
        for index, band in enumerate(decoded.split()):
            out[index] = np.asarray(band)
    else:
        out[...] = np.asarray(decoded).reshape(out.shape)


__all__ = ["JPEG", "Identity", "Lambda", "RandomAdjustSharpness", "RandomChannelPermutation",
           "RandomRotation", "SanitizeBoundingBoxes"]
