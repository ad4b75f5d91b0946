"""How fast ``augkit augment`` writes each output format, and how fast shards read back.

Two datasets, one copy of every image through an identity-like pipeline
(``Compose([RandomHorizontalFlip(p=0.0)])``: the engine's cost without an op's), written
side by side in one run as png, jpeg, webp (files in class folders), npz (one archive),
wds (WebDataset tar shards) and parquet (Parquet parts):

- the 60,000 MNIST training digits, read from the bundled IDX files;
- 2,000 photos of 224x224 (resized random crops of the bundled photos), read from an npz.

Each writer starts on a flushed file system, in alternating order over the rounds, after
one untimed warm-up of every format on 64 images (imports, first calls); the time is end to
end (``augment_dataset`` from call to return: reading, augmenting, encoding, writing).
Then the read time of ``load_dataset`` (what ``augkit train --data`` calls) on the digits'
shards and Parquet parts, beside the MNIST IDX files of the same digits (the bundled,
checksummed ones at full size), each in a fresh process as a training run would.

    python benchmarks/formats.py            # full size (a few minutes on 2 cores)
    python benchmarks/formats.py --quick    # 6,000 digits and 200 photos
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import augkit
from augkit.augment import augment_dataset
from augkit.data import load_arrays, load_mnist, load_photos, open_source, write_idx_pair, write_npz
from augkit.transforms import Compose, RandomHorizontalFlip

FORMATS = ("png", "jpeg", "webp", "npz", "wds", "parquet")
READ_SCRIPT = ("import sys, time; from augkit.data import load_dataset; "
               "start = time.perf_counter(); data = load_dataset(sys.argv[1]); "
               "print(time.perf_counter() - start, len(data))")


def make_photos(count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` 224x224 RGB photos: random crops (half to all of the shorter side) of the
    bundled photos, resized, some mirrored; labelled by the photo they come from."""
    rng = np.random.default_rng(0)
    photos = load_photos()
    images = np.empty((count, 224, 224, 3), np.uint8)
    for i in range(count):
        photo = photos[i % len(photos)].convert("RGB")
        side = int(min(photo.size) * rng.uniform(0.5, 1.0))
        x = int(rng.integers(0, photo.size[0] - side + 1))
        y = int(rng.integers(0, photo.size[1] - side + 1))
        crop = photo.crop((x, y, x + side, y + side)).resize((224, 224),
                                                             Image.Resampling.BILINEAR)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        images[i] = np.asarray(crop)
    return images, np.arange(count, dtype=np.int64) % len(photos)


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def warm_up(src: str | Path, scratch: Path, workers: int) -> None:
    """Each format once on 64 images, untimed: imports (pyarrow), first torch calls and the
    source's pages are then paid for before any writer is timed."""
    images, labels = load_arrays(open_source(src))
    write_npz(scratch / "warm.npz", images[:64], labels[:64])
    for fmt in FORMATS:
        augment_dataset(scratch / "warm.npz", scratch / f"warm-{fmt}",
                        Compose([RandomHorizontalFlip(p=0.0)]), workers=workers, format=fmt,
                        progress=False)
        shutil.rmtree(scratch / f"warm-{fmt}")


def write_formats(src: str | Path, count: int, scratch: Path, rounds: int, workers: int
                  ) -> dict[str, dict]:
    """Each format's median seconds over ``rounds`` and its output's size; the last round's
    outputs are kept for reading."""
    pipeline = Compose([RandomHorizontalFlip(p=0.0)])
    warm_up(src, scratch, workers)
    times: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
    sizes: dict[str, float] = {}
    for r in range(rounds):
        order = FORMATS if r % 2 == 0 else tuple(reversed(FORMATS))
        for fmt in order:
            dst = scratch / f"{fmt}-{r}"
            os.sync()  # writing or deleting many files leaves work behind for the next one
            time.sleep(1.0)
            start = time.perf_counter()
            summary = augment_dataset(src, dst, pipeline, copies=1, seed=r, workers=workers,
                                      format=fmt, progress=False)
            times[fmt].append(time.perf_counter() - start)
            assert summary.written == count, (fmt, summary.written, count)
            sizes[fmt] = _size_mb(dst)
            if r < rounds - 1:
                shutil.rmtree(dst)
    return {fmt: {"seconds": statistics.median(t), "all_seconds": t, "megabytes": sizes[fmt]}
            for fmt, t in times.items()}


