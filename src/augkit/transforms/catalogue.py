"""The parity table: every torchvision.transforms.v2 transform, its augkit counterpart, the
Pillow operation behind it, and whether augkit equals Pillow there, measured here on random
cases each time the table is made.

    python -m augkit.transforms.catalogue [--cases N] [--out docs/transforms.md]
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from augkit import functional as F
from augkit.files import write_text_atomically
from augkit.transforms.base import REGISTRY

# torchvision 0.29's v2 transforms (images, targets and conversions)
TORCHVISION_V2 = (
    "AugMix", "AutoAugment", "CenterCrop", "ClampBoundingBoxes", "ClampKeyPoints",
    "ColorJitter", "Compose", "ConvertBoundingBoxFormat", "ConvertImageDtype", "CutMix",
    "ElasticTransform", "FiveCrop", "GaussianBlur", "GaussianNoise", "Grayscale", "Identity",
    "JPEG", "Lambda", "LinearTransformation", "MixUp", "Normalize", "PILToTensor", "Pad", "RGB",
    "RandAugment", "RandomAdjustSharpness", "RandomAffine", "RandomApply", "RandomAutocontrast",
    "RandomChannelPermutation", "RandomChoice", "RandomCrop", "RandomEqualize",
    "RandomErasing", "RandomGrayscale", "RandomHorizontalFlip", "RandomInvert",
    "RandomIoUCrop", "RandomOrder", "RandomPerspective", "RandomPhotometricDistort",
    "RandomPosterize", "RandomResize", "RandomResizedCrop", "RandomRotation",
    "RandomShortestSize", "RandomSolarize", "RandomVerticalFlip", "RandomZoomOut", "Resize",
    "SanitizeBoundingBoxes", "SanitizeKeyPoints", "ScaleJitter", "SetClampingMode", "TenCrop",
    "ToDtype", "ToImage", "ToPILImage", "ToPureTensor", "ToTensor", "TrivialAugmentWide",
    "UniformTemporalSubsample",
)

Case = tuple[np.ndarray, np.ndarray]  # augkit's output, Pillow's
Checker = Callable[[np.random.Generator], Case]


def _image(rng: np.random.Generator) -> np.ndarray:
    height, width = (int(v) for v in rng.integers(1, 24, 2))
    shape = (height, width) if rng.random() < 0.5 else (height, width, 3)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def _image_any_mode(rng: np.random.Generator, high: int) -> np.ndarray:
    """A random L, RGB or RGBA uint8 image, each side in [1, high)."""
    height, width = (int(v) for v in rng.integers(1, high, 2))
    channels = int(rng.choice([1, 3, 4]))
    image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return image[:, :, 0] if channels == 1 else image


def _pil(fn: Callable[[Image.Image], Image.Image], image: np.ndarray) -> np.ndarray:
    return np.asarray(fn(Image.fromarray(image)))


def _lut_case(op: str, pillow: Callable, param: Callable | None = None) -> Checker:
    def case(rng: np.random.Generator) -> Case:
        image = _image(rng)
        args = () if param is None else (param(rng),)
        return getattr(F, op)(image, *args), _pil(lambda p: pillow(p, *args), image)
    return case


def _crop_case(rng: np.random.Generator) -> Case:
    image = _image(rng)
    top, left = (int(v) for v in rng.integers(-4, 20, 2))
    height, width = (int(v) for v in rng.integers(1, 24, 2))
    return (F.crop(image, top, left, height, width),
            _pil(lambda p: p.crop((left, top, left + width, top + height)), image))


def _zoom_out_case(rng: np.random.Generator) -> Case:
    from augkit.transforms.crop import RandomZoomOut

    image = _image_any_mode(rng, 24)
    fill = int(rng.integers(0, 256))
    zoom = RandomZoomOut(fill, (1.0, float(rng.uniform(1, 4))), p=1.0,
                         seed=int(rng.integers(1 << 30)))
    ours = zoom(image)
    top, left = zoom.window(zoom.last_params, image.shape[:2])[:2]

    def pillow(picture: Image.Image) -> Image.Image:
        bands = len(picture.getbands())
        canvas = Image.new(picture.mode, (ours.shape[1], ours.shape[0]),
                           fill if bands == 1 else (fill,) * bands)
        canvas.paste(picture, (-int(left[0]), -int(top[0])))
        return canvas

    return ours, _pil(pillow, image)


def _crops_case(ten: bool) -> Checker:
    def case(rng: np.random.Generator) -> Case:
        from augkit.transforms.crop import FiveCrop, TenCrop

        image = _image_any_mode(rng, 24)
        height, width = image.shape[:2]
        out_h, out_w = int(rng.integers(1, height + 1)), int(rng.integers(1, width + 1))
        vertical = bool(rng.random() < 0.5)
        ours = TenCrop((out_h, out_w), vertical)(image) if ten else \
            FiveCrop((out_h, out_w))(image)
        top, left = round((height - out_h) / 2.0), round((width - out_w) / 2.0)
        boxes = [(0, 0), (width - out_w, 0), (0, height - out_h),
                 (width - out_w, height - out_h), (left, top)]
        picture = Image.fromarray(image)
        pictures = [picture]
        if ten:
            pictures.append(picture.transpose(Image.Transpose.FLIP_TOP_BOTTOM if vertical
                                              else Image.Transpose.FLIP_LEFT_RIGHT))
        pillow = [np.asarray(p.crop((x, y, x + out_w, y + out_h)))
                  for p in pictures for x, y in boxes]
        return np.stack(ours), np.stack(pillow)
    return case


def _rgb_case(rng: np.random.Generator) -> Case:
    from augkit.transforms.convert import RGB

    gray = _image(rng)
    gray = gray if gray.ndim == 2 else gray[:, :, 0]
    return RGB()(gray), _pil(lambda p: p.convert("RGB"), gray)


def _pil_to_tensor_case(rng: np.random.Generator) -> Case:
    from augkit.transforms.convert import PILToTensor

    image = _image_any_mode(rng, 24)
    hwc = image if image.ndim == 3 else image[:, :, None]
    return PILToTensor()(Image.fromarray(image)).permute(1, 2, 0).numpy(), hwc


def _pad_case(rng: np.random.Generator) -> Case:
    image = _image(rng)
    border = int(rng.integers(0, 6))
    return F.pad(image, border), _pil(lambda p: ImageOps.expand(p, border, fill=0), image)


def _rotate_case(rng: np.random.Generator) -> Case:
    image = _image_any_mode(rng, 24)
    angle = float(rng.choice([90, 180, 270])) if rng.random() < 0.1 else \
        float(rng.uniform(-180, 180))
    name = str(rng.choice(["nearest", "bilinear", "bicubic"]))
    return F.rotate(image, angle, name), _pil(
        lambda p: p.rotate(angle, _PILLOW_FILTERS[name]), image)


def _affine_case(rng: np.random.Generator) -> Case:
    from augkit.functional.geometry import torchvision_inverse

    image = _image(rng)
    height, width = image.shape[:2]
    angle, scale = float(rng.uniform(-180, 180)), float(rng.uniform(0.5, 1.5))
    translate = [float(v) for v in rng.uniform(-4, 4, 2)]
    shear = [float(v) for v in rng.uniform(-30, 30, 2)]
    data = torchvision_inverse((width * 0.5, height * 0.5), angle, translate, scale, shear)
    return (F.affine(image, angle, translate, scale, shear),
            _pil(lambda p: p.transform(p.size, Image.Transform.AFFINE, data), image))


def _perspective_case(rng: np.random.Generator) -> Case:
    from augkit.transforms.geometry import RandomPerspective

    image = _image_any_mode(rng, 32)
    height, width = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    name = str(rng.choice(["nearest", "bilinear", "bicubic"]))
    fill = int(rng.integers(0, 256))
    warp = RandomPerspective(float(rng.uniform(0, 1)), p=1.0, interpolation=name, fill=fill,
                             seed=int(rng.integers(1 << 30)))
    ours = warp(image)
    data = [float(v) for v in warp.data(warp.last_params, (height, width))[0]]
    fillcolor = fill if channels == 1 else (fill,) * channels
    return ours, _pil(lambda p: p.transform(p.size, Image.Transform.PERSPECTIVE, data,
                                            _PILLOW_FILTERS[name], fillcolor=fillcolor), image)


def _hue_pillow(image: Image.Image, factor: float) -> Image.Image:
    """torchvision's PIL path for a hue turn: Pillow's HSV, the hue byte shifted."""
    h, s, v = image.convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    hue += np.int32(factor * 255).astype(np.uint8)
    return Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert("RGB")


def _jitter_case(rng: np.random.Generator) -> Case:
    import torch

    from augkit.transforms.color import ColorJitter

    image = rng.integers(0, 256, (*(int(v) for v in rng.integers(1, 24, 2)), 3),
                         dtype=np.uint8)
    factors = np.array([rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5),
                        rng.uniform(-0.5, 0.5)])
    order = rng.permutation(4)
    params = {"applied": torch.ones(1, dtype=torch.bool),
              "factors": torch.from_numpy(factors[None]), "order": torch.from_numpy(order[None])}
    ours = ColorJitter(0.5, 0.5, 0.5, 0.5)(image, params=params)
    picture = Image.fromarray(image)
    for op in order:
        picture = _jitter_step_pillow(picture, op, factors[op])
    return ours, np.asarray(picture)


def _jitter_step_pillow(picture: Image.Image, op: int, factor: float) -> Image.Image:
    """ColorJitter's step ``op`` (brightness, contrast, saturation, hue) through Pillow."""
    if op == 3:
        return _hue_pillow(picture, factor)
    enhancer = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)[op]
    return enhancer(picture).enhance(factor)


