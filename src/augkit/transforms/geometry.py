"""Random geometric transforms: affine jitter, resized crops, flips and erasing.

Parameters are drawn relative to the image (fractions of its width and height, areas and
aspect ratios) and turned into pixels when applied, so a draw replays on images of any size.

>>> import torch
>>> from augkit.transforms import RandomAffine
>>> jitter = RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1), seed=0)
>>> jitter(torch.zeros(8, 1, 28, 28, dtype=torch.uint8)).shape
torch.Size([8, 1, 28, 28])
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import affine, crop, dispatch, erase, hflip, resize, resized_crop, vflip
from augkit.functional.crop import remap
from augkit.functional.elastic import (
    displacement_sources,
    elastic,
    elastic_displacement,
    elastic_points,
)
from augkit.functional.geometry import (
    _check_size,
    affine_data,
    affine_matrices,
    check_interpolation,
    flip_matrices,
    flip_samples,
    resized_crop_matrices,
    sample_at,
    transform_masks,
)
from augkit.functional.noise import noise_seeds
from augkit.functional.perspective import (
    perspective_coefficients,
    transform_generic,
    transform_masks_generic,
)
from augkit.functional.resize import check_filter, nearest_sources, resize_boxes
from augkit.transforms.base import Params, Transform, check_range, scale_uniform
from augkit.transforms.targets import Targets


def _symmetric_range(value: Any, name: str, high: float = math.inf) -> tuple[float, float]:
    """``d`` means ``(-d, d)``; a pair is taken as it is."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise AugkitError(f"{name}: {value!r} is not allowed; a single number must be >= 0")
        value = (-value, value)
    return check_range(value, name, -high, high)


def _check_fill(value: Any) -> Any:
    values = [value] if isinstance(value, (int, float)) else value
    if (isinstance(value, bool) or not isinstance(values, (list, tuple)) or not values
            or not all(isinstance(v, (int, float)) and v >= 0 for v in values)):
        raise AugkitError(f"fill: {value!r} is not allowed; expected a number >= 0 or one per "
                          "channel")
    return value if isinstance(value, (int, float)) else list(value)


def _check_translate(value: Any) -> tuple[float, float] | None:
    """torchvision's ``translate``: per-axis maxima ``(fx, fy)``, each in [0, 1]."""
    if value is None:
        return None
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1
                       for v in value)):
        raise AugkitError(f"translate: {value!r} is not allowed; expected (fx, fy), the largest "
                          "shifts as fractions of the width and height, each in [0, 1]")
    return float(value[0]), float(value[1])


