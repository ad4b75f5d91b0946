"""The figures of one image set, and the real-data floor they are read against.

The floor is the same figures for as many real training images (a fixed draw) against the
real test split: what real data gets. Floors for the bundled MNIST at 10,000 and 60,000
images, with and without CAS, ship in ``weights/mnist_floors.json`` (made by
``scripts/train_feature_net.py --floors``, used only with the feature net they were made
with); other floors are computed on first use and cached under ``cache_dir()/floors``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from augkit.devices import check_device
from augkit.eval.cas import CAS_SCHEDULE, classification_accuracy_score
from augkit.eval.extractors import Extractor, choose_features
from augkit.eval.features import MNIST_NET, NET_VERSION, WEIGHTS_DIR, TrainSchedule
from augkit.eval.metrics import (
    class_coverage,
    fid,
    kid,
    kth_neighbour_radii,
    label_accuracy,
    precision_recall,
)
from augkit.eval.reference import Reference, load_reference
from augkit.files import cache_dir, sha256, write_text_atomically

METRICS_VERSION = 1
FLOORS_FILE = WEIGHTS_DIR / "mnist_floors.json"
PR_K = 3  # neighbours of the precision/recall manifolds


@dataclass(frozen=True)
class Plan:
    """How a set is measured: the feature extractor and the metric settings."""

    extractor: Extractor
    cas: bool = False
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    cas_schedule: TrainSchedule = CAS_SCHEDULE
    device: str = "cpu"
    progress: bool = True


def real_features(reference: Reference, plan: Plan) -> torch.Tensor:
    """Features of the reference's test split (computed once per extractor)."""
    return reference.cached_features(plan.extractor.key, lambda images: plan.extractor(images)[0])


def figures(images: torch.Tensor, labels: torch.Tensor | None, reference: Reference,
            real: torch.Tensor, plan: Plan) -> dict[str, Any]:
    """Every figure of ``images`` against the real test features ``real``, None if left out."""
    features, predicted = plan.extractor(images)
    own = (reference.labeled and predicted is not None
           and plan.extractor.classes_of == reference.key)
    precision = recall = None
    if min(len(real), len(features)) > PR_K:
        # k-NN manifolds compare sets of equal size: draw as many samples as real images
        subset = torch.randperm(len(features), generator=torch.Generator().manual_seed(0))
        radii = reference.cached_features(
            f"{plan.extractor.key}-radii-k{PR_K}",
            lambda _: kth_neighbour_radii(real.to(torch.float32), PR_K))
        precision, recall = precision_recall(real, features[subset[:len(real)]], k=PR_K,
                                             real_radii=radii)
    kid_mean, kid_std = kid(real, features, plan.kid_subsets, plan.kid_subset_size)
    out: dict[str, Any] = {
        "n": len(images),
        "fid": fid(real, features),
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "precision": precision,
        "recall": recall,
        "class_coverage": class_coverage(predicted, reference.num_classes) if own else None,
        "label_accuracy": (label_accuracy(predicted, labels)
                           if own and labels is not None else None),
        "cas": None,
    }
    if plan.cas and labels is not None and reference.labeled:
        out["cas"] = classification_accuracy_score(
            images, labels, reference.test_images, reference.test_labels, reference.num_classes,
            plan.cas_schedule, plan.progress, plan.device)
    return out


def floor_key(reference_key: str, n: int, cas: bool, kid_subsets: int = 100,
              kid_subset_size: int = 1000, cas_steps: int = CAS_SCHEDULE.steps,
              features_key: str | None = None) -> str:
    """The name a floor is cached and shipped under (``features_key``: not the own net's)."""
    key = (f"{reference_key}-n{n}-cas{int(cas)}-k{kid_subsets}x{kid_subset_size}"
           f"-s{cas_steps}-net{NET_VERSION}-m{METRICS_VERSION}")
    return key if features_key in (None, reference_key) else f"{key}-f{features_key}"


def _key(reference: Reference, n: int, plan: Plan) -> str:
    return floor_key(reference.key, n, plan.cas, plan.kid_subsets, plan.kid_subset_size,
                     plan.cas_schedule.steps, plan.extractor.key)


@functools.cache
def shipped_floors() -> dict[str, dict[str, Any]]:
    """The floors that ship with augkit, by key; none if made with another feature net."""
    if not FLOORS_FILE.exists():
        return {}
    data = json.loads(FLOORS_FILE.read_text())
    if data.get("feature_net_sha256") != sha256(MNIST_NET):
        return {}
    return data["floors"]


def _compute(reference: Reference, n: int, real: torch.Tensor, plan: Plan) -> dict[str, Any]:
    order = torch.randperm(len(reference.train_images), generator=torch.Generator().manual_seed(1))
    chosen = order[:n]
    labels = None if reference.train_labels is None else reference.train_labels[chosen]
    return figures(reference.train_images[chosen], labels, reference, real, plan)


def real_floor(reference: Reference, n: int, real: torch.Tensor, plan: Plan) -> dict[str, Any]:
    """The floor for ``n`` images: shipped, else cached, else computed (and cached)."""
    key = _key(reference, n, plan)
    if key in shipped_floors():
        return dict(shipped_floors()[key])
    path = cache_dir() / "floors" / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    out = _compute(reference, n, real, plan)
    write_text_atomically(path, json.dumps(out, indent=1))
    return out


def compute_floor(reference: str | Path | Reference = "mnist", n: int = 10000,
                  cas: bool = False, features: str | Path = "auto", kid_subsets: int = 100,
                  kid_subset_size: int = 1000, cas_schedule: TrainSchedule = CAS_SCHEDULE,
                  device: str = "cpu", progress: bool = True) -> tuple[str, dict[str, Any]]:
    """The key and figures of the real floor for ``n`` images, computed afresh (no cache)."""
    check_device(device)
    ref = reference if isinstance(reference, Reference) else load_reference(reference)
    n = min(n, len(ref.train_images))
    plan = Plan(choose_features(features, ref, device, progress), cas and ref.labeled,
                kid_subsets, kid_subset_size, cas_schedule, device, progress)
    return _key(ref, n, plan), _compute(ref, n, real_features(ref, plan), plan)


__all__ = ["FLOORS_FILE", "METRICS_VERSION", "PR_K", "Plan", "compute_floor", "figures",
           "floor_key", "real_features", "real_floor", "shipped_floors"]
