"""Semi-supervised learning from a few labels and an unlabeled pool: consistency training
(FixMatch) and semi-supervised GANs."""

from augkit.semi.consistency import ConsistencySchedule, pipeline_transform, train_consistency

__all__ = ["ConsistencySchedule", "pipeline_transform", "train_consistency"]
