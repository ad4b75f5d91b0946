"""Training a GAN: data, models, the D and G steps, logs, sample grids, checkpoints, resume.

Reads top to bottom: config, distributed set-up, data, models and optimizers, then the loop
(``_run_batch`` for one batch, ``_run_epoch`` for one epoch). Rank 0 alone logs and saves.
A checkpoint holds G, D, the EMA generator, the optimizers, the AMP scaler, the step and every
random-number state, so a resumed run continues exactly.
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import ConcatDataset, DataLoader, Dataset, DistributedSampler, TensorDataset

from augkit import checkpoint, dist
from augkit.data import load_dataset, to_nhwc
from augkit.errors import AugkitError
from augkit.files import atomic_path, write_text_atomically
from augkit.functional import resized_crop
from augkit.gan.config import TrainConfig
from augkit.gan.diffaug import diff_augment
from augkit.gan.ema import EMA
from augkit.gan.losses import (
    d_loss_fake,
    d_loss_real,
    g_loss,
    gradient_penalty,
    mode_seeking_penalty,
    paired_labels,
)
from augkit.gan.models import build_models, initialise
from augkit.progress import progress_bar
from augkit.seeding import derive_seed, seeded
from augkit.visualize import grid

CHECKPOINT = "checkpoint"
# config keys a resumed run may change: how long it trains and how often it logs
RESUMABLE_CHANGES = ("epochs", "max_steps", "max_minutes", "log_every")


class TrainingDiverged(AugkitError, RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def load_training_data(spec: str, image_size: int | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Images (N, C, H, W) uint8 (square, resized to ``image_size`` when given), labels (-1
    when unlabeled) and the class count (0 when unlabeled)."""
    data = load_dataset(spec, what="training")
    batch = data.images
    if batch.shape[1] == 4:
        raise AugkitError(f"{spec}: RGBA images are not supported for training; use gray or "
                          "RGB")
    if (image_size and batch.shape[-1] != image_size) or batch.shape[-2] != batch.shape[-1]:
        size = image_size or max(batch.shape[-2:])
        height, width = batch.shape[-2:]
        batch = torch.cat([resized_crop(batch[i:i + 4096], 0, 0, height, width, (size, size))
                           for i in range(0, len(batch), 4096)])
    labels = data.labels if data.labels is not None else torch.full((len(batch),), -1)
    return batch, labels, data.num_classes


def _to_model_range(images: torch.Tensor) -> torch.Tensor:
    return images.to(torch.float32) / 127.5 - 1.0


def images_from_model(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] to uint8."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


