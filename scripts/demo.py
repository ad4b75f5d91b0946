"""The main job on the bundled data: augment MNIST digits and photos, write before/after grids.

Run by ``make demo``; later stages (GAN training, generation, evaluation, report) join here.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from augkit.augment import augment_dataset
from augkit.data import load_mnist, load_photos, write_npz
from augkit.transforms import Compose, RandomEnhance, save
from augkit.visualize import before_after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="demo_out", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    pipeline = Compose([RandomEnhance()], seed=args.seed)
    save(pipeline, out / "pipeline.yaml")

    images, labels = load_mnist("test")
    first_of_each = [images[labels.tolist().index(digit)] for digit in range(10)]
    before_after(first_of_each, pipeline, copies=8, scale=3).save(out / "mnist_augmented.png")

    before_after(load_photos(), pipeline, copies=4).save(out / "photos_augmented.png")

    # the dataset engine behind `augkit augment`, on the first 2,000 test digits
    write_npz(out / "digits.npz", images[:2000], labels[:2000], overwrite=True)
    summary = augment_dataset(out / "digits.npz", out / "augmented_digits", copies=2,
                              seed=args.seed, overwrite=True, progress=False)

    print(f"demo finished in {time.perf_counter() - start:.1f} s")
    for name in ("pipeline.yaml", "mnist_augmented.png", "photos_augmented.png"):
        print(f"  {out / name}")
    print(f"  {out / 'augmented_digits'}/ ({summary.total_outputs} PNGs in class folders, "
          "manifest.jsonl)")


if __name__ == "__main__":
    main()
