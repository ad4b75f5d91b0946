"""The call forms of a transform: an image, ``(img, target)``, or images and targets by keyword.

Every form ends in ``run_call``: a single image, a batch tensor ``(N, C, H, W)``, a
channels-last numpy batch ``(N, H, W, C)`` or a list of images, with or without targets.
On a batch each sample keeps its own parameters, for its targets too; a list is drawn like a
batch of its length and each image is then transformed on its own, so its images may differ
in size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.functional import dispatch
from augkit.functional._layout_cpu import interleaved, planar
from augkit.transforms.targets import (
    BOX_ALIGNED,
    TARGET_KEYS,
    TargetOptions,
    read_targets,
    write_targets,
)

OPTION_KEYS = ("box_format", "min_area", "min_visibility", "outside_keypoints")
KEYWORDS = ("image", *TARGET_KEYS, "keypoints_visible",
            *(k for k in BOX_ALIGNED if k not in TARGET_KEYS))


def run_call(transform: Any, img: Any, given: dict[str, Any] | None, params: Any,
             parent: torch.Generator | None = None, options: TargetOptions | None = None
             ) -> tuple[Any, dict[str, Any] | None]:
    """Transform ``img`` and, when ``given`` holds targets, those targets."""
    if isinstance(img, (list, tuple)):
        return _run_list(transform, list(img), given, params, parent, options)
    channels_last = isinstance(img, np.ndarray) and img.ndim == 4
    work = _nchw(img) if channels_last else img
    batch = dispatch.batch_size(work)
    params = transform.prepare(batch, params, parent)
    if given is None:
        out, written = transform.apply_with_targets(work, None, params)[0], None
    else:
        read = read_targets(given, dispatch.image_size(work), batch,
                            options or transform.target_options())
        out, moved = transform.apply_with_targets(work, read.targets, params)
        written = write_targets(read, moved, batch)
    if channels_last and isinstance(out, tuple):  # FiveCrop's and TenCrop's crops
        out = tuple(interleaved(o.numpy()) for o in out)
    elif channels_last:
        out = interleaved(out.numpy())
    elif isinstance(img, torch.Tensor) and type(img) is not torch.Tensor and \
            type(out) is torch.Tensor:
        out = out.as_subclass(type(img))  # a torchvision tv_tensors.Image stays one
    return out, written


def _nchw(batch: np.ndarray) -> torch.Tensor:
    if batch.shape[0] == 0:
        raise AugkitError(f"img: an empty batch of shape {batch.shape}")
    dispatch.check_image(batch[0], "img[0]")
    if batch.dtype != np.uint8 and not np.issubdtype(batch.dtype, np.floating):
        raise AugkitTypeError(f"img: numpy dtype {batch.dtype} is not supported; expected uint8 "
                              "or a float dtype")
    return torch.from_numpy(planar(batch))


def _run_list(transform: Any, images: list[Any], given: dict[str, Any] | None, params: Any,
              parent: torch.Generator | None, options: TargetOptions | None
              ) -> tuple[list[Any], dict[str, Any] | None]:
    if not images:
        raise AugkitError("img: an empty list; expected at least one image")
    for i, image in enumerate(images):
        if isinstance(image, (list, tuple)) or (isinstance(image, torch.Tensor)
                                                 and image.ndim == 4):
            raise AugkitError(f"img[{i}]: a list holds single images, not batches or lists")
    params = transform.prepare(len(images), params, parent, mixed_sizes=True)
    per_image = None if given is None else _split(given, len(images))
    outs, written = [], []
    for i, image in enumerate(images):
        one = select(params, torch.tensor([i]))
        out, targets = run_call(transform, image, None if per_image is None else per_image[i],
                                one, parent, options)
        outs.append(out)
        written.append(targets)
    transform.last_params = params
    if given is None:
        return outs, None
    return outs, {k: [w[k] for w in written] for k in written[0]}


def select(value: Any, index: torch.Tensor) -> Any:
    """The samples ``index`` of a parameter: tensors are indexed, nested dicts and lists recurse."""
    if isinstance(value, torch.Tensor) and value.ndim:
        return value[index]
    if isinstance(value, dict):
        return {k: select(v, index) for k, v in value.items()}
    if isinstance(value, list):
        return [select(v, index) for v in value]
    return value


def take_samples(batch: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """The samples ``index`` of a batch, copied whole (``batch[index]`` copies element by
    element on the CPU: 270 us where this takes 14, for 5 of 16 224x224 RGB images)."""
    return batch.index_select(0, index.to(batch.device))


def merge_samples(batch: torch.Tensor, index: torch.Tensor, values: torch.Tensor
                  ) -> torch.Tensor:
    """A new batch: ``values`` at ``index``, the other samples of ``batch``. On the CPU each
    sample is copied once (a copy of the batch, then ``values`` over it, copied the chosen
    ones twice)."""
    if batch.device.type != "cpu":
        out = batch.clone()
        out[index.to(batch.device)] = values
        return out
    out = torch.empty_like(batch)
    chosen = dict(zip(index.tolist(), values, strict=True))
    for row in range(batch.shape[0]):
        out[row].copy_(chosen.get(row, batch[row]))
    return out


def put_samples(out: torch.Tensor, index: torch.Tensor, values: torch.Tensor) -> None:
    """``out[index] = values`` in place; on the CPU a copy per sample (23 us for 5 of 16
    224x224 RGB images, 270 us by indexing), elsewhere one indexed write."""
    if out.device.type != "cpu":
        out[index.to(out.device)] = values
        return
    for row, sample in zip(index.tolist(), values, strict=True):
        out[row].copy_(sample)


class NotPerSample(ValueError):
    """Draws that differ in a value drawn once per call, so they cannot act as one batch."""


def joinable(transform: Any) -> bool:
    """Whether draws of ``transform`` for several batches of one image size may run as one
    batch: its output size follows from the input size alone (else a batch's size would come
    from its first draw) and it treats each sample on its own, and so does everything
    inside it."""
    children = getattr(transform, "transforms", None)
    if children is not None:
        return transform.samples_independent and all(joinable(child) for child in children)
    return transform.size_from_input and transform.samples_independent


def concat_params(draws: list[Any]) -> Any:
    """Several draws' parameters as one batch's, in order: the inverse of ``select``
    (batched tensors are joined; anything else must be the same in every draw). Only for a
    ``joinable`` transform."""
    first = draws[0]
    if isinstance(first, torch.Tensor) and first.ndim:
        if not all(isinstance(d, torch.Tensor) and d.ndim == first.ndim for d in draws):
            raise NotPerSample("a batched parameter is missing from some draws")
        return torch.cat(draws)
    if isinstance(first, dict):
        if not all(isinstance(d, dict) and d.keys() == first.keys() for d in draws):
            raise NotPerSample("the draws have different parameters")
        return {key: concat_params([d[key] for d in draws]) for key in first}
    if isinstance(first, list):
        if not all(isinstance(d, list) and len(d) == len(first) for d in draws):
            raise NotPerSample("the draws have different parameters")
        return [concat_params([d[i] for d in draws]) for i in range(len(first))]
    if all(_same(d, first) for d in draws[1:]):
        return first
    raise NotPerSample(f"a value drawn per call differs: {first!r}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.shape == b.shape and bool(torch.equal(a, b)))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return type(a) is type(b) and a == b


def _split(given: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Per-image targets from lists of ``n`` entries, one per image."""
    for key, value in given.items():
        if not isinstance(value, (list, tuple)) or len(value) != n:
            raise AugkitError(f"{key}: the images are a list of {n}; expected a list of {n} "
                              "entries, one per image")
    return [{k: v[i] for k, v in given.items()} for i in range(n)]


