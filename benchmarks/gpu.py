"""The GPU checks, in one run on a machine with CUDA: every transform on CUDA against the CPU,
its speed on a batch, ``augkit augment --device cuda`` against the 2-core CPU rate, and GAN
training steps with and without AMP.

The sections, in the order they run (``--sections``):

1. parity: every image transform, seeded, draws its parameters once on a uint8 batch
   (8x3x37x41) on the CPU; the same draw is replayed on the batch moved to CUDA. The table
   gives the differing pixels and the largest difference (uint8), then the same for float32
   input (largest absolute difference).
2. steps: the augment section's ops and pipelines on 128 real 224x224 photos, the CPU's draw
   replayed on CUDA: differing bytes (and the first differing sample's parameters), and the
   time of a batch on each. (Small random batches missed a difference this found.)
3. augment: ``--photos`` 224x224 photos (the formats benchmark's crops of the bundled
   photos, 2,000 distinct and their mirrors), read from WebDataset shards and written as
   shards, one copy, through each of ``PIPELINES``: ``--workers 2`` on the CPU pinned to 2
   cores (``taskset``), the CPU with every core, and ``--device cuda`` with each of
   ``--device-workers`` (threads sharing the GPU); each run in a fresh process, and
   whether its outputs equal the 2-core run's sample by sample.
4. speed: a batch of 64 224x224 RGB uint8 images, each transform on CUDA (median of 5 after
   a warm-up, synchronised) beside the CPU with 2 threads (one call), and the ratio.
5. training: ``augkit train --model dcgan`` for ``--steps`` steps on CUDA with and without
   ``--amp``; images/s from ``metrics.csv`` and whether the losses are finite and moving.

    python benchmarks/gpu.py --out results    # about 5 minutes on one H200
    python benchmarks/gpu.py --quick          # smaller everything (also runs on a CPU)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import augkit.transforms as T
from augkit.augment import augment_dataset
from augkit.data import load_arrays, open_source
from augkit.transforms import presets
from formats import make_photos

# Every image transform that takes a batch, with arguments where it needs them.
FACTORIES: dict[str, Callable[[], T.Transform]] = {
    "RandomColor": lambda: T.RandomColor(),
    "RandomBrightness": lambda: T.RandomBrightness(),
    "RandomContrast": lambda: T.RandomContrast(),
    "RandomSharpness": lambda: T.RandomSharpness(),
    "RandomEnhance": lambda: T.RandomEnhance(random_order=True),
    "RandomAdjustSharpness": lambda: T.RandomAdjustSharpness(2.0, p=0.7),
    "ColorJitter": lambda: T.ColorJitter(0.4, 0.4, 0.4, 0.2),
    "RandomPhotometricDistort": lambda: T.RandomPhotometricDistort(p=0.6),
    "RandomChannelPermutation": lambda: T.RandomChannelPermutation(),
    "Grayscale": lambda: T.Grayscale(3),
    "RandomGrayscale": lambda: T.RandomGrayscale(p=0.5),
    "RandomInvert": lambda: T.RandomInvert(),
    "RandomPosterize": lambda: T.RandomPosterize(3),
    "RandomSolarize": lambda: T.RandomSolarize(100),
    "RandomAutocontrast": lambda: T.RandomAutocontrast(),
    "RandomEqualize": lambda: T.RandomEqualize(),
    "RandomHorizontalFlip": lambda: T.RandomHorizontalFlip(),
    "RandomVerticalFlip": lambda: T.RandomVerticalFlip(),
    "RandomAffine-nearest": lambda: T.RandomAffine(15, (0.1, 0.2), (0.8, 1.2), (-5, 5, -3, 3),
                                                   "nearest", fill=3),
    "RandomAffine-bilinear": lambda: T.RandomAffine(15, (0.1, 0.2), (0.8, 1.2),
                                                    (-5, 5, -3, 3), "bilinear", fill=3),
    "RandomAffine-bicubic": lambda: T.RandomAffine(15, (0.1, 0.2), (0.8, 1.2),
                                                   (-5, 5, -3, 3), "bicubic", fill=3),
    "RandomRotation": lambda: T.RandomRotation(30, "bilinear", fill=7),
    "RandomPerspective": lambda: T.RandomPerspective(0.6, interpolation="bicubic", fill=9),
    "ElasticTransform": lambda: T.ElasticTransform(alpha=20.0, sigma=1.5, fill=6),
    "Resize-bilinear": lambda: T.Resize((29, 33), "bilinear"),
    "Resize-bicubic": lambda: T.Resize((29, 33), "bicubic"),
    "Resize-lanczos": lambda: T.Resize((29, 33), "lanczos"),
    "RandomResizedCrop": lambda: T.RandomResizedCrop((24, 24)),
    "CenterCrop": lambda: T.CenterCrop(20),
    "RandomCrop": lambda: T.RandomCrop(20, padding=2, padding_mode="symmetric"),
    "Pad": lambda: T.Pad(3, fill=5),
    "RandomZoomOut": lambda: T.RandomZoomOut(fill=5, side_range=(1.0, 2.0), p=1.0),
    "RandomErasing": lambda: T.RandomErasing(p=0.7, value=200),
    "GaussianBlur": lambda: T.GaussianBlur(sigma=(0.2, 2.0)),
    "GaussianNoise": lambda: T.GaussianNoise((0.01, 0.2)),
    "JPEG": lambda: T.JPEG((50, 95)),
    "RandAugment": lambda: T.RandAugment(),
    "TrivialAugmentWide": lambda: T.TrivialAugmentWide(),
    "AutoAugment": lambda: T.AutoAugment("imagenet"),
    "AugMix": lambda: T.AugMix(severity=3, mixture_width=2),
}
# Float input takes fills in [0, 1].
FLOAT_FACTORIES: dict[str, Callable[[], T.Transform]] = {
    **FACTORIES,
    **{f"RandomAffine-{name}": (lambda name=name: T.RandomAffine(
        15, (0.1, 0.2), (0.8, 1.2), (-5, 5, -3, 3), name, fill=0.5))
       for name in ("nearest", "bilinear", "bicubic")},
    "RandomRotation": lambda: T.RandomRotation(30, "bilinear", fill=0.25),
    "RandomPerspective": lambda: T.RandomPerspective(0.6, interpolation="bicubic", fill=0.5),
    "ElasticTransform": lambda: T.ElasticTransform(alpha=20.0, sigma=1.5, fill=0.5),
    "Pad": lambda: T.Pad(3, fill=0.5),
    "RandomZoomOut": lambda: T.RandomZoomOut(fill=0.5, side_range=(1.0, 2.0), p=1.0),
    "RandomErasing": lambda: T.RandomErasing(p=0.7, value=0.75),
}
UINT8_ONLY = {"RandomPosterize", "RandomEqualize", "RandomSolarize", "RandAugment",
              "TrivialAugmentWide", "AutoAugment", "AugMix", "JPEG"}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def parity(device: str) -> list[dict]:
    """Each transform's CPU draw replayed on ``device``: differing pixels and largest gap."""
    rng = np.random.default_rng(0)
    batch = torch.from_numpy(rng.integers(0, 256, (8, 3, 37, 41), dtype=np.uint8))
    floats = torch.from_numpy(rng.random((8, 3, 37, 41), dtype=np.float32))
    rows = []
    print(f"\n== parity: CPU draw replayed on {device} (8x3x37x41) ==")
    print(f"{'transform':<26} {'uint8 differing':>16} {'max':>4} {'float max |d|':>14}")
    for name, make in FACTORIES.items():
        row = {"transform": name}
        try:
            t = make().reseed(1)
            cpu = t(batch)
            moved = make()(batch.to(device), params=t.last_params).cpu()
            diff = (cpu.to(torch.int16) - moved.to(torch.int16)).abs()
            row.update(differing=int((diff > 0).sum()), pixels=diff.numel(),
                       max=int(diff.max()))
            if name not in UINT8_ONLY:
                make = FLOAT_FACTORIES[name]
                t = make().reseed(2)
                cpu = t(floats)
                moved = make()(floats.to(device), params=t.last_params).cpu()
                row["float_max"] = float((cpu - moved).abs().max())
        except Exception as error:  # a failing op is a finding, not the end of the run
            row["error"] = f"{type(error).__name__}: {error}"
        rows.append(row)
        if "error" in row:
            print(f"{name:<26} ERROR {row['error'][:90]}")
        else:
            gap = f"{row['float_max']:.2e}" if "float_max" in row else "-"
            print(f"{name:<26} {row['differing']:>7} of {row['pixels']:<6} {row['max']:>4} "
                  f"{gap:>14}")
    return rows


