"""Training configuration: one frozen dataclass with every default in one place.

Overrides are type-checked and unknown keys are errors; the resolved config goes into
``RUN/config.json`` and into every checkpoint.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

from augkit.gan.losses import LOSSES, check_loss
from augkit.gan.models import IMAGE_SIZES, INITS, MODELS

DEFAULT_LOSS = {"reference": "reference", "dcgan": "nsgan", "cdcgan": "hinge"}
# Settings that depend on the model, used where a config leaves them at 0 / "". The log gives
# none of these for its model; its first guess (lr 2e-4 both, batch 128, PyTorch's init) lets
# the discriminator saturate at once. A generator 10x faster than the discriminator and
# DCGAN's small initial weights keep it learning: digits after one epoch (README).
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "reference": {"batch_size": 64, "lr_g": 1e-3, "lr_d": 1e-4, "init": "dcgan"},
    "dcgan": {"batch_size": 128, "lr_g": 2e-4, "lr_d": 2e-4, "init": "default"},
    "cdcgan": {"batch_size": 128, "lr_g": 2e-4, "lr_d": 2e-4, "init": "default"},
}


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on."""

    model: str = "cdcgan"
    data: str = "mnist"
    image_size: int = 0            # 0: the dataset's own size
    epochs: int = 5
    max_steps: int = 0             # 0: no limit; else stop after this many batches
    max_minutes: float = 0.0       # 0: no limit; else stop (and save) after this long
    batch_size: int = 0            # 0: the model's default (MODEL_DEFAULTS)
    repeat: int = 1                # passes over the data per epoch (for datasets of a few
                                   # hundred images, so an epoch is more than a batch or two)
    lr_g: float = 0.0              # 0: the model's default
    lr_d: float = 0.0              # 0: the model's default
    beta1: float = 0.5
    beta2: float = 0.999
    loss: str = ""                 # "": the model's default
    z_dim: int = 100
    width: int = 64
    spectral_norm: bool = True
    init: str = ""                 # weight initialisation: default (PyTorch's) or dcgan;
                                   # "": the model's default
    ema_decay: float = 0.999       # 0 turns the EMA generator off
    diffaugment: bool = False
    gp_weight: float = 10.0
    mode_seeking: float = -1.0     # mode-seeking term's weight (Mao et al. 2019); -1: the
                                   # model's default (0.5 for cdcgan, against class collapse)
    aux_weight: float = -1.0       # auxiliary class head's weight (AC-GAN term); -1: the
                                   # model's default (0.3 for cdcgan), 0: off
    seed: int = 0
    device: str = "cpu"
    amp: bool = False
    log_every: int = 50
    policy: tuple[str, ...] = field(default=("color", "translation", "cutout"))

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model: {self.model!r} is not allowed; expected one of "
                             f"{', '.join(MODELS)}")
        if not self.loss:
            object.__setattr__(self, "loss", DEFAULT_LOSS[self.model])
        for name, value in MODEL_DEFAULTS[self.model].items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)
        if self.mode_seeking < 0:
            # 0.5: 1.0 also prevents collapse but leaves speckles (FID 30.7 against 11.2)
            object.__setattr__(self, "mode_seeking", 0.5 if self.model == "cdcgan" else 0.0)
        if self.aux_weight < 0:
            # 0.3: at 1.0 the head pulls every sample towards its class's most typical shape
            # (recall 0.72 against 0.79 at 0.3, CAS 0.976 against 0.980)
            object.__setattr__(self, "aux_weight", 0.3 if self.model == "cdcgan" else 0.0)
        elif self.aux_weight > 0 and self.model != "cdcgan":
            raise ValueError(f"aux_weight: the class head needs the conditional model, not "
                             f"{self.model!r}")
        check_loss(self.loss, self.model)
        if self.init not in INITS:
            raise ValueError(f"init: {self.init!r} is not allowed; expected one of "
                             f"{', '.join(INITS)}")
        if self.image_size and self.image_size not in IMAGE_SIZES:
            raise ValueError(f"image_size: {self.image_size} is not allowed; expected one of "
                             f"{', '.join(map(str, IMAGE_SIZES))}")
        for name in ("epochs", "batch_size", "repeat", "z_dim", "width", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: {getattr(self, name)} is not allowed; expected an "
                                 "integer >= 1")
        for name in ("lr_g", "lr_d"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name}: {getattr(self, name)} is not allowed; expected a "
                                 "learning rate in (0, 1)")
        if self.mode_seeking > 0 and self.batch_size < 2:
            raise ValueError("batch_size: mode seeking compares pairs of samples; use a batch "
                             "of at least 2 or --mode-seeking 0")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay: {self.ema_decay} is not allowed; expected [0, 1)")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ValueError(f"device: {self.device!r} is not allowed; expected cpu or cuda")
        if self.amp and not self.device.startswith("cuda"):
            raise ValueError("amp: mixed precision needs --device cuda")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a dict (a config.json or overrides), checking names and types."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"config: unknown key(s) {', '.join(unknown)}; known: "
                             f"{', '.join(known)}")
        checked = {}
        for name, value in values.items():
            default = getattr(cls, name) if name != "policy" else ()
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int):
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif isinstance(default, float):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = float(value) if ok else value
            elif isinstance(default, tuple):
                ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
                value = tuple(value) if ok else value
            else:
                ok = isinstance(value, str)
            if not ok:
                raise ValueError(f"config: {name}={value!r} has the wrong type; expected "
                                 f"{type(default).__name__}")
            checked[name] = value
        return cls(**checked)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["policy"] = list(self.policy)
        return values


__all__ = ["DEFAULT_LOSS", "LOSSES", "TrainConfig"]
