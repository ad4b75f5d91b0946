"""``augkit study``: how much each kind of augmentation helps a classifier that has few labels.

For every amount of real labeled data (``labels_per_class``), every seed and every arm, the same
small classifier is trained with the same schedule and tested on the real test set:

- ``none``: the real labeled subset alone;
- ``classical``: the subset through an augmentation pipeline, drawn afresh for every batch;
- ``gan``: the subset plus samples of a conditional GAN trained on that subset alone;
- ``both``: the pipeline over real and synthetic images together.

Nothing outside the subset reaches the GAN or the classifier: the subset is written to its own
file, the GAN reads that file and nothing else, and the classifier gets the subset and the
GAN's samples. Each finished cell is a JSON file under ``STUDY/cells``, so a study that was
stopped picks up where it was.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from augkit.configs import option, to_dict
from augkit.data import load_dataset, to_nchw, to_nhwc, write_npz
from augkit.devices import check_device
from augkit.errors import AugkitError
from augkit.eval.cas import small_classifier
from augkit.eval.features import (
    FeatureNet,
    TrainSchedule,
    accuracy,
    load_net,
    probabilities,
    save_net,
    train_classifier,
)
from augkit.files import atomic_path, write_text_atomically
from augkit.progress import progress_bar
from augkit.seeding import derive_seed
from augkit.semi import (
    NO_ENTROPY_LABELS,
    ConsistencySchedule,
    SSLGANSchedule,
    pipeline_transform,
    save_generator_grid,
    train_consistency,
    train_ssl_gan,
)
from augkit.semi.consistency import check_pseudo_labeling
from augkit.transforms.presets import FEW_LABELS, VIEW_HELP, consistency_views

ARMS = ("none", "classical", "gan", "both", "consistency", "gan-ssl", "gan-pool",
        "consistency+gan-pool", "consistency+gan-ssl")
DEFAULT_ARMS = ("none", "classical", "gan", "both")
GAN_ARMS = ("gan", "both")
# the arms that learn from the unlabeled pool
POOL_ARMS = ("consistency", "gan-ssl", "gan-pool", "consistency+gan-pool",
             "consistency+gan-ssl")
GAN_POOL_ARMS = ("gan-pool", "consistency+gan-pool")  # a GAN on the pseudo-labeled pool
STUDY_VERSION = 1
_DEFAULT_STRONG = (f"strong (grayscale; strong-wide at {FEW_LABELS} labels per class or fewer) "
                   "or strong-photo (colour)")


@dataclass(frozen=True)
class StudyConfig:
    """Everything a study's numbers depend on; stored in ``STUDY/study.json``."""

    data: str = option("mnist", "'mnist' (bundled) or a labeled dataset path")
    test: str | None = option(None, "the labeled test set (default: the bundled MNIST test "
                              "split when data is mnist)")
    labels_per_class: tuple[int, ...] = option((10, 100, 1000), "labeled images per class, "
                                               "one study row each")
    arms: tuple[str, ...] = option(DEFAULT_ARMS, "the arms to compare, from "
                                   + ", ".join(ARMS)
                                   + " (the last five need --unlabeled)")
    seeds: int = option(3, "seeds per cell; each seed draws its own labeled subset")
    pipeline: str | None = option(None, "pipeline file (YAML/JSON) for the classical arms "
                                  "(default: the 'digits' preset: the study log's four "
                                  "photometric ops, then a small affine jitter)")
    classifier_steps: int = option(1000, "training steps of every arm's classifier "
                                   "(FeatureNet width 16)")
    classifier_batch: int = option(64, "classifier batch size")
    classifier_lr: float = option(2e-3, "classifier peak learning rate (one-cycle AdamW)")
    gan_steps: int = option(1200, "training steps of each subset's conditional GAN")
    gan_batch: int = option(64, "the GAN's batch size")
    gan_width: int = option(32, "the GAN's channel width")
    gan_mode_seeking: float | None = option(None, "the GAN's mode-seeking weight (default: "
                                            "the cdcgan default)")
    synthetic_per_real: int = option(10, "synthetic images per real image in the GAN arms")
    real_share: float = option(0.5, "share of real images in each classifier batch of the "
                               "GAN arms")
    min_confidence: float = option(0.9, "keep a synthetic image only when the subset's own "
                                   "classifier gives its label this probability; 0 keeps all")
    unlabeled: str | None = option(None, "an unlabeled pool for the pool arms: 'rest' (every "
                                   "training image outside the labeled subset), a number N "
                                   "(a seeded random N of those), or a dataset path (its "
                                   "labels, if any, are dropped)")
    consistency_steps: int = option(4000, "training steps of the consistency and "
                                    "consistency+gan-ssl arms")
    unlabeled_ratio: int = option(3, "pool images per labeled image in a consistency step "
                                  "(FixMatch's mu; the paper's 7 costs twice the time)")
    threshold: float = option(0.95, "confidence that turns a weak view's prediction into a "
                              "pseudo-label (FixMatch's tau)")
    ema_teacher_after: int = option(500, "step from which the EMA classifier gives the "
                                    "pseudo-labels (a mean teacher)")
    weak_view: str | None = option(None, VIEW_HELP["weak_view"])
    strong_view: str | None = option(None, VIEW_HELP["strong_view"])
    gan_ssl_steps: int = option(8000, "training steps of the gan-ssl arm (the classifier is "
                                "the discriminator of a GAN on the pool)")
    steps: int | None = option(None, "override every arm's training steps (classifier, GAN, "
                               "consistency, gan-ssl), for a quick look")

    def __post_init__(self) -> None:
        if self.steps is not None:
            if self.steps < 1:
                raise AugkitError(f"steps: {self.steps} is not allowed; expected an integer "
                                  ">= 1")
            for name in ("classifier_steps", "gan_steps", "consistency_steps", "gan_ssl_steps"):
                object.__setattr__(self, name, self.steps)
        self._check_pool()
        unknown = [arm for arm in self.arms if arm not in ARMS]
        if unknown or not self.arms:
            raise AugkitError(f"arms: {', '.join(unknown) or 'none given'} not allowed; "
                              f"expected some of {', '.join(ARMS)}")
        if not self.labels_per_class or min(self.labels_per_class) < 1:
            raise AugkitError(f"labels_per_class: {self.labels_per_class} is not allowed; "
                              "expected positive integers such as 10,100,1000")
        for name in ("seeds", "classifier_steps", "classifier_batch", "gan_steps", "gan_batch",
                     "gan_width"):
            if getattr(self, name) < 1:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected an "
                                  "integer >= 1")
        if self.synthetic_per_real < 0:
            raise AugkitError(f"synthetic_per_real: {self.synthetic_per_real} is not allowed; "
                              "expected >= 0")
        if not 0 < self.real_share <= 1:
            raise AugkitError(f"real_share: {self.real_share} is not allowed; expected (0, 1]")
        if not 0 <= self.min_confidence < 1:
            raise AugkitError(f"min_confidence: {self.min_confidence} is not allowed; "
                              "expected [0, 1)")
        if self.test is None and self.data.split(":")[0] != "mnist":
            raise AugkitError(f"test: {self.data} needs a test set (--test PATH); only the "
                              "bundled mnist has one built in")

    def _check_pool(self) -> None:
        pool_arms = [arm for arm in self.arms if arm in POOL_ARMS]
        if pool_arms and self.unlabeled is None:
            raise AugkitError(f"arms: {', '.join(pool_arms)} learn from an unlabeled pool; "
                              "give one with unlabeled=rest, a number or a path")
        if self.unlabeled is not None and self.unlabeled.isdigit() and int(self.unlabeled) < 1:
            raise AugkitError(f"unlabeled: {self.unlabeled} is not allowed; expected rest, a "
                              "number >= 1 or a dataset path")
        check_pseudo_labeling(self.threshold, self.ema_teacher_after)
        for name in ("consistency_steps", "unlabeled_ratio", "gan_ssl_steps"):
            if getattr(self, name) < 1:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected an "
                                  "integer >= 1")

    @property
    def test_spec(self) -> str:
        return self.test or "mnist:test"

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


