"""Benchmark of masks, boxes and keypoints moved with their images, beside the peers.

Two parts, each peer when it imports:

- Agreement on the same parameters. torchvision.transforms.v2.functional (``affine``,
  ``horizontal_flip``, ``resized_crop`` on ``tv_tensors``) and albumentations (flips) get the
  parameters augkit drew for 1,000 random cases on a 48x64 image with 3 boxes, 5 keypoints
  and a mask. The table gives the largest box and keypoint differences in pixels and the
  share of mask pixels that differ.
- Speed: 64 RGB images of 224x224, each with a mask, 8 boxes and 8 keypoints, through a
  horizontal flip then an affine move (nearest for masks). augkit runs on the batch;
  albumentations and torchvision run one image at a time, as their pipelines do. One thread.
  Peers run round-robin, so machine noise hits them alike; the median is reported with its
  ratio to augkit.

Run from the repository root (the peers come with ``pip install -e '.[bench]'``)::

    python benchmarks/targets.py [--cases N] [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from augkit.transforms import Compose, RandomAffine, RandomHorizontalFlip

HEIGHT, WIDTH = 48, 64


def _peer(name: str):
    try:
        if name == "torchvision":
            from torchvision import tv_tensors
            from torchvision.transforms.v2 import functional

            return functional, tv_tensors
        import albumentations

        return albumentations
    except Exception as error:  # a peer that does not import is reported, not fatal
        print(f"{name}: not run ({type(error).__name__}: {str(error).splitlines()[0][:80]})")
        return None


def _cases(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        x1 = rng.uniform(0, WIDTH - 8, 3)
        y1 = rng.uniform(0, HEIGHT - 8, 3)
        boxes = np.stack([x1, y1, x1 + rng.uniform(2, 8, 3), y1 + rng.uniform(2, 8, 3)], 1)
        points = np.stack([rng.uniform(0, WIDTH, 5), rng.uniform(0, HEIGHT, 5)], 1)
        mask = rng.integers(0, 4, (HEIGHT, WIDTH)).astype(np.uint8)
        yield boxes, points, mask


def _augkit_affine(boxes, points, mask, seed):
    affine = RandomAffine(degrees=40, translate=(0.2, 0.2), scale=(0.7, 1.3),
                          shear=(-15, 15, -10, 10), seed=seed)
    image = np.zeros((HEIGHT, WIDTH), np.uint8)
    out = affine(image=image, boxes=boxes, keypoints=points, mask=mask, outside_keypoints="keep")
    params = affine.last_params
    angle = float(params["angle"][0])
    translate = [float(params["translate"][0, 0]) * WIDTH,
                 float(params["translate"][0, 1]) * HEIGHT]
    shear = [float(params["shear"][0, 0]), float(params["shear"][0, 1])]
    return out, (angle, translate, float(params["scale"][0]), shear)


def agreement_with_torchvision(n: int) -> None:
    peer = _peer("torchvision")
    if peer is None:
        return
    functional, tv_tensors = peer
    box_error = point_error = 0.0
    differing = total = kept = 0
    for i, (boxes, points, mask) in enumerate(_cases(n)):
        out, (angle, translate, scale, shear) = _augkit_affine(boxes, points, mask, seed=i)
        tv_boxes = tv_tensors.BoundingBoxes(torch.from_numpy(boxes), format="XYXY",
                                            canvas_size=(HEIGHT, WIDTH))
        moved = functional.affine(tv_boxes, angle=angle, translate=translate, scale=scale,
                                  shear=shear)
        ours = out["boxes"]
        if len(ours) == len(moved):  # torchvision keeps boxes that leave the image
            box_error = max(box_error, float(np.abs(moved.numpy() - ours).max(initial=0)))
            kept += 1
        if hasattr(tv_tensors, "KeyPoints"):
            tv_points = tv_tensors.KeyPoints(torch.from_numpy(points),
                                             canvas_size=(HEIGHT, WIDTH))
            moved_points = functional.affine(tv_points, angle=angle, translate=translate,
                                             scale=scale, shear=shear)
            point_error = max(point_error,
                              float(np.abs(moved_points.numpy() - out["keypoints"]).max()))
        tv_mask = functional.affine(tv_tensors.Mask(torch.from_numpy(mask)), angle=angle,
                                    translate=translate, scale=scale, shear=shear)
        differing += int((tv_mask.numpy() != out["mask"]).sum())
        total += mask.size
    print(f"torchvision affine, {n} cases: boxes max |diff| {box_error:.2e} px "
          f"({kept} cases with the same boxes kept), keypoints {point_error:.2e} px, "
          f"mask pixels differing {differing / total:.4%}")


def flips_against_torchvision(n: int) -> None:
    peer = _peer("torchvision")
    if peer is None:
        return
    functional, tv_tensors = peer
    ours = RandomHorizontalFlip(p=1.0)
    box_error = point_error = 0.0
    differing = 0
    for boxes, points, mask in _cases(n):
        out = ours(image=np.zeros((HEIGHT, WIDTH), np.uint8), boxes=boxes, keypoints=points,
                   mask=mask)
        size = (HEIGHT, WIDTH)
        theirs = functional.horizontal_flip(tv_tensors.BoundingBoxes(
            torch.from_numpy(boxes), format="XYXY", canvas_size=size))
        box_error = max(box_error, float(np.abs(theirs.numpy() - out["boxes"]).max()))
        if hasattr(tv_tensors, "KeyPoints"):
            moved = functional.horizontal_flip(tv_tensors.KeyPoints(torch.from_numpy(points),
                                                                    canvas_size=size))
            point_error = max(point_error, float(np.abs(moved.numpy() - out["keypoints"]).max()))
        flipped = functional.horizontal_flip(tv_tensors.Mask(torch.from_numpy(mask)))
        differing += int((flipped.numpy() != out["mask"]).sum())
    print(f"torchvision horizontal_flip, {n} cases: boxes max |diff| {box_error:.2e} px, "
          f"keypoints {point_error:.2e} px (torchvision flips keypoints to W - 1 - x, its boxes "
          f"and its affine keypoints use W - x), mask pixels differing {differing}")


def agreement_with_albumentations(n: int) -> None:
    albumentations = _peer("albumentations")
    if albumentations is None:
        return
    flip = albumentations.Compose(
        [albumentations.HorizontalFlip(p=1.0)],
        bbox_params=albumentations.BboxParams(format="pascal_voc", label_fields=[]),
        keypoint_params=albumentations.KeypointParams(format="xy", remove_invisible=False))
    ours = RandomHorizontalFlip(p=1.0)
    box_error = point_error = 0.0
    differing = 0
    for boxes, points, mask in _cases(n):
        image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        theirs = flip(image=image, mask=mask, bboxes=boxes, keypoints=points)
        out = ours(image=image, mask=mask, boxes=boxes, keypoints=points)
        box_error = max(box_error, float(np.abs(np.asarray(theirs["bboxes"]) - out["boxes"]).max()))
        point_error = max(point_error,
                          float(np.abs(np.asarray(theirs["keypoints"])[:, :2]
                                       - out["keypoints"]).max()))
        differing += int((np.asarray(theirs["mask"]) != out["mask"]).sum())
    print(f"albumentations {albumentations.__version__} HorizontalFlip, {n} cases: boxes max "
          f"|diff| {box_error:.2e} px, keypoints {point_error:.2e} px (albumentations "
          f"{'maps x to W - x' if point_error < 1e-6 else 'differs in its keypoint convention'}"
          f"), mask pixels differing {differing}")


def _speed_inputs(rng: np.random.Generator, n: int = 64):
    images = rng.integers(0, 256, (n, 224, 224, 3), dtype=np.uint8)
    masks = rng.integers(0, 5, (n, 224, 224)).astype(np.uint8)
    x1 = rng.uniform(0, 180, (n, 8))
    y1 = rng.uniform(0, 180, (n, 8))
    boxes = np.stack([x1, y1, x1 + 40, y1 + 40], axis=2)
    points = rng.uniform(0, 224, (n, 8, 2))
    return images, masks, boxes, points


def _timed(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed(repeats: int) -> None:
    torch.set_num_threads(1)
    images, masks, boxes, points = _speed_inputs(np.random.default_rng(0))
    batch = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    mask_batch = torch.from_numpy(masks)
    pipeline = Compose([RandomHorizontalFlip(), RandomAffine(15, translate=(0.1, 0.1),
                                                             scale=(0.9, 1.1))], seed=0)
    peers: dict[str, Callable[[], object]] = {
        "augkit (batch)": lambda: pipeline(image=batch, mask=mask_batch,
                                           boxes=list(boxes), keypoints=list(points)),
        "augkit (one at a time)": lambda: [
            pipeline(image=images[i], mask=masks[i], boxes=boxes[i], keypoints=points[i])
            for i in range(len(images))],
    }
    albumentations = _peer("albumentations")
    if albumentations is not None:
        chain = albumentations.Compose(
            [albumentations.HorizontalFlip(), albumentations.Affine(
                rotate=(-15, 15), translate_percent=(-0.1, 0.1), scale=(0.9, 1.1),
                interpolation=0, mask_interpolation=0)],
            bbox_params=albumentations.BboxParams(format="pascal_voc", label_fields=[]),
            keypoint_params=albumentations.KeypointParams(format="xy", remove_invisible=False))
        peers["albumentations"] = lambda: [
            chain(image=images[i], mask=masks[i], bboxes=boxes[i], keypoints=points[i])
            for i in range(len(images))]
    _add_torchvision_speed(peers, batch, mask_batch, boxes)
    medians = {name: [] for name in peers}
    for _ in range(repeats):
        for name, run in peers.items():
            medians[name].append(_timed(run, 1))
    base = statistics.median(medians["augkit (batch)"])
    print(f"\nspeed, 64 images 224x224 RGB with a mask, 8 boxes and 8 keypoints each, "
          f"flip + affine, one thread, median of {repeats}:")
    for name, times in medians.items():
        t = statistics.median(times)
        print(f"  {name:<24} {t * 1000:8.1f} ms   {t / base:5.2f}x augkit's batch time")


def _add_torchvision_speed(peers, batch, mask_batch, boxes) -> None:
    peer = _peer("torchvision")
    if peer is None:
        return
    _, tv_tensors = peer
    from torchvision.transforms import v2

    chain = v2.Compose([v2.RandomHorizontalFlip(), v2.RandomAffine(15, translate=(0.1, 0.1),
                                                                   scale=(0.9, 1.1))])
    samples = [(tv_tensors.Image(batch[i]), {
        "masks": tv_tensors.Mask(mask_batch[i][None]),
        "boxes": tv_tensors.BoundingBoxes(torch.from_numpy(boxes[i]), format="XYXY",
                                          canvas_size=(224, 224))}) for i in range(len(batch))]
    peers["torchvision v2"] = lambda: [chain(img, target) for img, target in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    agreement_with_torchvision(args.cases)
    flips_against_torchvision(args.cases)
    agreement_with_albumentations(args.cases)
    speed(args.repeats)


if __name__ == "__main__":
    main()