def _photometric_case(rng: np.random.Generator) -> Case:
    from augkit.transforms.color import RandomPhotometricDistort

    image = rng.integers(0, 256, (*(int(v) for v in rng.integers(1, 24, 2)), 3),
                         dtype=np.uint8)
    distort = RandomPhotometricDistort(p=float(rng.uniform(0.2, 0.9)),
                                       seed=int(rng.integers(1 << 30)))
    ours = distort(image)
    params = distort.last_params
    steps, factors = params["steps"][0].tolist(), params["factors"][0].tolist()
    before = bool(params["contrast_before"][0])
    picture = Image.fromarray(image)
    for op, run in ((0, steps[0]), (1, steps[1] and before), (2, steps[2]), (3, steps[3]),
                    (1, steps[1] and not before)):
        if run:
            picture = _jitter_step_pillow(picture, op, factors[op])
    expected = np.asarray(picture)
    if steps[4]:
        expected = expected[:, :, params["keys"][0, :3].argsort().numpy()]
    return ours, expected


def _blur_case(rng: np.random.Generator) -> Case:
    image = _image(rng)
    sigma = float(rng.uniform(0.1, 4.0))
    return F.gaussian_blur(image, sigma), _pil(lambda p: p.filter(
        ImageFilter.GaussianBlur(sigma)), image)


