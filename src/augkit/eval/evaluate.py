"""``augkit evaluate``: every quality figure for a sample set, beside the real-data floor.

The floor is the same figures for as many real training images against the real test set;
it is what real data gets, so every number is read against it. Floors are cached.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from augkit.data import load_arrays, open_source
from augkit.eval.cas import CAS_SCHEDULE, classification_accuracy_score
from augkit.eval.features import NET_VERSION, TrainSchedule, cache_dir, predict
from augkit.eval.metrics import class_coverage, fid, kid, label_accuracy, precision_recall
from augkit.eval.reference import Reference, as_batch, load_reference

METRICS_VERSION = 1
MIN_SAMPLES = 256  # FID needs clearly more samples than the 128 feature dimensions


def load_samples(path: str | Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images (N, C, H, W) uint8 and labels (or None) from an npz, IDX or image folder."""
    source = open_source(path)
    if len(source) == 0:
        raise ValueError(f"{path}: no samples")
    images, labels = load_arrays(source)
    labels_t = torch.from_numpy(labels.astype(np.int64))
    if bool((labels_t < 0).all()):
        return as_batch(images), None
    if bool((labels_t < 0).any()):
        raise ValueError(f"{path}: some samples have labels and some do not")
    return as_batch(images), labels_t


def _check(images: torch.Tensor, labels: torch.Tensor | None, reference: Reference,
           where: str) -> None:
    if tuple(images.shape[1:]) != reference.image_shape:
        c, h, w = images.shape[1:]
        rc, rh, rw = reference.image_shape
        raise ValueError(f"{where}: samples are {h}x{w} with {c} channel(s); the reference "
                         f"{reference.name} has {rh}x{rw} with {rc} channel(s)")
    if len(images) < MIN_SAMPLES:
        raise ValueError(f"{where}: {len(images)} samples; the metrics need at least "
                         f"{MIN_SAMPLES} (10,000 is usual)")
    if labels is not None:
        bad = labels[(labels < 0) | (labels >= reference.num_classes)]
        if len(bad):
            raise ValueError(f"{where}: label {int(bad[0])} is out of range; the reference "
                             f"{reference.name} has classes 0..{reference.num_classes - 1}")


def _figures(images: torch.Tensor, labels: torch.Tensor | None, reference: Reference,
             real_features: torch.Tensor, cas: bool, kid_subsets: int, kid_subset_size: int,
             cas_schedule: TrainSchedule, progress: bool) -> dict[str, Any]:
    net = reference.feature_net(progress=progress)
    features, predicted = predict(net, images)
    # k-NN manifolds compare sets of equal size: draw as many samples as real images
    subset = torch.randperm(len(features), generator=torch.Generator().manual_seed(0))
    precision, recall = precision_recall(real_features, features[subset[:len(real_features)]])
    kid_mean, kid_std = kid(real_features, features, kid_subsets, kid_subset_size)
    out: dict[str, Any] = {
        "n": len(images),
        "fid": fid(real_features, features),
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "precision": precision,
        "recall": recall,
        "class_coverage": class_coverage(predicted, reference.num_classes),
        "label_accuracy": None if labels is None else label_accuracy(predicted, labels),
        "cas": None,
    }
    if cas and labels is not None:
        out["cas"] = classification_accuracy_score(images, labels, reference.test_images,
                                                   reference.test_labels,
                                                   reference.num_classes, cas_schedule,
                                                   progress)
    return out


def _floor(reference: Reference, n: int, real_features: torch.Tensor, cas: bool,
           kid_subsets: int, kid_subset_size: int, cas_schedule: TrainSchedule,
           progress: bool) -> dict[str, Any]:
    key = (f"{reference.key}-n{n}-cas{int(cas)}-k{kid_subsets}x{kid_subset_size}"
           f"-s{cas_schedule.steps}-net{NET_VERSION}-m{METRICS_VERSION}")
    path = cache_dir() / "floors" / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    order = torch.randperm(len(reference.train_images), generator=torch.Generator().manual_seed(1))
    chosen = order[:n]
    figures = _figures(reference.train_images[chosen], reference.train_labels[chosen],
                       reference, real_features, cas, kid_subsets, kid_subset_size,
                       cas_schedule, progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(figures, indent=1))
    os.replace(tmp, path)
    return figures


def evaluate(samples: str | Path | tuple[torch.Tensor, torch.Tensor | None],
             reference: str | Path | Reference = "mnist", cas: bool = False,
             kid_subsets: int = 100, kid_subset_size: int = 1000,
             cas_schedule: TrainSchedule = CAS_SCHEDULE, floor: bool = True,
             progress: bool = True) -> dict[str, Any]:
    """FID, KID, precision/recall, class coverage, label accuracy and (``cas=True``) CAS of
    ``samples`` against the reference's test split, with the real-data floor beside them."""
    start = time.perf_counter()
    ref = reference if isinstance(reference, Reference) else load_reference(reference)
    where = "samples" if isinstance(samples, tuple) else str(samples)
    images, labels = samples if isinstance(samples, tuple) else load_samples(samples)
    _check(images, labels, ref, where)
    real_features = ref.test_features(progress)
    result: dict[str, Any] = {
        "samples": where,
        "reference": ref.name,
        "samples_figures": _figures(images, labels, ref, real_features, cas, kid_subsets,
                                    kid_subset_size, cas_schedule, progress),
    }
    if floor:
        n = min(len(images), len(ref.train_images))
        result["real_floor"] = _floor(ref, n, real_features, cas and labels is not None,
                                      kid_subsets, kid_subset_size, cas_schedule, progress)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


ROWS = (("fid", "FID", "{:.2f}"), ("kid_mean", "KID", "{:.4g}"),
        ("precision", "precision", "{:.3f}"), ("recall", "recall", "{:.3f}"),
        ("class_coverage", "classes covered", "{}"),
        ("label_accuracy", "label accuracy", "{:.4f}"), ("cas", "CAS", "{:.4f}"))


def format_table(result: dict[str, Any]) -> str:
    """The figures as a small text table: samples beside the real floor."""
    floor = result.get("real_floor", {})
    lines = [f"{'':<16} {'samples':>10} {'real floor':>11}"]
    for key, label, fmt in ROWS:
        mine, real = result["samples_figures"].get(key), floor.get(key)
        lines.append(f"{label:<16} {'-' if mine is None else fmt.format(mine):>10} "
                     f"{'-' if real is None else fmt.format(real):>11}")
    lines.append(f"({result['samples_figures']['n']} samples against {result['reference']}'s "
                 f"test split; {result['seconds']} s)")
    return "\n".join(lines)
