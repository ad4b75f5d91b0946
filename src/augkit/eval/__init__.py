"""Measuring synthetic data: a domain feature net, FID, KID, precision/recall, coverage, CAS."""

from augkit.eval.cas import CAS_SCHEDULE, classification_accuracy_score
from augkit.eval.evaluate import evaluate, format_table, load_samples
from augkit.eval.features import FeatureNet, TrainSchedule, load_net, predict
from augkit.eval.metrics import class_coverage, fid, kid, label_accuracy, precision_recall
from augkit.eval.reference import Reference, load_reference

__all__ = [
    "CAS_SCHEDULE",
    "FeatureNet",
    "Reference",
    "TrainSchedule",
    "class_coverage",
    "classification_accuracy_score",
    "evaluate",
    "fid",
    "format_table",
    "kid",
    "label_accuracy",
    "load_net",
    "load_reference",
    "load_samples",
    "precision_recall",
    "predict",
]
