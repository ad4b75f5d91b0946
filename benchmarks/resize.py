"""``augkit.functional.resize`` and ``rotate`` beside Pillow and the peers, one thread.

A 224x224 RGB photo (a resized crop of a bundled photo) resized down (to 112), up (to 320)
and from 448 down to 224, with every filter Pillow has, single image and a batch of 64,
side by side in one run: Pillow (``Image.resize``, one image at a time; for the batch
column a loop over 64 copies, so that both sides read 64 images from memory), albumentations
(OpenCV's ``cv2.resize``), kornia and torchvision (tensor path, antialiased where it can),
each when installed (without torchvision, the torch kernel its tensor path calls on uint8).
Every augkit result is compared with Pillow's pixel for pixel. The table gives each peer's
time over augkit's (above 1: augkit is faster) and how far the peer's pixels are from
Pillow's: "off by" more than a level or two means another filter (OpenCV does not widen its
filter when shrinking, and its cubic and Lanczos differ from Pillow's), not another rounding.
A second table turns the 224x224 photo by 30 degrees with each filter Pillow's ``rotate``
has, beside Pillow, OpenCV's ``warpAffine`` and kornia's ``rotate``.

    python benchmarks/resize.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from PIL import Image

from augkit.data import load_photos
from augkit.functional import resize, rotate
from augkit.functional.resize import FILTERS

PILLOW = {"nearest": Image.Resampling.NEAREST, "box": Image.Resampling.BOX,
          "bilinear": Image.Resampling.BILINEAR, "hamming": Image.Resampling.HAMMING,
          "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
CASES = ((224, 112), (224, 320), (448, 224))


def peers(name: str, size: int) -> dict[str, Callable[[np.ndarray, torch.Tensor], object]]:
    """The peers that offer filter ``name``: callables on (HxWx3 array, 1x3xHxW tensor)."""
    found: dict[str, Callable[[np.ndarray, torch.Tensor], object]] = {}
    try:
        import cv2

        codes = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR,
                 "bicubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4,
                 "box": cv2.INTER_AREA}
        if name in codes:
            found["opencv"] = lambda a, t: cv2.resize(a, (size, size),
                                                      interpolation=codes[name])
    except ImportError:
        pass
    try:
        import kornia

        if name in ("nearest", "bilinear", "bicubic"):
            found["kornia"] = lambda a, t: kornia.geometry.transform.resize(
                t.float(), (size, size), interpolation=name, antialias=name != "nearest")
    except ImportError:
        pass
    try:
        from torchvision.transforms.v2 import InterpolationMode
        from torchvision.transforms.v2 import functional as TF

        modes = {"nearest": InterpolationMode.NEAREST, "bilinear": InterpolationMode.BILINEAR,
                 "bicubic": InterpolationMode.BICUBIC}
        if name in modes:
            found["torchvision"] = lambda a, t: TF.resize(t, [size, size], modes[name],
                                                          antialias=True)
    except ImportError:
        # torchvision's tensor path resizes uint8 with this torch kernel (Pillow-SIMD's
        # integer algorithm, AVX2), so it stands in when torchvision does not import
        if name in ("bilinear", "bicubic"):
            found["torch-uint8"] = lambda a, t: torch.nn.functional.interpolate(
                t, size=(size, size), mode=name, antialias=True)
    return found


def seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    try:
        import cv2

        cv2.setNumThreads(1)  # one thread for every library, as the bar says
    except ImportError:
        pass
    photo = load_photos()[0].convert("RGB")
    print(f"{'case':14} {'filter':9} {'exact':>6} {'pillow':>8} {'batch 64 vs pillow':>19}  "
          "peers (their time / augkit's)")
    for in_size, out_size in CASES:
        source = photo.resize((in_size, in_size), Image.Resampling.BILINEAR)
        for name in FILTERS:
            print(row(source, out_size, name, args.repeat))
    square = photo.resize((224, 224), Image.Resampling.BILINEAR)
    print(f"\n{'rotate 30':14} {'filter':9} {'exact':>6} {'pillow':>8} {'batch 64 vs pillow':>19}"
          "  peers (their time / augkit's)")
    for name in ("nearest", "bilinear", "bicubic"):
        print(rotate_row(square, 30.0, name, args.repeat))


def rotate_peers(name: str, angle: float, size: int
                 ) -> dict[str, Callable[[np.ndarray, torch.Tensor], object]]:
    """The peers that turn an image with filter ``name``: OpenCV's warpAffine about the
    centre, kornia's rotate (float32)."""
    found: dict[str, Callable[[np.ndarray, torch.Tensor], object]] = {}
    try:
        import cv2

        codes = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR,
                 "bicubic": cv2.INTER_CUBIC}
        # Pillow's centre (size / 2 in its pixel-edge coordinates) in OpenCV's pixel-centre
        # ones
        matrix = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle, 1.0)
        found["opencv"] = lambda a, t: cv2.warpAffine(a, matrix, (size, size),
                                                      flags=codes[name])
    except ImportError:
        pass
    try:
        import kornia

        found["kornia"] = lambda a, t: kornia.geometry.transform.rotate(
            t.float(), torch.tensor([angle]), mode=name)
    except ImportError:
        pass
    return found


