"""The ``augkit`` command line: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    preview.set_defaults(run=_preview)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError) as error:
        print(f"augkit {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"augkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
