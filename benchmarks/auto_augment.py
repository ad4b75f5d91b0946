"""RandAugment and TrivialAugmentWide against torchvision's, operation by operation.

For every operation of each policy's space and every magnitude bin (and both signs), the
same bundled photo (resized to 64x64, RGB and L) goes through augkit's ``apply_op`` and
through torchvision's own operation on a PIL image (its PIL path uses Pillow's ImageEnhance
and ImageOps, so the photometric ops should agree exactly), and the table gives the share
of pixels that differ and the largest difference per operation. Then both policies time a
batch of 64 224x224 images: augkit on the batch, torchvision one image at a time as its
pipelines run, one thread.

Run where torchvision imports (``pip install torch torchvision``; it does not import beside
the pinned CPU torch)::

    python benchmarks/auto_augment.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from PIL import Image

from augkit.data import load_photos
from augkit.transforms.auto import RAND_AUGMENT, TRIVIAL_AUGMENT_WIDE, RandAugment, apply_op


def agreement(policy_name: str, space: dict, tv_policy) -> None:
    photo = load_photos()[0].resize((64, 64))
    print(f"\n{policy_name}: share of pixels differing from torchvision's operation "
          "(all bins, both signs; RGB and L)")
    for name, (make, signed) in space.items():
        differing = total = worst = 0
        for mode in ("RGB", "L"):
            image = photo.convert(mode)
            values = [0.0] if make is None else list(make(31, 64, 64))
            for value in values:
                for sign in ((1, -1) if signed else (1,)):
                    magnitude = float(value) * sign
                    ours = np.asarray(apply_op(image, name, np.array([magnitude]), "nearest",
                                               0))
                    theirs = np.asarray(tv_policy._apply_image_or_video_transform(
                        image, name, magnitude, interpolation=tv_policy.interpolation,
                        fill=tv_policy._fill))
                    diff = np.abs(ours.astype(int) - theirs.astype(int))
                    differing += int((diff > 0).sum())
                    worst = max(worst, int(diff.max()))
                    total += diff.size
        print(f"  {name:<13} {differing / total:8.4%} of pixels, max |diff| {worst}")


def speed() -> None:
    from torchvision.transforms import v2

    torch.set_num_threads(1)
    batch = torch.randint(0, 256, (64, 3, 224, 224), dtype=torch.uint8)
    ours, theirs = RandAugment(seed=0), v2.RandAugment()
    images = [Image.fromarray(x.permute(1, 2, 0).numpy()) for x in batch]
    runs = {"augkit RandAugment (batch)": lambda: ours(batch),
            "torchvision RandAugment (tensors, one at a time)": lambda: [theirs(x) for x in batch],
            "torchvision RandAugment (PIL, one at a time)": lambda: [theirs(x) for x in images]}
    times = {name: [] for name in runs}
    for _ in range(5):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["augkit RandAugment (batch)"])
    print("\nRandAugment on 64 images 224x224, one thread, median of 5:")
    for name, values in times.items():
        t = statistics.median(values)
        print(f"  {name:<50} {t * 1000:8.1f} ms  {t / base:5.2f}x augkit's time")


def main() -> None:
    try:
        from torchvision.transforms import v2
    except Exception as error:  # reported, not fatal
        print(f"torchvision: not run ({type(error).__name__}: {str(error)[:80]})")
        return
    agreement("RandAugment", RAND_AUGMENT, v2.RandAugment())
    agreement("TrivialAugmentWide", TRIVIAL_AUGMENT_WIDE, v2.TrivialAugmentWide())
    speed()


if __name__ == "__main__":
    main()
