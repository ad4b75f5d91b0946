"""Throughput of ``augkit augment`` against the straightforward Pillow loop, in one run.

Workload: one augmented copy of every image with the study log's four photometric ops
(per-image factors from the log's ranges) followed by a small affine jitter, written as PNG
into class folders. Two datasets: the 60,000 MNIST training digits (read from the bundled
IDX files) and a folder of 224x224 JPEG photos (made from the bundled photos). augkit runs
with 1 and 2 worker processes; the Pillow loop opens (or takes) each image, enhances it,
warps it and saves it, one by one, as a user of the study log would. For augkit the time
spent reading/decoding, augmenting and encoding/writing is reported too.

    python benchmarks/augment.py              # full run (a few minutes on 2 cores)
    python benchmarks/augment.py --limit 5000 # a quicker look
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageEnhance

import augkit
from augkit.augment import augment_dataset
from augkit.data import load_mnist, load_photos, open_source, write_npz
from augkit.transforms.presets import digits

LOG_STEPS = {"color": (0, 99), "brightness": (4, 19), "contrast": (10, 20), "sharpness": (0, 99)}
ENHANCERS = {"color": ImageEnhance.Color, "brightness": ImageEnhance.Brightness,
             "contrast": ImageEnhance.Contrast, "sharpness": ImageEnhance.Sharpness}
DEGREES, TRANSLATE, SCALE = 8.0, 0.06, (0.92, 1.08)


def pillow_affine(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The same jitter as augkit's default pipeline, with Pillow's affine transform."""
    width, height = img.size
    angle = math.radians(rng.uniform(-DEGREES, DEGREES))
    tx, ty = rng.uniform(-TRANSLATE, TRANSLATE) * width, rng.uniform(-TRANSLATE, TRANSLATE) * height
    scale = rng.uniform(*SCALE)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
    # inverse map: output pixel -> input pixel, about the centre (pixel centres at +0.5)
    a, b = cos, -sin
    d, e = sin, cos
    ox, oy = cx + tx, cy + ty
    c = cx - a * ox - b * oy
    f = cy - d * ox - e * oy
    return img.transform(img.size, Image.Transform.AFFINE, (a, b, c + 0.5 * (a + b - 1),
                                                            d, e, f + 0.5 * (d + e - 1)),
                         resample=Image.Resampling.NEAREST)


def pillow_loop(items: list[tuple[Callable[[], Image.Image], str]], dst: Path) -> int:
    """Open, enhance (the log's four ops), warp and save each image, one by one."""
    rng = np.random.default_rng(0)
    for load, name in items:
        img = load()
        for op, (low, high) in LOG_STEPS.items():
            img = ENHANCERS[op](img).enhance(int(rng.integers(low, high + 1)) / 10)
        img = pillow_affine(img, rng)
        path = dst / name
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path, format="PNG", compress_level=6)
    return len(items)


def make_photo_folder(root: Path, count: int) -> Path:
    """``count`` 224x224 JPEG photos in three class folders: random crops of the bundled photos."""
    rng = np.random.default_rng(0)
    for i in range(count):
        photo = load_photos()[i % 3]
        big = photo.resize((336, 336), Image.Resampling.BILINEAR)
        x, y = (int(v) for v in rng.integers(0, 112, 2))
        crop = big.crop((x, y, x + 224, y + 224))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        folder = root / ["astronaut", "coffee", "chelsea"][i % 3]
        folder.mkdir(parents=True, exist_ok=True)
        crop.save(folder / f"photo{i:05d}.jpg", quality=90)
    return root


def mnist_items(images: np.ndarray, labels: np.ndarray) -> list:
    return [((lambda a=image: Image.fromarray(a, mode="L")), f"{label}/{i:06d}_aug0.png")
            for i, (image, label) in enumerate(zip(images, labels, strict=True))]


def folder_items(root: Path) -> list:
    source = open_source(root)

    def opener(path: Path) -> Callable[[], Image.Image]:
        def load() -> Image.Image:
            with Image.open(path) as img:
                return img.convert("RGB")
        return load

    return [(opener(root / name), name.rsplit(".", 1)[0] + "_aug0.png") for name in source.names]


def measure(name: str, src: str | Path, items: list, scratch: Path, rounds: int) -> dict:
    n = len(items)
    results: dict[str, list[float]] = {"Pillow loop": [], "augkit 1 worker": [],
                                       "augkit 2 workers": []}
    shares: dict[str, dict[str, float]] = {}
    for r in range(rounds):
        # alternate the order, and start every runner on a flushed file system: deleting or
        # writing tens of thousands of files leaves work behind that would slow the next one
        order = list(results) if r % 2 == 0 else list(reversed(results))
        for label in order:
            dst = scratch / f"{label.replace(' ', '-')}-{r}"
            os.sync()
            time.sleep(1.0)
            start = time.perf_counter()
            if label == "Pillow loop":
                pillow_loop(items, dst)
            else:
                workers = 1 if "1 worker" in label else 2
                summary = augment_dataset(src, dst, digits(), copies=1, seed=r,
                                          workers=workers, progress=False)
                assert summary.written == n, (summary.written, n)
                total = sum(summary.seconds.values())
                shares[label] = {k: v / total for k, v in summary.seconds.items()}
            results[label].append(time.perf_counter() - start)
    base = statistics.median(results["Pillow loop"])
    for r in range(rounds):
        for label in results:
            shutil.rmtree(scratch / f"{label.replace(' ', '-')}-{r}", ignore_errors=True)
    print(f"\n== {name}: {n} images, one copy, PNG out | {rounds} round(s) ==")
    print(f"{'runner':<20} {'images/s':>10} {'x Pillow loop':>14}  time shares "
          "(read / augment / write)")
    rows = []
    for label, times in results.items():
        t = statistics.median(times)
        share = shares.get(label)
        text = (" / ".join(f"{share[k]:.0%}" for k in ("read", "augment", "write"))
                if share else "")
        print(f"{label:<20} {n / t:>10.0f} {base / t:>14.2f}  {text}")
        rows.append({"runner": label, "images_per_s": n / t, "speedup": base / t,
                     "seconds": times, "shares": share})
    return {"dataset": name, "images": n, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=60000, help="MNIST digits to use")
    parser.add_argument("--photos", type=int, default=600, help="224x224 photos to make")
    parser.add_argument("--rounds", type=int, default=1, help="repetitions of each runner")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    print(f"augkit {augkit.__version__}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} torch threads")
    with tempfile.TemporaryDirectory(prefix="augkit-bench-") as tmp:
        scratch = Path(tmp)
        images, labels = load_mnist("train")
        images, labels = images[: args.limit], labels[: args.limit]
        if args.limit < 60000:
            src: str | Path = scratch / "mnist-subset.npz"
            write_npz(src, images, labels)
        else:
            src = "mnist"
        report = [measure("MNIST training digits", src, mnist_items(images, labels), scratch,
                          args.rounds)]
        photos = make_photo_folder(scratch / "photos", args.photos)
        report.append(measure("224x224 JPEG photos", photos, folder_items(photos), scratch,
                              args.rounds))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
