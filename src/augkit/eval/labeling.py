"""Labels for unlabeled images from a reference's classifier (the feature net's head)."""

from __future__ import annotations

import numpy as np

from augkit.data import to_nchw
from augkit.errors import AugkitError
from augkit.eval.features import probabilities
from augkit.eval.reference import load_reference


def label_with_classifier(images: np.ndarray, reference: str, min_confidence: float
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels from the reference's feature-net classifier; keeps the samples it is at least
    ``min_confidence`` sure of. Returns the kept images, their labels and confidences."""
    if not 0.0 <= min_confidence < 1.0:
        raise AugkitError(f"min_confidence: {min_confidence} is not allowed; expected [0, 1)")
    ref = load_reference(reference)
    batch = to_nchw(images)
    if tuple(batch.shape[1:]) != ref.image_shape:
        raise AugkitError(f"the classifier of {ref.name} takes {ref.image_shape} images, the "
                          f"samples are {tuple(batch.shape[1:])}")
    confidence, labels = probabilities(ref.feature_net(progress=False), batch).max(dim=1)
    keep = (confidence >= min_confidence).numpy()
    return images[keep], labels.numpy()[keep], confidence.numpy()[keep]


__all__ = ["label_with_classifier"]
