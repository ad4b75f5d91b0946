"""Classification accuracy score: train a fixed classifier on samples alone, test on real data.

The classifier (a narrower FeatureNet) and its schedule are fixed, so scores are comparable
across sample sets, and the same protocol on real training data gives the floor to read them
against.
"""

from __future__ import annotations

import torch

from augkit.eval.features import FeatureNet, TrainSchedule, accuracy, train_classifier
from augkit.seeding import seeded

CAS_SCHEDULE = TrainSchedule(steps=1500, batch_size=128, lr=2e-3, seed=0, augment=False)


def small_classifier(in_channels: int, num_classes: int, seed: int) -> FeatureNet:
    """The narrower FeatureNet of CAS and of the study, initialised from ``seed``."""
    with seeded(seed):
        return FeatureNet(in_channels, num_classes, width=16, feature_dim=64)


def classification_accuracy_score(train_images: torch.Tensor, train_labels: torch.Tensor,
                                  test_images: torch.Tensor, test_labels: torch.Tensor,
                                  num_classes: int, schedule: TrainSchedule = CAS_SCHEDULE,
                                  progress: bool = False, device: str = "cpu") -> float:
    """Test accuracy of the fixed classifier trained on ``train_images`` only, on ``device``."""
    model = small_classifier(train_images.shape[1], num_classes, schedule.seed)
    train_classifier(model, train_images, train_labels, schedule, progress, desc="CAS",
                     device=device)
    return accuracy(model, test_images, test_labels)