def _sharpness_case(rng: np.random.Generator) -> Case:
    image = _image(rng)
    factor = float(rng.uniform(0, 4))
    return F.sharpness(image, factor), _pil(lambda p: ImageEnhance.Sharpness(p).enhance(
        factor), image)


def _jpeg_case(rng: np.random.Generator) -> Case:
    from augkit.transforms.misc import JPEG

    image = _image(rng)
    quality = int(rng.integers(1, 101))

    def pillow(p: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        p.save(buffer, "JPEG", quality=quality)
        return Image.open(buffer)

    return JPEG(quality)(image), _pil(pillow, image)


def _gray_case(rng: np.random.Generator) -> Case:
    image = rng.integers(0, 256, (*(int(v) for v in rng.integers(1, 24, 2)), 3),
                         dtype=np.uint8)
    return F.grayscale(image)[:, :, 0], _pil(lambda p: p.convert("L"), image)


_PILLOW_FILTERS = {"nearest": Image.Resampling.NEAREST, "box": Image.Resampling.BOX,
                   "bilinear": Image.Resampling.BILINEAR, "hamming": Image.Resampling.HAMMING,
                   "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}


def _resize_case(make: Callable[[np.random.Generator, str], Any]) -> Checker:
    """A resizing transform built by ``make(rng, filter)`` on an L, RGB or RGBA image against
    Pillow's ``Image.resize`` to the size it chose, with the same filter."""
    def case(rng: np.random.Generator) -> Case:
        image = _image_any_mode(rng, 40)
        name = str(rng.choice(list(_PILLOW_FILTERS)))
        ours = np.asarray(make(rng, name)(image))
        size = (ours.shape[1], ours.shape[0])
        return ours, _pil(lambda p: p.resize(size, _PILLOW_FILTERS[name]), image)
    return case


def _resized_crop_case(rng: np.random.Generator) -> Case:
    from augkit.transforms.geometry import RandomResizedCrop

    image = _image_any_mode(rng, 40)
    name = str(rng.choice(list(_PILLOW_FILTERS)))
    size = [int(v) for v in rng.integers(1, 48, 2)]
    t = RandomResizedCrop(size, interpolation=name, seed=int(rng.integers(1 << 30)))
    ours = t(image)
    top, left, height, width = (int(v[0]) for v in t.boxes(t.last_params, image.shape[:2]))
    return ours, _pil(lambda p: p.crop((left, top, left + width, top + height)).resize(
        (size[1], size[0]), _PILLOW_FILTERS[name]), image)


def _resize_to(rng: np.random.Generator, name: str) -> Any:
    from augkit.transforms.resize import Resize

    if rng.random() < 0.5:
        return Resize([int(v) for v in rng.integers(1, 48, 2)], name)
    return Resize(int(rng.integers(1, 48)), name)


def _random_resize(rng: np.random.Generator, name: str) -> Any:
    from augkit.transforms.resize import RandomResize

    low = int(rng.integers(1, 40))
    return RandomResize(low, low + int(rng.integers(1, 20)), name,
                        seed=int(rng.integers(1 << 30)))


def _shortest_size(rng: np.random.Generator, name: str) -> Any:
    from augkit.transforms.resize import RandomShortestSize

    return RandomShortestSize([int(v) for v in rng.integers(1, 40, 3)], None, name,
                              seed=int(rng.integers(1 << 30)))


def _scale_jitter(rng: np.random.Generator, name: str) -> Any:
    from augkit.transforms.resize import ScaleJitter

    return ScaleJitter([int(v) for v in rng.integers(4, 40, 2)], (0.2, 2.0), name,
                       seed=int(rng.integers(1 << 30)))


CHECKERS: dict[str, tuple[str, Checker]] = {
    "Resize": ("Image.resize (every filter; L, RGB, RGBA)", _resize_case(_resize_to)),
    "RandomResize": ("Image.resize", _resize_case(_random_resize)),
    "RandomShortestSize": ("Image.resize", _resize_case(_shortest_size)),
    "ScaleJitter": ("Image.resize", _resize_case(_scale_jitter)),
    "RandomResizedCrop": ("Image.crop + Image.resize (antialias=True; every filter)",
                          _resized_crop_case),
    "RandomInvert": ("ImageOps.invert", _lut_case("invert", ImageOps.invert)),
    "RandomPosterize": ("ImageOps.posterize", _lut_case(
        "posterize", ImageOps.posterize, lambda rng: int(rng.integers(1, 9)))),
    "RandomSolarize": ("ImageOps.solarize", _lut_case(
        "solarize", ImageOps.solarize, lambda rng: int(rng.integers(0, 257)))),
    "RandomAutocontrast": ("ImageOps.autocontrast", _lut_case("autocontrast",
                                                              ImageOps.autocontrast)),
    "RandomEqualize": ("ImageOps.equalize", _lut_case("equalize", ImageOps.equalize)),
    "Grayscale": ('Image.convert("L")', _gray_case),
    "RandomGrayscale": ('Image.convert("L")', _gray_case),
    "GaussianBlur": ("ImageFilter.GaussianBlur (kernel_size=None)", _blur_case),
    "RandomAdjustSharpness": ("ImageEnhance.Sharpness", _sharpness_case),
    "ColorJitter": ("ImageEnhance + HSV hue (torchvision's PIL path)", _jitter_case),
    "RandomPhotometricDistort": ("ImageEnhance + HSV hue (torchvision's PIL path)",
                                 _photometric_case),
    "CenterCrop": ("Image.crop", _crop_case),
    "RandomCrop": ("Image.crop", _crop_case),
    "FiveCrop": ("Image.crop", _crops_case(ten=False)),
    "TenCrop": ("Image.crop + Image.transpose", _crops_case(ten=True)),
    "Pad": ("ImageOps.expand (constant)", _pad_case),
    "RandomZoomOut": ("Image.new + Image.paste", _zoom_out_case),
    "RGB": ('Image.convert("RGB") (from L)', _rgb_case),
    "PILToTensor": ("Image.tobytes (L, RGB, RGBA)", _pil_to_tensor_case),
    "RandomHorizontalFlip": ("Image.transpose", _lut_case(
        "hflip", lambda p: p.transpose(Image.Transpose.FLIP_LEFT_RIGHT))),
    "RandomVerticalFlip": ("Image.transpose", _lut_case(
        "vflip", lambda p: p.transpose(Image.Transpose.FLIP_TOP_BOTTOM))),
    "RandomRotation": ("Image.rotate (NEAREST, BILINEAR, BICUBIC; L, RGB, RGBA)",
                       _rotate_case),
    "RandomAffine": ("Image.transform (AFFINE, NEAREST; torchvision's matrix)", _affine_case),
    "JPEG": ("Image.save / Image.open (JPEG)", _jpeg_case),
    "RandomPerspective": ("Image.transform (PERSPECTIVE; NEAREST, BILINEAR, BICUBIC; L, RGB, "
                          "RGBA)", _perspective_case),
}
def _filter_case(ours: Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, Any]],
                 ) -> Checker:
    """``ours(image, rng)`` gives augkit's result and the Pillow filter to compare with."""
    def case(rng: np.random.Generator) -> Case:
        image = _image_any_mode(rng, 24)
        result, pillow_filter = ours(image, rng)
        return result, _pil(lambda p: p.filter(pillow_filter), image)
    return case