def _check_mask_fill(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AugkitError(f"mask_fill: {value!r} is not allowed; expected an integer label "
                          "(e.g. 0, or 255 for 'ignore')")
    return value


class Geometric(Transform):
    """A transform that moves pixels; masks, boxes and keypoints move with them."""

    #: how masks are sampled beyond the input: ``fill`` with ``mask_fill``, or ``edge``
    mask_border = "fill"
    mask_fill = 0

    @abstractmethod
    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        """Forward matrices ``(N, 3, 3)`` on pixel centres and the output size."""

    def apply_targets(self, targets: Targets, params: Params, size: tuple[int, int]
                      ) -> Targets:
        forward, out_size = self.forward_matrices(params, size)
        return targets.warped(forward, out_size, self.mask_fill, self.mask_border,
                              self.masks_by(params, size))

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        """A function that moves masks exactly, for ops that move whole pixels; ``None``:
        masks are sampled through the forward matrices."""
        return None


class RandomAffine(Geometric):
    """torchvision's ``RandomAffine``: rotation, translation, scale and shear about the centre,
    each drawn uniformly per sample (targets move along; masks take ``mask_fill``).

    ``degrees=d`` means (-d, d); ``translate=(fx, fy)`` shifts by up to ``fx * width`` and
    ``fy * height``; ``scale=(lo, hi)``; ``shear=s`` means an x-shear in (-s, s), a pair an
    x-shear range and four numbers x and y ranges. Angles follow torchvision's ``affine``
    (positive is clockwise).
    """

    def __init__(self, degrees: Any = 0.0, translate: Any = None, scale: Any = None,
                 shear: Any = None, interpolation: str = "nearest", fill: Any = 0,
                 mask_fill: int = 0, *, p: float = 1.0, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.degrees = _symmetric_range(degrees, "degrees", 360.0)
        self.translate = _check_translate(translate)
        self.mask_fill = _check_mask_fill(mask_fill)
        self.scale = None if scale is None else check_range(scale, "scale", 1e-3, 1e3)
        if shear is None:
            self.shear = None
        elif isinstance(shear, (list, tuple)) and len(shear) == 4:
            self.shear = (*_symmetric_range(tuple(shear[:2]), "shear", 89.0),
                          *_symmetric_range(tuple(shear[2:]), "shear", 89.0))
        else:
            self.shear = _symmetric_range(shear, "shear", 89.0)
        self.interpolation = check_interpolation(interpolation)
        self.fill = _check_fill(fill)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        u = torch.rand(batch, 6, generator=generator, dtype=torch.float64)
        fx, fy = self.translate or (0.0, 0.0)
        shear = self.shear or (0.0, 0.0)
        shear_y = shear[2:] if len(shear) == 4 else (0.0, 0.0)
        return {
            "angle": scale_uniform(u[:, 0], self.degrees),
            "translate": torch.stack([scale_uniform(u[:, 1], (-fx, fx)),
                                      scale_uniform(u[:, 2], (-fy, fy))], dim=1),
            "scale": scale_uniform(u[:, 3], self.scale or (1.0, 1.0)),
            "shear": torch.stack([scale_uniform(u[:, 4], shear[:2]),
                                  scale_uniform(u[:, 5], shear_y)], dim=1),
        }

    @staticmethod
    def in_pixels(params: Params, size: tuple[int, int]) -> dict[str, np.ndarray]:
        """The drawn parameters as ``affine`` takes them: translation in pixels of ``size``."""
        height, width = size
        return {"angle": np.asarray(params["angle"]), "scale": np.asarray(params["scale"]),
                "shear": np.asarray(params["shear"]),
                "translate": np.asarray(params["translate"]) * np.array([width, height])}

    def apply(self, img: Any, params: Params) -> Any:
        values = self.in_pixels(params, dispatch.image_size(img))
        return affine(img, values["angle"], values["translate"], values["scale"],
                      values["shear"], self.interpolation, self.fill)

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        return affine_matrices(size, **self.in_pixels(params, size)), size

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        """Masks take the pixels NEAREST takes for the image, whatever its interpolation."""
        data = affine_data(size, self.in_pixels(params, size))
        return lambda masks: transform_masks(masks, data, self.mask_fill)


class ElasticTransform(Geometric):
    """torchvision's ``ElasticTransform``: every pixel moved by a smooth random field, one per
    sample (``elastic_displacement``: noise blurred by ``sigma``, scaled by ``alpha``; a number
    means the same across and down); Pillow has no such op. Masks move with nearest
    sampling, boxes and keypoints back along the field at their pixel, as torchvision does.
    Neighbours beyond the image count as ``fill``, as in augkit's other warps; torchvision's
    tensor path also scales the image by their share there, darkening the border."""

    def __init__(self, alpha: Any = 50.0, sigma: Any = 5.0, interpolation: Any = "bilinear",
                 fill: Any = 0, mask_fill: int = 0, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.alpha = list(_pair(alpha, "alpha"))
        self.sigma = list(_pair(sigma, "sigma"))
        self.interpolation = check_interpolation(interpolation)
        self.fill, self.mask_fill = _check_fill(fill), _check_mask_fill(mask_fill)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"seed": noise_seeds(batch, generator)}

    def field(self, params: Params, size: tuple[int, int]) -> torch.Tensor:
        return elastic_displacement(params["seed"], size, tuple(self.alpha), tuple(self.sigma))

    def apply(self, img: Any, params: Params) -> Any:
        field = self.field(params, dispatch.image_size(img))
        return elastic(img, field, self.interpolation, self.fill)

    def apply_targets(self, targets: Targets, params: Params, size: tuple[int, int]
                      ) -> Targets:
        fields = self.field(params, size)

        def masks_by(masks: torch.Tensor) -> torch.Tensor:
            src_x, src_y = displacement_sources(fields.to(masks.device), size)
            return sample_at(masks, src_x, src_y, "nearest", self.mask_fill)

        maps = [lambda points, field=field: elastic_points(points, field) for field in fields]
        return targets.warped(None, size, masks_by=masks_by, point_maps=maps)

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        raise AugkitError("ElasticTransform: no matrix describes an elastic field")


def _pair(value: Any, name: str) -> tuple[float, float]:
    pair = value if isinstance(value, (list, tuple)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                 and 0 <= v <= 1e4 for v in pair):
        raise AugkitError(f"{name}: {value!r} is not allowed; expected a number or an (x, y) "
                          "pair of numbers in [0, 10000]")
    return float(pair[0]), float(pair[1])


class RandomPerspective(Geometric):
    """torchvision's ``RandomPerspective``: with probability ``p`` move each corner inwards by
    up to ``distortion_scale`` times half the width and height (whole pixels, drawn per
    sample) and warp through the perspective map; equal to torchvision's PIL path (Pillow's
    ``Image.transform(PERSPECTIVE)``) with every interpolation. Masks take NEAREST's pixels
    and ``mask_fill``; boxes and keypoints move through the same map."""

    def __init__(self, distortion_scale: float = 0.5, p: float = 0.5,
                 interpolation: str = "bilinear", fill: Any = 0, mask_fill: int = 0, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        if (isinstance(distortion_scale, bool) or not isinstance(distortion_scale, (int, float))
                or not 0 <= distortion_scale <= 1):
            raise AugkitError(f"distortion_scale: {distortion_scale!r} is not allowed; expected "
                              "a number in [0, 1]")
        self.distortion_scale = float(distortion_scale)
        self.interpolation = check_interpolation(interpolation)
        self.fill = _check_fill(fill)
        self.mask_fill = _check_mask_fill(mask_fill)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"corners": torch.rand(batch, 4, 2, generator=generator, dtype=torch.float64)}

    def endpoints(self, params: Params, size: tuple[int, int]) -> np.ndarray:
        """The moved corners ``(N, 4, 2)`` in pixels for images of ``size``, as torchvision
        draws them: integers in ``[0, bound)`` from each side."""
        height, width = size
        bounds = np.array([int(self.distortion_scale * (width // 2)) + 1,
                           int(self.distortion_scale * (height // 2)) + 1])
        offsets = np.minimum(np.floor(np.asarray(params["corners"]) * bounds), bounds - 1)
        inward = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
        return _corners(size) + inward * offsets

    def data(self, params: Params, size: tuple[int, int]) -> np.ndarray:
        """Per-sample ``(N, 8)`` coefficients (output to input, continuous coordinates); the
        identity where the corners define no perspective map (images 1 pixel wide or high,
        or corners drawn onto one another)."""
        ends = self.endpoints(params, size)
        start = np.repeat(_corners(size)[None], len(ends), axis=0)
        return perspective_coefficients(start, ends, degenerate="identity")

    def apply(self, img: Any, params: Params) -> Any:
        size = dispatch.image_size(img)
        return transform_generic(img, self.data(params, size), self.interpolation, self.fill)

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        data = self.data(params, size)
        inverse = np.concatenate([data, np.ones((len(data), 1))], axis=1).reshape(-1, 3, 3)
        to_centres, from_centres = np.eye(3), np.eye(3)
        to_centres[:2, 2], from_centres[:2, 2] = -0.5, 0.5
        return to_centres @ np.linalg.inv(inverse) @ from_centres, size

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        data = self.data(params, size)
        return lambda masks: transform_masks_generic(masks, data, self.mask_fill)


def _corners(size: tuple[int, int]) -> np.ndarray:
    height, width = size
    return np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                    dtype=np.float64)


def _box_fractions(params: Params, height: int, width: int, whole_pixels: bool
                   ) -> tuple[np.ndarray, ...]:
    """Boxes ``(top, left, h, w)`` in pixels from drawn areas, log-ratios and positions."""
    area = np.asarray(params["area"]) * height * width
    ratio = np.exp(np.asarray(params["log_ratio"]))
    box_w = np.sqrt(area * ratio)
    box_h = np.sqrt(area / ratio)
    if whole_pixels:
        box_w, box_h = np.round(box_w), np.round(box_h)
    box_w = np.clip(box_w, 1, width)
    box_h = np.clip(box_h, 1, height)
    top = np.asarray(params["y"]) * (height - box_h)
    left = np.asarray(params["x"]) * (width - box_w)
    if whole_pixels:
        top, left = np.floor(top + 0.5), np.floor(left + 0.5)
    return top, left, box_h, box_w


def _draw_boxes(batch: int, generator: torch.Generator | None, scale: tuple[float, float],
                ratio: tuple[float, float]) -> Params:
    u = torch.rand(batch, 4, generator=generator, dtype=torch.float64)
    return {
        "area": scale_uniform(u[:, 0], scale),
        "log_ratio": scale_uniform(u[:, 1], (math.log(ratio[0]), math.log(ratio[1]))),
        "y": u[:, 2].clone(),
        "x": u[:, 3].clone(),
    }


class RandomResizedCrop(Geometric):
    """torchvision's ``RandomResizedCrop``: a random box (area a fraction in ``scale`` of the
    image, aspect ratio in ``ratio``, clipped to the image; one draw per sample, where
    torchvision retries up to ten times) resized to ``size``. With ``antialias=True`` (the
    default, as torchvision's) the box is rounded to whole pixels and resized by Pillow's
    ``Image.resize`` (every filter, exact on uint8), torchvision's PIL path; with ``False``
    the fractional box is sampled directly (nearest, bilinear, bicubic), without
    antialiasing."""

    keeps_size = False
    mask_border = "edge"

    def __init__(self, size: Any, scale: Any = (0.08, 1.0), ratio: Any = (3 / 4, 4 / 3),
                 interpolation: str = "bilinear", antialias: bool = True, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.size = list(_check_size(size))
        self.scale = check_range(scale, "scale", 1e-6, 1.0)
        self.ratio = check_range(ratio, "ratio", 1e-3, 1e3)
        if not isinstance(antialias, bool):
            raise AugkitError(f"antialias: {antialias!r} is not allowed; expected a bool")
        self.antialias = antialias
        self.interpolation = check_filter(interpolation) if antialias else \
            check_interpolation(interpolation)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return _draw_boxes(batch, generator, self.scale, self.ratio)

    def boxes(self, params: Params, size: tuple[int, int]) -> tuple[np.ndarray, ...]:
        """Per-sample ``(top, left, height, width)`` in pixels."""
        return _box_fractions(params, *size, whole_pixels=self.antialias)

    def apply(self, img: Any, params: Params) -> Any:
        top, left, box_h, box_w = self.boxes(params, dispatch.image_size(img))
        if not self.antialias:
            return resized_crop(img, top, left, box_h, box_w, tuple(self.size),
                                self.interpolation)
        if (isinstance(img, torch.Tensor) and img.ndim == 4 and self.interpolation != "nearest"
                and not (img.device.type == "cpu" and img.dtype == torch.uint8)):
            boxes = np.stack([top, left, box_h, box_w], 1).astype(np.int64)
            return resize_boxes(img, boxes, (self.size[0], self.size[1]), self.interpolation)
        return _per_box(img, top, left, box_h, box_w, lambda part: resize(
            part, list(self.size), self.interpolation))

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        out_size = (self.size[0], self.size[1])
        return resized_crop_matrices(*self.boxes(params, size), out_size), out_size

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        if not self.antialias:
            return None
        out_size = (self.size[0], self.size[1])
        sources = [(int(t) + rows, int(left) + cols) for t, left, h, w in
                   zip(*self.boxes(params, size), strict=True)
                   for rows, cols in [nearest_sources((int(h), int(w)), out_size)]]
        rows, cols = np.stack([s[0] for s in sources]), np.stack([s[1] for s in sources])
        return lambda masks: remap(masks, rows, cols, torch.zeros(masks.shape[1]))


def _per_box(img: Any, top: np.ndarray, left: np.ndarray, box_h: np.ndarray,
             box_w: np.ndarray, finish: Any) -> Any:
    """``finish(crop)`` of each sample's whole-pixel box; a batch is stacked again."""
    boxes = [tuple(int(v) for v in box) for box in zip(top, left, box_h, box_w, strict=True)]
    if dispatch.batch_size(img) is None:
        return finish(crop(img, *boxes[0]))
    height, width = img.shape[-2:]

    def cut(sample: torch.Tensor, y: int, x: int, h: int, w: int) -> torch.Tensor:
        if y >= 0 and y + h <= height and x >= 0 and x + w <= width:
            return sample[:, y:y + h, x:x + w]  # a view: ``finish`` copies what it reads
        return crop(sample, y, x, h, w)

    return torch.stack([finish(cut(sample, *box)) for sample, box in
                        zip(img, boxes, strict=True)])


class RandomHorizontalFlip(Geometric):
    """Mirror left to right with probability ``p``."""

    horizontal = True

    def __init__(self, p: float = 0.5, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def apply(self, img: Any, params: Params) -> Any:
        return hflip(img)

    def apply_with_targets(self, img: Any, targets: Targets | None, params: Params
                           ) -> tuple[Any, Targets | None]:
        applied = params["applied"]
        if targets is not None or dispatch.batch_size(img) is None or bool(applied.all()) \
                or not bool(applied.any()):
            return super().apply_with_targets(img, targets, params)
        # some samples of a batch: flipped or copied in one pass (the subset's copy, its
        # flip and the merge's copy of every sample took 3x as long)
        return flip_samples(img, applied, self.horizontal), None

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        return flip_matrices(len(params["applied"]), size, horizontal=True), size

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        return lambda masks: masks.flip(-1)


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top to bottom with probability ``p``."""

    horizontal = False

    def apply(self, img: Any, params: Params) -> Any:
        return vflip(img)

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        return flip_matrices(len(params["applied"]), size, horizontal=False), size

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        return lambda masks: masks.flip(-2)


class RandomErasing(Transform):
    """torchvision's ``RandomErasing`` on images of any dtype; masks, boxes and keypoints stay.

    Cutout: with probability ``p`` set a random rectangle (area a fraction in ``scale``,
    aspect ratio in ``ratio``) to ``value``."""

    def __init__(self, p: float = 0.5, scale: Any = (0.02, 0.33), ratio: Any = (0.3, 3.3),
                 value: Any = 0, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.scale = check_range(scale, "scale", 0.0, 1.0)
        self.ratio = check_range(ratio, "ratio", 1e-3, 1e3)
        self.value = _check_fill(value)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return _draw_boxes(batch, generator, self.scale, self.ratio)

    def apply(self, img: Any, params: Params) -> Any:
        height, width = dispatch.image_size(img)
        top, left, box_h, box_w = _box_fractions(params, height, width, whole_pixels=True)
        return erase(img, top, left, box_h, box_w, self.value)