def _median_seconds(fn: Callable[[], object], device: str, repeats: int) -> float:
    fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed(device: str, batch_size: int, repeats: int) -> list[dict]:
    """Milliseconds per batch of 224x224 RGB uint8 on ``device`` and on 2 CPU threads."""
    rng = np.random.default_rng(1)
    batch = torch.from_numpy(rng.integers(0, 256, (batch_size, 3, 224, 224), dtype=np.uint8))
    on_device = batch.to(device)
    torch.set_num_threads(2)
    rows = []
    print(f"\n== speed: batch of {batch_size} 224x224 RGB uint8, ms per batch ==")
    print(f"{'transform':<26} {device:>10} {'cpu 2 thr':>10} {'x cpu':>7}")
    for name, make in FACTORIES.items():
        if name.startswith("Resize") or name in ("CenterCrop", "RandomResizedCrop"):
            factory = {"Resize-bilinear": lambda: T.Resize((160, 192), "bilinear"),
                       "Resize-bicubic": lambda: T.Resize((160, 192), "bicubic"),
                       "Resize-lanczos": lambda: T.Resize((160, 192), "lanczos"),
                       "CenterCrop": lambda: T.CenterCrop(160),
                       "RandomResizedCrop": lambda: T.RandomResizedCrop(160)}[name]
        else:
            factory = make
        try:
            t = factory().reseed(0)
            t(batch[:2])  # first calls (compilation) before any timing
            params = t.draw(batch_size)
            gpu = _median_seconds(lambda t=t, p=params: t(on_device, params=p), device, repeats)
            start = time.perf_counter()
            t(batch, params=params)
            cpu = time.perf_counter() - start
        except Exception as error:
            print(f"{name:<26} ERROR {type(error).__name__}: {str(error)[:80]}")
            rows.append({"transform": name, "error": str(error)})
            continue
        rows.append({"transform": name, "device_ms": gpu * 1e3, "cpu_ms": cpu * 1e3,
                     "x_cpu": cpu / gpu})
        print(f"{name:<26} {gpu * 1e3:>10.2f} {cpu * 1e3:>10.1f} {cpu / gpu:>6.1f}x")
    return rows


