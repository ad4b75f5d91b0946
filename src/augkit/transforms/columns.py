"""Transforms over batches of named columns, as Hugging Face ``datasets`` hands them out.

>>> from augkit.transforms import RandomHorizontalFlip, column_transform
>>> fn = column_transform(RandomHorizontalFlip(p=1.0))
>>> # dataset = dataset.with_transform(fn)   # each batch: {"image": [PIL, ...], ...}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from augkit.errors import AugkitError

_TARGETS = ("mask", "masks", "boxes", "keypoints", "labels")


def column_transform(transform: Any, image: str = "image", **targets: str
                     ) -> Callable[[dict[str, list[Any]]], dict[str, list[Any]]]:
    """A function for ``datasets.Dataset.with_transform`` / ``set_transform``: it takes a
    batch ``{column: [values]}``, transforms the images of column ``image`` (PIL images,
    arrays or tensors, each with its own parameters) and, named by keyword, their targets
    (``mask="label"``, ``boxes="objects_bbox"``, ...), and returns the batch with those
    columns replaced; other columns pass unchanged."""
    unknown = [key for key in targets if key not in _TARGETS]
    if unknown:
        raise AugkitError(f"{unknown[0]}: not a target; expected one of {', '.join(_TARGETS)}")

    def apply(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        missing = [c for c in (image, *targets.values()) if c not in batch]
        if missing:
            raise AugkitError(f"{missing[0]}: no such column in the batch; it has "
                              f"{', '.join(batch)}")
        out = dict(batch)
        if not targets:
            out[image] = transform(list(batch[image]))
            return out
        result = transform(image=list(batch[image]),
                           **{key: list(batch[column]) for key, column in targets.items()})
        out[image] = result["image"]
        for key, column in targets.items():
            out[column] = result[key]
        return out

    return apply
