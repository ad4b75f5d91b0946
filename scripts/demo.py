"""The main job on the bundled data, end to end, through the same commands a user runs:

1. augment MNIST digits and photos with the study log's pipeline (before/after grids, and
   ``augkit augment`` on 2,000 digits);
2. train the conditional GAN briefly (``augkit train``);
3. generate a labeled synthetic set (``augkit generate``) and evaluate it beside real data
   (``augkit evaluate``);
4. run a small augmentation study (``augkit study``);
5. write one self-contained HTML report (``augkit report``).

The demo fits a total time budget (``--budget-minutes``, default 8; installation is not
part of it). It first times a few classifier and GAN steps (a few seconds), then splits the
budget between the stages and sizes each one from that measurement: the GAN's minutes, the
number of samples and whether CAS runs, the study's GAN and classifier steps. It prints the
measured speed, each stage as it starts, and a table of budgets, seconds and sizes at the end.
``--full`` (``make demo FULL=1``) uses the full-length settings instead (15 minutes of GAN
training, the study at 10 and 100 labels per class with 3 seeds), about an hour on 2 CPU
cores. Rerunning keeps a trained GAN and continues a stopped study with its own sizes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch

from augkit.augment import augment_dataset
from augkit.cli import main as augkit
from augkit.data import load_mnist, load_photos, to_nchw, write_npz
from augkit.eval.cas import CAS_SCHEDULE, small_classifier
from augkit.eval.features import MNIST_NET, TrainSchedule, load_net, predict, train_classifier
from augkit.eval.floors import floor_key, shipped_floors
from augkit.files import cache_dir
from augkit.gan.config import TrainConfig
from augkit.gan.sample import generate
from augkit.gan.trainer import Trainer
from augkit.semi import pipeline_transform
from augkit.study import StudyConfig
from augkit.transforms import Compose, RandomEnhance, save
from augkit.transforms.presets import digits
from augkit.visualize import before_after

# Shares of the total budget; what is left over is margin. Each stage gets its share of the
# time still left when it starts, so a stage that ends early leaves more to the later ones
# (the warm-up takes most of its share only on a fresh install, where numba compiles).
SHARES = {"warm-up": 10, "measure": 3, "augment": 3, "train": 27, "evaluate": 14, "study": 38,
          "report": 1}
MARGIN = 4
TEST_IMAGES = 10_000  # the MNIST test split every evaluation and study cell runs over
SAMPLE_OPTIONS = (10_000, 5_000, 2_000)  # generated samples, most preferred first
CLASSIFIER_FLOOR, GAN_FLOOR = 200, 200  # study steps below which its numbers mean little
GAN_MIN_SECONDS = 30.0
ARMS = "none,classical,gan,both"  # the cells study_seconds counts
STUDY = {"labels_per_class": (10,), "seeds": 1}
FULL = {"gan_minutes": 15.0, "samples": 10_000, "labels_per_class": (10, 100), "seeds": 3}
# Costs not timed at start, from the probes' units (measured on 2 CPU cores): KID and
# precision/recall over a feature-net pass, the study's width-16 classifier against the
# width-32 feature net, and the fixed work of a command (loading data, models, saving).
METRIC_FIXED, METRIC_PER_SAMPLE = 0.2, 0.45
SMALL_NET = 1 / 3
COMMAND_GAN_STEPS = 10


@dataclass(frozen=True)
class Speed:
    """Seconds per unit of the work the stages are made of."""

    classifier: float      # a study classifier step, batch 64
    classifier_aug: float  # the same through the digits pipeline
    gan: float             # a step of the study's GAN (cdcgan width 32, batch 64, DiffAugment)
    generate: float        # an image from the generator
    features: float        # an image through the MNIST feature net
    threads: int = 1

    def slower(self, factor: float) -> Speed:
        return replace(self, **{f.name: getattr(self, f.name) * factor
                                for f in fields(self) if f.name != "threads"})

    def describe(self) -> str:
        return (f"classifier {self.classifier:.3f} s/step (batch 64), "
                f"{self.classifier_aug:.3f} with the digits pipeline; GAN {self.gan:.3f} s/step; "
                f"generator {1000 * self.generate:.2f} ms/image; feature net "
                f"{1000 * self.features:.2f} ms/image; torch threads {self.threads}")


# ---- measuring the machine ----------------------------------------------------------------


def _classifier_seconds(images: torch.Tensor, labels: torch.Tensor, steps: int,
                        augment: bool = False) -> float:
    model = small_classifier(1, 10, 0)
    schedule = TrainSchedule(steps=steps, batch_size=64, augment=False)
    started = time.perf_counter()
    train_classifier(model, images, labels, schedule,
                     transform=pipeline_transform(digits()) if augment else None)
    return (time.perf_counter() - started) / steps


def _choose_threads(images: torch.Tensor, labels: torch.Tensor) -> float:
    """Seconds per classifier step with the faster thread count, which is left set.

    On a machine whose cores are busy with other work, torch's threads wait on each other and
    one thread can be several times faster than all of them."""
    many = torch.get_num_threads()
    if many == 1:
        return _classifier_seconds(images, labels, 20)
    seconds = _classifier_seconds(images, labels, 10)
    torch.set_num_threads(1)
    single = _classifier_seconds(images, labels, 20)
    print(f"classifier: {seconds:.3f} s/step on {many} threads, {single:.3f} on 1", flush=True)
    if single < 0.9 * seconds:
        return single
    torch.set_num_threads(many)
    return _classifier_seconds(images, labels, 20)


def _gan_seconds(images, labels) -> tuple[float, float]:
    """Seconds per step of the study's GAN and per generated image, in a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "digits.npz"
        write_npz(data, images, labels)
        config = TrainConfig(model="cdcgan", data=str(data), width=32, batch_size=64,
                             repeat=50, diffaugment=True, max_steps=10, epochs=1)
        trainer = Trainer(config, Path(tmp) / "run", progress=False)
        started = time.perf_counter()
        trainer.fit()
        gan = (time.perf_counter() - started) / 10
        started = time.perf_counter()
        generate(Path(tmp) / "run", n=500)
        return gan, (time.perf_counter() - started) / 500