def _kernel(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
    size = int(rng.choice([3, 5]))
    weights = [float(v) for v in rng.uniform(-3, 3, size * size)]
    scale, offset = float(rng.uniform(0.3, 5)), float(rng.uniform(-60, 60))
    return (F.convolve(image, weights, scale, offset),
            ImageFilter.Kernel((size, size), weights, scale, offset))


def _box(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
    radius = (float(rng.uniform(0, 12)), float(rng.uniform(0, 12)))
    return F.box_blur(image, radius), ImageFilter.BoxBlur(radius)


def _rank(name: str) -> Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, Any]]:
    def case(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
        size = int(rng.choice([1, 3, 5, 7]))
        if name == "rank":
            rank = int(rng.integers(0, size * size))
            return F.rank_filter(image, size, rank), ImageFilter.RankFilter(size, rank)
        pillow = {"median": ImageFilter.MedianFilter, "min": ImageFilter.MinFilter,
                  "max": ImageFilter.MaxFilter}[name]
        return getattr(F, f"{name}_filter")(image, size), pillow(size)
    return case


def _unsharp(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, Any]:
    radius, percent = float(rng.uniform(0, 6)), int(rng.integers(0, 400))
    threshold = int(rng.integers(0, 12))
    return (F.unsharp_mask(image, radius, percent, threshold),
            ImageFilter.UnsharpMask(radius, percent, threshold))


def _named(name: str) -> Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, Any]]:
    return lambda image, rng: (F.image_filter(image, name), getattr(ImageFilter, name))


