"""The ``augkit`` command line: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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

    samples = Path(args.samples)
    if samples.is_dir() and (samples / "config.json").exists() and not any(
            samples.glob("*.png")):
        raise ValueError(f"{samples}: looks like a training run; generating from runs needs the "
                         "GAN module, which this version does not have yet (generate samples "
                         "first and pass the npz, IDX pair or folder)")
    result = evaluate(args.samples, args.reference, cas=args.cas, progress=not args.quiet)
    print(format_table(result))
    if args.json:
        out = Path(args.json)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        tmp.replace(out)
        print(f"wrote {out}")
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
                          "image folder (class sub-folders give labels)")
    evaluate.add_argument("--reference", default="mnist",
                          help="'mnist' (default) or a dataset path; its feature net is trained "
                               "on first use and cached")
    evaluate.add_argument("--cas", action="store_true",
                          help="also train a fixed classifier on the samples and test it on "
                               "real data (labeled samples)")
    evaluate.add_argument("--json", help="write the figures to this JSON file")
    evaluate.add_argument("--quiet", action="store_true", help="no progress bars")
    evaluate.set_defaults(handler=_evaluate)
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
