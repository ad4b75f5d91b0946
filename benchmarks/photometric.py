"""Benchmark of the four-op photometric chain (color, brightness, contrast, sharpness).

Each image gets its own factors, drawn once from the study log's ranges with a seeded RNG and
shared by every peer: color k/10 (k in 0..99), brightness k/10 (4..19), contrast k/10 (10..20),
sharpness k/10 (0..99). Three sections:

- 224x224 RGB uint8, one call per image (3 bundled photos + 61 random images);
- the same 64 images as one batch (a loop over the images for peers without batches);
- 256 MNIST test digits, 28x28 gray, as one batch.

augkit runs beside Pillow's ``ImageEnhance`` loop, albumentations (Compose pipeline and direct
functional calls), torchvision.transforms.v2 and kornia, whichever are installed. Peers run
round-robin in one loop, so machine noise hits them alike; the median time per peer is reported,
with its ratio to augkit, its agreement with Pillow's output for the same factors and a
memory-bandwidth floor. Everything runs on one thread, then on all threads.

Run from the repository root (the peers come with ``pip install -e '.[bench]'``)::

    python benchmarks/photometric.py [--repeats N] [--quick] [--threads one|all|both]
                                     [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import PIL
import torch
from PIL import Image, ImageEnhance

import augkit
from augkit.data import load_mnist, load_photos
from augkit.functional import brightness, color, contrast, enhance, sharpness
from augkit.transforms import RandomEnhance

SEED = 0
OPS = ("color", "brightness", "contrast", "sharpness")
N_RGB = 64
N_GRAY = 256
RGB_SIZE = 224
FACTOR_STEPS = {  # factor = k / 10 for k in [low, high]
    "color": (0, 99),
    "brightness": (4, 19),
    "contrast": (10, 20),
    "sharpness": (0, 99),
}
SMOOTH = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]], np.float32) / 13
DEFAULT_REPEATS = 30
DEFAULT_BUDGET_S = 30.0
MIN_ROUNDS = 3
MIN_TIMING_S = 0.02
QUICK_REPEATS = 3
QUICK_BUDGET_S = 2.0

Runner = Callable[[], Any]


# ---- data ------------------------------------------------------------------------------------


@dataclass
class ImageSet:
    """Images in every form the peers take, prepared before timing, with their factors."""

    name: str
    pil: list[Image.Image]
    arrays: list[np.ndarray]  # HxWxC (RGB) or HxW (gray), uint8
    batch: torch.Tensor  # (N, C, H, W) uint8, contiguous
    factors: np.ndarray  # (N, 4): color, brightness, contrast, sharpness
    reference: np.ndarray = field(init=False)  # Pillow's output, (N, H, W, C) uint8

    def __post_init__(self) -> None:
        self.reference = to_nhwc(pillow_chain(self.pil, self.rows), self.shape)

    @property
    def rows(self) -> list[list[float]]:
        return self.factors.tolist()

    @property
    def shape(self) -> tuple[int, int, int, int]:
        n, c, h, w = self.batch.shape
        return n, h, w, c


def draw_factors(n: int, rng: np.random.Generator) -> np.ndarray:
    columns = [rng.integers(low, high + 1, n) / 10 for low, high in FACTOR_STEPS.values()]
    return np.stack(columns, axis=1)


def rgb_set(rng: np.random.Generator) -> ImageSet:
    photos = [np.asarray(p, dtype=np.uint8) for p in load_photos()]
    noise = rng.integers(0, 256, (N_RGB - len(photos), RGB_SIZE, RGB_SIZE, 3), dtype=np.uint8)
    arrays = [np.ascontiguousarray(a) for a in [*photos, *noise]]
    batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return ImageSet(
        name=f"{RGB_SIZE}x{RGB_SIZE} RGB ({len(photos)} photos + {len(noise)} random)",
        pil=[Image.fromarray(a, mode="RGB") for a in arrays],
        arrays=arrays,
        batch=batch,
        factors=draw_factors(N_RGB, rng),
    )


def gray_set(rng: np.random.Generator) -> ImageSet:
    digits, _ = load_mnist("test")
    arrays = [np.ascontiguousarray(d, dtype=np.uint8) for d in digits[:N_GRAY]]
    return ImageSet(
        name=f"28x28 gray (first {N_GRAY} MNIST test digits)",
        pil=[Image.fromarray(a, mode="L") for a in arrays],
        arrays=arrays,
        batch=torch.from_numpy(np.stack(arrays))[:, None].contiguous(),
        factors=draw_factors(N_GRAY, rng),
    )


def to_nhwc(outputs: Any, shape: tuple[int, int, int, int]) -> np.ndarray:
    """Stack a peer's outputs (PIL images, arrays, tensors or a batch) as (N, H, W, C) uint8."""
    if isinstance(outputs, torch.Tensor):
        return outputs.permute(0, 2, 3, 1).numpy().reshape(shape)
    arrays = [o.permute(1, 2, 0).numpy() if isinstance(o, torch.Tensor) else np.asarray(o)
              for o in outputs]
    stacked = np.stack(arrays)
    if stacked.dtype != np.uint8:
        raise TypeError(f"output dtype {stacked.dtype}, expected uint8")
    return stacked.reshape(shape)