def call_with_keywords(transform: Any, named: dict[str, Any], params: Any,
                       options: TargetOptions) -> dict[str, Any]:
    """``t(image=..., mask=..., boxes=..., labels=..., keypoints=...)`` -> a dict."""
    unknown = [key for key in named if key not in KEYWORDS]
    if unknown:
        raise AugkitError(f"{unknown[0]}: not a target augkit knows; expected "
                          f"{', '.join(KEYWORDS)} (or the options {', '.join(OPTION_KEYS)})")
    if "image" not in named:
        raise AugkitError("image: missing; call t(image=img, mask=..., boxes=...)")
    given = {k: v for k, v in named.items() if k != "image"}
    out, written = run_call(transform, named["image"], given, params, options=options)
    return {"image": out, **(written or {})}


def call_with_target(transform: Any, img: Any, target: Any, params: Any,
                     options: TargetOptions) -> tuple[Any, Any]:
    """torchvision's ``t(img, target)`` -> ``(img, target)``; a batch or a list of images
    takes a list of target dicts, one per image."""
    if isinstance(target, dict) and "applied" in target:
        raise AugkitError("target: this looks like replay parameters; pass them by keyword, "
                          "t(img, params=t.last_params)")
    if isinstance(target, dict):
        if dispatch.is_image(img) and _is_batch(img):
            raise AugkitError("target: a batch takes a list of target dicts, one per image")
        return run_call(transform, img, target, params, options=options)
    if not isinstance(target, (list, tuple)) or not all(isinstance(t, dict) for t in target):
        raise AugkitTypeError("target: expected a dict (boxes, labels, masks, keypoints) or, "
                              f"for a batch, a list of them; got {type(target).__name__}")
    stacked = dispatch.is_image(img) and _is_batch(img)
    images = list(img) if stacked else img
    if not isinstance(images, list) or len(images) != len(target):
        raise AugkitError(f"target: {len(target)} target dicts for "
                          f"{len(images) if isinstance(images, list) else 'one'} images")
    keys = sorted({k for t in target for k in t})
    given = {k: [t.get(k) for t in target] for k in keys}
    outs, written = _run_list(transform, images, given, params, None, options)
    per_image = [{k: v[i] for k, v in written.items() if target[i].get(k) is not None
                  or k == "keypoints_visible"} for i in range(len(target))]
    if stacked:
        outs = np.stack(outs) if isinstance(img, np.ndarray) else torch.stack(outs)
    return outs, per_image


def _is_batch(img: Any) -> bool:
    return img.ndim == 4 if isinstance(img, (np.ndarray, torch.Tensor)) else False
