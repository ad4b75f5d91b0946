"""GAN training on MNIST: throughput of each model, and the quality reached in a time budget.

Throughput: images/s and CPU-seconds per epoch of ``reference``, ``dcgan`` and ``cdcgan``
over a few hundred steps each, measured one after the other in this run. Quality: train one
model for ``--minutes`` of wall time, generate labeled samples from its EMA generator (for
``cdcgan`` 60,000, as many as MNIST's training set, so that the CAS floor is the CAS of the
60,000 real images) and evaluate them (FID, precision/recall, label accuracy, CAS) beside the
real-data floor of as many real images. Every command it runs is printed, so a result can
be reproduced from the shell.

    python benchmarks/gan.py --throughput                 # a few minutes
    python benchmarks/gan.py --quality cdcgan --minutes 15
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from augkit.data import load_mnist
from augkit.gan.config import TrainConfig


def run(command: list[str]) -> float:
    """Run a command, echoing it; returns its wall-clock seconds."""
    print("$", shlex.join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def cpu_seconds_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def throughput(steps: int, scratch: Path) -> list[dict]:
    rows = []
    train_size = len(load_mnist("train")[1])
    for model, extra in (("reference", []), ("dcgan", []), ("cdcgan", []),
                         ("cdcgan", ["--width", "32", "--batch-size", "64"])):
        out = scratch / f"{model}-{len(rows)}"
        batch = (int(extra[extra.index("--batch-size") + 1]) if "--batch-size" in extra
                 else TrainConfig(model=model).batch_size)
        cpu_before = cpu_seconds_of_children()
        seconds = run([sys.executable, "-m", "augkit", "train", "--model", model,
                       "--max-steps", str(steps), "--out", str(out), "--quiet", *extra])
        cpu = cpu_seconds_of_children() - cpu_before
        images = steps * batch
        rows.append({"model": model, "options": " ".join(extra), "images_per_s": images / seconds,
                     "cpu_seconds_per_epoch": cpu * train_size / images,
                     "wall_seconds_per_epoch": seconds * train_size / images})
    print(f"\n{'model':<10} {'options':<28} {'images/s':>9} {'CPU-s/epoch':>12} "
          f"{'wall-s/epoch':>13}")
    for r in rows:
        print(f"{r['model']:<10} {r['options']:<28} {r['images_per_s']:>9.0f} "
              f"{r['cpu_seconds_per_epoch']:>12.0f} {r['wall_seconds_per_epoch']:>13.0f}")
    print("(wall time includes start-up, data loading and the checkpoint)")
    return rows


def quality(model: str, minutes: float, extra: list[str], scratch: Path,
            min_confidence: float = 0.0, per_class: int = 6000) -> dict:
    out = scratch / f"quality-{model}"
    run([sys.executable, "-m", "augkit", "train", "--model", model, "--epochs", "1000",
         "--max-minutes", str(minutes), "--out", str(out), "--quiet", *extra])
    samples = scratch / f"{model}-samples.npz"
    generate = [sys.executable, "-m", "augkit", "generate", str(out), "--out", str(samples)]
    if model == "cdcgan":
        generate += ["--per-class", str(per_class)]
        if min_confidence:
            generate += ["--min-confidence", str(min_confidence)]
    else:
        generate += ["--n", "12000", "--label-with", "mnist", "--min-confidence", "0.9"]
    run(generate)
    figures = scratch / "figures.json"
    run([sys.executable, "-m", "augkit", "evaluate", str(samples), "--cas", "--quiet",
         "--json", str(figures)])
    result = json.loads(figures.read_text())
    state = json.loads((out / "checkpoint.json").read_text())
    result["steps"] = state["step"]
    result["grids"] = str(out / "samples")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--throughput", action="store_true", help="measure every model's speed")
    parser.add_argument("--steps", type=int, default=200, help="steps per throughput run")
    parser.add_argument("--quality", help="train this model for --minutes, then evaluate it")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--min-confidence", type=float, default=0.0,
                        help="cdcgan: generate with rejection sampling on the run's class head")
    parser.add_argument("--per-class", type=int, default=6000,
                        help="cdcgan: samples per class to evaluate (6,000: MNIST's size)")
    parser.add_argument("--keep", help="keep runs and samples in this folder")
    parser.add_argument("--json", help="write the figures to this file")
    args, extra = parser.parse_known_args()
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="augkit-gan-") as tmp:
        scratch = Path(args.keep) if args.keep else Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        if args.throughput:
            report["throughput"] = throughput(args.steps, scratch)
        if args.quality:
            report["quality"] = quality(args.quality, args.minutes, extra, scratch,
                                        args.min_confidence, args.per_class)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
