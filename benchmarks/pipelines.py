"""Random transforms as a training loader runs them, augkit beside albumentations and kornia.

Each transform (random parameters per sample, as in a training loop) runs on 64 distinct
224x224 RGB photos (resized crops of the bundled photos), one thread: augkit on the uint8
batch at once, albumentations (OpenCV) on each image in a loop, kornia on the float32 batch.
Peers run round-robin so that machine noise hits them alike, each timed call right after an
untimed one of the same transform; each time is the median of the rounds. The table gives
images per second for augkit and each peer's time over augkit's (above 1: augkit is faster);
"-" where a library has no such transform. The draws differ between libraries (each has its
own random numbers), so no pixels are compared here: the exactness of augkit's ops is
checked by the catalogue (``python -m augkit.transforms.catalogue``) and the tests.

    python benchmarks/pipelines.py [--rounds 5] [--only "AugMix;RandAugment"]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import augkit.transforms as T
from augkit.data import load_photos
from transforms import median_times  # benchmarks/transforms.py, beside this file

BATCH, SIZE = 64, 224


def _photos() -> np.ndarray:
    """``BATCH`` distinct (H, W, 3) uint8 crops of the bundled photos, 224x224."""
    rng = np.random.default_rng(0)
    photos = [np.asarray(p.convert("RGB")) for p in load_photos()]
    out = []
    for i in range(BATCH):
        photo = photos[i % len(photos)]
        side = int(rng.integers(SIZE, min(photo.shape[:2]) + 1))
        top = int(rng.integers(0, photo.shape[0] - side + 1))
        left = int(rng.integers(0, photo.shape[1] - side + 1))
        crop = torch.from_numpy(np.array(photo[top:top + side, left:left + side]))
        out.append(T.Resize([SIZE, SIZE])(crop.permute(2, 0, 1)).permute(1, 2, 0).numpy())
    return np.stack(out)


def augkit_cases() -> dict[str, Any]:
    return {
        "RandomResizedCrop(224)": T.RandomResizedCrop(SIZE),
        "RandomHorizontalFlip": T.RandomHorizontalFlip(),
        "ColorJitter(.4, .4, .4, .1)": T.ColorJitter(0.4, 0.4, 0.4, 0.1),
        "RandomAffine(15, bilinear)": T.RandomAffine(15, (0.1, 0.1), (0.9, 1.1),
                                                     interpolation="bilinear"),
        "RandomRotation(15, bilinear)": T.RandomRotation(15, interpolation="bilinear"),
        "GaussianBlur(23, (0.1, 2))": T.GaussianBlur(23, (0.1, 2.0)),
        "ElasticTransform(50, 5)": T.ElasticTransform(50.0, 5.0),
        "RandomErasing": T.RandomErasing(p=1.0),
        "RandAugment": T.RandAugment(),
        "TrivialAugmentWide": T.TrivialAugmentWide(),
        "AutoAugment(imagenet)": T.AutoAugment("imagenet"),
        "AugMix": T.AugMix(),
        "ImageNet training (RRC, flip, jitter)": T.Compose([
            T.RandomResizedCrop(SIZE), T.RandomHorizontalFlip(),
            T.ColorJitter(0.4, 0.4, 0.4, 0.1)]),
    }


def albumentations_cases() -> dict[str, Callable[[np.ndarray], Any]]:
    try:
        import albumentations as A
        import cv2
    except ImportError:
        return {}
    cv2.setNumThreads(1)
    cases = {
        "RandomResizedCrop(224)": A.RandomResizedCrop(size=(SIZE, SIZE)),
        "RandomHorizontalFlip": A.HorizontalFlip(),
        "ColorJitter(.4, .4, .4, .1)": A.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0),
        "RandomAffine(15, bilinear)": A.Affine(scale=(0.9, 1.1),
                                               translate_percent=(-0.1, 0.1), rotate=(-15, 15),
                                               interpolation=cv2.INTER_LINEAR, p=1.0),
        "RandomRotation(15, bilinear)": A.Rotate(limit=15, interpolation=cv2.INTER_LINEAR,
                                                 p=1.0),
        "GaussianBlur(23, (0.1, 2))": A.GaussianBlur(blur_limit=(23, 23),
                                                     sigma_limit=(0.1, 2.0), p=1.0),
        "ElasticTransform(50, 5)": A.ElasticTransform(alpha=50.0, sigma=5.0, p=1.0),
        "RandomErasing": A.Erasing(p=1.0),
        "ImageNet training (RRC, flip, jitter)": A.Compose([
            A.RandomResizedCrop(size=(SIZE, SIZE)), A.HorizontalFlip(),
            A.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0)]),
    }
    return {name: _on_image(t) for name, t in cases.items()}


def _on_image(transform: Any) -> Callable[[np.ndarray], Any]:
    return lambda image: transform(image=image)["image"]


def kornia_cases() -> dict[str, Callable[[torch.Tensor], Any]]:
    try:
        import kornia.augmentation as K
        from kornia.augmentation import auto
    except ImportError:
        return {}
    return {
        "RandomResizedCrop(224)": K.RandomResizedCrop((SIZE, SIZE)),
        "RandomHorizontalFlip": K.RandomHorizontalFlip(),
        "ColorJitter(.4, .4, .4, .1)": K.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0),
        "RandomAffine(15, bilinear)": K.RandomAffine(15, (0.1, 0.1), (0.9, 1.1), p=1.0),
        "RandomRotation(15, bilinear)": K.RandomRotation(15.0, p=1.0),
        "GaussianBlur(23, (0.1, 2))": K.RandomGaussianBlur((23, 23), (0.1, 2.0), p=1.0),
        "ElasticTransform(50, 5)": K.RandomElasticTransform(sigma=(5.0, 5.0),
                                                            alpha=(50.0, 50.0), p=1.0),
        "RandomErasing": K.RandomErasing(p=1.0),
        "RandAugment": auto.RandAugment(n=2, m=9),
        "TrivialAugmentWide": auto.TrivialAugment(),
        "AutoAugment(imagenet)": auto.AutoAugment("imagenet"),
        "ImageNet training (RRC, flip, jitter)": K.AugmentationSequential(
            K.RandomResizedCrop((SIZE, SIZE)), K.RandomHorizontalFlip(),
            K.ColorJitter(0.4, 0.4, 0.4, 0.1, p=1.0)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="transform names separated by semicolons (default: all)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    photos = _photos()
    batch = torch.from_numpy(np.ascontiguousarray(photos.transpose(0, 3, 1, 2)))
    floats = batch.float() / 255
    arrays = list(photos)
    ours, albu, korn = augkit_cases(), albumentations_cases(), kornia_cases()
    chosen = args.only.split(";") if args.only else list(ours)
    print(f"{BATCH} photos {SIZE}x{SIZE} RGB, one thread, median of {args.rounds} rounds; "
          "ratio = peer time / augkit time (above 1: augkit faster)")
    print(f"{'transform':40s} {'augkit img/s':>12s} {'albumentations':>15s} {'kornia':>8s}")
    for name in chosen:
        runs: dict[str, Callable[[], Any]] = {"augkit": lambda t=ours[name]: t(batch)}
        if name in albu:
            runs["albumentations"] = lambda fn=albu[name]: [fn(a) for a in arrays]
        if name in korn:
            runs["kornia"] = lambda fn=korn[name]: fn(floats)
        times = median_times(runs, args.rounds)
        base = times["augkit"]
        cells = [f"{times[peer] / base:.2f}" if peer in times else "-"
                 for peer in ("albumentations", "kornia")]
        print(f"{name:40s} {BATCH / base:12,.0f} {cells[0]:>15s} {cells[1]:>8s}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