# The ops of the augment section's pipelines, one by one
STEPS: dict[str, Callable[[], T.Transform]] = {
    "RandomResizedCrop(224)": lambda: T.RandomResizedCrop(224),
    "ColorJitter(hue=0.1)": lambda: T.ColorJitter(hue=0.1),
    "ColorJitter(0.4, 0.4, 0.4)": lambda: T.ColorJitter(0.4, 0.4, 0.4),
    "ColorJitter(0.4, 0.4, 0.4, 0.1)": lambda: T.ColorJitter(0.4, 0.4, 0.4, 0.1),
    "RandomEnhance": lambda: T.RandomEnhance(),
    "RandAugment": lambda: T.RandAugment(num_ops=2, magnitude=9),
}


def steps(device: str, count: int, repeats: int) -> list[dict]:
    """Each op of the augment pipelines and each pipeline on ``count`` 224x224 photos: the
    CPU's draw replayed on ``device`` (differing bytes; the first differing sample's
    parameters) and the time per batch on both."""
    from augkit.transforms.calls import select

    images, _ = make_photos(count)
    batch = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    on_device = batch.to(device)
    torch.set_num_threads(2)
    rows = []
    print(f"\n== steps: {count} photos 224x224, CPU draw replayed on {device} ==")
    print(f"{'step':<32} {'differing':>10} {'samples':>8} {device + ' ms':>9} {'cpu ms':>8}")
    for name, make in {**STEPS, **{f"pipeline {k}": v for k, v in PIPELINES.items()}}.items():
        row = {"step": name}
        try:
            t = make().reseed(3)
            start = time.perf_counter()
            cpu = t(batch)
            row["cpu_ms"] = (time.perf_counter() - start) * 1e3
            params = t.last_params
            moved = make()(on_device, params=params).cpu()
            differs = (cpu != moved).flatten(1).any(1)
            row.update(differing=int((cpu != moved).sum()), samples=int(differs.sum()))
            if row["samples"]:
                first = int(differs.nonzero()[0])
                row["first"] = first
                row["first_params"] = str(select(params, torch.tensor([first])))[:600]
            row["device_ms"] = _median_seconds(
                lambda t=t, p=params: t(on_device, params=p), device, repeats) * 1e3
        except Exception as error:
            row["error"] = f"{type(error).__name__}: {error}"
        rows.append(row)
        if "error" in row:
            print(f"{name:<32} ERROR {row['error'][:100]}")
        else:
            print(f"{name:<32} {row['differing']:>10} {row['samples']:>8} "
                  f"{row['device_ms']:>9.2f} {row['cpu_ms']:>8.1f}", flush=True)
            if row["samples"]:
                print(f"   first: {row['first']} {row['first_params'][:300]}")
    return rows


