"""The evaluation bars, measured: timings of `augkit evaluate` and the figures it gives for
real data and for sample sets built to fail (noise, one repeated image, ten repeated
digits), and how FID follows added noise. The floors of 10,000 and 60,000 MNIST digits ship
with augkit, so a first run reads them rather than computing them.

    python benchmarks/evaluate.py             # about 10 minutes on 2 cores
    python benchmarks/evaluate.py --device cuda
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from augkit.eval import evaluate, format_table, load_reference
from augkit.files import write_text_atomically


def timed_on(label: str, samples, reference, **kwargs) -> dict:
    start = time.perf_counter()
    result = evaluate(samples, reference, progress=False, **kwargs)
    seconds = time.perf_counter() - start
    print(f"\n== {label} ({seconds:.1f} s) ==")
    print(format_table(result))
    return {"label": label, "seconds": seconds, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--device", default="cpu", help="where features and CAS run")
    args = parser.parse_args()
    timed = functools.partial(timed_on, device=args.device)
    report = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["AUGKIT_CACHE"] = cache  # measure the first run too, with no cache
        mnist = load_reference("mnist")
        images, labels = mnist.train_images, mnist.train_labels
        # a random 10,000 that the floor (seed 1, first 10,000) does not use
        others = torch.randperm(len(images), generator=torch.Generator().manual_seed(1))
        real = (images[others[10000:20000]], labels[others[10000:20000]])
        report.append(timed("10,000 real training digits, first run (floor shipped)", real,
                            mnist))
        report.append(timed("10,000 real training digits, again", real, mnist))
        report.append(timed("100 real training digits (a warning, floor computed)",
                            (real[0][:100], real[1][:100]), mnist))
        generator = torch.Generator().manual_seed(0)
        noise = torch.randint(0, 256, (10000, 1, 28, 28), generator=generator,
                              dtype=torch.uint8)
        report.append(timed("10,000 images of uniform noise", (noise, None), mnist))
        report.append(timed("one real digit repeated 10,000 times",
                            (images[:1].repeat(10000, 1, 1, 1), labels[:1].repeat(10000)),
                            mnist))
        firsts = torch.tensor([int((labels == d).nonzero()[0]) for d in range(10)])
        index = firsts.repeat_interleave(1000)
        report.append(timed("ten real digits, one per class, each repeated 1,000 times, CAS",
                            (images[index], labels[index]), mnist, cas=True))
        noise = torch.randn(real[0].shape, generator=generator)
        for sigma in (0.0, 0.05, 0.1, 0.2):
            noisy = (real[0].float() + 255 * sigma * noise).round().clamp(0, 255)
            report.append(timed(f"real digits + Gaussian noise sigma {sigma}",
                                (noisy.to(torch.uint8), real[1]), mnist, floor=False))
        report.append(timed("60,000 real training digits, with CAS", (images, labels), mnist,
                            cas=True))
    if args.json:
        write_text_atomically(Path(args.json), json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
