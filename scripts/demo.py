"""The main job on the bundled data, end to end, through the same commands a user runs:

1. augment MNIST digits and photos with the study log's pipeline (before/after grids, and
   ``augkit augment`` on 2,000 digits);
2. train the conditional GAN briefly (``augkit train``);
3. generate a labeled synthetic set (``augkit generate``) and evaluate it beside real data
   (``augkit evaluate``);
4. run a small augmentation study (``augkit study``);
5. write one self-contained HTML report (``augkit report``).

Run by ``make demo`` in under 10 minutes on 2 CPU cores; ``--full`` (``make demo FULL=1``)
uses the full-length settings (15 minutes of GAN training, the study at 10 and 100 labels per
class with 3 seeds), which take about an hour on such a machine. Rerunning keeps a trained GAN
and continues a stopped study.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from augkit.augment import augment_dataset
from augkit.cli import main as augkit
from augkit.data import load_mnist, load_photos, write_npz
from augkit.transforms import Compose, RandomEnhance, save
from augkit.visualize import before_after

QUICK = {"gan_minutes": "3", "study": ["--labels-per-class", "10", "--seeds", "1",
                                       "--gan-steps", "500"]}
FULL = {"gan_minutes": "15", "study": ["--labels-per-class", "10,100", "--seeds", "3"]}


def run(step: str, argv: list[str]) -> None:
    print(f"\n== {step}: augkit {' '.join(argv)}", flush=True)
    code = augkit(argv)
    if code != 0:
        sys.exit(f"demo: '{step}' failed (exit {code})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="demo_out", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="the full-length settings")
    args = parser.parse_args()
    settings = FULL if args.full else QUICK
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    # 1. classical augmentation
    print("== augment: the log's four photometric ops on digits and photos", flush=True)
    pipeline = Compose([RandomEnhance()], seed=args.seed)
    save(pipeline, out / "pipeline.yaml")
    pictures = out / "pictures"
    pictures.mkdir(exist_ok=True)
    images, labels = load_mnist("test")
    first_of_each = [images[labels.tolist().index(digit)] for digit in range(10)]
    before_after(first_of_each, pipeline, copies=8, scale=3).save(
        pictures / "mnist_augmented.png")
    before_after(load_photos(), pipeline, copies=4).save(pictures / "photos_augmented.png")
    write_npz(out / "digits.npz", images[:2000], labels[:2000], overwrite=True)
    summary = augment_dataset(out / "digits.npz", out / "augmented_digits", copies=2,
                              seed=args.seed, overwrite=True, progress=False)
    print(f"{summary.total_outputs} augmented digits in {out / 'augmented_digits'}")

    # 2. the conditional GAN
    gan = out / "gan"
    if (gan / "checkpoint.json").exists():
        print(f"\n== train: {gan} is already trained; kept (delete it to train again)")
    else:
        run("train", ["train", "--model", "cdcgan", "--width", "32", "--batch-size", "64",
                      "--epochs", "100", "--max-minutes", settings["gan_minutes"],
                      "--seed", str(args.seed), "--out", str(gan)])

    # 3. a labeled synthetic set and its quality beside real data
    synthetic = out / "synthetic.npz"
    run("generate", ["generate", str(gan), "--per-class", "1000", "--seed", str(args.seed),
                     "--out", str(synthetic), "--overwrite"])
    run("evaluate", ["evaluate", str(synthetic), "--cas", "--quiet",
                     "--json", str(gan / "evaluation.json")])

    # 4. how much each kind of augmentation helps a classifier with few labels
    run("study", ["study", *settings["study"], "--out", str(out / "study")])

    # 5. everything on one page
    run("report", ["report", str(pictures), str(gan), str(out / "study"),
                   "--out", str(out / "report.html"), "--title", "augkit demo"])

    print(f"\ndemo finished in {time.perf_counter() - start:.0f} s; open "
          f"{(out / 'report.html').resolve()}")


if __name__ == "__main__":
    main()
