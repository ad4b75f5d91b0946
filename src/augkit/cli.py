"""The ``augkit`` command line: parses arguments and calls the library.

The ``train`` and ``study`` flags are built from their config dataclasses, so defaults and
help live in one place. A user error (``AugkitError``) prints as one line that names the
flag; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import augkit
from augkit.configs import add_flags, values_from
from augkit.devices import check_device
from augkit.errors import AugkitError

STUDY_LOG_WORDS = ("the study log's four photometric ops (colour, brightness, contrast, "
                   "sharpness as in Pillow's ImageEnhance, one random factor each, at the "
                   "log's strong ranges: colour and sharpness 0-9.9, brightness 0.4-1.9, "
                   "contrast 1-2)")
PHOTO_WORDS = ("on colour images the 'photo' preset: mild colour, brightness, contrast and "
               "sharpness jitter (factors 0.5-1.5 at most) and a horizontal flip half the time")
DIGITS_PRESET = (f"on grayscale images the 'digits' preset: {STUDY_LOG_WORDS}, then a small "
                 f"random affine move; {PHOTO_WORDS}")
STUDY_LOG_PRESET = f"on grayscale images the 'study-log' preset: {STUDY_LOG_WORDS}; {PHOTO_WORDS}"
PREVIEW_COPIES = 100  # tiles per row: more makes a picture viewers refuse to open
FORMAT_WORDS = ("png: PNG files in class folders ('folder' is another name for it); jpeg, "
                "webp: JPEG or WebP files in class folders, at --quality; npz: one "
                "augmented.npz; idx: an IDX pair; wds: WebDataset tar shards "
                "DST/shard-00000.tar, ... (each sample <key>.npy, <key>.cls, <key>.json with "
                "its manifest line); parquet: Parquet parts DST/part-00000.parquet, ... in the "
                "Hugging Face datasets layout (image, label, manifest columns)")


def _preview(args: argparse.Namespace) -> int:
    from augkit.data import read_image
    from augkit.files import refuse_existing
    from augkit.transforms import load
    from augkit.transforms.presets import photo, study_log
    from augkit.visualize import before_after

    for flag, value in (("--copies", args.copies), ("--scale", args.scale)):
        if value < 1:
            raise AugkitError(f"{flag}: {value} is not allowed; expected an integer >= 1")
    if args.copies > PREVIEW_COPIES:
        raise AugkitError(f"--copies: {args.copies} is not allowed in a preview, one row of "
                          f"tiles per image; expected at most {PREVIEW_COPIES} (augkit "
                          "augment writes any number)")
    images = [read_image(Path(path)) for path in args.images]
    grayscale = all(image.ndim == 2 for image in images)
    default = study_log() if grayscale else photo()
    pipeline = (load(args.pipeline) if args.pipeline else default).reseed(args.seed)
    shapes = {image.shape[:2] for image in images}
    if len(shapes) > 1:
        raise AugkitError(f"images: sizes differ ({', '.join(f'{w}x{h}' for h, w in shapes)}); "
                          "preview takes images of one size")
    out = Path(args.out)
    refuse_existing(out, args.overwrite)
    before_after(images, pipeline, copies=args.copies, scale=args.scale).save(out)
    if not args.quiet:
        print(f"wrote {out}")
    return 0


def _augment(args: argparse.Namespace) -> int:
    from augkit.augment import augment_dataset
    from augkit.transforms import load

    pipeline = load(args.pipeline) if args.pipeline else None
    summary = augment_dataset(args.src, args.dst, pipeline, copies=args.copies, seed=args.seed,
                              workers=args.workers, format=args.format,
                              include_original=args.include_original,
                              overwrite=args.overwrite, progress=not args.quiet,
                              device=args.device, quality=args.quality,
                              shard_size=args.shard_size, engine=args.engine)
    if summary.already_complete:
        print(f"{args.dst}: this run is already complete ({summary.total_outputs} outputs)")
        return 0
    resumed = (f", continued after {summary.resumed_chunks} finished chunks"
               if summary.resumed_chunks else "")
    what = "images, each with its mask," if summary.masks else "images"
    print(f"wrote {summary.written} {what} to {args.dst}{resumed}; "
          f"{len(summary.skipped)} unreadable inputs skipped")
    if summary.written == 0 and summary.skipped:
        print(f"augkit augment: error: none of the inputs in {args.src} could be read",
              file=sys.stderr)
        return 1
    return 0


def _replay(args: argparse.Namespace) -> int:
    from augkit.augment import manifest_record, replay
    from augkit.data import save_png

    result = replay(args.run, args.output)
    image, mask = (result["image"], result["mask"]) if isinstance(result, dict) else (result, None)
    if args.out:
        save_png(Path(args.out), image, overwrite=args.overwrite)
        print(f"wrote {args.out}")
    if args.mask_out:
        _save_mask(args, mask)
    run = Path(args.run)
    record = manifest_record(run, args.output)
    same = _same_as_written(run / record["output"], image, "image")
    if mask is not None and record.get("mask"):
        same = _same_as_written(run / record["mask"], mask, "mask") and same
    return 0 if same else 1


def _save_mask(args: argparse.Namespace, mask: Any) -> None:
    from augkit.data import encode_mask_png
    from augkit.files import write_bytes_atomically

    if mask is None:
        raise AugkitError(f"mask_out: {args.run} is a run without masks; leave --mask-out out")
    write_bytes_atomically(Path(args.mask_out), encode_mask_png(mask, args.mask_out),
                           overwrite=args.overwrite)
    print(f"wrote {args.mask_out}")


def _same_as_written(written: Path, replayed: Any, what: str) -> bool:
    """Compare a replayed image or mask with the run's file, if the run wrote one."""
    import numpy as np

    from augkit.data import read_image, read_mask

    if not written.exists():
        return True
    stored = read_image(written) if what == "image" else read_mask(written)
    same = np.array_equal(stored, replayed)
    print(f"{written}: {'identical to' if same else 'DIFFERS from'} the replayed {what}")
    return same


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from augkit.eval import evaluate, format_table
    from augkit.files import write_text_atomically
    from augkit.gan.sample import generate, is_run

    check_device(args.device, "--device")
    samples: Any = args.samples
    json_out = args.json
    if is_run(samples):
        import torch

        from augkit.data import to_nchw

        json_out = json_out or str(Path(samples) / "evaluation.json")
        images, labels = generate(samples, n=args.n, seed=0, device=args.device)
        samples = (to_nchw(images), None if (labels < 0).any() else torch.from_numpy(labels))
        print(f"generated {len(images)} samples from the run's generator (EMA weights when "
              "the run kept them)")
    result = evaluate(samples, args.reference, cas=args.cas, progress=not args.quiet,
                      features=args.features, device=args.device)
    print(format_table(result))
    if json_out:
        write_text_atomically(Path(json_out), json.dumps(result, indent=1) + "\n")
        print(f"wrote {json_out}")
    return 0


