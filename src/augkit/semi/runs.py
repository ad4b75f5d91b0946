"""Semi-supervised training outside the study: ``augkit train --data LABELED --unlabeled POOL``.

A run folder holds ``semi.json`` (the settings), ``checkpoints/`` (everything needed to
continue exactly: weights, optimizer moments, schedules, the EMA, batch order and random
states), ``metrics.csv`` and, after each invocation, ``classifier.safetensors`` (the EMA
classifier, for ``augkit classify`` or ``augkit.eval.features.load_net``); a ``gan-ssl``
run also writes ``samples.png``, a grid of its generator's images.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from augkit import checkpoint
from augkit.configs import option
from augkit.data import load_dataset
from augkit.errors import AugkitError
from augkit.eval.cas import small_classifier
from augkit.eval.features import save_net
from augkit.files import write_text_atomically
from augkit.semi.consistency import (
    ConsistencySchedule,
    ConsistencyTraining,
    check_pool,
    check_pseudo_labeling,
    pipeline_transform,
)
from augkit.semi.ssl_gan import SSLGANSchedule, SSLGANTraining, save_generator_grid
from augkit.semi.training import Training
from augkit.transforms.presets import VIEW_HELP, consistency_views
from augkit.transforms.serialization import from_dict

SEMI_MODELS = ("consistency", "gan-ssl", "consistency+gan-ssl")
DEFAULT_STEPS = 4000
DEFAULT_LR = {"consistency": 2e-3, "gan-ssl": 1e-3, "consistency+gan-ssl": 1e-3}
RUN_FILE, CHECKPOINT = "semi.json", "semi"
FORMAT = "augkit-semi-run-1"


@dataclass(frozen=True)
class SemiConfig:
    """A semi-supervised run: the model, its data and its schedule."""

    semi: str = option("consistency", "the semi-supervised model: consistency (FixMatch), "
                       "gan-ssl (the classifier as a GAN's discriminator) or both at once "
                       "(consistency+gan-ssl)", choices=SEMI_MODELS)
    data: str = option("mnist", "the labeled images")
    unlabeled: str = option("", "the unlabeled pool: any dataset augkit reads (its labels, if "
                            "any, are dropped)")
    steps: int | None = option(None, "training steps (default: 4000)")
    batch_size: int = option(64, "labeled images per step")
    unlabeled_ratio: int = option(3, "pool images per labeled image in a consistency step")
    threshold: float = option(0.95, "confidence that makes a pseudo-label (consistency)")
    ema_teacher_after: int = option(500, "step from which the EMA classifier gives the "
                                    "pseudo-labels (consistency)")
    weak_view: str | None = option(None, VIEW_HELP["weak_view"])
    strong_view: str | None = option(None, VIEW_HELP["strong_view"])
    lr: float | None = option(None, "peak learning rate (default: 2e-3 for consistency, 1e-3 "
                              "for gan-ssl)")
    seed: int = option(0, "random seed")
    checkpoint_every: int = option(250, "steps between checkpoints")

    def __post_init__(self) -> None:
        if self.semi not in SEMI_MODELS:
            raise AugkitError(f"semi: {self.semi!r} is not allowed; expected one of "
                              f"{', '.join(SEMI_MODELS)}")
        if not self.unlabeled:
            raise AugkitError("unlabeled: a semi-supervised run needs an unlabeled pool")
        for name in ("batch_size", "unlabeled_ratio", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected an "
                                  "integer >= 1")
        if self.steps is not None and self.steps < 1:
            raise AugkitError(f"steps: {self.steps} is not allowed; expected an integer >= 1")
        check_pseudo_labeling(self.threshold, self.ema_teacher_after)

    @property
    def total_steps(self) -> int:
        return self.steps if self.steps is not None else DEFAULT_STEPS


class SemiRun:
    """``SemiRun(config, run_dir).fit()`` trains; ``resume=True`` continues exactly."""

    def __init__(self, config: SemiConfig, run: str | Path, resume: bool = False,
                 progress: bool = True):
        self.config, self.run, self.progress = config, Path(run), progress
        previous = self._previous_config(resume)
        labeled = load_dataset(config.data, labels="required", what="the labeled images")
        pool = load_dataset(config.unlabeled, labels="drop", what="the unlabeled pool")
        check_pool(labeled.images, pool.images, "a semi-supervised run")
        self.num_classes = labeled.num_classes
        self.views = consistency_views(labeled.images.shape[1], config.weak_view,
                                       config.strong_view,
                                       len(labeled.labels) / self.num_classes)
        if previous is not None:
            self._resume_views()
        self.training = self._build(labeled.images, labeled.labels, pool.images,
                                    self._stored_entropy() if previous is not None else None)
        if previous is not None:
            self.training.load_state_dict(checkpoint.load(
                self.run / "checkpoints" / f"{CHECKPOINT}.json")["training"])
        self.rows: list[str] = []

    def _previous_config(self, resume: bool) -> SemiConfig | None:
        run_file = self.run / RUN_FILE
        if self.run.exists() and not self.run.is_dir():
            raise AugkitError(f"{self.run}: exists and is not a folder; expected a run folder")
        if not resume:
            if self.run.exists() and any(self.run.iterdir()):
                raise AugkitError(f"{self.run}: is not empty; pass --resume to continue the run "
                                  "in it, or give a new folder")
            return None
        if not run_file.is_file():
            raise AugkitError(f"{self.run}: nothing to resume (no {RUN_FILE})")
        stored = json.loads(run_file.read_text())
        if stored.get("format") != FORMAT:
            raise AugkitError(f"{run_file}: not a semi-supervised run")
        before = SemiConfig(**stored["config"])
        if replace(before, checkpoint_every=self.config.checkpoint_every) != self.config:
            changed = [k for k, v in asdict(self.config).items() if asdict(before)[k] != v]
            raise AugkitError(f"{self.run}: was started with other settings ({', '.join(changed)}"
                              "); a resumed run takes the same ones")
        return before

    def _view_specs(self) -> dict[str, Any]:
        """The two views as stored in ``semi.json`` (JSON's lists, not tuples)."""
        return json.loads(json.dumps({"weak": self.views[0].to_dict(),
                                      "strong": self.views[1].to_dict()}))

    def _resume_views(self) -> None:
        """A resumed run takes the views it started with: a default view is the pipeline
        stored then (defaults may change between versions); a named one must still be that
        pipeline, since a view file edited in between would change the run silently."""
        stored = json.loads((self.run / RUN_FILE).read_text()).get("views")
        if stored is None:  # a run from before views were stored
            return
        names = ("weak", "strong")
        named = [getattr(self.config, f"{name}_view") is not None for name in names]
        now = self._view_specs()
        changed = [name for name, given in zip(names, named, strict=True)
                   if given and stored[name] != now[name]]
        if changed:
            raise AugkitError(f"{self.run}: the {' and '.join(changed)} view differs from the "
                              "one the run started with (a pipeline file changed?); a resumed "
                              "run takes the same views")
        weak, strong = (view if given else from_dict(stored[name])
                        for view, name, given in zip(self.views, names, named, strict=True))
        self.views = (weak, strong)

    def _stored_entropy(self) -> float | None:
        """The entropy weight a resumed GAN run started with; a run from before it was
        stored started with the old default (1 for the GAN alone), whatever its labels."""
        if self.config.semi != "gan-ssl":
            return None
        return json.loads((self.run / RUN_FILE).read_text()).get("entropy_weight", 1.0)

    def _build(self, images: Any, labels: Any, pool: Any,
               entropy_weight: float | None = None) -> Training:
        cfg = self.config
        model = small_classifier(images.shape[1], self.num_classes, cfg.seed)
        lr = cfg.lr if cfg.lr is not None else DEFAULT_LR[cfg.semi]
        weak_view, strong_view = self.views
        weak = pipeline_transform(weak_view)
        if cfg.semi == "consistency":
            schedule = ConsistencySchedule(steps=cfg.total_steps, batch_size=cfg.batch_size,
                                           unlabeled_ratio=cfg.unlabeled_ratio,
                                           threshold=cfg.threshold,
                                           ema_teacher_after=cfg.ema_teacher_after, lr=lr,
                                           seed=cfg.seed)
            return ConsistencyTraining(model, images, labels, pool, weak,
                                       pipeline_transform(strong_view), schedule)
        both = cfg.semi == "consistency+gan-ssl"
        schedule = SSLGANSchedule(steps=cfg.total_steps, batch_size=cfg.batch_size, lr=lr,
                                  consistency_weight=1.0 if both else 0.0,
                                  unlabeled_ratio=cfg.unlabeled_ratio, threshold=cfg.threshold,
                                  ema_teacher_after=cfg.ema_teacher_after,
                                  entropy_weight=entropy_weight,
                                  labels_per_class=len(labels) / self.num_classes, seed=cfg.seed)
        return SSLGANTraining(model, images, labels, pool, weak, schedule,
                              strong=pipeline_transform(strong_view) if both else None)

    def fit(self, until: int | None = None, max_minutes: float | None = None) -> int:
        """Train to step ``until`` (default: the end) or for ``max_minutes``, checkpointing on
        the way and at the stop; exports the classifier. Returns the step reached."""
        self.run.mkdir(parents=True, exist_ok=True)
        settings = {"format": FORMAT, "config": asdict(self.config), "views": self._view_specs()}
        schedule = getattr(self.training, "schedule", None)
        if isinstance(schedule, SSLGANSchedule):
            settings["entropy_weight"] = schedule.entropy_weight
        write_text_atomically(self.run / RUN_FILE, json.dumps(settings, indent=1) + "\n")
        started = time.monotonic()

        def after_step(training: Training, numbers: dict[str, float]) -> None:
            self.rows.append(",".join([str(training.step)] + [f"{numbers[k]:.6g}"
                                                              for k in sorted(numbers)]))
            if training.step % self.config.checkpoint_every == 0:
                self.save()
            if max_minutes is not None and time.monotonic() - started > 60 * max_minutes:
                raise _Stop

        with contextlib.suppress(_Stop):
            self.training.run(until, self.progress, after_step)
        self.save()
        self.export()
        return self.training.step

    def save(self) -> None:
        """A checkpoint of the training now, and the metrics rows since the last one."""
        metrics = self.run / "metrics.csv"
        if self.rows:
            header = "" if metrics.exists() else "step," + ",".join(
                sorted(self._columns())) + "\n"
            with metrics.open("a") as f:
                f.write(header + "\n".join(self.rows) + "\n")
            self.rows = []
        checkpoint.save(self.run / "checkpoints", CHECKPOINT, self.training.step,
                        {"training": self.training.state_dict()})

    def _columns(self) -> list[str]:
        return {"consistency": ["loss", "pseudo_labeled"], "gan-ssl": ["d_loss", "g_loss"],
                "consistency+gan-ssl": ["d_loss", "g_loss", "pseudo_labeled"]}[self.config.semi]

    def export(self) -> Path:
        """The EMA classifier as ``classifier.safetensors`` (and the generator's grid)."""
        result = self.training.result()
        path = self.run / "classifier.safetensors"
        save_net(result[0], path, {"semi": self.config.semi, "step": self.training.step,
                                   "num_classes": self.num_classes})
        if self.config.semi != "consistency":
            save_generator_grid(result[1], self.run / "samples.png", self.config.seed)
        return path


class _Stop(Exception):
    """Raised inside the loop when the time budget is spent."""


__all__ = ["SEMI_MODELS", "SemiConfig", "SemiRun"]
