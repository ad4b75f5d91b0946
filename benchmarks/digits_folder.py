"""A second digits dataset for the pool study: scikit-learn's 8x8 handwritten digits.

The 1,797 images (UCI's optical digits, 17 grey levels) are scaled to 0-255, upscaled to
28x28 with Pillow's bilinear filter and split at random (seed 0) into 1,297 training and
500 test images, written as class folders of PNGs, the form any image-folder dataset has:

    python benchmarks/digits_folder.py --out digits
    augkit study --data digits/train --test digits/test --labels-per-class 10 --seeds 3 \\
        --arms none,classical,consistency --unlabeled rest --out digits-study

Needs scikit-learn (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image


def write_digits(out: Path, test_size: int = 500, seed: int = 0) -> tuple[int, int]:
    """Write ``out/train/<digit>/*.png`` and ``out/test/<digit>/*.png``; returns the counts."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.rint(digits.images * (255 / 16)).astype(np.uint8)
    order = np.random.default_rng(seed).permutation(len(images))
    parts = {"test": order[:test_size], "train": order[test_size:]}
    for split, index in parts.items():
        for i in index:
            folder = out / split / str(digits.target[i])
            folder.mkdir(parents=True, exist_ok=True)
            big = Image.fromarray(images[i]).resize((28, 28), Image.Resampling.BILINEAR)
            big.save(folder / f"{i:04d}.png")
    return len(parts["train"]), len(parts["test"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="a new folder")
    args = parser.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        raise SystemExit(f"--out {args.out}: not empty; give a new folder")
    train, test = write_digits(args.out)
    print(f"wrote {train} training and {test} test digits (28x28 PNG) under {args.out}")


if __name__ == "__main__":
    main()