# the train flags that only a semi-supervised run takes (besides --semi and --unlabeled)
SEMI_ONLY = ("unlabeled_ratio", "threshold", "ema_teacher_after", "weak_view", "strong_view",
             "checkpoint_every")
# the flags of ``train`` that a semi-supervised run (``--unlabeled``) also reads
SEMI_SHARED = {"data": "data", "max_steps": "steps", "batch_size": "batch_size", "seed": "seed",
               "max_minutes": None}


def _train_semi(args: argparse.Namespace) -> int:
    from augkit.gan.config import TrainConfig
    from augkit.semi.runs import SemiConfig, SemiRun

    given = values_from(args, TrainConfig)
    unused = sorted(set(given) - set(SEMI_SHARED))
    if unused:
        flag = "--" + unused[0].replace("_", "-")
        taken = ", ".join("--" + name.replace("_", "-") for name in SEMI_ONLY)
        raise AugkitError(f"{flag}: a GAN setting, not used with --unlabeled (a semi-supervised "
                          "run takes --semi, --data, --max-steps, --batch-size, --seed, --lr, "
                          f"{taken})")
    values = {SEMI_SHARED[k]: v for k, v in given.items() if SEMI_SHARED[k]}
    for name in ("semi", "unlabeled", *SEMI_ONLY, "lr"):
        if getattr(args, name, None) is not None:
            values[name] = getattr(args, name)
    run = SemiRun(SemiConfig(**values), args.out, resume=args.resume, progress=not args.quiet)
    step = run.fit(max_minutes=args.max_minutes)
    print(f"trained {run.config.semi} to step {step} of {run.config.total_steps}; classifier "
          f"in {Path(args.out) / 'classifier.safetensors'}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from augkit.gan.config import TrainConfig
    from augkit.gan.trainer import Trainer

    if args.unlabeled is not None:
        return _train_semi(args)
    for flag in ("semi", *SEMI_ONLY):
        if getattr(args, flag) is not None:
            raise AugkitError(f"--{flag.replace('_', '-')}: only for a semi-supervised run; "
                              "give --unlabeled POOL")
    overrides = values_from(args, TrainConfig)
    if args.lr is not None:
        overrides.setdefault("lr_g", args.lr)
        overrides.setdefault("lr_d", args.lr)
    config = TrainConfig.from_dict(overrides)
    check_device(config.device, "--device")
    trainer = Trainer(config, args.out, resume=args.resume, progress=not args.quiet)
    trainer.fit()
    if trainer.dist.is_main:
        print(f"trained to step {trainer.step} (epoch {trainer.epoch}); run in {args.out}")
    return 0


def _study(args: argparse.Namespace) -> int:
    from augkit.study import Study, StudyConfig, results_markdown

    config = StudyConfig(**values_from(args, StudyConfig))
    results = Study(config, args.out, progress=not args.quiet, device=args.device).run()
    print(results_markdown(results))
    print(f"wrote {Path(args.out) / 'results.json'}, results.md and study.png")
    return 0


def _report(args: argparse.Namespace) -> int:
    from augkit.report import build_report

    out = args.out or str(Path(args.paths[0]) / "report.html")
    written = build_report(args.paths, out, title=args.title)
    if not args.quiet:
        print(f"wrote {written}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from augkit.data import output_format, write_dataset
    from augkit.data.writers import check_format_options
    from augkit.gan.sample import generate

    if args.n and args.per_class:
        raise AugkitError("--n and --per-class: give one or the other, not both")
    check_device(args.device, "--device")
    fmt = output_format(args.out, args.format)
    check_format_options(fmt, args.quality, args.shard_size)
    own_filter = args.min_confidence is not None and not args.label_with
    images, labels = generate(args.run, n=args.n or 0, per_class=args.per_class or 0,
                              seed=args.seed, device=args.device,
                              min_confidence=args.min_confidence if own_filter else 0.0)
    if own_filter and not args.quiet:
        print(f"kept samples the run's class head gives their label with probability >= "
              f"{args.min_confidence}")
    if args.label_with:
        images, labels = _label_with(args, images, labels)
    has_labels = bool((labels >= 0).all())
    write_dataset(args.out, images, labels if has_labels else None, fmt,
                  overwrite=args.overwrite, prefix="generated", quality=args.quality,
                  shard_size=args.shard_size)
    if not args.quiet:
        print(f"wrote {len(images)} images to {args.out}")
    return 0


def _label_with(args: argparse.Namespace, images: Any, labels: Any) -> tuple[Any, Any]:
    from augkit.eval.labeling import label_with_classifier

    threshold = 0.9 if args.min_confidence is None else args.min_confidence
    if (labels >= 0).all():
        raise AugkitError("--label-with: the run's model is conditional; its samples already "
                          "carry labels")
    count = len(images)
    images, labels, _ = label_with_classifier(images, args.label_with, threshold)
    if not args.quiet:
        print(f"labeled {len(images)} of {count} samples with the {args.label_with} "
              f"classifier at confidence >= {threshold}")
    return images, labels


def _classify(args: argparse.Namespace) -> int:
    from augkit.data import load_dataset, open_source
    from augkit.eval.features import load_net, probabilities
    from augkit.files import atomic_write

    model, _ = load_net(Path(args.classifier))
    source = open_source(args.data)
    data = load_dataset(source, labels="drop", what="the data to classify")
    if data.images.shape[1] != model.config["in_channels"]:
        raise AugkitError(f"{args.data}: images with {data.images.shape[1]} channel(s); the "
                          f"classifier takes {model.config['in_channels']}")
    confidence, predicted = probabilities(model, data.images).max(dim=1)
    with atomic_write(args.out, "w", overwrite=args.overwrite) as f:
        f.write("index,name,label,confidence\n")
        for i, (label, sure) in enumerate(zip(predicted.tolist(), confidence.tolist(),
                                             strict=True)):
            f.write(f"{i},{source.names[i]},{label},{sure:.6f}\n")
    if not args.quiet:
        print(f"wrote {len(predicted)} predictions to {args.out}")
    return 0


# ---- the parser ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Argument errors in one line, with where to look for help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default only where one is set (not None) and the help does not say it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text.lower():
            return text
        return super()._get_help_string(action)


def _command(commands: Any, name: str, help: str, handler: Any,
             description: str | None = None) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help, description=description or help,
                                 formatter_class=_Formatter)
    parser.add_argument("--quiet", action="store_true", help="no progress bars or chatter")
    parser.set_defaults(handler=handler)
    return parser


def _add_preview(commands: Any) -> None:
    p = _command(commands, "preview", "write a PNG of images beside augmented copies of them",
                 _preview)
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...), of one size")
    p.add_argument("--pipeline", help=f"pipeline YAML/JSON file (default: {STUDY_LOG_PRESET})")
    p.add_argument("--copies", type=int, default=5,
                   help=f"augmented copies per image (at most {PREVIEW_COPIES})")
    p.add_argument("--seed", type=int, default=0, help="random seed; it replaces any seed in "
                   "the pipeline file")
    p.add_argument("--scale", type=int, default=1, help="enlarge tiles by this factor")
    p.add_argument("--out", default="preview.png", help="output PNG")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")