def warm_up() -> str:
    """Run the augmentation kernels once on tiny images: numba compiles them on the first
    call after an install (tens of seconds, once), which would otherwise be timed as work."""
    started = time.perf_counter()
    pipeline, generator = digits(), torch.Generator().manual_seed(0)
    pipeline(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), params=pipeline.draw(2, generator))
    Compose([RandomEnhance()], seed=0)(np.zeros((8, 8, 3), dtype=np.uint8))  # the photos'
    return f"numba kernels ready in {time.perf_counter() - started:.1f} s"


def measure() -> Speed:
    images, labels = load_mnist("train")
    batch, targets = to_nchw(images[:2000]), torch.from_numpy(labels[:2000].astype("int64"))
    _classifier_seconds(batch, targets, 3)  # the first steps of a process are slow
    classifier = _choose_threads(batch, targets)
    classifier_aug = _classifier_seconds(batch, targets, 10, augment=True)
    gan, per_image = _gan_seconds(images[:100], labels[:100])
    net = load_net(MNIST_NET)[0]
    started = time.perf_counter()
    predict(net, batch[:500])
    features = (time.perf_counter() - started) / 500
    return Speed(classifier, classifier_aug, gan, per_image, features, torch.get_num_threads())


# ---- sizing --------------------------------------------------------------------------------


def floor_ready(samples: int, cas: bool) -> bool:
    """Whether evaluate finds the real floor for this many samples shipped or cached, rather
    than computing it (which costs as much again as the samples' own figures)."""
    key = floor_key("mnist", samples, cas)
    return key in shipped_floors() or (cache_dir() / "floors" / f"{key}.json").exists()


def cas_seconds(speed: Speed) -> float:
    steps = CAS_SCHEDULE.steps * CAS_SCHEDULE.batch_size / 64
    return steps * speed.classifier + TEST_IMAGES * speed.features * SMALL_NET


def evaluate_seconds(speed: Speed, samples: int, cas: bool, ready: bool) -> float:
    """generate then evaluate: features of the samples and the test split, KID and
    precision/recall, the CAS classifier, and the real floor again unless ``ready``."""
    metrics = speed.features * (METRIC_FIXED * TEST_IMAGES + METRIC_PER_SAMPLE * samples)
    own = speed.features * samples + metrics + (cas_seconds(speed) if cas else 0.0)
    fixed = speed.generate * samples + speed.features * TEST_IMAGES
    return fixed + own * (1 if ready else 2) + 2 * COMMAND_GAN_STEPS * speed.gan


