"""``augkit augment --engine ray`` beside ``--engine local``: speed-up with workers, same bytes.

The 60,000 MNIST training digits, one copy each through the ``digits`` preset (the study
log's four photometric ops and a small affine jitter), written as WebDataset shards by the
local engine and by Ray Data with 1 and 2 workers, side by side in one run, in alternating
order over the rounds. Ray is started once, before the timed runs, with as many CPUs as the
most workers (its start-up is printed apart, a cluster pays it once); each time is end to end
(``augment_dataset`` from call to return). The shards of every run are compared sample by
sample with the local 1-worker run's.

    pip install 'augkit[ray]'
    python benchmarks/engines.py            # 60,000 digits, 5 rounds (about 2 minutes, 2 cores)
    python benchmarks/engines.py --quick    # 6,000 digits, 1 round
    python benchmarks/engines.py --copies 4 # more work per run
    python benchmarks/engines.py --photos 2000  # 224x224 photos from a PNG folder instead
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import ray
from PIL import Image

import augkit
from augkit.augment import augment_dataset
from augkit.data import load_mnist, open_source, write_idx_pair
from augkit.transforms.presets import digits, for_channels
from formats import make_photos  # benchmarks/formats.py

RUNS = (("local", 1), ("local", 2), ("ray", 1), ("ray", 2))


def same_samples(one: Path, other: Path) -> bool:
    """Every sample of two shard folders: the same key order, image, label and manifest."""
    a, b = open_source(one), open_source(other)
    if len(a) != len(b) or a.names != b.names or not np.array_equal(a.labels, b.labels):
        return False
    return all(np.array_equal(a.read(i), b.read(i)) and a.record(i) == b.record(i)
               for i in range(len(a)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--copies", type=int, default=1, help="augmented copies per image")
    parser.add_argument("--photos", type=int, help="this many 224x224 photos, read from a "
                        "folder of PNG files, instead of the digits")
    args = parser.parse_args()
    count = args.photos or (6000 if args.quick else 60000)
    rounds = args.rounds or (1 if args.quick else 5)
    scratch = Path(tempfile.mkdtemp(prefix="augkit-engines-"))
    if args.photos:
        src, pipeline, what = scratch / "photos", for_channels(3), "photos (PNG folder)"
        for index, (image, label) in enumerate(zip(*make_photos(count), strict=True)):
            folder = src / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / f"{index:05d}.png")
    else:
        images, labels = load_mnist("train")
        write_idx_pair(scratch, "digits", images[:count], labels[:count])
        src, pipeline, what = scratch / "digits-images-idx3-ubyte.gz", digits(), "digits"
    print(f"augkit {augkit.__version__}, ray {ray.__version__}, {os.cpu_count()} CPUs; "
          f"{count:,} {what} x {args.copies} copies to WebDataset shards, {rounds} round(s)")
    clock = time.perf_counter()
    ray.init(num_cpus=max(w for _, w in RUNS), include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    print(f"ray start-up: {time.perf_counter() - clock:.1f} s (not in the times below)")
    augment_dataset(src, scratch / "warm", pipeline, engine="ray", workers=2,
                    format="wds", progress=False)  # workers import torch, augkit: untimed
    times: dict[tuple[str, int], list[float]] = {run: [] for run in RUNS}
    for round_ in range(rounds):
        for engine, workers in RUNS if round_ % 2 == 0 else RUNS[::-1]:
            dst = scratch / f"{engine}{workers}"
            shutil.rmtree(dst, ignore_errors=True)
            clock = time.perf_counter()
            augment_dataset(src, dst, pipeline, copies=args.copies, engine=engine,
                            workers=workers, format="wds", progress=False)
            times[(engine, workers)].append(time.perf_counter() - clock)
    ray.shutdown()
    base = statistics.median(times[("local", 1)])
    print(f"\n{'engine':8} {'workers':>7} {'images/s':>9} {'vs local 1':>10} {'vs own 1':>9}"
          f" {'same samples':>13}")
    for engine, workers in RUNS:
        median = statistics.median(times[(engine, workers)])
        own = statistics.median(times[(engine, 1)])
        same = same_samples(scratch / f"{engine}{workers}", scratch / "local1")
        rate = count * args.copies / median
        print(f"{engine:8} {workers:>7} {rate:>9,.0f} {base / median:>9.2f}x "
              f"{own / median:>8.2f}x {'yes' if same else 'NO':>13}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