# ---- peers -----------------------------------------------------------------------------------


def pillow_chain(images: Sequence[Image.Image], rows: list[list[float]]) -> list[Image.Image]:
    out = []
    for im, (c, b, k, s) in zip(images, rows, strict=True):
        im = ImageEnhance.Color(im).enhance(c)
        im = ImageEnhance.Brightness(im).enhance(b)
        im = ImageEnhance.Contrast(im).enhance(k)
        out.append(ImageEnhance.Sharpness(im).enhance(s))
    return out


def augkit_each(images: Sequence[Any], rows: list[list[float]]) -> Runner:
    def run() -> list[Any]:
        return [enhance(img, OPS, row) for img, row in zip(images, rows, strict=True)]

    return run


def augkit_each_separate(images: Sequence[Any], rows: list[list[float]]) -> Runner:
    def run() -> list[Any]:
        out = []
        for img, (c, b, k, s) in zip(images, rows, strict=True):
            out.append(sharpness(contrast(brightness(color(img, c), b), k), s))
        return out

    return run


def augkit_transform_each(images: Sequence[Any], rows: list[list[float]]) -> Runner:
    """RandomEnhance replaying the shared factors: the transform's own per-call cost."""
    transform = RandomEnhance()
    params = [{"applied": torch.ones(1, dtype=torch.bool),
               **{op: torch.tensor([f], dtype=torch.float64) for op, f in zip(OPS, row,
                                                                              strict=True)}}
              for row in rows]

    def run() -> list[Any]:
        return [transform(img, params=p) for img, p in zip(images, params, strict=True)]

    return run


def augkit_batch(data: ImageSet) -> Runner:
    factors = np.ascontiguousarray(data.factors)

    def run() -> torch.Tensor:
        return enhance(data.batch, OPS, factors)

    return run


def pillow_peer(data: ImageSet) -> Runner:
    rows = data.rows
    return lambda: pillow_chain(data.pil, rows)


@dataclass
class Peers:
    """Optional peer libraries, or why each is missing."""

    albumentations: Any = None
    albu_functional: Any = None
    cv2: Any = None
    kornia: Any = None
    torchvision: Any = None
    versions: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def import_peers() -> Peers:
    peers = Peers()
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    try:
        import albumentations
        import cv2
        from albumentations.augmentations.pixel import functional as albu_functional

        peers.albumentations, peers.albu_functional, peers.cv2 = (
            albumentations, albu_functional, cv2)
        peers.versions["albumentations"] = albumentations.__version__
        peers.versions["opencv"] = cv2.__version__
    except Exception as error:
        peers.skipped["albumentations"] = f"{type(error).__name__}: {error}"
    try:
        import kornia

        peers.kornia = kornia
        peers.versions["kornia"] = kornia.__version__
    except Exception as error:
        peers.skipped["kornia"] = f"{type(error).__name__}: {error}"
    try:
        import torchvision
        from torchvision.transforms.v2 import functional as tv_functional

        peers.torchvision = tv_functional
        peers.versions["torchvision"] = torchvision.__version__
    except Exception as error:
        peers.skipped["torchvision"] = f"{type(error).__name__}: {error}"
    return peers