def _add_augment(commands: Any) -> None:
    from augkit.augment import FORMATS
    from augkit.engines import ENGINES

    p = _command(commands, "augment", "write augmented copies of a whole dataset, with a "
                 "manifest", _augment,
                 "Write N augmented copies of every image in SRC to DST (class layout kept), "
                 "with manifest.jsonl recording each output's source, parameters and seed. "
                 "Segmentation masks travel along: from a SRC folder holding images/ and "
                 "masks/ (masks/<same relative path>.png, mode L, P or I;16, the image's size) "
                 "or an .npz with a 'masks' array, each mask gets its image's parameters and "
                 "is written to DST/masks/ beside DST/images/ (png, jpeg, webp), as 'masks' "
                 "in augmented.npz (npz), as <key>.mask.png in each shard sample (wds) or as "
                 "the 'mask' column (parquet); IDX refuses masks. An interrupted run continues "
                 "when rerun with the same arguments.")
    p.add_argument("src", help="image folder (class sub-folders become labels), a folder "
                   "with images/ and masks/, IDX images file or folder, .npz (optionally "
                   "with 'masks'), a .tar shard or a folder of them, a .parquet file or a "
                   "folder of them, a datasets save_to_disk folder, or 'mnist' / 'mnist:test'")
    p.add_argument("dst", help="output folder (created; never inside SRC). SRC and DST may "
                   "also be URIs that pyarrow.fs opens (s3://, gs://, hdfs://, file://): "
                   "staged through a local folder under the cache, DST copied up at the end")
    p.add_argument("--pipeline", help=f"pipeline YAML/JSON file (default: {DIGITS_PRESET})")
    p.add_argument("--copies", type=int, default=1, help="augmented copies per image")
    p.add_argument("--seed", type=int, default=0, help="random seed of the run: every chunk "
                   "draws from a seed made from it and the chunk's index, so any seed in the "
                   "pipeline file is replaced")
    p.add_argument("--workers", type=int, default=1, help="worker processes (with --engine "
                   "ray: Ray Data tasks at a time, one CPU each)")
    p.add_argument("--engine", choices=ENGINES, default="local", help="local: this machine's "
                   "processes; ray: Ray Data tasks, on a local Ray or the cluster RAY_ADDRESS "
                   "names (pip install 'augkit[ray]'; every node must see SRC and DST). The "
                   "same seed gives the same bytes with either engine and any --workers")
    p.add_argument("--device", default="cpu", help="where the kernels run on batches: cpu, "
                   "cuda or cuda:N (uint8 outputs of the exact ops are the same on every "
                   "device); on a GPU, --workers threads share it, reading and encoding while "
                   "it computes")
    p.add_argument("--format", choices=FORMATS, default="png", help=FORMAT_WORDS)
    p.add_argument("--quality", type=int, help="JPEG or WebP quality, 1-100 (default: 90); "
                   "only with --format jpeg or webp")
    p.add_argument("--shard-size", type=int, help="outputs per tar shard or Parquet part, "
                   "rounded down to whole chunks (256 small images, fewer large ones, with "
                   "their copies), so that the images are the ones --format png writes; "
                   "below one chunk, other draws (default: 8 chunks' worth); only with "
                   "--format wds or parquet")
    p.add_argument("--include-original", action="store_true",
                   help="also write each source image unchanged")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a different run already in DST")


