"""Per-op speed of augkit's catalogue beside Pillow, albumentations and kornia.

Each op runs with the same fixed arguments in every library that offers it, on a 224x224 RGB
photo (one call) and on a batch of 64 (augkit and kornia take the batch at once; Pillow and
albumentations, through the OpenCV calls its ops make, loop over the images), on one thread.
kornia runs on float32, the others on uint8; torchvision does not install beside this torch.
Peers run round-robin, so machine noise hits them alike, each timed call right after an
untimed one of the same op; each time is the median of the rounds. The table gives each
peer's time over augkit's (above 1: augkit is faster) and whether augkit's uint8 result
equals Pillow's.

    python benchmarks/transforms.py [--rounds 15] [--ops "rotate(30, nearest);invert"]
                                    [--markdown docs/transforms-speed.md]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps

from augkit import functional as F
from augkit.data import load_photos
from augkit.transforms import JPEG

BATCH = 64
SIZE = 224

Run = Callable[[], Any]


def _photo() -> np.ndarray:
    photo = np.asarray(load_photos()[0].convert("RGB"))
    return np.asarray(Image.fromarray(photo).resize((SIZE, SIZE), Image.Resampling.BILINEAR))


def _pil_hue(picture: Image.Image, factor: float) -> Image.Image:
    """torchvision's ``adjust_hue`` on a PIL image: Pillow's HSV, the hue byte moved."""
    h, s, v = picture.convert("HSV").split()
    hue = np.asarray(h) + np.uint8(int(factor * 255) % 256)  # wraps around
    return Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert("RGB")


def _jpeg(picture: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert(picture.mode)


def _perspective_data() -> tuple[list[list[int]], list[list[int]], list[float]]:
    start = [[0, 0], [SIZE - 1, 0], [SIZE - 1, SIZE - 1], [0, SIZE - 1]]
    end = [[12, 5], [SIZE - 20, 10], [SIZE - 8, SIZE - 15], [4, SIZE - 30]]
    from augkit.functional.perspective import perspective_coefficients

    return start, end, [float(v) for v in perspective_coefficients(start, end)[0]]


#: op -> (augkit single, Pillow single), with arguments fixed; the batch runs augkit on 64
def ops() -> dict[str, tuple[Callable[[Any], Any], Callable[[Image.Image], Any]]]:
    start, end, data = _perspective_data()
    return {
        "invert": (F.invert, ImageOps.invert),
        "posterize(3)": (lambda x: F.posterize(x, 3), lambda p: ImageOps.posterize(p, 3)),
        "solarize(128)": (lambda x: F.solarize(x, 128), lambda p: ImageOps.solarize(p, 128)),
        "equalize": (F.equalize, ImageOps.equalize),
        "autocontrast": (F.autocontrast, ImageOps.autocontrast),
        "grayscale": (F.grayscale, lambda p: p.convert("L")),
        "hflip": (F.hflip, lambda p: p.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
        "rotate(30, bilinear)": (lambda x: F.rotate(x, 30.0, "bilinear"),
                                 lambda p: p.rotate(30.0, Image.Resampling.BILINEAR)),
        "rotate(30, nearest)": (lambda x: F.rotate(x, 30.0, "nearest"),
                                lambda p: p.rotate(30.0, Image.Resampling.NEAREST)),
        "perspective(bilinear)": (
            lambda x: F.perspective(x, start, end, "bilinear"),
            lambda p: p.transform(p.size, Image.Transform.PERSPECTIVE, data,
                                  Image.Resampling.BILINEAR)),
        "gaussian_blur(2)": (lambda x: F.gaussian_blur(x, 2.0),
                             lambda p: p.filter(ImageFilter.GaussianBlur(2.0))),
        "box_blur(2)": (lambda x: F.box_blur(x, 2), lambda p: p.filter(ImageFilter.BoxBlur(2))),
        "median_filter(3)": (lambda x: F.median_filter(x, 3),
                             lambda p: p.filter(ImageFilter.MedianFilter(3))),
        "sharpen": (lambda x: F.image_filter(x, "sharpen"),
                    lambda p: p.filter(ImageFilter.SHARPEN)),
        "unsharp_mask": (F.unsharp_mask, lambda p: p.filter(ImageFilter.UnsharpMask())),
        "adjust_hue(0.1)": (lambda x: F.adjust_hue(x, 0.1), lambda p: _pil_hue(p, 0.1)),
        "jpeg(75)": (JPEG(75), lambda p: _jpeg(p, 75)),
    }


def albumentations_ops() -> dict[str, Callable[[np.ndarray], Any]]:
    try:
        import albumentations  # noqa: F401  (its ops are these OpenCV calls)
        import cv2
    except ImportError:
        return {}
    cv2.setNumThreads(1)  # one thread, as for the others (its idle threads also slow them)
    values = np.arange(256, dtype=np.uint8)
    posterize_table = values & np.uint8(0xE0)
    solarize_table = np.where(values >= 128, 255 - values, values).astype(np.uint8)
    center = ((SIZE - 1) / 2, (SIZE - 1) / 2)
    matrix = cv2.getRotationMatrix2D(center, 30.0, 1.0)
    start, end, _ = _perspective_data()
    warp = cv2.getPerspectiveTransform(np.float32(start), np.float32(end))
    return {
        "invert": lambda a: 255 - a,
        "posterize(3)": lambda a: cv2.LUT(a, posterize_table),
        "solarize(128)": lambda a: cv2.LUT(a, solarize_table),
        "equalize": lambda a: np.stack([cv2.equalizeHist(a[:, :, c]) for c in range(3)], 2),
        "grayscale": lambda a: cv2.cvtColor(a, cv2.COLOR_RGB2GRAY),
        "hflip": lambda a: cv2.flip(a, 1),
        "rotate(30, bilinear)": lambda a: cv2.warpAffine(a, matrix, (SIZE, SIZE),
                                                         flags=cv2.INTER_LINEAR),
        "rotate(30, nearest)": lambda a: cv2.warpAffine(a, matrix, (SIZE, SIZE),
                                                        flags=cv2.INTER_NEAREST),
        "perspective(bilinear)": lambda a: cv2.warpPerspective(a, warp, (SIZE, SIZE),
                                                               flags=cv2.INTER_LINEAR),
        "gaussian_blur(2)": lambda a: cv2.GaussianBlur(a, (0, 0), 2.0),
        "box_blur(2)": lambda a: cv2.blur(a, (5, 5)),
        "median_filter(3)": lambda a: cv2.medianBlur(a, 3),
        "sharpen": lambda a: cv2.filter2D(a, -1, np.array([[-2, -2, -2], [-2, 32, -2],
                                                          [-2, -2, -2]], np.float32) / 16),
        "adjust_hue(0.1)": lambda a: _cv2_hue(cv2, a, 0.1),
        "jpeg(75)": lambda a: cv2.imdecode(cv2.imencode(".jpg", a, [cv2.IMWRITE_JPEG_QUALITY,
                                                                   75])[1], cv2.IMREAD_COLOR),
    }


def _cv2_hue(cv2: Any, array: np.ndarray, factor: float) -> np.ndarray:
    """albumentations' hue shift: OpenCV's HSV (hue 0-179), a table on the hue plane."""
    hsv = cv2.cvtColor(array, cv2.COLOR_RGB2HSV)
    table = ((np.arange(256) + int(factor * 180)) % 180).astype(np.uint8)
    hsv[..., 0] = cv2.LUT(hsv[..., 0], table)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def kornia_ops() -> dict[str, Callable[[torch.Tensor], Any]]:
    try:
        import kornia
    except ImportError:
        return {}
    start, end, _ = _perspective_data()
    warp = kornia.geometry.transform.get_perspective_transform(
        torch.tensor([start], dtype=torch.float32), torch.tensor([end], dtype=torch.float32))
    return {
        "invert": lambda t: kornia.enhance.invert(t),
        "posterize(3)": lambda t: kornia.enhance.posterize(t, 3),
        "solarize(128)": lambda t: kornia.enhance.solarize(t, 0.5),
        "equalize": lambda t: kornia.enhance.equalize(t),
        "grayscale": lambda t: kornia.color.rgb_to_grayscale(t),
        "hflip": lambda t: kornia.geometry.transform.hflip(t),
        "rotate(30, bilinear)": lambda t: kornia.geometry.transform.rotate(
            t, torch.full((t.shape[0],), 30.0), mode="bilinear"),
        "rotate(30, nearest)": lambda t: kornia.geometry.transform.rotate(
            t, torch.full((t.shape[0],), 30.0), mode="nearest"),
        "perspective(bilinear)": lambda t: kornia.geometry.transform.warp_perspective(
            t, warp.expand(t.shape[0], -1, -1), (SIZE, SIZE)),
        "gaussian_blur(2)": lambda t: kornia.filters.gaussian_blur2d(t, (13, 13), (2.0, 2.0)),
        "box_blur(2)": lambda t: kornia.filters.box_blur(t, (5, 5)),
        "median_filter(3)": lambda t: kornia.filters.median_blur(t, (3, 3)),
        "sharpen": lambda t: kornia.filters.filter2d(t, torch.tensor(
            [[[-2, -2, -2], [-2, 32, -2], [-2, -2, -2]]], dtype=torch.float32) / 16),
        "unsharp_mask": lambda t: kornia.filters.unsharp_mask(t, (13, 13), (2.0, 2.0)),
        "adjust_hue(0.1)": lambda t: kornia.enhance.adjust_hue(t, 0.1 * 2 * np.pi),
    }


def median_times(runs: dict[str, Run], rounds: int) -> dict[str, float]:
    """Each run's median time over ``rounds``, the runs taking turns. Every timed call comes
    right after an untimed call of the same run, so that no library is timed in the memory
    state the one before it left: freed large buffers (kornia's float images) made the next
    call's allocations fault their pages in anew, and that call was always augkit's (numpy's
    ``255 - a`` took 34 us after kornia's posterize, 4.7 us after itself)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        run()  # warm-up (compilation, caches)
    for _ in range(rounds):
        for name, run in runs.items():
            run()
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--ops", help="op names separated by semicolons, as the table names "
                        "them (default: all)")
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args(argv)
    chosen = ops()
    if args.ops:  # checked before any photo is read or peer imported
        wanted = [name.strip() for name in args.ops.split(";")]
        unknown = sorted(set(wanted) - set(chosen))
        if unknown:
            parser.error(f"--ops: no op named {unknown[0]!r}; the ops are "
                         f"{'; '.join(chosen)}")
        chosen = {k: v for k, v in chosen.items() if k in wanted}
    torch.set_num_threads(1)
    photo = _photo()
    picture = Image.fromarray(photo)
    tensor = torch.from_numpy(photo.copy()).permute(2, 0, 1).contiguous()
    batch = tensor[None].repeat(BATCH, 1, 1, 1).contiguous()
    floats, float_batch = tensor[None].float() / 255, batch.float() / 255
    # 64 images in memory for every library, as augkit's and kornia's batches hold: one
    # image 64 times would stay in the cache for the loops
    pictures = [picture.copy() for _ in range(BATCH)]
    arrays = [photo.copy() for _ in range(BATCH)]
    albu, korn = albumentations_ops(), kornia_ops()
    header = (f"one thread; {SIZE}x{SIZE} RGB photo; batch of {BATCH}; {args.rounds} rounds; "
              "ratio = peer time / augkit time (above 1: augkit faster)")
    print(header)
    print(f"{'op':24s} {'equal':>6s} {'augkit ms':>10s} {'Pillow':>8s} {'albument.':>9s} "
          f"{'kornia':>8s} | {'batch ms':>9s} {'Pillow':>8s} {'albument.':>9s} {'kornia':>8s}")
    table = ["| op | equals Pillow | augkit ms | Pillow | albumentations | kornia | augkit ms, "
             f"batch of {BATCH} | Pillow | albumentations | kornia |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    slower: list[str] = []
    for name, (ours, pillow) in chosen.items():
        equal = "-"
        if ours is not None and pillow is not None:
            equal = "yes" if np.array_equal(np.squeeze(np.asarray(ours(photo))),
                                            np.asarray(pillow(picture))) else "NO"
        single: dict[str, Run] = {}
        many: dict[str, Run] = {}
        if ours is not None:
            single["augkit"] = lambda ours=ours: ours(tensor)
            many["augkit"] = lambda ours=ours: ours(batch)
        if pillow is not None:
            single["Pillow"] = lambda pillow=pillow: pillow(picture)
            many["Pillow"] = lambda pillow=pillow: [pillow(p) for p in pictures]
        if albu.get(name) is not None:
            single["albument."] = lambda fn=albu[name]: fn(photo)
            many["albument."] = lambda fn=albu[name]: [fn(a) for a in arrays]
        if name in korn:
            single["kornia"] = lambda fn=korn[name]: fn(floats)
            many["kornia"] = lambda fn=korn[name]: fn(float_batch)
        one = median_times(single, args.rounds)
        lots = median_times(many, max(3, args.rounds // 5))
        base_one, base_many = one.get("augkit"), lots.get("augkit")

        def cell(times: dict[str, float], peer: str, base: float | None) -> str:
            if peer not in times or base is None:
                return f"{'-':>8s}"
            return f"{times[peer] / base:8.2f}"

        first = f"{base_one * 1e3:10.2f}" if base_one else f"{'-':>10s}"
        second = f"{base_many * 1e3:9.1f}" if base_many else f"{'-':>9s}"
        cells = [cell(one, peer, base_one) for peer in ("Pillow", "albument.", "kornia")]
        cells_many = [cell(lots, peer, base_many) for peer in ("Pillow", "albument.", "kornia")]
        print(f"{name:24s} {equal:>6s} {first} {cells[0]} {cells[1]:>9s} {cells[2]} | "
              f"{second} {cells_many[0]} {cells_many[1]:>9s} {cells_many[2]}")
        table.append("| " + " | ".join([name, equal, first.strip(), *(c.strip() for c in cells),
                                        second.strip(), *(c.strip() for c in cells_many)])
                     + " |")
        slower += _slower_rows(name, one, base_one, "one image")
        slower += _slower_rows(name, lots, base_many, f"batch of {BATCH}")
    if args.markdown:
        from pathlib import Path

        from augkit.files import write_text_atomically

        write_text_atomically(Path(args.markdown), header + "\n\n"
                              + "\n".join(table + _slower_notes(slower)) + "\n")
    return 0


# Why a peer can be faster than augkit: a key per peer, or per (op, peer), explained once
WHY = {
    "opencv": "OpenCV's vectorised C++ kernels, which do not reproduce Pillow's rounding, "
              "borders or antialiasing; augkit's compiled loops copy Pillow's arithmetic",
    "libjpeg": "OpenCV's own JPEG codec build and settings, not Pillow's",
    "one op": "a single float32 torch op, where augkit's uint8 op goes through a table kernel "
              "whose call costs more than the 0.05 ms op",
    "codec": "the same Pillow codec (about 0.25 ms at 224x224); augkit adds merging a "
             "tensor's planes into a PIL image and splitting them out (about 0.06 ms)",
    "layout": "Pillow samples its own 4-byte pixels; a planar tensor is copied to interleaved "
              "pixels and back around the same kernel (two copies of about 5 us), and the "
              "call's argument checks and conversions take about 15 us of a 0.04 ms call",
    "divisions": "OpenCV's warpPerspective takes positions to 1/32 of a pixel and blends "
                 "in integers (and differs from Pillow along the edges); Pillow's "
                 "perspective, which augkit keeps bit for bit, divides each position by its "
                 "denominator in float64, two divisions a pixel, and the vector divider's "
                 "pace bounds augkit's sampler (123 us a kernel call here, 69 us for "
                 "the same map without its perspective terms); augkit's call also solves "
                 "torchvision's coefficients from the corners, as torchvision's does "
                 "(about 60 us; OpenCV is handed its matrix), and a planar tensor's "
                 "pixels are copied to interleaved ones first",
    "tensor layout": "the same sampler as on one numpy image, where augkit is the faster "
                     "(benchmarks/resize.py: OpenCV's warpAffine takes 1.35x augkit's time "
                     "with NEAREST, 1.07x to 1.15x with BILINEAR), but a planar tensor's "
                     "pixels are first copied to interleaved ones (about 7 us at 224x224; "
                     "NEAREST copies its result back to planes too, BILINEAR writes the "
                     "planes itself) and its call goes through more checks",
    "noise": "no cause found; timings on this machine move by up to 2x between runs",
}
WHY_KEY = {"albument.": "opencv", "kornia": "one op", ("jpeg(75)", "albument."): "libjpeg",
           ("jpeg(75)", "Pillow"): "codec", ("rotate(30, nearest)", "Pillow"): "layout",
           ("rotate(30, bilinear)", "albument."): "tensor layout",
           ("perspective(bilinear)", "albument."): "divisions",
           ("rotate(30, nearest)", "albument."): "tensor layout"}


def _slower_rows(name: str, times: dict[str, float], base: float | None,
                 where: str) -> list[str]:
    """A table row for each peer faster than augkit on ``name`` at ``where``."""
    if base is None:
        return []
    rows = []
    for peer, seconds in times.items():
        if peer == "augkit" or seconds >= base:
            continue
        key = WHY_KEY.get((name, peer), WHY_KEY.get(peer, "noise"))
        label = "albumentations" if peer == "albument." else peer
        rows.append(f"| {name} | {where} | {label} | {seconds / base:.2f} | {key} |")
    return rows


def _slower_notes(rows: list[str]) -> list[str]:
    if not rows:
        return []
    used = [key for key in WHY if any(row.endswith(f"| {key} |") for row in rows)]
    return ["", "Where a peer is faster (its time over augkit's), and why:", "",
            "| op | on | peer | ratio | why |", "| --- | --- | --- | ---: | --- |", *rows, "",
            *(f"- {key}: {WHY[key]}." for key in used)]


if __name__ == "__main__":
    raise SystemExit(main())