def sharpen_kernel(factor: float) -> np.ndarray:
    """Pillow's sharpness as one 3x3 kernel: ``f * identity + (1 - f) * SMOOTH``."""
    identity = np.zeros((3, 3), np.float32)
    identity[1, 1] = 1.0
    return (factor * identity + (1.0 - factor) * SMOOTH).astype(np.float32)


def albumentations_compose(lib: Peers, data: ImageSet) -> Runner:
    """A.Compose([ColorJitter, Sharpen]) with get_params fed the shared factors, in Pillow's
    order (saturation, brightness, contrast; no hue) and with Pillow's sharpness kernel."""
    albu = lib.albumentations
    rows = data.rows
    kernels = [sharpen_kernel(s) for *_, s in rows]
    cursor = [0]

    class FixedColorJitter(albu.ColorJitter):
        def get_params(self) -> dict[str, Any]:
            c, b, k, _ = rows[cursor[0]]
            return {"brightness": b, "contrast": k, "saturation": c, "hue": 0.0,
                    "order": [2, 0, 1]}

    class FixedSharpen(albu.Sharpen):
        def get_params(self) -> dict[str, Any]:
            return {"alpha": rows[cursor[0]][3], "sharpening_matrix": kernels[cursor[0]]}

    pipeline = albu.Compose([FixedColorJitter(p=1.0), FixedSharpen(p=1.0)], p=1.0)

    def run() -> list[np.ndarray]:
        out = []
        for i, img in enumerate(data.arrays):
            cursor[0] = i
            out.append(pipeline(image=img)["image"])
        return out

    return run


def albumentations_functional(lib: Peers, data: ImageSet) -> Runner:
    """albumentations' own functional ops called directly with the shared factors."""
    fp = lib.albu_functional
    rows = data.rows
    kernels = [sharpen_kernel(s) for *_, s in rows]

    def run() -> list[np.ndarray]:
        out = []
        for img, (c, b, k, _), kernel in zip(data.arrays, rows, kernels, strict=True):
            img = fp.adjust_saturation_torchvision(img, c)
            img = fp.adjust_brightness_torchvision(img, b)
            img = fp.adjust_contrast_torchvision(img, k)
            out.append(fp.convolve(img, kernel))
        return out

    return run


def torchvision_peer(lib: Peers, data: ImageSet) -> Runner:
    tv = lib.torchvision
    images = list(data.batch)
    rows = data.rows

    def run() -> list[torch.Tensor]:
        out = []
        for img, (c, b, k, s) in zip(images, rows, strict=True):
            img = tv.adjust_saturation(img, c)
            img = tv.adjust_brightness(img, b)
            img = tv.adjust_contrast(img, k)
            out.append(tv.adjust_sharpness(img, s))
        return out

    return run


def kornia_chain(enhance: Any, batch: torch.Tensor, factors: Sequence[torch.Tensor]
                 ) -> torch.Tensor:
    c, b, k, s = factors
    x = batch.to(torch.float32).div_(255.0)
    x = enhance.adjust_saturation_with_gray_subtraction(x, c)
    x = enhance.adjust_brightness_accumulative(x, b)
    x = enhance.adjust_contrast_with_mean_subtraction(x, k)
    x = enhance.sharpness(x, s)
    return x.mul_(255.0).round_().to(torch.uint8)


def kornia_batch(lib: Peers, data: ImageSet) -> Runner:
    enhance = lib.kornia.enhance
    factors = [torch.from_numpy(col.astype(np.float32)) for col in data.factors.T]
    return lambda: kornia_chain(enhance, data.batch, factors)


def kornia_each(lib: Peers, data: ImageSet) -> Runner:
    enhance = lib.kornia.enhance
    images = [img[None] for img in data.batch]
    factors = [[torch.tensor([f], dtype=torch.float32) for f in row] for row in data.rows]

    def run() -> list[torch.Tensor]:
        return [kornia_chain(enhance, img, f)[0] for img, f in zip(images, factors, strict=True)]

    return run


# ---- measurement -----------------------------------------------------------------------------


@dataclass
class Entry:
    name: str
    run: Runner
    note: str = ""
    is_augkit: bool = False
    times: list[float] = field(default_factory=list)
    exact: float | None = None
    max_diff: int | None = None
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)


@dataclass
class Section:
    title: str
    data: ImageSet
    entries: list[Entry]
    floor: Runner
    floor_note: str
    skipped: dict[str, str]
    floor_times: list[float] = field(default_factory=list)

    @property
    def augkit(self) -> Entry:
        return next(e for e in self.entries if e.is_augkit)


