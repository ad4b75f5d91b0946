"""Generating labeled images from a trained run (its EMA generator when there is one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from augkit import checkpoint
from augkit.data import to_nhwc
from augkit.errors import AugkitError
from augkit.gan.config import TrainConfig
from augkit.gan.models import build_models
from augkit.gan.trainer import CHECKPOINT, images_from_model

MAX_ROUNDS = 50  # rejection-sampling rounds before giving up on a confidence threshold


def is_run(path: Any) -> bool:
    """Whether ``path`` is a training run folder (it holds a checkpoint)."""
    return isinstance(path, (str, Path)) and (Path(path) / f"{CHECKPOINT}.json").is_file()


def read_run(run: str | Path) -> tuple[dict[str, Any], TrainConfig]:
    """A run's checkpoint state and config, read (and checksummed) once."""
    meta = Path(run) / f"{CHECKPOINT}.json"
    if not meta.exists():
        raise AugkitError(f"{run}: not a training run (no {CHECKPOINT}.json)")
    state = checkpoint.load(meta)
    try:
        return state, TrainConfig.from_dict(state["config"], legacy=True)
    except (KeyError, TypeError) as error:
        raise AugkitError(f"{meta}: the checkpoint holds no valid config ({error})") from None


def _restored(run: str | Path, state: dict[str, Any], config: TrainConfig, part: str,
              device: str) -> nn.Module:
    """The run's generator (``part`` "g") or discriminator with its class head ("d")."""
    try:
        channels, size, _ = state["image_shape"]
        generator, discriminator = build_models(
            config.model, size, channels, state["num_classes"], config.z_dim, config.width,
            config.spectral_norm, classifier=part == "d" and config.aux_weight > 0)
        model = generator if part == "g" else discriminator
        model.load_state_dict(state["ema"] or state["g"] if part == "g" else state["d"])
    except (KeyError, TypeError, RuntimeError) as error:
        detail = str(error).splitlines()[0]
        raise AugkitError(f"{Path(run) / (CHECKPOINT + '.json')}: the checkpoint does not match "
                          f"its model ({detail})") from None
    return model.to(device).eval()


def load_generator(run: str | Path, device: str = "cpu",
                   loaded: tuple[dict[str, Any], TrainConfig] | None = None
                   ) -> tuple[nn.Module, TrainConfig, dict]:
    """The run's generator (EMA weights when saved) in eval mode, its config and metadata;
    ``loaded`` is what ``read_run`` returned, when the caller has it already."""
    state, config = loaded or read_run(run)
    generator = _restored(run, state, config, "g", device)
    return generator, config, {"num_classes": state["num_classes"], "step": state["step"],
                               "image_shape": tuple(state["image_shape"])}


def load_class_head(run: str | Path, device: str = "cpu",
                    loaded: tuple[dict[str, Any], TrainConfig] | None = None) -> nn.Module:
    """The run's discriminator, for its auxiliary class head (cdcgan with ``aux_weight``)."""
    state, config = loaded or read_run(run)
    if config.aux_weight <= 0:
        raise AugkitError(f"{run}: the run's discriminator has no class head to filter with "
                          "(trained with --aux-weight 0, or not a cdcgan)")
    return _restored(run, state, config, "d", device)


@torch.no_grad()
def generate(run: str | Path, n: int = 0, per_class: int = 0, seed: int = 0,
             batch_size: int = 500, device: str = "cpu", min_confidence: float = 0.0
             ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (or ``per_class`` of each class) as uint8 (N, H, W[, C]) and labels;
    a conditional model gets balanced labels, an unconditional one labels -1.

    ``min_confidence`` > 0 (conditional models with a class head) keeps drawing until every
    label has its count of images that the run's own discriminator head gives that label with
    at least this probability: rejection sampling on the model's own judgement."""
    loaded = read_run(run)
    generator, config, meta = load_generator(run, device, loaded)
    classes = meta["num_classes"] if generator.conditional else 0
    if per_class and not classes:
        raise AugkitError(f"{run}: --per-class needs a conditional model; {config.model} is not")
    if per_class < 0 or n < 0 or (not n and not per_class):
        raise AugkitError("n / per_class: give a positive number of samples")
    if not 0.0 <= min_confidence < 1.0:
        raise AugkitError(f"min_confidence: {min_confidence} is not allowed; expected [0, 1)")
    head = load_class_head(run, device, loaded) if min_confidence > 0 else None
    if classes:
        count = per_class * classes if per_class else n
        labels = torch.arange(count) % classes
        labels = labels[torch.argsort(labels, stable=True)] if per_class else labels
    else:
        labels = torch.full((n,), -1, dtype=torch.int64)
    rng = torch.Generator().manual_seed(seed)
    images = torch.empty(len(labels), *meta["image_shape"], dtype=torch.uint8)
    missing, rounds = torch.arange(len(labels)), 0
    while len(missing):
        if rounds == MAX_ROUNDS:
            raise AugkitError(f"min_confidence: after {MAX_ROUNDS} rounds {len(missing)} samples "
                              f"are still below {min_confidence}; ask for less")
        rejected = [missing[:0]]
        for start in range(0, len(missing), batch_size):
            index = missing[start:start + batch_size]
            chunk = labels[index].clamp(min=0).to(device)
            fake = generator(torch.randn(len(index), config.z_dim, generator=rng).to(device),
                             chunk)
            images[index] = images_from_model(fake).cpu()
            if head is not None:
                _, class_logits = head(fake, chunk, with_classes=True)
                confidence = torch.softmax(class_logits.float(), dim=1).gather(
                    1, chunk[:, None]).squeeze(1).cpu()
                rejected.append(index[confidence < min_confidence])
        missing, rounds = torch.cat(rejected), rounds + 1
    return to_nhwc(images), labels.numpy()
