"""The domain feature net: a small CNN classifier whose penultimate layer gives the features
that FID, KID and precision/recall are computed on, and whose head assigns labels.

Inception weights cannot be fetched here, and Inception features judge 28-pixel digits
poorly anyway; a classifier trained on the reference dataset itself sees what matters there.
For MNIST the weights ship with augkit (made by ``scripts/train_feature_net.py``); for any
other dataset they are trained on first use and cached.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm import tqdm

from augkit.files import write_text_atomically

NET_VERSION = 1
WEIGHTS_DIR = Path(__file__).parent / "weights"


class FeatureNet(nn.Module):
    """Two conv blocks and a ``feature_dim`` embedding; ``features(x)`` is that embedding.

    >>> net = FeatureNet(in_channels=1, num_classes=10)
    >>> net.features(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)).shape
    torch.Size([2, 128])
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 32,
                 feature_dim: int = 128):
        super().__init__()
        self.config = {"in_channels": in_channels, "num_classes": num_classes, "width": width,
                       "feature_dim": feature_dim}

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                    nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(in_channels, width), *block(width, width), nn.MaxPool2d(2),  # H/2
            *block(width, 2 * width), *block(2 * width, 2 * width), nn.MaxPool2d(2),  # H/4
            nn.AdaptiveAvgPool2d(7),  # 7 x 7 whatever the input size (28 to 64 and more)
        )
        self.embed = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * 49, feature_dim),
                                   nn.ReLU(inplace=True))
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(feature_dim, num_classes))

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        """uint8 or [0, 1] float images to the net's input range [-1, 1]."""
        if images.dtype == torch.uint8:
            images = images.to(torch.float32) / 255.0
        return images.to(torch.float32) * 2.0 - 1.0

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.body(self.prepare(images)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


@dataclass(frozen=True)
class TrainSchedule:
    """A fixed training schedule: the same steps whatever the dataset size."""

    steps: int = 1500
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 5e-4
    seed: int = 0
    augment: bool = True


def _jitter(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    from augkit.transforms import RandomAffine

    jitter = RandomAffine(degrees=8, translate=(0.08, 0.08), scale=(0.9, 1.1))
    return jitter(batch, params=jitter.draw(batch.shape[0], generator))


def train_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                     schedule: TrainSchedule = TrainSchedule(), progress: bool = False,
                     desc: str = "train",
                     transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor]
                     | None = None) -> nn.Module:
    """Train ``model`` on uint8 ``images`` (N, C, H, W) with the fixed ``schedule``;
    ``transform(batch, generator)`` augments each batch (else ``schedule.augment`` jitters)."""
    if len(images) == 0:
        raise ValueError("images: no training images")
    generator = torch.Generator().manual_seed(schedule.seed)
    torch.manual_seed(schedule.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.lr,
                                  weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, schedule.lr,
                                                    total_steps=schedule.steps)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    order = torch.randperm(len(images), generator=generator)
    position = 0
    for _ in tqdm(range(schedule.steps), desc=desc, disable=not progress, unit="step"):
        if position + schedule.batch_size > len(order):
            order = torch.randperm(len(images), generator=generator)
            position = 0
        index = order[position:position + schedule.batch_size]
        position += schedule.batch_size
        batch = images[index]
        if transform is not None:
            batch = transform(batch, generator)
        elif schedule.augment:
            batch = _jitter(batch, generator)
        loss = loss_fn(model(batch), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
    model.eval()
    return model


@torch.no_grad()
def predict(model: FeatureNet, images: torch.Tensor, batch_size: int = 1000
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 features and predicted labels for uint8 ``images`` (N, C, H, W)."""
    model.eval()
    features, predictions = [], []
    for start in range(0, len(images), batch_size):
        feats = model.features(images[start:start + batch_size])
        features.append(feats.to(torch.float64))
        predictions.append(model.head(feats).argmax(dim=1))
    if not features:
        return torch.zeros(0, model.config["feature_dim"], dtype=torch.float64), \
            torch.zeros(0, dtype=torch.int64)
    return torch.cat(features), torch.cat(predictions)


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` on uint8 ``images``."""
    _, predicted = predict(model, images)
    return float((predicted == labels).to(torch.float64).mean())


def save_net(model: FeatureNet, path: Path, metadata: dict[str, Any]) -> None:
    """Weights as safetensors and ``metadata`` (with the net's config) as JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    meta = {"net_version": NET_VERSION, "config": model.config, **metadata}
    write_text_atomically(path.with_suffix(".json"), json.dumps(meta, indent=1) + "\n")


def load_net(path: Path) -> tuple[FeatureNet, dict[str, Any]]:
    """A net saved by ``save_net``; no code is ever executed from the file."""
    meta_path = path.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
        model = FeatureNet(**meta["config"])
        model.load_state_dict(load_file(str(path)))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"{path}: cannot load the feature net ({detail})") from None
    model.eval()
    return model, meta


def cache_dir() -> Path:
    """Where trained feature nets and real-data floors are cached (``$AUGKIT_CACHE``)."""
    return Path(os.environ.get("AUGKIT_CACHE", Path.home() / ".cache" / "augkit"))


def train_feature_net(train_images: torch.Tensor, train_labels: torch.Tensor,
                      num_classes: int, schedule: TrainSchedule | None = None,
                      progress: bool = True) -> FeatureNet:
    """A feature net trained with the documented schedule (about 3 epochs of MNIST)."""
    schedule = schedule or TrainSchedule()
    torch.manual_seed(schedule.seed)
    model = FeatureNet(train_images.shape[1], num_classes)
    return train_classifier(model, train_images, train_labels, schedule, progress,
                            desc="feature net")


def epochs(schedule: TrainSchedule, dataset_size: int) -> float:
    """How many passes over ``dataset_size`` images a schedule makes."""
    return schedule.steps * schedule.batch_size / max(dataset_size, 1)


__all__ = ["NET_VERSION", "FeatureNet", "TrainSchedule", "accuracy", "cache_dir", "epochs",
           "load_net", "predict", "save_net", "train_classifier", "train_feature_net"]