def copy_floor_each(arrays: Sequence[np.ndarray]) -> Runner:
    scratch = [np.empty_like(a) for a in arrays]

    def run() -> None:
        for src, dst in zip(arrays, scratch, strict=True):
            for _ in range(4):
                np.copyto(dst, src)

    return run


def copy_floor_batch(batch: torch.Tensor) -> Runner:
    scratch = torch.empty_like(batch)

    def run() -> None:
        for _ in range(4):
            scratch.copy_(batch)

    return run


def optional_entries(lib: Peers, data: ImageSet, per_image: bool
                     ) -> tuple[list[Entry], dict[str, str]]:
    entries: list[Entry] = []
    if lib.albumentations is not None:
        loop = "one call per image" if per_image else "loop over the batch"
        entries.append(Entry("albumentations Compose", albumentations_compose(lib, data),
                             f"ColorJitter+Sharpen, fixed factors, {loop}"))
        entries.append(Entry("albumentations functional", albumentations_functional(lib, data),
                             f"adjust_*_torchvision + convolve, {loop}"))
    if lib.torchvision is not None:
        entries.append(Entry("torchvision v2", torchvision_peer(lib, data),
                             "uint8 (C,H,W), one call per image"))
    if lib.kornia is not None:
        if per_image:
            entries.append(Entry("kornia", kornia_each(lib, data),
                                 "float (1,C,H,W) per image; uint8 conversion timed"))
        else:
            entries.append(Entry("kornia", kornia_batch(lib, data),
                                 "float batch; uint8 conversion timed"))
    return entries, dict(lib.skipped)


def build_sections(lib: Peers, rgb: ImageSet | None, gray: ImageSet | None) -> list[Section]:
    sections = []
    if rgb is not None:
        n = len(rgb.arrays)
        extra, skipped = optional_entries(lib, rgb, per_image=True)
        sections.append(Section(
            title=f"{rgb.name}: one call per image",
            data=rgb,
            entries=[
                Entry("augkit numpy HWC", augkit_each(rgb.arrays, rgb.rows),
                      "enhance(): the four ops in one call per image", is_augkit=True),
                Entry("augkit torch CHW", augkit_each(list(rgb.batch), rgb.rows),
                      "enhance(): the four ops in one call per image"),
                Entry("augkit RandomEnhance", augkit_transform_each(rgb.arrays, rgb.rows),
                      "the transform, replaying the shared factors"),
                Entry("augkit 4 calls", augkit_each_separate(rgb.arrays, rgb.rows),
                      "color(), brightness(), ... one call per op per image"),
                Entry("Pillow ImageEnhance", pillow_peer(rgb), "PIL images prepared untimed"),
                *extra,
            ],
            floor=copy_floor_each(rgb.arrays),
            floor_note="4 np.copyto passes over each HxWxC image, one image at a time",
            skipped=skipped,
        ))
        extra, skipped = optional_entries(lib, rgb, per_image=False)
        sections.append(Section(
            title=f"{rgb.name}: batches of {n}",
            data=rgb,
            entries=[
                Entry("augkit torch batch", augkit_batch(rgb),
                      f"(N,C,H,W) uint8, enhance() with ({n}, 4) factors", is_augkit=True),
                Entry("Pillow ImageEnhance", pillow_peer(rgb),
                      "loop; PIL images prepared untimed"),
                *extra,
            ],
            floor=copy_floor_batch(rgb.batch),
            floor_note=f"4 torch copy_ passes over the ({n},3,{RGB_SIZE},{RGB_SIZE}) uint8 batch",
            skipped=skipped,
        ))
    if gray is not None:
        n = len(gray.arrays)
        extra, skipped = optional_entries(lib, gray, per_image=False)
        sections.append(Section(
            title=f"{gray.name}: batches of {n}",
            data=gray,
            entries=[
                Entry("augkit torch batch", augkit_batch(gray),
                      f"(N,1,H,W) uint8, enhance() with ({n}, 4) factors", is_augkit=True),
                Entry("Pillow ImageEnhance", pillow_peer(gray),
                      "mode L loop; PIL images prepared untimed"),
                *extra,
            ],
            floor=copy_floor_batch(gray.batch),
            floor_note=f"4 torch copy_ passes over the ({n},1,28,28) uint8 batch",
            skipped=skipped,
        ))
    return sections