def _add_replay(commands: Any) -> None:
    p = _command(commands, "replay", "regenerate one output of an augment run from its "
                 "manifest line", _replay)
    p.add_argument("run", help="the DST folder of an augment run")
    p.add_argument("output", help="the output's name in manifest.jsonl, e.g. 3/x_aug0.png")
    p.add_argument("--out", help="also write the regenerated image to this PNG")
    p.add_argument("--mask-out", help="for a run with masks: also write the regenerated mask "
                   "to this PNG")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out or --mask-out")


def _add_evaluate(commands: Any) -> None:
    p = _command(commands, "evaluate", "FID, KID, precision/recall, coverage, label accuracy "
                 "and CAS of a sample set, beside what real data gets", _evaluate)
    p.add_argument("samples", help="samples: .npz (images, labels), IDX pair or folder, image "
                   "folder (class sub-folders give labels), or a training run (then --n "
                   "samples are generated from it first)")
    p.add_argument("--reference", default="mnist",
                   help="'mnist' or any dataset path; labeled or not (without labels, the "
                        "label metrics are left out)")
    p.add_argument("--features", default="auto",
                   help="the feature net: auto (the reference's own; the MNIST net for an "
                        "unlabeled 28x28 gray reference), mnist, a labeled dataset path, or "
                        "inception (needs torch-fidelity and its weights)")
    p.add_argument("--cas", action="store_true",
                   help="also train a fixed classifier on the samples and test it on real "
                        "data (labeled samples)")
    p.add_argument("--n", type=int, default=10000,
                   help="samples to generate when SAMPLES is a training run")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--json", help="write the figures to this JSON file")