class Trainer:
    """``Trainer(config, run_dir).fit()`` trains; ``resume=True`` continues a run exactly."""

    def __init__(self, config: TrainConfig, run: str | Path, resume: bool = False,
                 progress: bool = True):
        self.config, self.run, self.progress = config, Path(run), progress
        self.dist = dist.init(config.device)
        self.device = torch.device(config.device if not config.device.startswith("cuda")
                                   else f"cuda:{self.dist.local_rank}")
        previous = self._previous_state(resume)

        self._build_data()
        self._build_models()
        self._build_rngs()
        self.step = self.epoch = self.batch_in_epoch = 0
        if previous is not None:
            self._restore(previous)
        if self.dist.is_main:
            self.run.mkdir(parents=True, exist_ok=True)
            (self.run / "samples").mkdir(exist_ok=True)
            write_text_atomically(self.run / "config.json",
                                  json.dumps(config.to_dict(), indent=1) + "\n")
            self._trim_csv()
        self.tensorboard = self._tensorboard()

    # ---- set-up ----
    def _build_data(self) -> None:
        config = self.config
        images, labels, num_classes = load_training_data(config.data, config.image_size)
        if config.model == "cdcgan" and num_classes == 0:
            raise AugkitError(f"{config.data}: the conditional model needs labels (class "
                              "sub-folders, an IDX labels file or 'labels' in the npz)")
        self.num_classes = max(num_classes, 1)
        self.image_shape = tuple(images.shape[1:])
        if config.model == "reference" and self.image_shape != (1, 28, 28):
            raise AugkitError(f"{config.data}: images are {self.image_shape[1]}x"
                              f"{self.image_shape[2]} with {self.image_shape[0]} channel(s); the "
                              "reference model takes 28x28 gray images")
        dataset: Dataset = TensorDataset(images, labels.clamp(min=0))
        if config.repeat > 1:
            dataset = ConcatDataset([dataset] * config.repeat)
        self.sampler = DistributedSampler(dataset, self.dist.world_size, self.dist.rank,
                                          shuffle=True, seed=config.seed, drop_last=True)
        self.loader = DataLoader(dataset, config.batch_size, sampler=self.sampler,
                                 drop_last=True)
        if len(self.loader) == 0:
            raise AugkitError(f"{config.data}: {len(images)} images are fewer than one batch of "
                              f"{config.batch_size} per process (a --repeat above 1 helps)")

    def _build_models(self) -> None:
        config = self.config
        with seeded(config.seed):
            self.g, self.d = build_models(config.model, self.image_shape[1],
                                          self.image_shape[0], self.num_classes, config.z_dim,
                                          config.width, config.spectral_norm,
                                          config.aux_weight > 0)
            initialise(self.g, config.init)
            initialise(self.d, config.init)
        self.g.to(self.device)
        self.d.to(self.device)
        self.ema = EMA(self.g, config.ema_decay) if config.ema_decay > 0 else None
        betas = (config.beta1, config.beta2)
        self.optimizers = {"g": torch.optim.Adam(self.g.parameters(), config.lr_g, betas=betas)}
        # the log's model steps D on real and on fake images with two optimizers of its own
        for name in (("d_real", "d_fake") if config.model == "reference" else ("d",)):
            self.optimizers[name] = torch.optim.Adam(self.d.parameters(), config.lr_d,
                                                     betas=betas)
        self.scaler = torch.amp.GradScaler("cuda", enabled=config.amp)
        self.g_net: nn.Module = self.g
        self.d_net: nn.Module = self.d
        if self.dist.enabled:
            ids = [self.dist.local_rank] if self.device.type == "cuda" else None
            self.g_net = DistributedDataParallel(self.g, device_ids=ids)
            self.d_net = DistributedDataParallel(self.d, device_ids=ids)

    def _build_rngs(self) -> None:
        """Noise and augmentation generators of this rank, and the fixed grid noise."""
        config = self.config
        rank = self.dist.rank  # each rank its own noise
        self.noise = torch.Generator().manual_seed(derive_seed(config.seed, rank, 1))
        self.augment_rng = torch.Generator().manual_seed(derive_seed(config.seed, rank, 2))
        rows = self.num_classes if self.g.conditional else 8
        fixed = torch.Generator().manual_seed(derive_seed(config.seed, 12345))
        self.fixed_noise = torch.randn(rows * 10 if self.g.conditional else 64, config.z_dim,
                                       generator=fixed)
        self.fixed_labels = (torch.arange(rows).repeat_interleave(10) if self.g.conditional
                             else torch.zeros(64, dtype=torch.int64))
        with seeded(derive_seed(config.seed, rank, 3)):  # the global stream while training
            self.global_rng_state = torch.get_rng_state()
        self.fit_started, self.fitting = time.perf_counter(), False

    # ---- run folder ----
    def _previous_state(self, resume: bool) -> dict[str, Any] | None:
        meta = self.run / f"{CHECKPOINT}.json"
        if not resume:
            if meta.exists() or (self.run / "config.json").exists():
                raise AugkitError(f"{self.run}: already holds a training run; pass --resume to "
                                  "continue it, or choose another folder")
            return None
        if not meta.exists():
            raise AugkitError(f"{self.run}: nothing to resume (no {CHECKPOINT}.json)")
        state = checkpoint.load(meta)
        try:
            saved = TrainConfig.from_dict(state.get("config", {}), legacy=True).to_dict()
        except (AugkitError, TypeError) as error:
            raise AugkitError(f"{meta}: the checkpoint holds no valid config ({error})") from None
        mine = self.config.to_dict()
        different = sorted(k for k in mine if k not in RESUMABLE_CHANGES
                           and saved.get(k) != mine[k])
        if different:
            what = ", ".join(f"{k}={saved.get(k)!r} (now {mine[k]!r})" for k in different)
            raise AugkitError(f"{self.run}: holds a checkpoint of another configuration: {what}")
        return state

    def _restore(self, state: dict[str, Any]) -> None:
        self.g.load_state_dict(state["g"])
        self.d.load_state_dict(state["d"])
        if self.ema is not None:
            self.ema.model.load_state_dict(state["ema"])
            self.ema.updates = state["step"]
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        self.scaler.load_state_dict(state["scaler"])
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch = state["batch_in_epoch"]
        rng = state["rng"]
        self.noise.set_state(rng["noise"][self.dist.rank])
        self.augment_rng.set_state(rng["augment"][self.dist.rank])
        self.global_rng_state = rng["torch"]

    def save(self) -> None:
        """Write a checkpoint (rank 0; the RNG states of every rank are gathered)."""
        noise, augment = self._gather_rng()
        if not self.dist.is_main:
            return
        state = {
            "config": self.config.to_dict(),
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "g": self.g.state_dict(), "d": self.d.state_dict(),
            "ema": self.ema.model.state_dict() if self.ema is not None else {},
            "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
            "scaler": self.scaler.state_dict(),
            "rng": {"noise": noise, "augment": augment,
                    "torch": torch.get_rng_state() if self.fitting else self.global_rng_state},
            "image_shape": list(self.image_shape), "num_classes": self.num_classes,
        }
        checkpoint.save(self.run, CHECKPOINT, self.step, state)

    def _gather_rng(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        mine = [self.noise.get_state(), self.augment_rng.get_state()]
        if not self.dist.enabled:
            return [mine[0]], [mine[1]]
        gathered: list[Any] = [None] * self.dist.world_size
        torch.distributed.all_gather_object(gathered, mine)
        return [g[0] for g in gathered], [g[1] for g in gathered]

    def _trim_csv(self) -> None:
        """Drop log rows past the checkpoint (written before a kill that saved nothing)."""
        path = self.run / "metrics.csv"
        if not path.exists():
            return
        with open(path) as f:
            rows = [row for row in csv.DictReader(f) if int(row["step"]) <= self.step]
        self._write_csv(rows, mode="w")

    def _write_csv(self, rows: list[dict[str, Any]], mode: str = "a") -> None:
        path = self.run / "metrics.csv"
        fields = ["step", "epoch", "d_loss", "g_loss", "images_per_s", "seconds"]
        new = mode == "w" or not path.exists()
        with open(path, mode if path.exists() else "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            if new:
                writer.writeheader()
            writer.writerows(rows)

    def _tensorboard(self) -> Any:
        if not self.dist.is_main:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            return None
        return SummaryWriter(str(self.run / "tensorboard"))

    # ---- the steps ----
    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, generator=self.noise).to(self.device)

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        if not self.config.diffaugment:
            return images
        return diff_augment(images, self.config.policy, self.augment_rng)

    def _backward(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)

    def _judge(self, images: torch.Tensor, labels: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """The discriminator's logits for augmented ``images`` and, with the class head, its
        cross-entropy against ``labels`` (zero without one)."""
        augmented = self._augment(images)
        if self.config.aux_weight <= 0:
            return self.d_net(augmented, labels), torch.zeros((), device=images.device)
        logits, classes = self.d_net(augmented, labels, with_classes=True)
        return logits, torch.nn.functional.cross_entropy(classes.float(), labels)

    def _run_batch(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        cfg, n = self.config, real.shape[0]
        real = _to_model_range(real.to(self.device))
        labels = labels.to(self.device)
        autocast = torch.autocast(self.device.type, enabled=cfg.amp)
        # D step
        with torch.no_grad(), autocast:
            fake = self.g_net(self._noise(n), labels)
        if cfg.model == "reference":
            with autocast:
                loss_real = d_loss_real(cfg.loss, self.d_net(self._augment(real), labels))
            self._backward(loss_real, self.optimizers["d_real"])
            with autocast:
                loss_fake = d_loss_fake(cfg.loss, self.d_net(self._augment(fake), labels))
            self._backward(loss_fake, self.optimizers["d_fake"])
            d_loss = loss_real.detach() + loss_fake.detach()
        else:
            optimizer = self.optimizers["d"]
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                real_logits, class_loss = self._judge(real, labels)
                d_loss = (d_loss_real(cfg.loss, real_logits) + cfg.aux_weight * class_loss
                          + d_loss_fake(cfg.loss, self.d_net(self._augment(fake), labels)))
                if cfg.loss == "wgan-gp":
                    d_loss = d_loss + cfg.gp_weight * gradient_penalty(
                        self.d_net, real, fake, labels, self.augment_rng)
            self.scaler.scale(d_loss).backward()
            self.scaler.step(optimizer)
            d_loss = d_loss.detach()
        # G step
        if cfg.mode_seeking > 0:  # one generator pass serves the pairs the term compares
            labels = paired_labels(labels)
        with autocast:
            z = self._noise(n)
            generated = self.g_net(z, labels)
            fake_logits, class_loss = self._judge(generated, labels)
            loss_g = g_loss(cfg.loss, fake_logits) + cfg.aux_weight * class_loss
            if cfg.mode_seeking > 0:
                loss_g = loss_g + cfg.mode_seeking * mode_seeking_penalty(generated, z)
        self._backward(loss_g, self.optimizers["g"])
        self.scaler.update()
        if self.ema is not None:
            self.ema.update(self.g)
        d_mean = dist.all_reduce_mean(d_loss, self.dist)
        g_mean = dist.all_reduce_mean(loss_g.detach(), self.dist)
        return {"d_loss": float(d_mean), "g_loss": float(g_mean)}

    def _run_epoch(self, epoch: int) -> bool:
        """One pass over the data; False when ``max_steps`` stopped it early."""
        self.sampler.set_epoch(epoch)
        bar = progress_bar(total=len(self.loader), initial=self.batch_in_epoch, unit="batch",
                           desc=f"epoch {epoch + 1}/{self.config.epochs}",
                           disable=not (self.progress and self.dist.is_main))
        started, seen = time.perf_counter(), 0
        for index, (real, labels) in enumerate(self.loader):
            if index < self.batch_in_epoch:  # batches a resumed run has done already
                continue
            losses = self._run_batch(real, labels)
            if not all(math.isfinite(v) for v in losses.values()):
                raise TrainingDiverged(
                    f"training diverged at step {self.step + 1} (d_loss={losses['d_loss']}, "
                    f"g_loss={losses['g_loss']}); the last good checkpoint is kept in "
                    f"{self.run / (CHECKPOINT + '.json')}")
            self.step += 1
            self.batch_in_epoch = index + 1
            seen += real.shape[0] * self.dist.world_size
            rate = seen / max(time.perf_counter() - started, 1e-9)
            bar.update(1)
            bar.set_postfix(d=f"{losses['d_loss']:.3f}", g=f"{losses['g_loss']:.3f}",
                            img_s=f"{rate:.0f}")
            stop = self._limit_reached()
            if self.step % self.config.log_every == 0 or index == len(self.loader) - 1 or stop:
                row = {"step": self.step, "epoch": epoch, **losses,
                       "images_per_s": round(rate, 1),
                       "seconds": round(time.perf_counter() - started, 2)}
                if self.dist.is_main:
                    self._write_csv([row])
                if self.tensorboard is not None:
                    for key, value in losses.items():
                        self.tensorboard.add_scalar(key, value, self.step)
            if stop:
                break
        bar.close()
        return self.batch_in_epoch == len(self.loader)

    @torch.no_grad()
    def sample_grid(self, name: str) -> Path:
        """A grid from the fixed noise (a row per class for the conditional model)."""
        model = self.ema.model if self.ema is not None else self.g
        was_training = model.training
        model.eval()
        images = images_from_model(model(self.fixed_noise.to(self.device),
                                         self.fixed_labels.to(self.device))).cpu()
        model.train(was_training)
        tiles = [Image.fromarray(image) for image in to_nhwc(images)]
        rows = [tiles[i:i + 10] if self.g.conditional else tiles[i:i + 8]
                for i in range(0, len(tiles), 10 if self.g.conditional else 8)]
        path = self.run / "samples" / f"{name}.png"
        picture = grid(rows, gap=2, scale=2 if images.shape[-1] < 48 else 1, background=40)
        with atomic_path(path) as tmp:
            picture.save(tmp, format="PNG")
        return path

    def _limit_reached(self) -> bool:
        """Whether ``max_steps`` or ``max_minutes`` says to stop now."""
        cfg = self.config
        return ((cfg.max_steps is not None and self.step >= cfg.max_steps)
                or (cfg.max_minutes is not None
                    and time.perf_counter() - self.fit_started >= 60 * cfg.max_minutes))

    def fit(self) -> None:
        """Train until ``epochs`` (or ``max_steps`` / ``max_minutes``); checkpoint every epoch,
        at a stop and on Ctrl-C. Torch's global random state is the run's own meanwhile, and
        the caller's afterwards."""
        self.fit_started = time.perf_counter()
        try:
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(self.global_rng_state)
                self.fitting = True
                try:
                    self._fit_epochs()
                finally:
                    self.global_rng_state = torch.get_rng_state()
                    self.fitting = False
        finally:
            if self.tensorboard is not None:
                self.tensorboard.close()
            dist.shutdown(self.dist)

    def _fit_epochs(self) -> None:
        try:
            while self.epoch < self.config.epochs and not self._limit_reached():
                finished = self._run_epoch(self.epoch)
                if finished:
                    self.epoch += 1
                    self.batch_in_epoch = 0
                if self.dist.is_main:
                    self.sample_grid(f"epoch_{self.epoch:03d}" if finished
                                     else f"step_{self.step:06d}")
                self.save()
                if not finished:
                    break
        except KeyboardInterrupt:
            self.save()
            raise
