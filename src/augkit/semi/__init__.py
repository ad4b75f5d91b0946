"""Semi-supervised learning from a few labels and an unlabeled pool: consistency training
(FixMatch) and semi-supervised GANs."""

from augkit.semi.consistency import (
    ConsistencySchedule,
    ConsistencyTraining,
    pipeline_transform,
    train_consistency,
)
from augkit.semi.ssl_gan import (
    NO_ENTROPY_LABELS,
    SSLGANSchedule,
    SSLGANTraining,
    save_generator_grid,
    train_ssl_gan,
)

__all__ = ["NO_ENTROPY_LABELS", "ConsistencySchedule", "ConsistencyTraining", "SSLGANSchedule",
           "SSLGANTraining", "pipeline_transform", "save_generator_grid", "train_consistency",
           "train_ssl_gan"]