def _add_train(commands: Any) -> None:
    from augkit.gan.config import TrainConfig
    from augkit.transforms.presets import VIEW_HELP

    p = _command(commands, "train", "train a GAN (reference, dcgan, cdcgan), or with "
                 "--unlabeled a semi-supervised classifier; works under torchrun", _train,
                 "Train a GAN on the bundled MNIST or any dataset augkit reads. Writes "
                 "RUN/config.json, RUN/metrics.csv, RUN/samples/epoch_NNN.png and checkpoints; "
                 "--resume continues exactly. With --unlabeled POOL it trains a classifier on "
                 "the labeled --data and the unlabeled pool instead (--semi consistency or "
                 "gan-ssl), checkpointed and resumed the same way, and writes "
                 "RUN/classifier.safetensors for augkit classify.")
    add_flags(p, TrainConfig)
    p.add_argument("--lr", type=float, help="learning rate of both G and D (--lr-g and "
                   "--lr-d win over it); with --unlabeled, the classifier's peak rate "
                   "(default: 2e-3 for consistency, 1e-3 for gan-ssl)")
    p.add_argument("--unlabeled", help="an unlabeled pool (any dataset augkit reads; labels "
                   "are dropped): train a semi-supervised classifier instead of a GAN")
    p.add_argument("--semi", choices=("consistency", "gan-ssl", "consistency+gan-ssl"),
                   help="with --unlabeled: consistency training (FixMatch), the classifier as a "
                   "GAN's discriminator, or both at once (default: consistency)")
    p.add_argument("--unlabeled-ratio", type=int, help="with --unlabeled: pool images per "
                   "labeled image in a consistency term (default: 3)")
    p.add_argument("--threshold", type=float, help="with --unlabeled: confidence that makes a "
                   "pseudo-label (default: 0.95)")
    p.add_argument("--ema-teacher-after", type=int, help="with --unlabeled: step from which the "
                   "EMA classifier gives the pseudo-labels (default: 500)")
    for view in ("weak_view", "strong_view"):
        p.add_argument("--" + view.replace("_", "-"),
                       help=f"with --unlabeled: {VIEW_HELP[view]}")
    p.add_argument("--checkpoint-every", type=int, help="with --unlabeled: steps between "
                   "checkpoints (default: 250)")
    p.add_argument("--out", required=True, help="the run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")


def _add_study(commands: Any) -> None:
    from augkit.study import StudyConfig

    p = _command(commands, "study", "how much classical and GAN augmentation help a "
                 "classifier with few labels", _study,
                 "For each amount of real labeled data and each arm, train the same small "
                 "classifier and test it on the real test set. Rerun the same command to "
                 "continue a stopped study, or with more --seeds to add seeds.")
    add_flags(p, StudyConfig)
    p.add_argument("--out", required=True, help="the study folder")
    p.add_argument("--device", default="cpu", help="where every model trains and is tested: "
                   "cpu, cuda or cuda:N (not part of the study's settings: a stopped study "
                   "may continue on another device)")