def _box_resize_case(rng: np.random.Generator) -> Case:
    image = _image_any_mode(rng, 40)
    height, width = image.shape[:2]
    left, right = sorted(float(v) for v in rng.uniform(0, width, 2))
    top, bottom = sorted(float(v) for v in rng.uniform(0, height, 2))
    right, bottom = max(right, left + 0.01), max(bottom, top + 0.01)
    right, bottom = min(right, width), min(bottom, height)
    size = [int(v) for v in rng.integers(1, 48, 2)]
    name = str(rng.choice(list(_PILLOW_FILTERS)))
    box = (left, top, right, bottom)
    return (F.resize(image, size, name, box=box),
            _pil(lambda p: p.resize((size[1], size[0]), _PILLOW_FILTERS[name], box=box), image))


def _fit_case(rng: np.random.Generator) -> Case:
    image = _image_any_mode(rng, 40)
    size = tuple(int(v) for v in rng.integers(1, 48, 2))
    name = str(rng.choice(list(_PILLOW_FILTERS)))
    bleed = float(rng.uniform(0, 0.4)) if rng.random() < 0.5 else 0.0
    centering = tuple(float(v) for v in rng.uniform(0, 1, 2))
    return (F.fit(image, size, name, bleed, centering),
            _pil(lambda p: ImageOps.fit(p, size[::-1], _PILLOW_FILTERS[name], bleed, centering),
                 image))


def _expand_case(rng: np.random.Generator) -> Case:
    image = _image_any_mode(rng, 30)
    channels = 1 if image.ndim == 2 else image.shape[2]
    angle = float(rng.choice([0, 90, 180, 270])) if rng.random() < 0.2 else \
        float(rng.uniform(-360, 360))
    name = str(rng.choice(["nearest", "bilinear", "bicubic"]))
    center = None if rng.random() < 0.6 else [float(v) for v in rng.uniform(0, 20, 2)]
    fill = int(rng.integers(0, 256))
    return F.rotate(image, angle, name, True, center, fill), _pil(lambda p: p.rotate(
        angle, _PILLOW_FILTERS[name], expand=True, center=center,
        fillcolor=fill if channels == 1 else (fill,) * channels), image)


