"""Training configuration: one frozen dataclass with every default in one place.

Overrides are type-checked and unknown keys are errors; the resolved config goes into
``RUN/config.json`` and into every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from augkit.configs import check_types, option, to_dict
from augkit.devices import check_device_name
from augkit.errors import AugkitError
from augkit.gan.losses import LOSSES, check_loss
from augkit.gan.models import IMAGE_SIZES, INITS, MODELS

DEFAULT_LOSS = {"reference": "reference", "dcgan": "nsgan", "cdcgan": "hinge"}
# Settings that depend on the model, used where a config leaves them at None. The log gives
# none of these for its model; its first guess (lr 2e-4 both, batch 128, PyTorch's init) lets
# the discriminator saturate at once, while a generator 10x faster than the discriminator and
# DCGAN's small initial weights keep it learning (README). cdcgan's width 32 and batch 64 are
# the configuration the README's quality table measures.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "reference": {"batch_size": 64, "lr_g": 1e-3, "lr_d": 1e-4, "init": "dcgan", "width": 64,
                  "mode_seeking": 0.0, "aux_weight": 0.0},
    "dcgan": {"batch_size": 128, "lr_g": 2e-4, "lr_d": 2e-4, "init": "default", "width": 64,
              "mode_seeking": 0.0, "aux_weight": 0.0},
    # mode seeking 0.5 and class head 0.3: the README's cdcgan section says why
    "cdcgan": {"batch_size": 64, "lr_g": 2e-4, "lr_d": 2e-4, "init": "default", "width": 32,
               "mode_seeking": 0.5, "aux_weight": 0.3},
}
# keys whose 0 / 0.0 in a config written by augkit 0.1 meant "no limit" / "the data's size"
_LEGACY_NONE = ("max_steps", "max_minutes", "image_size", "batch_size", "lr_g", "lr_d")


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; None means the model's default or no limit."""

    model: str = option("cdcgan", "the GAN: the study log's reference model, dcgan, or the "
                        "class-conditional cdcgan", choices=MODELS)
    data: str = option("mnist", "'mnist' (bundled) or any dataset path augkit reads")
    image_size: int | None = option(None, "28, 32 or 64 (default: the data's own size)",
                                    choices=IMAGE_SIZES)
    epochs: int = option(5, "passes over the data")
    max_steps: int | None = option(None, "stop (and save) after this many batches "
                                   "(default: no limit)")
    max_minutes: float | None = option(None, "stop (and save) after this many minutes of "
                                       "training (default: no limit)")
    batch_size: int | None = option(None, "images per batch (default: 64 for reference and "
                                    "cdcgan, 128 for dcgan)")
    repeat: int = option(1, "passes over the data per epoch, for datasets of a few hundred "
                         "images")
    lr_g: float | None = option(None, "generator learning rate (default: 1e-3 for "
                                "reference, 2e-4 for the others)")
    lr_d: float | None = option(None, "discriminator learning rate (default: 1e-4 for "
                                "reference, 2e-4 for the others)")
    beta1: float = option(0.5, "Adam's beta1")
    beta2: float = option(0.999, "Adam's beta2")
    loss: str | None = option(None, "the loss (default: reference for reference, nsgan for "
                              "dcgan, hinge for cdcgan)", choices=LOSSES)
    z_dim: int = option(100, "length of the noise vector")
    width: int | None = option(None, "channel width of the DCGANs (default: 32 for cdcgan, "
                               "64 for dcgan)")
    spectral_norm: bool = option(True, "spectral norm on the discriminator")
    init: str | None = option(None, "weight initialisation: PyTorch's (default) or DCGAN's "
                              "N(0, 0.02) (dcgan; the default for reference)", choices=INITS)
    ema_decay: float = option(0.999, "decay of the EMA generator; 0 turns it off")
    diffaugment: bool = option(False, "DiffAugment (colour, translation, cutout) for D")
    gp_weight: float = option(10.0, "gradient penalty weight (wgan-gp)")
    mode_seeking: float | None = option(None, "weight of the mode-seeking term against "
                                        "collapse within a class (default: 0.5 for cdcgan, "
                                        "0 otherwise)")
    aux_weight: float | None = option(None, "weight of the discriminator's auxiliary class "
                                      "head, AC-GAN style (cdcgan only; default 0.3, 0 off)")
    seed: int = option(0, "random seed")
    device: str = option("cpu", "cpu, cuda or cuda:N")
    amp: bool = option(False, "mixed precision (CUDA)")
    log_every: int = option(50, "steps between rows of metrics.csv")
    policy: tuple[str, ...] = option(("color", "translation", "cutout"),
                                     "DiffAugment policies")

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise AugkitError(f"model: {self.model!r} is not allowed; expected one of "
                              f"{', '.join(MODELS)}")
        if self.loss is None:
            object.__setattr__(self, "loss", DEFAULT_LOSS[self.model])
        for name, value in MODEL_DEFAULTS[self.model].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.aux_weight > 0 and self.model != "cdcgan":
            raise AugkitError(f"aux_weight: the class head needs the conditional model, not "
                              f"{self.model!r}")
        self._check_values()

    def _check_values(self) -> None:
        check_loss(self.loss, self.model)
        if self.init not in INITS:
            raise AugkitError(f"init: {self.init!r} is not allowed; expected one of "
                              f"{', '.join(INITS)}")
        if self.image_size is not None and self.image_size not in IMAGE_SIZES:
            raise AugkitError(f"image_size: {self.image_size} is not allowed; expected one of "
                              f"{', '.join(map(str, IMAGE_SIZES))}")
        for name in ("epochs", "batch_size", "repeat", "z_dim", "width", "log_every",
                     "max_steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise AugkitError(f"{name}: {value} is not allowed; expected an integer >= 1")
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise AugkitError(f"max_minutes: {self.max_minutes} is not allowed; expected a "
                              "number of minutes > 0")
        for name in ("lr_g", "lr_d"):
            if not 0 < getattr(self, name) < 1:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected a "
                                  "learning rate in (0, 1)")
        for name in ("mode_seeking", "aux_weight"):
            if getattr(self, name) < 0:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected a "
                                  "weight >= 0")
        if self.mode_seeking > 0 and self.batch_size < 2:
            raise AugkitError("batch_size: mode seeking compares pairs of samples; use a "
                              "batch of at least 2 or mode_seeking=0")
        if not 0 <= self.ema_decay < 1:
            raise AugkitError(f"ema_decay: {self.ema_decay} is not allowed; expected [0, 1)")
        check_device_name(self.device)
        if self.amp and not self.device.startswith("cuda"):
            raise AugkitError("amp: mixed precision needs --device cuda")

    @classmethod
    def from_dict(cls, values: dict[str, Any], legacy: bool = False) -> TrainConfig:
        """Build from a dict (a config.json or overrides), checking names and types;
        ``legacy`` reads the 0 that configs of augkit 0.1 used for "no limit"."""
        if legacy:
            values = {k: None if k in _LEGACY_NONE and v == 0 else v
                      for k, v in values.items()}
            values = {k: None if k in ("mode_seeking", "aux_weight") and v == -1 else v
                      for k, v in values.items()}
        return cls(**check_types(cls, values))

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


__all__ = ["DEFAULT_LOSS", "LOSSES", "MODEL_DEFAULTS", "TrainConfig"]