@dataclass
class EvaluatePlan:
    samples: int
    cas: bool
    seconds: float
    notes: list[str] = field(default_factory=list)


def plan_evaluate(speed: Speed, budget: float, ready=floor_ready) -> EvaluatePlan:
    """The most samples, with CAS if possible, whose estimate fits ``budget``."""
    options = [(n, cas) for cas in (True, False) for n in SAMPLE_OPTIONS]
    estimates = [(n, cas, evaluate_seconds(speed, n, cas, ready(n, cas))) for n, cas in options]
    fitting = [e for e in estimates if e[2] <= budget]
    samples, cas, seconds = fitting[0] if fitting else min(estimates, key=lambda e: e[2])
    plan = EvaluatePlan(samples, cas, seconds)
    if not cas:
        plan.notes.append(f"--cas dropped: its classifier ({CAS_SCHEDULE.steps} steps of "
                          f"{CAS_SCHEDULE.batch_size}) alone would take ~{cas_seconds(speed):.0f}"
                          f" s of the {budget:.0f} s budget")
    if samples < SAMPLE_OPTIONS[0]:
        plan.notes.append(f"{samples} samples instead of {SAMPLE_OPTIONS[0]} to fit the budget")
    if not ready(samples, cas):
        plan.notes.append(f"the real floor for {samples} samples is neither shipped nor cached; "
                          "evaluate computes it (counted in the estimate)")
    if not fitting:
        plan.notes.append(f"even this takes ~{seconds:.0f} s, over the budget")
    return plan


def study_seconds(speed: Speed, classifier_steps: int, gan_steps: int) -> float:
    """The study at 10 labels per class, one seed: one GAN and five classifiers (none, gan;
    and through the pipeline classical, both and the confidence filter's), four tests."""
    per_classifier = 2 * speed.classifier + 3 * speed.classifier_aug
    tests = 4.1 * TEST_IMAGES * speed.features * SMALL_NET  # 4 cells and the filter's 1,000
    fixed = tests + 1000 * speed.generate + COMMAND_GAN_STEPS * speed.gan
    return gan_steps * speed.gan + classifier_steps * per_classifier + fixed


def _steps(ceiling: int, scale: float, floor: int) -> int:
    return int(min(ceiling, max(floor, 50 * math.floor(ceiling * scale / 50))))


def plan_study(speed: Speed, budget: float) -> tuple[int, int, float]:
    """Classifier and GAN steps scaled down together from the study's defaults to fit
    ``budget``, never under the floors; and the estimate of its seconds."""
    defaults = StudyConfig()
    ceilings = defaults.classifier_steps, defaults.gan_steps
    fixed = study_seconds(speed, 0, 0)
    scale = (budget - fixed) / (study_seconds(speed, *ceilings) - fixed)
    classifier = _steps(ceilings[0], scale, CLASSIFIER_FLOOR)
    gan = _steps(ceilings[1], scale, GAN_FLOOR)
    return classifier, gan, study_seconds(speed, classifier, gan)


# ---- the budget ----------------------------------------------------------------------------


@dataclass
class Row:
    stage: str
    budget: float | None
    sizes: str = ""
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)


class Budget:
    """The total budget, shared out among the stages still to run."""

    def __init__(self, minutes: float | None):
        self.total = None if minutes is None else 60 * minutes
        self.started = time.perf_counter()
        self.rows: list[Row] = []

    def left(self) -> float:
        return self.total - (time.perf_counter() - self.started)

    def share(self, stage: str) -> float | None:
        """``stage``'s share of the time left, beside the stages after it and the margin."""
        if self.total is None:
            return None
        done = {row.stage for row in self.rows}
        to_come = sum(v for k, v in SHARES.items() if k not in done) + MARGIN
        return max(0.0, self.left()) * SHARES[stage] / to_come

    def start(self, stage: str, budget: float | None, sizes: str) -> Row:
        row = Row(stage, budget, sizes)
        limit = "no budget" if budget is None else f"budget {budget:.0f} s"
        print(f"\n=== stage {stage} ({limit}): {sizes}", flush=True)
        return row

    def end(self, row: Row) -> None:
        row.seconds = time.perf_counter() - row.started
        self.rows.append(row)

    def table(self) -> str:
        lines = [f"{'stage':<10} {'budget s':>9} {'seconds':>8}  sizes"]
        for row in self.rows:
            budget = "-" if row.budget is None else f"{row.budget:.0f}"
            lines.append(f"{row.stage:<10} {budget:>9} {row.seconds:>8.1f}  {row.sizes}")
        total = "-" if self.total is None else f"{self.total:.0f}"
        spent = time.perf_counter() - self.started
        lines.append(f"{'total':<10} {total:>9} {spent:>8.1f}")
        return "\n".join(lines)


