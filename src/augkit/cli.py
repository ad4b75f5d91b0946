"""The ``augkit`` command line: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

import augkit


def _preview(args: argparse.Namespace) -> int:
    from augkit.transforms import RandomEnhance, load
    from augkit.visualize import before_after

    if args.copies < 1 or args.scale < 1:
        raise ValueError("--copies and --scale: expected integers >= 1")
    pipeline = (load(args.pipeline) if args.pipeline else RandomEnhance()).reseed(args.seed)
    images = []
    for path in args.images:
        try:
            with Image.open(path) as img:
                images.append(img.convert("RGB") if img.mode not in ("L", "RGB", "RGBA")
                              else img.copy())
        except (OSError, UnidentifiedImageError) as error:
            raise ValueError(f"{path}: cannot read image ({error})") from None
    sizes = {img.size for img in images}
    if len(sizes) > 1:
        size = min(sizes)
        images = [img.resize(size) for img in images]
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise ValueError(f"{out}: already exists; pass --overwrite to replace it")
    before_after(images, pipeline, copies=args.copies, scale=args.scale).save(out)
    print(f"wrote {out}")
    return 0


def _augment(args: argparse.Namespace) -> int:
    from augkit.augment import augment_dataset
    from augkit.transforms import load

    pipeline = load(args.pipeline) if args.pipeline else None
    summary = augment_dataset(args.src, args.dst, pipeline, copies=args.copies, seed=args.seed,
                              workers=args.workers, format=args.format,
                              include_original=args.include_original,
                              overwrite=args.overwrite, progress=not args.quiet)
    if summary.already_complete:
        print(f"{args.dst}: this run is already complete ({summary.total_outputs} outputs)")
        return 0
    resumed = (f", continued after {summary.resumed_chunks} finished chunks"
               if summary.resumed_chunks else "")
    print(f"wrote {summary.written} images to {args.dst}{resumed}; "
          f"{len(summary.skipped)} unreadable inputs skipped")
    if summary.written == 0 and summary.skipped:
        print(f"augkit augment: error: none of the inputs in {args.src} could be read",
              file=sys.stderr)
        return 1
    return 0


def _replay(args: argparse.Namespace) -> int:
    from augkit.augment import replay
    from augkit.data import read_image, save_png

    image = replay(args.run, args.output)
    if args.out:
        save_png(Path(args.out), image, overwrite=args.overwrite)
        print(f"wrote {args.out}")
    written = Path(args.run) / args.output
    if written.exists():
        same = np.array_equal(read_image(written), image)
        print(f"{written}: {'identical to' if same else 'DIFFERS from'} the replayed image")
        return 0 if same else 1
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from augkit.eval import evaluate, format_table
    from augkit.files import write_text_atomically

    samples: Any = args.samples
    json_out = args.json
    if Path(samples).is_dir() and (Path(samples) / "checkpoint.json").exists():
        json_out = json_out or str(Path(samples) / "evaluation.json")
        import torch

        from augkit.eval.reference import as_batch
        from augkit.gan.sample import generate

        images, labels = generate(samples, n=args.n, seed=0)
        samples = (as_batch(images), torch.from_numpy(labels) if (labels >= 0).all() else None)
        print(f"generated {len(images)} samples from the run's generator (EMA weights when "
              "the run kept them)")
    result = evaluate(samples, args.reference, cas=args.cas, progress=not args.quiet)
    print(format_table(result))
    if json_out:
        write_text_atomically(Path(json_out), json.dumps(result, indent=1) + "\n")
        print(f"wrote {json_out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from augkit.gan.config import TrainConfig
    from augkit.gan.trainer import Trainer, TrainingDiverged

    overrides = {"model": args.model, "data": args.data, "epochs": args.epochs,
                 "max_steps": args.max_steps, "max_minutes": args.max_minutes,
                 "batch_size": args.batch_size, "repeat": args.repeat,
                 "loss": args.loss or "", "seed": args.seed, "device": args.device,
                 "amp": args.amp, "image_size": args.image_size,
                 "diffaugment": args.diffaugment, "ema_decay": args.ema_decay,
                 "width": args.width, "spectral_norm": not args.no_spectral_norm,
                 "mode_seeking": args.mode_seeking, "aux_weight": args.aux_weight,
                 "init": args.init}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.lr is not None:
        overrides["lr_g"] = overrides["lr_d"] = args.lr
    for name in ("lr_g", "lr_d"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    config = TrainConfig.from_dict(overrides)
    trainer = Trainer(config, args.out, resume=args.resume, progress=not args.quiet)
    try:
        trainer.fit()
    except TrainingDiverged as error:
        print(f"augkit train: error: {error}", file=sys.stderr)
        return 3
    if trainer.dist.is_main:
        print(f"trained to step {trainer.step} (epoch {trainer.epoch}); run in {args.out}")
    return 0


def _study(args: argparse.Namespace) -> int:
    from augkit.study import Study, StudyConfig

    def integers(text: str, name: str) -> tuple[int, ...]:
        try:
            return tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise ValueError(f"--{name}: {text!r} is not a comma-separated list of integers, "
                             "e.g. 10,100,1000") from None

    config = StudyConfig(
        data=args.data, test=args.test or "",
        labels_per_class=integers(args.labels_per_class, "labels-per-class"),
        arms=tuple(a.strip() for a in args.arms.split(",") if a.strip()), seeds=args.seeds,
        pipeline=args.pipeline or "", classifier_steps=args.classifier_steps,
        gan_steps=args.gan_steps, gan_mode_seeking=args.gan_mode_seeking,
        synthetic_per_real=args.synthetic_per_real,
        real_share=args.real_share, min_confidence=args.min_confidence)
    results = Study(config, args.out, progress=not args.quiet).run()
    from augkit.study import results_markdown

    print(results_markdown(results))
    print(f"wrote {Path(args.out) / 'results.json'}, results.md and study.png")
    return 0


def _report(args: argparse.Namespace) -> int:
    from augkit.report import build_report

    out = args.out or str(Path(args.paths[0]) / "report.html")
    print(f"wrote {build_report(args.paths, out, title=args.title)}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from augkit.data import save_png, write_idx_pair, write_npz
    from augkit.gan.sample import generate, label_with_classifier

    own_filter = args.min_confidence is not None and not args.label_with
    images, labels = generate(args.run, n=args.n, per_class=args.per_class, seed=args.seed,
                              device=args.device,
                              min_confidence=args.min_confidence if own_filter else 0.0)
    if own_filter:
        print(f"kept samples the run's class head gives their label with probability >= "
              f"{args.min_confidence}")
    if args.label_with:
        args.min_confidence = 0.9 if args.min_confidence is None else args.min_confidence
        if (labels >= 0).all():
            raise ValueError("--label-with: the run's model is conditional; its samples "
                             "already carry labels")
        count = len(images)
        images, labels, _ = label_with_classifier(images, args.label_with, args.min_confidence)
        print(f"labeled {len(images)} of {count} samples with the {args.label_with} "
              f"classifier at confidence >= {args.min_confidence}")
    out = Path(args.out)
    has_labels = bool((labels >= 0).all())
    if args.format == "npz":
        write_npz(out, images, labels if has_labels else None, overwrite=args.overwrite)
    elif args.format == "idx":
        write_idx_pair(out, "generated", images, labels if has_labels else None,
                       overwrite=args.overwrite)
    else:
        if out.exists() and any(out.iterdir()) and not args.overwrite:
            raise ValueError(f"{out}: is not empty; pass --overwrite or choose another folder")
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = out / str(label) if label >= 0 else out
            save_png(folder / f"{i:06d}.png", image, overwrite=args.overwrite)
    print(f"wrote {len(images)} images to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="augkit", description=augkit.__doc__)
    parser.add_argument("--version", action="version", version=f"augkit {augkit.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    preview = commands.add_parser(
        "preview", help="write a PNG of images beside augmented copies of them")
    preview.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...)")
    preview.add_argument("--pipeline", help="pipeline YAML/JSON file (default: the log's "
                         "four photometric ops, RandomEnhance)")
    preview.add_argument("--copies", type=int, default=5, help="augmented copies per image")
    preview.add_argument("--seed", type=int, default=0, help="random seed")
    preview.add_argument("--scale", type=int, default=1, help="enlarge tiles by this factor")
    preview.add_argument("--out", default="preview.png", help="output PNG")
    preview.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    preview.set_defaults(handler=_preview)

    augment = commands.add_parser(
        "augment", help="write augmented copies of a whole dataset, with a manifest",
        description="Write N augmented copies of every image in SRC to DST (class layout "
                    "kept), with manifest.jsonl recording each output's source, parameters "
                    "and seed. An interrupted run continues when rerun with the same arguments.")
    augment.add_argument("src", help="image folder (class sub-folders become labels), IDX "
                         "images file or folder, .npz, or 'mnist' / 'mnist:test'")
    augment.add_argument("dst", help="output folder (created; never inside SRC)")
    augment.add_argument("--pipeline", help="pipeline YAML/JSON file (default: the log's four "
                         "photometric ops and a small affine jitter)")
    augment.add_argument("--copies", type=int, default=1, help="augmented copies per image")
    augment.add_argument("--seed", type=int, default=0, help="random seed")
    augment.add_argument("--workers", type=int, default=1, help="worker processes")
    augment.add_argument("--format", choices=("folder", "npz", "idx"), default="folder",
                         help="PNGs in class folders, one augmented.npz, or an IDX pair")
    augment.add_argument("--include-original", action="store_true",
                         help="also write each source image unchanged")
    augment.add_argument("--overwrite", action="store_true",
                         help="replace a different run already in DST")
    augment.add_argument("--quiet", action="store_true", help="no progress bar")
    augment.set_defaults(handler=_augment)

    replay = commands.add_parser(
        "replay", help="regenerate one output of an augment run from its manifest line")
    replay.add_argument("run", help="the DST folder of an augment run")
    replay.add_argument("output", help="the output's name in manifest.jsonl, e.g. 3/x_aug0.png")
    replay.add_argument("--out", help="also write the regenerated image to this PNG")
    replay.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    replay.set_defaults(handler=_replay)

    evaluate = commands.add_parser(
        "evaluate", help="FID, KID, precision/recall, coverage, label accuracy and CAS of a "
                         "sample set, beside what real data gets")
    evaluate.add_argument("samples", help="samples: .npz (images, labels), IDX pair or folder, "
                          "image folder (class sub-folders give labels), or a training run "
                          "(then --n samples are generated from it first)")
    evaluate.add_argument("--reference", default="mnist",
                          help="'mnist' (default) or a dataset path; its feature net is trained "
                               "on first use and cached")
    evaluate.add_argument("--cas", action="store_true",
                          help="also train a fixed classifier on the samples and test it on "
                               "real data (labeled samples)")
    evaluate.add_argument("--n", type=int, default=10000,
                          help="samples to generate when SAMPLES is a training run")
    evaluate.add_argument("--json", help="write the figures to this JSON file")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate.set_defaults(handler=_evaluate)

    train = commands.add_parser(
        "train", help="train a GAN (reference, dcgan, cdcgan); works under torchrun",
        description="Train a GAN on the bundled MNIST or any dataset augkit reads. Writes "
                    "RUN/config.json, RUN/metrics.csv, RUN/samples/epoch_NNN.png and "
                    "checkpoints; --resume continues exactly.")
    train.add_argument("--model", default="cdcgan", help="reference, dcgan or cdcgan")
    train.add_argument("--data", default="mnist", help="'mnist' or a dataset path")
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--max-steps", type=int, default=0, help="stop after this many batches")
    train.add_argument("--max-minutes", type=float, default=0.0,
                       help="stop (and save) after this many minutes of training")
    train.add_argument("--batch-size", type=int,
                       help="default: 64 for reference, 128 for the others")
    train.add_argument("--repeat", type=int, default=1,
                       help="passes over the data per epoch, for datasets of a few hundred "
                            "images")
    train.add_argument("--lr", type=float, help="learning rate of both G and D")
    train.add_argument("--lr-g", type=float,
                       help="generator learning rate (default: 1e-3 for reference, 2e-4 else)")
    train.add_argument("--lr-d", type=float,
                       help="discriminator learning rate (default: 1e-4 for reference, 2e-4 "
                            "else)")
    train.add_argument("--loss", help="reference, nsgan, hinge or wgan-gp (default: the "
                       "model's)")
    train.add_argument("--image-size", type=int, default=0, help="28, 32 or 64 (default: "
                       "the data's)")
    train.add_argument("--width", type=int, default=64, help="channel width of the DCGANs")
    train.add_argument("--ema-decay", type=float, default=0.999, help="0 turns EMA off")
    train.add_argument("--diffaugment", action="store_true", help="DiffAugment for D")
    train.add_argument("--no-spectral-norm", action="store_true")
    train.add_argument("--mode-seeking", type=float, default=-1.0,
                       help="weight of the mode-seeking term against collapse within a class "
                            "(default: 0.5 for cdcgan, 0 otherwise)")
    train.add_argument("--init",
                       help="weight initialisation: default (PyTorch's) or dcgan (N(0, 0.02)); "
                            "default: dcgan for reference, PyTorch's for the others")
    train.add_argument("--aux-weight", type=float, default=-1.0,
                       help="weight of the discriminator's auxiliary class head, AC-GAN style "
                            "(cdcgan only; default 0.3, 0 turns it off)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", help="cpu or cuda")
    train.add_argument("--amp", action="store_true", help="mixed precision (CUDA)")
    train.add_argument("--out", required=True, help="the run folder")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=_train)

    study = commands.add_parser(
        "study", help="how much classical and GAN augmentation help a classifier with few "
                      "labels",
        description="For each amount of real labeled data and each arm (none, classical, gan, "
                    "both), train the same small classifier and test it on the real test set. "
                    "Rerun the same command to continue a stopped study.")
    study.add_argument("--data", default="mnist", help="'mnist' or a labeled dataset path")
    study.add_argument("--test", help="the labeled test set (built in for mnist)")
    study.add_argument("--labels-per-class", default="10,100,1000")
    study.add_argument("--arms", default="none,classical,gan,both")
    study.add_argument("--seeds", type=int, default=3)
    study.add_argument("--pipeline", help="pipeline file (YAML/JSON) for the classical arms; "
                       "default: the log's four photometric ops plus a small affine jitter")
    study.add_argument("--classifier-steps", type=int, default=1000)
    study.add_argument("--gan-steps", type=int, default=1200,
                       help="training steps of each subset's conditional GAN")
    study.add_argument("--gan-mode-seeking", type=float, default=-1.0,
                       help="the GAN's mode-seeking weight (default: the cdcgan default)")
    study.add_argument("--synthetic-per-real", type=int, default=10)
    study.add_argument("--real-share", type=float, default=0.5,
                       help="share of real images in each classifier batch of the GAN arms")
    study.add_argument("--min-confidence", type=float, default=0.9,
                       help="keep synthetic images the subset's own classifier gives their "
                            "label at least this probability (default 0.9; 0 keeps all)")
    study.add_argument("--out", required=True, help="the study folder")
    study.add_argument("--quiet", action="store_true", help="no progress bar")
    study.set_defaults(handler=_study)

    report = commands.add_parser(
        "report", help="one self-contained HTML page of runs, studies, evaluations, pictures")
    report.add_argument("paths", nargs="+", metavar="PATH",
                        help="a training run, a study folder, an evaluation JSON, PNG files "
                             "or folders of them")
    report.add_argument("--out", help="the HTML file (default: PATH/report.html of the first)")
    report.add_argument("--title", default="augkit report")
    report.set_defaults(handler=_report)

    gen = commands.add_parser("generate", help="write labeled samples from a trained run")
    gen.add_argument("run", help="a training run folder")
    gen.add_argument("--n", type=int, default=0, help="how many images")
    gen.add_argument("--per-class", type=int, default=0, help="or this many per class")
    gen.add_argument("--out", required=True, help="output folder, .npz file or IDX folder")
    gen.add_argument("--format", choices=("folder", "npz", "idx"), default="npz")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--device", default="cpu")
    gen.add_argument("--label-with", help="for an unconditional model: label the samples "
                     "with this reference's classifier ('mnist' or a dataset path)")
    gen.add_argument("--min-confidence", type=float, default=None,
                     help="with --label-with: drop samples the classifier is less sure of "
                          "(default 0.9); for a cdcgan with a class head: draw until every "
                          "sample's label gets this probability from the run's own "
                          "discriminator head (default: off)")
    gen.add_argument("--overwrite", action="store_true")
    gen.set_defaults(handler=_generate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, TypeError) as error:
        print(f"augkit {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"augkit {args.command}: interrupted; rerun the same command to continue",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
