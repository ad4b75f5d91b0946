"""Semi-supervised learning from a few labels and an unlabeled pool: consistency training
(FixMatch) and semi-supervised GANs."""

from augkit.semi.consistency import ConsistencySchedule, pipeline_transform, train_consistency
from augkit.semi.ssl_gan import SSLGANSchedule, train_ssl_gan

__all__ = ["ConsistencySchedule", "SSLGANSchedule", "pipeline_transform", "train_consistency",
           "train_ssl_gan"]