# ---- the stages ----------------------------------------------------------------------------


def run(step: str, argv: list[str]) -> None:
    print(f"\n== {step}: augkit {' '.join(argv)}", flush=True)
    code = augkit(argv)
    if code != 0:
        sys.exit(f"demo: '{step}' failed (exit {code})")


def stage_augment(out: Path, seed: int) -> str:
    print("== augment: the log's four photometric ops on digits and photos", flush=True)
    pipeline = Compose([RandomEnhance()], seed=seed)
    save(pipeline, out / "pipeline.yaml")
    pictures = out / "pictures"
    pictures.mkdir(exist_ok=True)
    images, labels = load_mnist("test")
    first_of_each = [images[labels.tolist().index(digit)] for digit in range(10)]
    before_after(first_of_each, pipeline, copies=8, scale=3).save(
        pictures / "mnist_augmented.png")
    before_after(load_photos(), pipeline, copies=4).save(pictures / "photos_augmented.png")
    write_npz(out / "digits.npz", images[:2000], labels[:2000], overwrite=True)
    summary = augment_dataset(out / "digits.npz", out / "augmented_digits", copies=2,
                              seed=seed, overwrite=True, progress=False)
    print(f"{summary.total_outputs} augmented digits in {out / 'augmented_digits'}")
    return f"{summary.total_outputs} augmented digits, 2 picture grids"


def gan_minutes(budget: Budget, speed: Speed, full: bool) -> tuple[float | None, float]:
    """The first GAN's budget and minutes of training: its share, less what the later stages
    need beyond theirs at their smallest sizes (the GAN's length is the one that bends)."""
    if full:
        return None, FULL["gan_minutes"]
    seconds = share = budget.share("train")
    smallest = {"evaluate": plan_evaluate(speed, 0.0).seconds,
                "study": study_seconds(speed, CLASSIFIER_FLOOR, GAN_FLOOR)}
    for stage, needed in smallest.items():
        short = needed - budget.share(stage)
        if short > 0:
            print(f"train: the {stage} stage needs ~{needed:.0f} s at its smallest, {short:.0f} s "
                  "over its share; the GAN trains that much less")
            seconds -= short
    training = max(GAN_MIN_SECONDS, seconds) - COMMAND_GAN_STEPS * speed.gan
    return share, round(max(training, GAN_MIN_SECONDS / 2) / 60, 2)


def stage_train(out: Path, seed: int, budget: Budget, speed: Speed, full: bool) -> None:
    gan = out / "gan"
    if (gan / "checkpoint.json").exists():
        row = budget.start("train", budget.share("train"), "kept the trained GAN")
        print(f"{gan} is already trained; kept (delete it to train again)")
        budget.end(row)
        return
    share, minutes = gan_minutes(budget, speed, full)
    row = budget.start("train", share, f"--max-minutes {minutes:g} "
                       f"(~{60 * minutes / speed.gan:.0f} steps at the study GAN's speed)")
    run("train", ["train", "--model", "cdcgan", "--width", "32", "--batch-size", "64",
                  "--epochs", "100", "--max-minutes", str(minutes),
                  "--seed", str(seed), "--out", str(gan)])
    budget.end(row)