# ---- data -------------------------------------------------------------------------------


def load_labeled(spec: str) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, C, H, W) and labels of a labeled dataset."""
    data = load_dataset(spec, labels="required", what="the study")
    return data.images, data.labels


def labeled_subset(labels: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Sorted indices of ``per_class`` images of every class, drawn with ``seed``; the same
    seed and size always give the same subset."""
    generator = torch.Generator().manual_seed(derive_seed(seed, per_class))
    chosen = []
    for cls in labels.unique().tolist():
        members = (labels == cls).nonzero().squeeze(1)
        if len(members) < per_class:
            raise AugkitError(f"labels_per_class: {per_class} asked, but class {cls} has only "
                              f"{len(members)} images")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.cat(chosen).sort().values


def load_pipeline(path: str) -> Any:
    from augkit.transforms import load
    from augkit.transforms.presets import digits

    return load(path) if path else digits()


def mix(real: tuple[torch.Tensor, torch.Tensor], synthetic: tuple[torch.Tensor, torch.Tensor],
        real_share: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and synthetic images in one training set, the real ones repeated so that a batch
    drawn from it holds about ``real_share`` real images."""
    n_real, n_synthetic = len(real[0]), len(synthetic[0])
    if n_synthetic == 0:
        return real
    repeats = max(1, round(real_share * n_synthetic / ((1 - real_share) * n_real))
                  if real_share < 1 else 1)
    return (torch.cat([real[0].repeat(repeats, 1, 1, 1), synthetic[0]]),
            torch.cat([real[1].repeat(repeats), synthetic[1]]))


# ---- the study --------------------------------------------------------------------------


class Study:
    """``Study(config, out).run()`` trains every missing cell and writes the results;
    ``device`` is where every model trains and is tested (not part of the config: a study
    may be continued on another device)."""

    def __init__(self, config: StudyConfig, out: str | Path, progress: bool = True,
                 device: str = "cpu"):
        self.device = check_device(device, "device")
        self.config, self.out, self.progress = config, Path(out), progress
        self.pipeline = load_pipeline(config.pipeline)
        self.train_images, self.train_labels = load_labeled(config.data)
        self.test_images, self.test_labels = load_labeled(config.test_spec)
        if self.test_images.shape[1:] != self.train_images.shape[1:]:
            raise AugkitError(f"{config.test_spec}: test images are "
                              f"{tuple(self.test_images.shape[1:])}, training images "
                              f"{tuple(self.train_images.shape[1:])}")
        # per amount of labels, since the default strong view depends on it; built here so
        # that a bad view is one line before any training
        self.views = {per_class: consistency_views(self.train_images.shape[1], config.weak_view,
                                                   config.strong_view, per_class)
                      for per_class in config.labels_per_class}
        self.num_classes = int(self.train_labels.max()) + 1
        smallest = int(torch.bincount(self.train_labels, minlength=self.num_classes).min())
        if max(config.labels_per_class) > smallest:
            raise AugkitError(f"labels_per_class: {max(config.labels_per_class)} asked, but the "
                              f"smallest class of {config.data} has {smallest} images")
        self.pool_source = self._check_unlabeled()
        self._check_folder()

    def _check_unlabeled(self) -> torch.Tensor | None:
        """The pool dataset of a PATH ``unlabeled`` (labels dropped); checks N against what is
        left outside the largest labeled subset. Nothing is written before this passes."""
        spec = self.config.unlabeled
        left = len(self.train_images) - max(self.config.labels_per_class) * self.num_classes
        if spec is None or spec == "rest":
            if spec == "rest" and left < 1:
                raise AugkitError("unlabeled: rest is empty; the labeled subset takes every "
                                  "training image")
            return None
        if spec.isdigit():
            if int(spec) > left:
                raise AugkitError(f"unlabeled: {spec} asked, but only {left} training images "
                                  "are left outside the largest labeled subset")
            return None
        pool = load_dataset(spec, labels="drop", what="the unlabeled pool").images
        if pool.shape[1:] != self.train_images.shape[1:]:
            c, h, w = pool.shape[1:]
            tc, th, tw = self.train_images.shape[1:]
            raise AugkitError(f"{spec}: the pool's images are {h}x{w} with {c} channel(s); the "
                              f"labeled images are {th}x{tw} with {tc}")
        return pool

    def _check_folder(self) -> None:
        meta = self.out / "study.json"
        mine = {"study_version": STUDY_VERSION, **self.config.to_dict()}
        if meta.exists():
            saved = json.loads(meta.read_text())
            different = sorted(k for k in mine if saved.get(k) != mine[k])
            # more seeds add cells and leave the ones made as they are
            more_seeds = different == ["seeds"] and mine["seeds"] > saved["seeds"]
            if different and not more_seeds:
                what = ", ".join(f"{k}={saved.get(k)!r} (now {mine[k]!r})" for k in different)
                raise AugkitError(f"{self.out}: holds a study with other settings: {what}; "
                                  "choose another folder (only --seeds may grow)")
        elif self.out.exists() and any(self.out.iterdir()):
            raise AugkitError(f"{self.out}: exists and is not a study folder; choose another")
        (self.out / "cells").mkdir(parents=True, exist_ok=True)
        write_text_atomically(meta, json.dumps(mine, indent=1) + "\n")

    def cells(self) -> list[tuple[int, int, str]]:
        cfg = self.config
        return [(k, seed, arm) for k in cfg.labels_per_class for seed in range(cfg.seeds)
                for arm in cfg.arms]

    def cell_path(self, per_class: int, seed: int, arm: str) -> Path:
        return self.out / "cells" / f"k{per_class}-s{seed}-{arm}.json"

    def run(self) -> dict[str, Any]:
        todo = [c for c in self.cells() if not self.cell_path(*c).exists()]
        bar = progress_bar(total=len(self.cells()), initial=len(self.cells()) - len(todo),
                           unit="cell", desc="study", disable=not self.progress)
        for per_class, seed, arm in todo:
            bar.set_postfix_str(f"{per_class}/class seed {seed} {arm}")
            self.run_cell(per_class, seed, arm)
            bar.update(1)
        bar.close()
        return self.write_results()

    # ---- one cell ----
    def subset(self, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = labeled_subset(self.train_labels, per_class, seed)
        return self.train_images[index], self.train_labels[index]

    def pool(self, per_class: int, seed: int) -> torch.Tensor:
        """The unlabeled pool of a subset, written once to its own file without labels and
        always read back from it, so that no label of the pool can reach a model."""
        path = self.out / "pools" / f"k{per_class}-s{seed}.npz"
        if not path.exists():
            if self.pool_source is not None:
                images = self.pool_source
            else:
                outside = torch.ones(len(self.train_images), dtype=torch.bool)
                outside[labeled_subset(self.train_labels, per_class, seed)] = False
                index = outside.nonzero().squeeze(1)
                if self.config.unlabeled != "rest":
                    generator = torch.Generator().manual_seed(derive_seed(seed, per_class, 1))
                    chosen = torch.randperm(len(index), generator=generator)
                    index = index[chosen[:int(self.config.unlabeled)]].sort().values
                images = self.train_images[index]
            write_npz(path, to_nhwc(images), None, overwrite=True)
        return load_dataset(path, labels="drop", what="the unlabeled pool").images

    def classifier_schedule(self, seed: int) -> TrainSchedule:
        cfg = self.config
        return TrainSchedule(steps=cfg.classifier_steps, batch_size=cfg.classifier_batch,
                             lr=cfg.classifier_lr, seed=seed, augment=False)

    def train_and_test(self, images: torch.Tensor, labels: torch.Tensor, seed: int,
                       augment: bool) -> tuple[float, FeatureNet]:
        model = small_classifier(images.shape[1], self.num_classes, seed)
        train_classifier(model, images, labels, self.classifier_schedule(seed),
                         transform=pipeline_transform(self.pipeline) if augment else None,
                         device=self.device)
        return accuracy(model, self.test_images, self.test_labels), model

    def run_cell(self, per_class: int, seed: int, arm: str) -> dict[str, Any]:
        started = time.perf_counter()
        real = self.subset(per_class, seed)
        if arm in POOL_ARMS:
            runner = {"consistency": self.consistency, "gan-ssl": self.gan_ssl,
                      "gan-pool": self.gan_pool,
                      "consistency+gan-pool": self.consistency_gan_pool,
                      "consistency+gan-ssl": self.consistency_gan_ssl}[arm]
            classifier, steps, images_seen, extra = runner(per_class, seed, real)
            score = accuracy(classifier, self.test_images, self.test_labels)
            save_net(classifier.cpu(), self.out / "classifiers" / f"k{per_class}-s{seed}-{arm}"
                     ".safetensors", {"arm": arm, "labels_per_class": per_class,
                                      "seed": seed, "test_accuracy": score})
            synthetic_count = 0
        else:
            synthetic = (self.synthetic(per_class, seed, real) if arm in GAN_ARMS
                         else (real[0][:0], real[1][:0]))
            images, labels = mix(real, synthetic, self.config.real_share)
            score, _ = self.train_and_test(images, labels, seed,
                                           augment=arm in ("classical", "both"))
            steps, images_seen = self.supervised_work(arm)
            synthetic_count, extra = len(synthetic[0]), {}
        cell = {"labels_per_class": per_class, "seed": seed, "arm": arm, "accuracy": score,
                "real": len(real[0]), "synthetic": synthetic_count, "steps": steps,
                "images_processed": images_seen,
                "seconds": round(time.perf_counter() - started, 1), **extra}
        write_text_atomically(self.cell_path(per_class, seed, arm), json.dumps(cell) + "\n")
        return cell

    def supervised_work(self, arm: str) -> tuple[int, int]:
        """Training steps and images processed by a cell of the supervised arms (a GAN arm
        counts its GAN and the classifier that filters its samples)."""
        cfg = self.config
        steps, images = cfg.classifier_steps, cfg.classifier_steps * cfg.classifier_batch
        if arm in GAN_ARMS:
            steps += cfg.gan_steps
            images += cfg.gan_steps * cfg.gan_batch
            if cfg.min_confidence > 0:
                steps += cfg.classifier_steps
                images += cfg.classifier_steps * cfg.classifier_batch
        return steps, images

    # ---- the pool arms ----
    def consistency(self, per_class: int, seed: int, real: tuple[torch.Tensor, torch.Tensor]
                    ) -> tuple[FeatureNet, int, int, dict[str, Any]]:
        """FixMatch on the subset and its pool: the classifier, steps, images processed
        (trained once per subset; the gan-pool arms label the pool with it)."""
        path = self.out / "labelers" / f"k{per_class}-s{seed}.safetensors"
        cfg = self.config
        per_step = cfg.classifier_batch * (1 + 2 * cfg.unlabeled_ratio)
        if path.exists():
            model, meta = load_net(path)
            return model.to(self.device), cfg.consistency_steps, \
                cfg.consistency_steps * per_step, meta["stats"]
        classifier, steps, images, stats = self.train_consistency(per_class, seed, real)
        save_net(classifier.cpu(), path, {"stats": stats})
        classifier.to(self.device)
        return classifier, steps, images, stats

    def consistency_gan_pool(self, per_class: int, seed: int,
                             real: tuple[torch.Tensor, torch.Tensor]
                             ) -> tuple[FeatureNet, int, int, dict[str, Any]]:
        """FixMatch whose labeled set is the subset plus the gan-pool arm's samples."""
        synthetic, steps, images = self.pool_synthetic(per_class, seed, real)
        labeled = (torch.cat([real[0], synthetic[0]]), torch.cat([real[1], synthetic[1]]))
        classifier, more_steps, more_images, stats = self.train_consistency(per_class, seed,
                                                                            labeled)
        return classifier, steps + more_steps, images + more_images, \
            {**stats, "synthetic": len(synthetic[0])}

    def train_consistency(self, per_class: int, seed: int,
                          real: tuple[torch.Tensor, torch.Tensor]
                          ) -> tuple[FeatureNet, int, int, dict[str, Any]]:
        cfg = self.config
        schedule = ConsistencySchedule(steps=cfg.consistency_steps,
                                       batch_size=cfg.classifier_batch,
                                       unlabeled_ratio=cfg.unlabeled_ratio,
                                       threshold=cfg.threshold,
                                       ema_teacher_after=cfg.ema_teacher_after,
                                       lr=cfg.classifier_lr, seed=seed)
        model = small_classifier(real[0].shape[1], self.num_classes, seed)
        classifier, stats = train_consistency(
            model, *real, self.pool(per_class, seed),
            pipeline_transform(self.views[per_class][0]),
            pipeline_transform(self.views[per_class][1]), schedule, progress=self.progress,
            device=self.device)
        per_step = cfg.classifier_batch * (1 + 2 * cfg.unlabeled_ratio)
        return classifier, schedule.steps, schedule.steps * per_step, stats

    def gan_pool(self, per_class: int, seed: int, real: tuple[torch.Tensor, torch.Tensor]
                 ) -> tuple[FeatureNet, int, int, dict[str, Any]]:
        """The classical arm's classifier on the subset plus samples of a conditional GAN
        trained on the subset and the pool labeled by the consistency classifier."""
        synthetic, steps, images = self.pool_synthetic(per_class, seed, real)
        mixed = mix(real, synthetic, self.config.real_share)
        _, classifier = self.train_and_test(*mixed, seed, augment=True)
        cfg = self.config
        return classifier, steps + cfg.classifier_steps, \
            images + cfg.classifier_steps * cfg.classifier_batch, \
            {"synthetic": len(synthetic[0])}

    def pool_synthetic(self, per_class: int, seed: int, real: tuple[torch.Tensor, torch.Tensor]
                       ) -> tuple[tuple[torch.Tensor, torch.Tensor], int, int]:
        """Samples of a cdcgan trained on the subset and the pseudo-labeled pool, kept when
        the labeler agrees; with the steps and images the labeler and the GAN took."""
        cfg, folder = self.config, self.out / "gans" / f"k{per_class}-s{seed}-pool"
        labeler, steps, images_seen, _ = self.consistency(per_class, seed, real)
        samples = folder / "synthetic.npz"
        if not samples.exists():
            pool = self.pool(per_class, seed)
            confidence, guess = probabilities(labeler, pool).max(dim=1)
            keep = confidence >= max(cfg.min_confidence, cfg.threshold)
            train = (torch.cat([real[0], pool[keep]]), torch.cat([real[1], guess[keep]]))
            run = self.train_gan(folder, train, seed)
            from augkit.gan.sample import generate

            images, labels = generate(run, per_class=cfg.synthetic_per_real * per_class,
                                      seed=seed, device=self.device)
            batch, labels_t = to_nchw(images), torch.from_numpy(labels)
            sure = probabilities(labeler, batch).gather(1, labels_t[:, None]).squeeze(1)
            chosen = sure >= cfg.min_confidence
            if not chosen.any():
                raise AugkitError(f"min_confidence: none of the {len(batch)} samples of the "
                                  f"pool GAN for {per_class} labels per class, seed {seed}, "
                                  f"reach {cfg.min_confidence}; start a study with a lower one")
            write_npz(samples, to_nhwc(batch[chosen]), labels_t[chosen].numpy(), overwrite=True)
        data = load_dataset(samples, labels="required")
        return (data.images, data.labels), steps + cfg.gan_steps, \
            images_seen + cfg.gan_steps * cfg.gan_batch

    def gan_ssl(self, per_class: int, seed: int, real: tuple[torch.Tensor, torch.Tensor],
                consistency: bool = False) -> tuple[FeatureNet, int, int, dict[str, Any]]:
        """The classifier as the discriminator of a GAN on the pool (Salimans et al.), with
        FixMatch's term on the pool as well when ``consistency``; writes a grid of its
        generator's images beside the cell."""
        cfg = self.config
        steps = cfg.consistency_steps if consistency else cfg.gan_ssl_steps
        schedule = SSLGANSchedule(steps=steps, batch_size=cfg.classifier_batch,
                                  consistency_weight=1.0 if consistency else 0.0,
                                  unlabeled_ratio=cfg.unlabeled_ratio, threshold=cfg.threshold,
                                  ema_teacher_after=cfg.ema_teacher_after,
                                  labels_per_class=per_class, seed=seed)
        model = small_classifier(real[0].shape[1], self.num_classes, seed)
        classifier, generator, losses = train_ssl_gan(
            model, *real, self.pool(per_class, seed),
            pipeline_transform(self.views[per_class][0]), schedule, progress=self.progress,
            device=self.device,
            strong=pipeline_transform(self.views[per_class][1]) if consistency else None)
        folder = "consistency+gan-ssl" if consistency else "gan-ssl"
        save_generator_grid(generator, self.out / folder / f"k{per_class}-s{seed}.png", seed)
        # labeled, pool and generated images in each step; strong and weak pool views besides
        per_step = cfg.classifier_batch * (3 + (2 * cfg.unlabeled_ratio if consistency else 0))
        return classifier, schedule.steps, schedule.steps * per_step, losses

    def consistency_gan_ssl(self, per_class: int, seed: int,
                            real: tuple[torch.Tensor, torch.Tensor]
                            ) -> tuple[FeatureNet, int, int, dict[str, Any]]:
        """gan-ssl whose classifier-discriminator also takes FixMatch's term on the pool."""
        return self.gan_ssl(per_class, seed, real, consistency=True)

    # ---- the GAN of one subset ----
    def gan_dir(self, per_class: int, seed: int) -> Path:
        return self.out / "gans" / f"k{per_class}-s{seed}"

    def synthetic(self, per_class: int, seed: int, real: tuple[torch.Tensor, torch.Tensor]
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """The GAN's samples for this subset (trained and generated once, then read back)."""
        cfg, folder = self.config, self.gan_dir(per_class, seed)
        samples = folder / "synthetic.npz"
        if not samples.exists():
            run = self.train_gan(folder, real, seed)
            from augkit.gan.sample import generate

            images, labels = generate(run, per_class=cfg.synthetic_per_real * per_class,
                                      seed=seed, device=self.device)
            batch, labels_t = to_nchw(images), torch.from_numpy(labels)
            if cfg.min_confidence > 0:
                batch, labels_t = self.filter_synthetic(per_class, seed, real, batch, labels_t)
            write_npz(samples, to_nhwc(batch), labels_t.numpy(), overwrite=True)
        data = load_dataset(samples, labels="required")
        return data.images, data.labels

    def train_gan(self, folder: Path, real: tuple[torch.Tensor, torch.Tensor],
                  seed: int) -> Path:
        """Train the conditional GAN on the subset file alone; resumes a stopped run."""
        from augkit.gan.config import TrainConfig
        from augkit.gan.trainer import CHECKPOINT, Trainer

        cfg = self.config
        folder.mkdir(parents=True, exist_ok=True)
        subset_file = folder / "subset.npz"
        write_npz(subset_file, to_nhwc(real[0]), real[1].numpy(), overwrite=True)
        batch = min(cfg.gan_batch, len(real[0]))
        # about 50 batches per epoch, so small subsets do not checkpoint every step
        repeat = max(1, math.ceil(50 * batch / len(real[0])))
        per_epoch = repeat * len(real[0]) // batch
        train = TrainConfig(model="cdcgan", data=str(subset_file), diffaugment=True,
                            batch_size=batch, repeat=repeat, width=cfg.gan_width,
                            max_steps=cfg.gan_steps, epochs=math.ceil(cfg.gan_steps / per_epoch),
                            mode_seeking=cfg.gan_mode_seeking, seed=seed, device=self.device)
        run = folder / "run"
        meta = run / f"{CHECKPOINT}.json"
        if meta.exists() and json.loads(meta.read_text()).get("step", 0) >= cfg.gan_steps:
            return run  # finished (possibly in a study folder since moved)
        resume = meta.exists()
        if run.exists() and not resume:  # stopped before its first checkpoint
            shutil.rmtree(run)
        Trainer(train, run, resume=resume, progress=self.progress).fit()
        return run

    def filter_synthetic(self, per_class: int, seed: int, real: tuple[torch.Tensor, torch.Tensor],
                         images: torch.Tensor, labels: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
        """Keep the samples that a classifier trained on the real subset alone (with the
        classical pipeline: the best one the subset gives) gives their label with at least
        ``min_confidence``."""
        _, model = self.train_and_test(*real, seed, augment=True)
        confidence = probabilities(model, images).gather(1, labels[:, None]).squeeze(1)
        keep = confidence >= self.config.min_confidence
        if not keep.any():
            raise AugkitError(f"min_confidence: none of the {len(images)} samples of the GAN "
                              f"for {per_class} labels per class, seed {seed}, reach "
                              f"{self.config.min_confidence}; start a study with a lower one")
        return images[keep], labels[keep]

    # ---- results ----
    def write_results(self) -> dict[str, Any]:
        cells = [json.loads(self.cell_path(*c).read_text()) for c in self.cells()]
        summary = summarize(cells)
        results = {"study_version": STUDY_VERSION, "config": self.config.to_dict(),
                   "num_classes": self.num_classes, "test_images": len(self.test_images),
                   "summary": summary, "cells": cells}
        write_text_atomically(self.out / "results.json", json.dumps(results, indent=1) + "\n")
        write_text_atomically(self.out / "results.md", results_markdown(results))
        plot(results, self.out / "study.png")
        return results


def summarize(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation (over seeds) of each (labels per class, arm)."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for cell in cells:
        groups.setdefault((cell["labels_per_class"], cell["arm"]), []).append(cell)
    rows = []
    for (per_class, arm), members in groups.items():
        scores = np.array([m["accuracy"] for m in members])
        rows.append({"labels_per_class": per_class, "arm": arm, "seeds": len(members),
                     "mean": float(scores.mean()),
                     "std": float(scores.std(ddof=1)) if len(scores) > 1 else 0.0,
                     "real": members[0]["real"],
                     "synthetic": float(np.mean([m["synthetic"] for m in members])),
                     "minutes": float(np.mean([m["seconds"] for m in members])) / 60,
                     "steps": int(np.mean([m.get("steps", 0) for m in members])),
                     "images_processed": int(np.mean([m.get("images_processed", 0)
                                                      for m in members]))})
    return rows


def results_table(results: dict[str, Any]
                  ) -> tuple[list[str], list[list[tuple[str, bool]]], list[str]]:
    """The study table: a header, rows of (test accuracy "mean ± std" in %, whether it is the
    row's best) and the notes that say how the numbers were made."""
    cfg = results["config"]
    arms = cfg["arms"]
    summary = {(r["labels_per_class"], r["arm"]): r for r in results["summary"]}
    rows = []
    for per_class in cfg["labels_per_class"]:
        best = max(summary[(per_class, arm)]["mean"] for arm in arms)
        row = [(str(per_class), False)]
        for arm in arms:
            cell = summary[(per_class, arm)]
            row.append((f"{100 * cell['mean']:.2f} ± {100 * cell['std']:.2f}",
                        cell["mean"] == best))
        rows.append(row)
    notes = [
        f"Test accuracy (%) on the {results['test_images']:,} real test images, mean ± std "
        f"over {cfg['seeds']} seed(s); each seed draws its own labeled subset.",
        f"Classifier: FeatureNet width 16, {cfg['classifier_steps']} steps of "
        f"{cfg['classifier_batch']}, the same in every cell.",
    ]
    if any(arm in POOL_ARMS for arm in arms):
        teacher = ("given by the moving classifier" if "ema_teacher_after" not in cfg else
                   f"given by the EMA classifier from step {cfg['ema_teacher_after']}")
        notes.append(
            f"Pool arms learn from an unlabeled pool ({cfg.get('unlabeled')}; no label of it "
            f"reaches a model). consistency: FixMatch, {cfg.get('consistency_steps')} steps, "
            f"{cfg.get('unlabeled_ratio')} pool images per labeled one, pseudo-labels at "
            f"confidence >= {cfg.get('threshold')} ({teacher}), the EMA classifier tested. "
            "gan-ssl: the "
            f"classifier is the discriminator of a GAN on the pool (K-logit form, feature "
            f"matching, input noise, entropy on the pool but at {NO_ENTROPY_LABELS} labels per "
            f"class or fewer), {cfg.get('gan_ssl_steps')} steps. "
            "consistency+gan-ssl: gan-ssl with FixMatch's term on the pool added to the "
            "classifier-discriminator's loss (and neither noise nor entropy), "
            f"{cfg.get('consistency_steps')} steps. Views: weak "
            f"{cfg.get('weak_view') or 'small-jitter (grayscale) or weak-photo (colour)'}, "
            f"strong {cfg.get('strong_view') or _DEFAULT_STRONG}.")
    if any(arm in GAN_POOL_ARMS for arm in arms):
        notes.append(
            "gan-pool: a cdcgan trained on the subset and the pool images the consistency "
            "classifier labels at confidence >= "
            f"{max(cfg['min_confidence'], cfg.get('threshold', 0)):.2f}, "
            f"{cfg['synthetic_per_real']} samples per real image kept when it agrees at "
            f"{cfg['min_confidence']:.2f}, then the classical arm's classifier on the subset "
            "and the samples. consistency+gan-pool: FixMatch with those samples as extra "
            "labeled images.")
    if any(arm in GAN_ARMS for arm in arms):
        notes.append(
            f"GAN arms: a cdcgan trained on the labeled subset alone ({cfg['gan_steps']} "
            f"steps, DiffAugment), {cfg['synthetic_per_real']} synthetic images per real one"
            + (f", kept when the subset's own classifier gives their label at least "
               f"{cfg['min_confidence']:.2f}" if cfg["min_confidence"] else "")
            + f"; real images are repeated to make about {100 * cfg['real_share']:.0f}% of "
              "each batch.")
    return ["labels per class", *arms], rows, notes


def work_table(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """What each cell cost: mean minutes, training steps and images processed per cell."""
    cfg = results["config"]
    summary = {(r["labels_per_class"], r["arm"]): r for r in results["summary"]}
    rows = []
    for per_class in cfg["labels_per_class"]:
        row = [str(per_class)]
        for arm in cfg["arms"]:
            cell = summary[(per_class, arm)]
            row.append(f"{cell.get('minutes', 0):.1f} min, {cell.get('steps', 0):,} steps, "
                       f"{cell.get('images_processed', 0):,} images")
        rows.append(row)
    return ["labels per class", *cfg["arms"]], rows


def results_markdown(results: dict[str, Any]) -> str:
    """The study table in Markdown, the best arm of each row in bold, then what each cell
    cost."""
    header, rows, notes = results_table(results)
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " --- |" * (len(header) - 1)]
    for row in rows:
        lines.append("| " + " | ".join(f"**{text}**" if best else text for text, best in row)
                     + " |")
    work_header, work_rows = work_table(results)
    work = ["Per cell (mean over seeds): minutes, training steps and images processed.", "",
            "| " + " | ".join(work_header) + " |",
            "| --- |" + " --- |" * (len(work_header) - 1)]
    work += ["| " + " | ".join(row) + " |" for row in work_rows]
    return "\n".join([*lines, "", *notes, "", *work]) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    """Accuracy against labels per class, one line per arm, with error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = results["config"]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for arm in cfg["arms"]:
        rows = sorted((r for r in results["summary"] if r["arm"] == arm),
                      key=lambda r: r["labels_per_class"])
        ax.errorbar([r["labels_per_class"] for r in rows], [100 * r["mean"] for r in rows],
                    yerr=[100 * r["std"] for r in rows], marker="o", capsize=3, label=arm)
    ax.set_xscale("log")
    ticks = sorted(cfg["labels_per_class"])
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("real labeled images per class")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("Augmentation study")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


__all__ = ["ARMS", "Study", "StudyConfig", "labeled_subset", "mix",
           "results_markdown", "results_table", "summarize"]