def check_exactness(entry: Entry, data: ImageSet) -> None:
    try:
        out = to_nhwc(entry.run(), data.shape)
    except Exception as error:
        entry.error = f"{type(error).__name__}: {error}"
        return
    entry.exact = float(np.mean(out == data.reference))
    entry.max_diff = int(np.abs(out.astype(np.int16) - data.reference).max())


def inner_loops(run: Runner) -> int:
    """Calls per timing so that one timing lasts about ``MIN_TIMING_S`` (as timeit does):
    a lone fast call straight after a slow peer would measure cold caches, not the peer."""
    t0 = time.perf_counter()
    run()
    return max(1, math.ceil(MIN_TIMING_S / max(time.perf_counter() - t0, 1e-9)))


def measure(section: Section, repeats: int, budget_s: float, min_rounds: int) -> None:
    """Warm every peer up by checking it against Pillow, then time all of them round-robin:
    ``repeats`` rounds, fewer (but at least ``min_rounds``) once ``budget_s`` has passed.
    Each timing is the mean over back-to-back calls lasting about ``MIN_TIMING_S``."""
    for entry in section.entries:
        entry.times.clear()
        check_exactness(entry, section.data)
    section.floor()
    section.floor_times.clear()
    timed: list[tuple[Runner, list[float], int]] = [
        (e.run, e.times, inner_loops(e.run)) for e in section.entries if e.error is None]
    timed.append((section.floor, section.floor_times, inner_loops(section.floor)))
    gc.collect()
    started = time.perf_counter()
    for r in range(repeats):
        if r >= min_rounds and time.perf_counter() - started > budget_s:
            break
        start = r % len(timed)
        for run, times, loops in timed[start:] + timed[:start]:
            t0 = time.perf_counter()
            for _ in range(loops):
                run()
            times.append((time.perf_counter() - t0) / loops)


# ---- report ----------------------------------------------------------------------------------


def set_threads(mode: str, defaults: dict[str, int], lib: Peers) -> dict[str, int]:
    torch_threads = 1 if mode == "one" else defaults["torch"]
    torch.set_num_threads(torch_threads)
    used = {"torch": torch.get_num_threads()}
    if lib.cv2 is not None:
        lib.cv2.setNumThreads(1 if mode == "one" else defaults["opencv"])
        used["opencv"] = lib.cv2.getNumThreads()
    return used


def report(section: Section, threads: str) -> dict[str, Any]:
    n = len(section.data.arrays)
    ref = section.augkit.median
    timed = [e for e in section.entries if e.error is None]
    albu = [e for e in timed if e.name.startswith("albumentations")]
    best_albu = min(albu, key=lambda e: e.median) if albu else None

    rounds = len(section.floor_times)
    print(f"\n== {section.title} | {threads} | {rounds} rounds ==")
    header = f"{'peer':<30} {'images/s':>10} {'ratio':>7} {'exact px %':>11} {'max diff':>9}  note"
    print(header)
    print("-" * len(header))
    rows = []
    for e in section.entries:
        if e.error is not None:
            print(f"{e.name:<30} skipped: {e.error}")
            rows.append({"peer": e.name, "skipped": e.error})
            continue
        name = f"{e.name} *" if e is best_albu and len(albu) > 1 else e.name
        rate = n / e.median
        ratio = e.median / ref
        print(f"{name:<30} {rate:>10.1f} {ratio:>7.2f} {100 * e.exact:>11.3f} "
              f"{e.max_diff:>9d}  {e.note}")
        rows.append({"peer": e.name, "images_per_s": rate, "median_s": e.median, "ratio": ratio,
                     "exact_fraction": e.exact, "max_abs_diff": e.max_diff, "note": e.note,
                     "times_s": e.times})
    for name, reason in section.skipped.items():
        print(f"{name:<30} skipped: {reason}")
        rows.append({"peer": name, "skipped": reason})
    if best_albu is not None and len(albu) > 1:
        print("* albumentations' figure: the faster of its two forms")
    floor = statistics.median(section.floor_times)
    fraction = floor / ref
    print(f"bandwidth floor: {n / floor:.1f} images/s ({section.floor_note}); "
          f"augkit runs at {fraction:.2f} of the floor (floor time / augkit time)")
    return {
        "section": section.title,
        "threads": threads,
        "images": n,
        "rounds": rounds,
        "peers": rows,
        "albumentations_best": best_albu.name if best_albu is not None else None,
        "floor": {"images_per_s": n / floor, "median_s": floor, "how": section.floor_note,
                  "augkit_fraction": fraction},
    }