# The pipelines of the augment section: the study log's (cheap on a CPU) and a photo
# training pipeline (torchvision's ImageNet recipe with hue) and the consistency preset
PIPELINES: dict[str, Callable[[], T.Transform]] = {
    "digits": presets.digits,
    "imagenet": lambda: T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(),
                                   T.ColorJitter(0.4, 0.4, 0.4, 0.1)]),
    "strong-photo": presets.strong_photo,
}


def one_run(src: str, dst: str, pipeline: str, device: str, workers: int) -> None:
    """One timed ``augment_dataset`` in this (fresh) process; prints seconds and the split."""
    start = time.perf_counter()
    summary = augment_dataset(src, dst, PIPELINES[pipeline](), copies=1, seed=0,
                              workers=workers, device=device, format="wds", progress=False)
    print(json.dumps({"seconds": time.perf_counter() - start, "split": summary.seconds,
                      "written": summary.written}))


def _run_in_process(args: list[str], pin: list[str]) -> dict:
    done = subprocess.run([*pin, sys.executable, __file__, "--one", *args],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-400:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def augment(device: str, count: int, scratch: Path, device_workers: list[int],
            pipelines: list[str]) -> list[dict]:
    """``augment_dataset`` on ``count`` 224x224 photos read from WebDataset shards, written
    as shards, one copy: each pipeline on 2 CPU workers pinned to 2 cores (``taskset``), on
    all cores, and on ``device`` with each of ``device_workers`` (threads); each
    run in a fresh process; outputs compared sample by sample with the 2-core run's."""
    distinct = min(count, 2000)  # cut from the photos one by one; the rest are their mirrors
    images, labels = make_photos(distinct)
    repeats = -(-count // distinct)
    images = np.concatenate([images if r % 2 == 0 else images[:, :, ::-1]
                             for r in range(repeats)])[:count]
    labels = np.tile(labels, repeats)[:count]
    np.savez(scratch / "photos.npz", images=images, labels=labels)  # stored: quick to read
    src = scratch / "photos"
    augment_dataset(scratch / "photos.npz", src, T.Compose([T.RandomHorizontalFlip(p=0.0)]),
                    format="wds", workers=os.cpu_count() or 1, progress=False)
    np.savez(scratch / "few.npz", images=images[:256], labels=labels[:256])
    del images, labels
    for name in pipelines:  # compiles (and caches on disk) the CPU kernels before any timing
        augment_dataset(scratch / "few.npz", scratch / f"warm-{name}", PIPELINES[name](),
                        format="wds", progress=False)
    pin = ["taskset", "-c", "0,1"] if shutil.which("taskset") else []
    cores = os.cpu_count() or 1
    rows = []
    print(f"\n== augment: {count:,} photos 224x224 from shards to shards, one copy; "
          f"each run a fresh process, timed from the call to its return ==")
    print(f"{'pipeline':<13} {'run':<30} {'seconds':>8} {'images/s':>9} {'x 2 cores':>9} "
          f"identical  split (s)")
    for name in pipelines:
        plan = [("cpu", 2, pin), ("cpu", cores, [])] + [
            (device, workers, []) for workers in device_workers]
        expected, base = None, None  # the 2-core run's outputs and seconds
        for where, workers, pinned in plan:
            dst = scratch / f"out-{name}-{where.replace(':', '')}-{workers}"
            result = _run_in_process([str(src), str(dst), name, where, str(workers)], pinned)
            kind = "processes" if where == "cpu" else "threads"
            label = (f"{where}, {workers} {'worker' if workers == 1 else kind}"
                     + (", 2 cores" if pinned else ""))
            row = {"pipeline": name, "run": label, "images": count, **result}
            if "error" in result:
                print(f"{name:<13} {label:<30} ERROR {result['error'][-200:]}")
                rows.append(row)
                continue
            got = load_arrays(open_source(dst))
            if expected is None:  # the first run that worked is what the others must equal
                expected = got
                base = result["seconds"] if pinned else None
            row["identical"] = bool(np.array_equal(expected[0], got[0])
                                    and np.array_equal(expected[1], got[1]))
            row["x_2_cores"] = base / result["seconds"] if base else None
            ratio = f"{row['x_2_cores']:>8.1f}x" if base else f"{'-':>9}"
            split = {k: round(v, 2) for k, v in result["split"].items()}
            print(f"{name:<13} {label:<30} {result['seconds']:>8.2f} "
                  f"{count / result['seconds']:>9,.0f} {ratio} "
                  f"{row['identical']!s:<10} {split}", flush=True)
            rows.append(row)
            shutil.rmtree(dst, ignore_errors=True)
    return rows


def training(device: str, steps: int, scratch: Path) -> list[dict]:
    """``augkit train --model dcgan`` for ``steps`` steps with and without AMP."""
    rows = []
    print(f"\n== training: dcgan, {steps} steps of its default batch (128) on {device} ==")
    for amp in (False, True):
        out = scratch / f"dcgan-amp{int(amp)}"
        command = [sys.executable, "-m", "augkit", "train", "--model", "dcgan", "--max-steps",
                   str(steps), "--log-every", str(max(1, steps // 6)), "--device", device,
                   "--out", str(out), "--quiet",
                   *(["--amp"] if amp else [])]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"amp={amp}: failed: {done.stderr.strip()[-300:]}")
            rows.append({"amp": amp, "error": done.stderr.strip()[-300:]})
            continue
        with open(out / "metrics.csv") as f:
            metrics = list(csv.DictReader(f))
        losses = [(float(m["d_loss"]), float(m["g_loss"])) for m in metrics]
        finite = all(np.isfinite(v) for pair in losses for v in pair)
        moving = len({round(d, 4) for d, _ in losses}) > 1
        row = {"amp": amp, "steps": int(metrics[-1]["step"]),
               "images_per_s": float(metrics[-1]["images_per_s"]),
               "seconds": float(metrics[-1]["seconds"]), "finite": finite, "moving": moving,
               "last_losses": losses[-1]}
        rows.append(row)
        print(f"amp={amp!s:<5} steps {row['steps']}  {row['images_per_s']:,.0f} images/s  "
              f"{row['seconds']:.1f} s  losses finite={finite} moving={moving} "
              f"last D/G {losses[-1][0]:.3f}/{losses[-1][1]:.3f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="small sizes: a look in a minute")
    parser.add_argument("--sections", default="parity,steps,augment,speed,training")
    parser.add_argument("--device-workers", default="1,8",
                        help="worker counts (threads) of the augment section's device runs")
    parser.add_argument("--pipelines", default=",".join(PIPELINES))
    parser.add_argument("--photos", type=int, default=6000)
    parser.add_argument("--out", type=Path, help="folder for gpu.json")
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        src, dst, pipeline, device, workers = args.one
        one_run(src, dst, pipeline, device, int(workers))
        return
    sections = args.sections.split(",")
    if args.device.startswith("cuda"):
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    results: dict[str, object] = {"device": args.device, "torch": torch.__version__}

    def save() -> None:
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "gpu.json").write_text(json.dumps(results, indent=1))

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if "parity" in sections:
            results["parity"] = parity(args.device)
            save()
        if "steps" in sections:
            results["steps"] = steps(args.device, 16 if args.quick else 128,
                                     2 if args.quick else 3)
            save()
        if "augment" in sections:
            results["augment"] = augment(args.device, 96 if args.quick else args.photos,
                                         scratch, [int(w) for w in args.device_workers.split(",")],
                                         args.pipelines.split(","))
            save()
        if "speed" in sections:
            results["speed"] = speed(args.device, 8 if args.quick else 64, 2 if args.quick else 5)
            save()
        if "training" in sections:
            results["training"] = training(args.device, 20 if args.quick else 300, scratch)
            save()
    os.sync()


if __name__ == "__main__":
    main()