#: Pillow operations with no torchvision transform: (augkit call, checker)
PILLOW_ONLY: dict[str, tuple[str, Checker]] = {
    **{f"ImageFilter.{name}": (f'image_filter(img, "{name.lower()}")',
                               _filter_case(_named(name)))
       for name in ("BLUR", "CONTOUR", "DETAIL", "EDGE_ENHANCE", "EDGE_ENHANCE_MORE", "EMBOSS",
                    "FIND_EDGES", "SHARPEN", "SMOOTH", "SMOOTH_MORE")},
    "ImageFilter.Kernel": ("convolve", _filter_case(_kernel)),
    "ImageFilter.BoxBlur": ("box_blur", _filter_case(_box)),
    "ImageFilter.MedianFilter": ("median_filter", _filter_case(_rank("median"))),
    "ImageFilter.MinFilter": ("min_filter", _filter_case(_rank("min"))),
    "ImageFilter.MaxFilter": ("max_filter", _filter_case(_rank("max"))),
    "ImageFilter.RankFilter": ("rank_filter", _filter_case(_rank("rank"))),
    "ImageFilter.UnsharpMask": ("unsharp_mask", _filter_case(_unsharp)),
    "Image.resize(box=...)": ("resize(img, size, interpolation, box=...)", _box_resize_case),
    "ImageOps.fit": ("fit", _fit_case),
    "Image.rotate(expand=True)": ("rotate(img, angle, interpolation, expand=True, center, "
                                  "fill)", _expand_case),
}


#: torchvision transforms of its tv_tensors' metadata, which augkit's plain targets do not need
NOT_NEEDED = {
    "ClampBoundingBoxes": "not needed: boxes are clipped to the image after every move",
    "ClampKeyPoints": "not needed: keypoints off the image are flagged or dropped "
                      "(TargetOptions.outside_keypoints)",
    "ConvertBoundingBoxFormat": "not needed: boxes are read and given back in "
                                "TargetOptions.box_format",
    "SanitizeKeyPoints": "not needed: TargetOptions.outside_keypoints drops keypoints that "
                         "leave the image",
    "SetClampingMode": "not needed: boxes have no clamping mode; they are always clipped",
}


def measure(name: str, cases: int, seed: int = 0) -> str:
    """``"exact: 0 of P pixels differ in C cases"`` or the share that differs."""
    _, check = CHECKERS[name] if name in CHECKERS else PILLOW_ONLY[name]
    rng = np.random.default_rng(seed)
    differing = total = 0
    for _ in range(cases):
        ours, pillow = check(rng)
        differing += int((np.asarray(ours) != pillow).sum())
        total += pillow.size
    if differing == 0:
        return f"exact (0 of {total:,} pixels differ, {cases} cases)"
    return f"not exact ({differing / total:.3%} of pixels differ, {cases} cases)"


def rows(cases: int) -> list[tuple[str, str, str, str]]:
    """(torchvision name, augkit name, Pillow op, exactness) for every v2 transform."""
    table = []
    for name in TORCHVISION_V2:
        ours = name if name in REGISTRY else "-"
        pillow = CHECKERS[name][0] if name in CHECKERS else ""
        if ours != "-" and name in CHECKERS:
            exact = measure(name, cases)
        elif name in NOT_NEEDED:
            exact = NOT_NEEDED[name]
        else:
            exact = "no Pillow op" if ours != "-" else "missing"
        table.append((name, ours, pillow or "none", exact))
    return table


def markdown(cases: int) -> str:
    table = rows(cases)
    lines = ["| torchvision v2 | augkit | Pillow | against Pillow |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in table]
    done = sum(1 for row in table if row[1] != "-")
    pillow_lines = ["| Pillow | augkit.functional | against Pillow |", "| --- | --- | --- |"]
    pillow_lines += [f"| {name} | `{call}` | {measure(name, cases)} |"
                     for name, (call, _) in PILLOW_ONLY.items()]
    return (f"{done} of {len(TORCHVISION_V2)} torchvision v2 transforms have an augkit "
            "counterpart of the same name. Speed beside Pillow, albumentations and kornia: "
            "[transforms-speed.md](transforms-speed.md), made by `benchmarks/transforms.py`."
            "\n\n" + "\n".join(lines) + "\n\n"
            "Pillow operations that torchvision has no transform for, as augkit kernels "
            "(L, RGB and RGBA images from 1x1):\n\n" + "\n".join(pillow_lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000, help="random cases per checked op")
    parser.add_argument("--out", help="write the table to this file (default: print it)")
    args = parser.parse_args(argv)
    text = markdown(args.cases)
    if args.out:
        write_text_atomically(Path(args.out), text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