def configuration(lib: Peers, defaults: dict[str, int], repeats: int, budget_s: float
                  ) -> dict[str, Any]:
    import numba

    config: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "augkit": augkit.__version__,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "pillow": PIL.__version__,
        "numba": numba.__version__,
        **lib.versions,
        "default_threads": defaults,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "repeats": repeats,
        "section_budget_s": budget_s,
        "seed": SEED,
    }
    print("configuration:")
    for key, value in config.items():
        print(f"  {key}: {value}")
    for name, reason in lib.skipped.items():
        print(f"  {name}: skipped: {reason}")
    print("ratio = peer time / augkit time (> 1: augkit faster); exact px % and max diff compare "
          "each peer's uint8 output with Pillow's for the same images and factors; "
          "images/s from the median of the round-robin repeats")
    return config


def contention_notes(results: list[dict[str, Any]]) -> list[str]:
    """Sections whose copy floor got slower with more threads: threads fought over cores."""
    floors: dict[str, dict[str, float]] = {}
    for result in results:
        floors.setdefault(result["section"], {})[result["threads"].split()[0]] = (
            result["floor"]["median_s"])
    notes = []
    for title, by_mode in floors.items():
        if "one" in by_mode and "all" in by_mode and by_mode["all"] > 2 * by_mode["one"]:
            notes.append(f"{title}: the copy floor is {by_mode['all'] / by_mode['one']:.1f}x "
                         "slower on all threads than on one; the threads were oversubscribed, "
                         "so the all-threads figures of this section measure contention")
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None,
                        help=f"round-robin rounds per section (default {DEFAULT_REPEATS})")
    parser.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                        help="stop a section's rounds after this long, once it has "
                             f"{MIN_ROUNDS} (default {DEFAULT_BUDGET_S:.0f})")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: {QUICK_REPEATS} rounds, {QUICK_BUDGET_S:.0f} s "
                             "per section")
    parser.add_argument("--threads", choices=("one", "all", "both"), default="both")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH",
                        help="also write a machine-readable summary here")
    args = parser.parse_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS)
    budget_s = args.budget or (QUICK_BUDGET_S if args.quick else DEFAULT_BUDGET_S)
    if repeats < 1 or budget_s <= 0:
        parser.error("--repeats must be at least 1 and --budget positive")
    min_rounds = 1 if args.quick else min(MIN_ROUNDS, repeats)

    lib = import_peers()
    defaults = {"torch": torch.get_num_threads()}
    if lib.cv2 is not None:
        defaults["opencv"] = lib.cv2.getNumThreads()
    config = configuration(lib, defaults, repeats, budget_s)

    rng = np.random.default_rng(SEED)
    sections = build_sections(lib, rgb_set(rng), gray_set(rng))
    modes = ("one", "all") if args.threads == "both" else (args.threads,)
    results = []
    started = time.perf_counter()
    try:
        for mode in modes:
            used = set_threads(mode, defaults, lib)
            label = f"{mode} thread{'s' if mode == 'all' else ''}: " + ", ".join(
                f"{k} {v}" for k, v in used.items())
            for section in sections:
                measure(section, repeats, budget_s, min_rounds)
                results.append(report(section, label))
    finally:
        set_threads("all", defaults, lib)

    import numba

    try:
        config["numba_threading_layer"] = numba.threading_layer()
    except ValueError:
        config["numba_threading_layer"] = "none used"
    notes = contention_notes(results)
    print(f"\nnumba threading layer used by augkit's batch kernels: "
          f"{config['numba_threading_layer']}")
    for note in notes:
        print(f"note: {note}")
    print(f"total {time.perf_counter() - started:.0f} s of measurement")
    if args.json is not None:
        summary = {"config": config, "results": results, "notes": notes}
        args.json.write_text(json.dumps(summary, indent=2))
        print(f"summary written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
