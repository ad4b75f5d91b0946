"""The domain feature net: a small CNN classifier whose penultimate layer gives the features
that FID, KID and precision/recall are computed on, and whose head assigns labels.

Inception weights cannot be fetched here, and Inception features judge 28-pixel digits
poorly anyway; a classifier trained on the reference dataset itself sees what matters there.
For MNIST the weights ship with augkit (made by ``scripts/train_feature_net.py``); for any
other dataset they are trained on first use and cached.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from augkit.errors import AugkitError
from augkit.files import atomic_path, write_text_atomically
from augkit.progress import progress_bar
from augkit.seeding import seeded
from augkit.transforms.presets import small_jitter

NET_VERSION = 1
WEIGHTS_DIR = Path(__file__).parent / "weights"
MNIST_NET = WEIGHTS_DIR / "mnist_feature_net.safetensors"


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
        # channels-last convolutions train and predict about 1.4x faster on CPU
        self.to(memory_format=torch.channels_last)

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        """uint8 or [0, 1] float images to the net's input range [-1, 1]."""
        if images.dtype == torch.uint8:
            images = images.to(torch.float32) / 255.0
        images = images.to(torch.float32) * 2.0 - 1.0
        return images.contiguous(memory_format=torch.channels_last) if images.ndim == 4 \
            else images

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
    jitter = small_jitter()
    return jitter(batch, params=jitter.draw(batch.shape[0], generator))


def train_classifier(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                     schedule: TrainSchedule = TrainSchedule(), progress: bool = False,
                     desc: str = "train",
                     transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor]
                     | None = None, device: str = "cpu") -> nn.Module:
    """Train ``model`` on uint8 ``images`` (N, C, H, W) with the fixed ``schedule`` on
    ``device``; ``transform(batch, generator)`` augments each batch (else
    ``schedule.augment`` jitters). The model is left on ``device``."""
    if len(images) == 0:
        raise AugkitError("images: no training images")
    generator = torch.Generator().manual_seed(schedule.seed)
    model.to(device)
    # dropout draws from the global generator (the device's one off the CPU)
    with keep_device_rng(device), seeded(schedule.seed):
        _fit(model, images, labels, schedule, generator, progress, desc, transform, device)
    model.eval()
    return model


def keep_device_rng(device: str) -> contextlib.AbstractContextManager:
    """Give a CUDA device's random state back after the block (``seeded`` keeps the CPU's)."""
    if str(device).startswith("cuda"):
        return torch.random.fork_rng(devices=[torch.device(device).index or 0])
    return contextlib.nullcontext()


def _fit(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, schedule: TrainSchedule,
         generator: torch.Generator, progress: bool, desc: str,
         transform: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None,
         device: str) -> None:
    optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.lr,
                                  weight_decay=schedule.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, schedule.lr,
                                                    total_steps=schedule.steps)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    order = torch.randperm(len(images), generator=generator)
    position = 0
    for _ in progress_bar(range(schedule.steps), desc=desc, disable=not progress, unit="step"):
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
        loss = loss_fn(model(batch.to(device)), labels[index].to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()


def model_device(model: nn.Module) -> torch.device:
    """The device ``model``'s weights are on."""
    weights = next(model.parameters(), None)
    return torch.device("cpu") if weights is None else weights.device


@torch.no_grad()
def predict(model: FeatureNet, images: torch.Tensor, batch_size: int = 1000
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 features and predicted labels for uint8 ``images`` (N, C, H, W), on the CPU;
    the batches run on the model's device."""
    model.eval()
    device = model_device(model)
    features, predictions = [], []
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].to(device)
        feats = model.features(batch)
        features.append(feats.cpu().to(torch.float64))
        predictions.append(model.head(feats).argmax(dim=1).cpu())
    if not features:
        return torch.zeros(0, model.config["feature_dim"], dtype=torch.float64), \
            torch.zeros(0, dtype=torch.int64)
    return torch.cat(features), torch.cat(predictions)


@torch.no_grad()
def probabilities(model: nn.Module, images: torch.Tensor, batch_size: int = 1000
                  ) -> torch.Tensor:
    """Softmax class probabilities (N, K) of ``model`` for uint8 ``images``, in batches on the
    model's device; returned on the CPU."""
    model.eval()
    if len(images) == 0:
        return torch.zeros(0, model.config["num_classes"])
    device = model_device(model)
    return torch.cat([torch.softmax(model(images[i:i + batch_size].to(device)).float(),
                                    dim=1).cpu()
                      for i in range(0, len(images), batch_size)])


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` on uint8 ``images``."""
    _, predicted = predict(model, images)
    return float((predicted == labels).to(torch.float64).mean())


def save_net(model: FeatureNet, path: Path, metadata: dict[str, Any]) -> None:
    """Weights as safetensors and ``metadata`` (with the net's config) as JSON, atomically."""
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    meta = {"net_version": NET_VERSION, "config": model.config, **metadata}
    write_text_atomically(path.with_suffix(".json"), json.dumps(meta, indent=1) + "\n")


def load_net(path: Path) -> tuple[FeatureNet, dict[str, Any]]:
    """A net saved by ``save_net``; no code is ever executed from the file."""
    meta_path = path.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
        with seeded(0):  # the throwaway initial weights must not use the caller's generator
            model = FeatureNet(**meta["config"])
        model.load_state_dict(load_file(str(path)))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise AugkitError(f"{path}: cannot load the feature net ({detail})") from None
    model.eval()
    return model, meta


def train_feature_net(train_images: torch.Tensor, train_labels: torch.Tensor,
                      num_classes: int, schedule: TrainSchedule | None = None,
                      progress: bool = True) -> FeatureNet:
    """A feature net trained with the documented schedule (about 3 epochs of MNIST)."""
    schedule = schedule or TrainSchedule()
    with seeded(schedule.seed):
        model = FeatureNet(train_images.shape[1], num_classes)
    return train_classifier(model, train_images, train_labels, schedule, progress,
                            desc="feature net")


def epochs(schedule: TrainSchedule, dataset_size: int) -> float:
    """How many passes over ``dataset_size`` images a schedule makes."""
    return schedule.steps * schedule.batch_size / max(dataset_size, 1)


__all__ = ["MNIST_NET", "NET_VERSION", "FeatureNet", "TrainSchedule", "accuracy", "epochs",
           "keep_device_rng", "load_net", "model_device", "predict", "probabilities", "save_net",
           "train_classifier", "train_feature_net"]
