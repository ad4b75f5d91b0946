"""``augkit evaluate``: every quality figure for a sample set, beside the real-data floor.

The floor is the same figures for as many real training images against the real test set;
it is what real data gets, so every number is read against it (see ``floors``). Any two sets
can be compared: against an unlabeled reference the label figures are left out, and the
result's ``notes`` say what was left out and why.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from pathlib import Path
from typing import Any

import torch

from augkit.data import load_dataset
from augkit.devices import check_device
from augkit.errors import AugkitError
from augkit.eval.cas import CAS_SCHEDULE
from augkit.eval.extractors import Extractor, choose_features
from augkit.eval.features import TrainSchedule
from augkit.eval.floors import PR_K, Plan, figures, real_features, real_floor
from augkit.eval.reference import Reference, load_reference

MIN_SAMPLES = 2  # FID's covariance needs two images on each side
FEW_SAMPLES = 256  # below this FID and KID are mostly bias and noise: a warning


def load_samples(path: str | Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images (N, C, H, W) uint8 and labels (or None) from any dataset augkit reads."""
    data = load_dataset(path, what="the samples")
    return data.images, data.labels


def _check(images: torch.Tensor, labels: torch.Tensor | None, reference: Reference,
           where: str) -> None:
    if tuple(images.shape[1:]) != reference.image_shape:
        c, h, w = images.shape[1:]
        rc, rh, rw = reference.image_shape
        raise AugkitError(f"{where}: samples are {h}x{w} with {c} channel(s); the reference "
                          f"{reference.name} has {rh}x{rw} with {rc} channel(s)")
    if len(images) < MIN_SAMPLES:
        raise AugkitError(f"{where}: {len(images)} sample(s); FID and KID need at least "
                          f"{MIN_SAMPLES} (10,000 is usual)")
    if len(reference.test_images) < MIN_SAMPLES:
        raise AugkitError(f"{reference.name}: the reference's test split has "
                          f"{len(reference.test_images)} image(s); FID and KID need at least "
                          f"{MIN_SAMPLES}")
    if labels is not None and reference.labeled:
        bad = labels[(labels < 0) | (labels >= reference.num_classes)]
        if len(bad):
            raise AugkitError(f"{where}: label {int(bad[0])} is out of range; the reference "
                              f"{reference.name} has classes 0..{reference.num_classes - 1}")


def _size_notes(n_samples: int, n_real: int) -> list[str]:
    notes = []
    if n_samples < FEW_SAMPLES:
        notes.append(f"only {n_samples} samples: FID and KID are biased upward and uncertain "
                     "at this size; 10,000 is usual")
    if n_real < FEW_SAMPLES:
        notes.append(f"the reference's test split has only {n_real} images: FID and KID are "
                     "biased upward and uncertain at this size")
    if min(n_samples, n_real) <= PR_K:
        notes.append(f"precision and recall (k={PR_K}) need at least {PR_K + 1} images on each "
                     "side; left out")
    return notes


def _label_notes(reference: Reference, labels: torch.Tensor | None, extractor: Extractor,
                 cas: bool) -> list[str]:
    if not reference.labeled:
        return [f"label accuracy, class coverage and CAS need a labeled reference; "
                f"{reference.name} has no labels"]
    notes = []
    own = extractor.classes_of == reference.key
    if not own:
        notes.append("label accuracy and class coverage need the reference's own classifier "
                     f"(features='auto'); {extractor.name} has none for its classes")
    needing = [name for name, wanted in (("label accuracy", own), ("CAS", cas)) if wanted]
    if labels is None and needing:
        notes.append(f"{' and '.join(needing)} need{'s' if len(needing) == 1 else ''} "
                     "labeled samples")
    return notes


def _floor_or_note(reference: Reference, n_samples: int, has_labels: bool, real: torch.Tensor,
                   plan: Plan) -> tuple[dict[str, Any] | None, str | None]:
    n = min(n_samples, len(reference.train_images))
    if n < MIN_SAMPLES:
        return None, (f"no real floor: {reference.name} has no training split (one unlabeled "
                      "set is all test split)")
    plan = dataclasses.replace(plan, cas=plan.cas and has_labels)
    return real_floor(reference, n, real, plan), None


def evaluate(samples: str | Path | tuple[torch.Tensor, torch.Tensor | None],
             reference: str | Path | Reference = "mnist", cas: bool = False,
             kid_subsets: int = 100, kid_subset_size: int = 1000,
             cas_schedule: TrainSchedule = CAS_SCHEDULE, floor: bool = True,
             progress: bool = True, features: str | Path = "auto",
             device: str = "cpu") -> dict[str, Any]:
    """Every figure of ``samples`` against the reference's test split, beside the real floor.

    FID, KID, precision/recall, class coverage, label accuracy and (``cas=True``) CAS;
    ``features`` picks the feature extractor (see ``extractors``), ``device`` where the
    feature net and CAS run. ``notes`` says what was left out and why."""
    start = time.perf_counter()
    check_device(device)
    ref = reference if isinstance(reference, Reference) else load_reference(reference)
    where = "samples" if isinstance(samples, tuple) else str(samples)
    images, labels = samples if isinstance(samples, tuple) else load_samples(samples)
    _check(images, labels, ref, where)
    plan = Plan(choose_features(features, ref, device, progress), cas and ref.labeled,
                kid_subsets, kid_subset_size, cas_schedule, device, progress)
    size_notes = _size_notes(len(images), len(ref.test_images))
    for note in size_notes:
        warnings.warn(note, stacklevel=2)
    notes = size_notes + _label_notes(ref, labels, plan.extractor, cas)
    real = real_features(ref, plan)
    result: dict[str, Any] = {
        "samples": where,
        "reference": ref.name,
        "features": plan.extractor.name,
        "samples_figures": figures(images, labels, ref, real, plan),
    }
    if floor:
        real_figures, note = _floor_or_note(ref, len(images), labels is not None, real, plan)
        if real_figures is not None:
            result["real_floor"] = real_figures
        notes += [note] if note else []
    result["notes"] = notes
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


ROWS = (("fid", "FID", "{:.2f}"), ("kid_mean", "KID", "{:.4g}"),
        ("precision", "precision", "{:.3f}"), ("recall", "recall", "{:.3f}"),
        ("class_coverage", "classes covered", "{}"),
        ("label_accuracy", "label accuracy", "{:.4f}"), ("cas", "CAS", "{:.4f}"))


def _shown(value: Any, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def evaluation_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, samples, real floor) texts for each figure, "-" where it was left out."""
    mine, floor = result["samples_figures"], result.get("real_floor") or {}
    return [(label, _shown(mine.get(key), fmt), _shown(floor.get(key), fmt))
            for key, label, fmt in ROWS]


def format_table(result: dict[str, Any]) -> str:
    """The figures as a small text table: samples beside the real floor, then the notes."""
    lines = [f"{'':<16} {'samples':>10} {'real floor':>11}"]
    lines += [f"{label:<16} {mine:>10} {real:>11}"
              for label, mine, real in evaluation_rows(result)]
    features = f"; features: {result['features']}" if result.get("features") else ""
    lines.append(f"({result['samples_figures']['n']} samples against {result['reference']}'s "
                 f"test split{features}; {result['seconds']} s)")
    lines += [f"note: {note}" for note in result.get("notes", [])]
    return "\n".join(lines)


__all__ = ["FEW_SAMPLES", "MIN_SAMPLES", "ROWS", "evaluate", "evaluation_rows", "format_table",
           "load_samples"]