def _add_report(commands: Any) -> None:
    p = _command(commands, "report", "one self-contained HTML page of runs, studies, "
                 "evaluations, pictures", _report)
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a training run, a study folder, an evaluation JSON, PNG files or "
                        "folders of them")
    p.add_argument("--out", help="the HTML file (default: PATH/report.html of the first)")
    p.add_argument("--title", default="augkit report", help="the page's title")


def _add_generate(commands: Any) -> None:
    from augkit.data import WRITE_FORMATS

    p = _command(commands, "generate", "write labeled samples from a trained run", _generate)
    p.add_argument("run", help="a training run folder")
    p.add_argument("--n", type=int, help="how many images")
    p.add_argument("--per-class", type=int, help="or this many of each class (conditional "
                   "models)")
    p.add_argument("--out", required=True, help="a .npz, .tar (one WebDataset shard) or "
                   ".parquet file, or a folder: PNG files in class sub-folders, or what "
                   "--format names")
    p.add_argument("--format", choices=WRITE_FORMATS,
                   help="default: from --out's suffix (.npz: npz, .tar: wds, .parquet: "
                        "parquet; no suffix: png; another suffix is refused). png, jpeg, "
                        "webp: image files in class folders; idx: an IDX pair; wds: tar "
                        "shards OUT/shard-00000.tar, ... (each sample <key>.npy and "
                        "<key>.cls); parquet: OUT/part-00000.parquet, ... in the Hugging "
                        "Face datasets layout")
    p.add_argument("--quality", type=int, help="JPEG or WebP quality, 1-100 (default: 90); "
                   "only with --format jpeg or webp")
    p.add_argument("--shard-size", type=int, help="samples per tar shard or Parquet part in "
                   "a folder (default: 10,000); only with --format wds or parquet")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--label-with", help="for an unconditional model: label the samples with "
                   "this reference's classifier ('mnist' or a dataset path)")
    p.add_argument("--min-confidence", type=float, default=None,
                   help="with --label-with: drop samples the classifier is less sure of "
                        "(default 0.9); for a cdcgan with a class head: draw until every "
                        "sample's label gets this probability from the run's own "
                        "discriminator head (default: off)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output")


def _add_classify(commands: Any) -> None:
    p = _command(commands, "classify", "label a dataset with a classifier that augkit saved "
                 "(e.g. a study's STUDY/classifiers/*.safetensors)", _classify)
    p.add_argument("classifier", help="the .safetensors file of the classifier (its .json "
                   "beside it)")
    p.add_argument("data", help="any dataset augkit reads; its labels, if any, are ignored")
    p.add_argument("--out", default="predictions.csv",
                   help="CSV of index, name, predicted label and confidence")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="augkit", description=augkit.__doc__)
    parser.add_argument("--version", action="version", version=f"augkit {augkit.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (_add_preview, _add_augment, _add_replay, _add_evaluate, _add_train,
                _add_study, _add_report, _add_generate, _add_classify):
        add(commands)
    return parser


def _with_flag_names(message: str, parser: argparse.ArgumentParser, command: str) -> str:
    """``overwrite=True`` and ``min_confidence:`` in a library message, as the flags."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {action.dest: max(action.option_strings, key=len)
             for action in sub.choices[command]._actions if action.option_strings}
    flags.pop("help", None)
    for dest, flag in flags.items():
        message = re.sub(rf"(?<![\w\-.]){dest}=True\b", flag, message)
        message = re.sub(rf"(?<![\w\-.]){dest}(?=:|=| \(| /)", flag, message)
    return message


#: the input arguments that may name a dataset by URI (augment's SRC and DST: in _augment)
_URI_INPUTS = ("data", "unlabeled", "samples", "reference")


def _stage_inputs(args: argparse.Namespace) -> None:
    """Replace each input given as a ``pyarrow.fs`` URI by a local copy of it."""
    from augkit.remote import is_uri, stage_input

    for name in _URI_INPUTS:
        value = getattr(args, name, None)
        if isinstance(value, str) and is_uri(value):
            setattr(args, name, stage_input(value, f"--{name}"))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _stage_inputs(args)
        return args.handler(args)
    except AugkitError as error:
        message = _with_flag_names(str(error), parser, args.command)
        print(f"augkit {args.command}: error: {message}", file=sys.stderr)
        return 3 if type(error).__name__ == "TrainingDiverged" else 2
    except KeyboardInterrupt:
        print(f"augkit {args.command}: interrupted; rerun the same command to continue",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
