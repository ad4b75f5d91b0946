"""Measuring synthetic data: a domain feature net, FID, KID, precision/recall, coverage, CAS."""

from augkit.eval.cas import CAS_SCHEDULE, classification_accuracy_score
from augkit.eval.evaluate import evaluate, evaluation_rows, format_table, load_samples
from augkit.eval.extractors import Extractor, choose_features, inception_extractor
from augkit.eval.features import FeatureNet, TrainSchedule, load_net, predict
from augkit.eval.floors import compute_floor, floor_key, shipped_floors
from augkit.eval.metrics import class_coverage, fid, kid, label_accuracy, precision_recall
from augkit.eval.reference import Reference, load_reference

__all__ = [
    "CAS_SCHEDULE",
    "Extractor",
    "FeatureNet",
    "Reference",
    "TrainSchedule",
    "choose_features",
    "class_coverage",
    "classification_accuracy_score",
    "compute_floor",
    "evaluate",
    "evaluation_rows",
    "fid",
    "floor_key",
    "format_table",
    "inception_extractor",
    "kid",
    "label_accuracy",
    "load_net",
    "load_reference",
    "load_samples",
    "precision_recall",
    "predict",
    "shipped_floors",
]