def print_writes(name: str, count: int, rows: dict[str, dict]) -> None:
    base = rows["png"]["seconds"]
    print(f"\n== {name}: {count:,} images, one copy each ==")
    print(f"{'format':<9} {'seconds':>8} {'images/s':>10} {'x PNG folder':>13} {'MB':>9}")
    for fmt, row in rows.items():
        row["images_per_s"] = count / row["seconds"]
        row["x_png"] = base / row["seconds"]
        print(f"{fmt:<9} {row['seconds']:>8.2f} {row['images_per_s']:>10,.0f} "
              f"{row['x_png']:>12.2f}x {row['megabytes']:>9.1f}")


def read_seconds(spec: str, repeats: int) -> float:
    """The median time of ``load_dataset(spec)`` in a fresh process (imports not counted)."""
    times = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", READ_SCRIPT, spec], check=True,
                              capture_output=True, text=True)
        times.append(float(done.stdout.split()[0]))
    return statistics.median(times)


def compare_reads(scratch: Path, idx: str, rounds: int, repeats: int) -> dict[str, float]:
    """``load_dataset`` on the digits' shards and Parquet parts beside the IDX files of the
    same digits (the bundled ones at full size)."""
    last = rounds - 1
    specs = {"MNIST IDX": idx, "wds shards": str(scratch / f"wds-{last}"),
             "parquet parts": str(scratch / f"parquet-{last}")}
    seconds: dict[str, float] = {name: 0.0 for name in specs}
    for name, spec in specs.items():
        seconds[name] = read_seconds(spec, repeats)
    base = seconds["MNIST IDX"]
    print("\n== load_dataset on the digits, in a fresh process (median of "
          f"{repeats}) ==")
    print(f"{'input':<22} {'seconds':>8} {'/ IDX':>7}")
    for name, value in seconds.items():
        print(f"{name:<22} {value:>8.3f} {value / base:>7.2f}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="6,000 digits and 200 photos")
    parser.add_argument("--rounds", type=int, default=1, help="repetitions of each writer")
    parser.add_argument("--workers", type=int, default=1, help="augment's worker processes")
    parser.add_argument("--read-repeats", type=int, default=3,
                        help="fresh processes per read timing")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    digits, photos = (6000, 200) if args.quick else (60000, 2000)
    print(f"augkit {augkit.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"{args.workers} worker(s), {args.rounds} round(s)")
    report: dict = {"workers": args.workers, "rounds": args.rounds}
    with tempfile.TemporaryDirectory(prefix="augkit-formats-") as tmp:
        scratch = Path(tmp)
        src: str | Path = "mnist"
        idx = "mnist"
        if digits < 60000:  # the first digits, as npz to augment and as IDX to read
            images, labels = load_mnist("train")
            src = scratch / "digits.npz"
            write_npz(src, images[:digits], labels[:digits])
            write_idx_pair(scratch / "idx", "train", images[:digits], labels[:digits])
            idx = str(scratch / "idx")
        (scratch / "digits").mkdir()
        rows = write_formats(src, digits, scratch / "digits", args.rounds, args.workers)
        print_writes("MNIST digits", digits, rows)
        report["digits"] = {"images": digits, "formats": rows}
        report["reads"] = compare_reads(scratch / "digits", idx, args.rounds,
                                        args.read_repeats)
        shutil.rmtree(scratch / "digits")
        photo_file = scratch / "photos.npz"
        write_npz(photo_file, *make_photos(photos))
        (scratch / "photos").mkdir()
        rows = write_formats(photo_file, photos, scratch / "photos", args.rounds, args.workers)
        print_writes("224x224 photos", photos, rows)
        report["photos"] = {"images": photos, "formats": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