def stage_evaluate(out: Path, seed: int, budget: Budget, speed: Speed, full: bool) -> None:
    share = budget.share("evaluate")
    plan = (EvaluatePlan(FULL["samples"], True, 0.0) if full
            else plan_evaluate(speed, share))
    cas = " with --cas" if plan.cas else " without --cas"
    estimate = f" (estimate {plan.seconds:.0f} s)" if not full else ""
    row = budget.start("evaluate", share, f"{plan.samples} samples{cas}{estimate}")
    for note in plan.notes:
        print(f"evaluate: {note}")
    gan, synthetic = out / "gan", out / "synthetic.npz"
    run("generate", ["generate", str(gan), "--per-class", str(plan.samples // 10),
                     "--seed", str(seed),
                     "--out", str(synthetic), "--overwrite"])
    run("evaluate", ["evaluate", str(synthetic), *(["--cas"] if plan.cas else []), "--quiet",
                     "--json", str(gan / "evaluation.json")])
    row.sizes = f"{plan.samples} samples, CAS {'on' if plan.cas else 'off'}"
    budget.end(row)


def existing_study(folder: Path) -> dict | None:
    """The settings of a study already started in ``folder``: a rerun continues it."""
    meta = folder / "study.json"
    return json.loads(meta.read_text()) if meta.exists() else None


def stage_study(out: Path, budget: Budget, speed: Speed, full: bool) -> None:
    share, folder = budget.share("study"), out / "study"
    settings = FULL if full else STUDY
    defaults = StudyConfig()
    steps = (defaults.classifier_steps, defaults.gan_steps)
    estimate = ""
    saved = existing_study(folder)
    if saved and tuple(saved["labels_per_class"]) == tuple(settings["labels_per_class"]):
        steps = (saved["classifier_steps"], saved["gan_steps"])
        print(f"study: continuing the study in {folder} with its own steps")
    elif not full:
        *steps, seconds = plan_study(speed, share)
        estimate = f" (estimate {seconds:.0f} s)"
        if seconds > share:
            print(f"study: the floors ({CLASSIFIER_FLOOR} classifier, {GAN_FLOOR} GAN steps) "
                  f"need ~{seconds:.0f} s, over its {share:.0f} s budget")
    sizes = f"--classifier-steps {steps[0]} --gan-steps {steps[1]}"
    row = budget.start("study", share, sizes + estimate)
    labels = ",".join(map(str, settings["labels_per_class"]))
    run("study", ["study", "--labels-per-class", labels, "--seeds", str(settings["seeds"]),
                  "--arms", ARMS,
                  "--classifier-steps", str(steps[0]), "--gan-steps", str(steps[1]),
                  "--out", str(folder)])
    row.sizes = sizes
    budget.end(row)


def stage_report(out: Path, budget: Budget) -> None:
    row = budget.start("report", budget.share("report"), "one HTML page")
    run("report", ["report", str(out / "pictures"), str(out / "gan"), str(out / "study"),
                   "--out", str(out / "report.html"), "--title", "augkit demo"])
    budget.end(row)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="demo_out", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-minutes", type=float, default=8.0,
                        help="total compute time to fit, installation aside (default: 8)")
    parser.add_argument("--full", action="store_true",
                        help="the full-length settings, whatever the budget")
    # for testing the sizing: as if the machine were this many times slower
    parser.add_argument("--slowdown", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.budget_minutes <= 0 or args.slowdown <= 0:
        parser.error("--budget-minutes and --slowdown must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    budget = Budget(None if args.full else args.budget_minutes)
    row = budget.start("warm-up", budget.share("warm-up"), "augkit's numba kernels")
    row.sizes = warm_up()
    budget.end(row)
    row = budget.start("measure", budget.share("measure"),
                       "~30 classifier steps, 10 through the pipeline, 10 GAN steps, "
                       "500 images generated and featurised")
    measured = speed = measure()
    row.sizes = f"torch threads {speed.threads}"
    budget.end(row)
    print(f"measured: {measured.describe()}")
    if args.slowdown != 1:
        speed = measured.slower(args.slowdown)
        print(f"sizing as if {args.slowdown:g}x slower: {speed.describe()}")
    row = budget.start("augment", budget.share("augment"), "fixed: 2,000 digits x 2 copies")
    row.sizes = stage_augment(out, args.seed)
    budget.end(row)
    stage_train(out, args.seed, budget, speed, args.full)
    stage_evaluate(out, args.seed, budget, speed, args.full)
    stage_study(out, budget, speed, args.full)
    stage_report(out, budget)
    print(f"\nmeasured speed: {measured.describe()}")
    if speed is not measured:
        print(f"sized as if {args.slowdown:g}x slower: {speed.describe()}")
    print(budget.table())
    print(f"open {(out / 'report.html').resolve()}")


if __name__ == "__main__":
    main()