def rotate_row(source: Image.Image, angle: float, name: str, repeat: int) -> str:
    """One line of the rotation table, as ``row`` gives for resizing."""
    return measured(f"{source.width}x{source.height}", name, source,
                    lambda image: rotate(image, angle, name),
                    lambda picture: picture.rotate(angle, PILLOW[name]),
                    rotate_peers(name, angle, source.width), repeat)


def row(source: Image.Image, out_size: int, name: str, repeat: int) -> str:
    """One line of the resize table."""
    size = [out_size, out_size]
    return measured(f"{source.width}->{out_size}", name, source,
                    lambda image: resize(image, size, name),
                    lambda picture: picture.resize((out_size, out_size), PILLOW[name]),
                    peers(name, out_size), repeat)


def measured(case: str, name: str, source: Image.Image, ours: Callable[[Any], Any],
             pillow: Callable[[Image.Image], Image.Image],
             others: dict[str, Callable[[np.ndarray, torch.Tensor], object]],
             repeat: int) -> str:
    """Exactness (array and tensor against Pillow), then Pillow's and the peers' times over
    augkit's: one image, and a batch of 64 against Pillow's loop over 64 copies (64 images
    in memory on both sides)."""
    array = np.asarray(source).copy()
    tensor = torch.from_numpy(array).permute(2, 0, 1).contiguous()[None]
    batch = tensor.repeat(64, 1, 1, 1)
    expected = np.asarray(pillow(source))
    exact = np.array_equal(ours(array), expected) and np.array_equal(
        ours(tensor)[0].permute(1, 2, 0).numpy(), expected)
    single = seconds(lambda: ours(array), repeat)
    pillow_single = seconds(lambda: pillow(source), repeat)
    pictures = [source.copy() for _ in range(64)]
    batch_ratio = seconds(lambda: [pillow(p) for p in pictures], max(3, repeat // 10)) / \
        seconds(lambda: ours(batch), max(3, repeat // 10))
    ratios = [f"{peer} {seconds(partial(fn, array, tensor), repeat) / single:.2f}x"
              f"{agreement(fn(array, tensor), expected)}" for peer, fn in others.items()]
    return (f"{case:14} {name:9} {'yes' if exact else 'NO':>6} {pillow_single / single:>7.2f}x "
            f"{batch_ratio:>18.2f}x  " + ", ".join(ratios))


def agreement(result: Any, expected: np.ndarray) -> str:
    """How far a peer's image is from Pillow's: empty when equal, else the largest
    difference in levels (a different filter or rounding)."""
    if isinstance(result, torch.Tensor):
        result = result[0].permute(1, 2, 0).float().round().clamp(0, 255).numpy()
    ours = np.asarray(result, dtype=np.int16).reshape(expected.shape)
    worst = int(np.abs(ours - expected.astype(np.int16)).max())
    return f" (off by {worst})" if worst else " (exact)"


if __name__ == "__main__":
    main()
