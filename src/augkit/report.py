"""``augkit report``: one self-contained HTML page for training runs, studies, evaluations
and picture folders; every image is embedded, so the file opens offline and can be mailed.

Each input is recognised by what it holds:

- a training run (``checkpoint.json`` / ``metrics.csv``): loss curves, sample grids across
  epochs, its settings, and ``evaluation.json`` when ``augkit evaluate RUN`` wrote one;
- a study (``results.json`` of ``augkit study``): the table and the plot;
- an evaluation (a JSON written by ``augkit evaluate --json``): the figures beside the floor;
- an ``augkit augment`` output (``augkit-run.json``): its settings and pipeline, and a few
  source images beside their outputs, replayed from the manifest;
- a PNG file or a folder of PNGs: shown as they are.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from augkit.errors import AugkitError
from augkit.eval.evaluate import evaluation_rows
from augkit.files import write_text_atomically
from augkit.visualize import grid

MAX_GRIDS = 8  # sample grids shown per run, evenly spread over its epochs
AUGMENT_ROWS, AUGMENT_COPIES, TILE = 4, 5, 128  # an augment run's picture: sources, copies, px

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; }
td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { display: inline-block; margin: .4em; vertical-align: top; }
figcaption { font-size: .85em; color: #555; text-align: center; }
img { max-width: 100%; image-rendering: pixelated; }
.note { color: #555; font-size: .9em; }
"""

# marks the page once every image has decoded, so a headless browser can check rendering
CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var images = Array.prototype.slice.call(document.images);
  var ok = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute('data-images', images.length);
  document.body.setAttribute('data-images-rendered', ok.length);
});
"""


def _png(data: bytes, caption: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{encoded}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _png_file(path: Path, caption: str | None = None) -> str:
    return _png(path.read_bytes(), caption or path.stem)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure_png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def loss_curve(metrics_csv: Path) -> bytes | None:
    """Discriminator and generator losses against the step, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(metrics_csv) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    steps = [int(r["step"]) for r in rows]
    fig, ax = plt.subplots(figsize=(6.5, 3.2), dpi=110)
    for key, label in (("d_loss", "discriminator"), ("g_loss", "generator")):
        ax.plot(steps, [float(r[key]) for r in rows], label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _figure_png(fig)


def evaluation_section(result: dict[str, Any]) -> str:
    rows = [list(row) for row in evaluation_rows(result)]
    note = (f"{result['samples_figures']['n']:,} samples against {result['reference']}'s test "
            "split; the real floor is the same figures for as many real training images.")
    notes = [note, *result.get("notes", [])]
    return (_table(["", "samples", "real floor"], rows)
            + "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes))


def run_section(run: Path) -> str:
    parts = []
    config_path = run / "config.json"
    if config_path.exists():
        config = json.loads(config_path.read_text())
        keys = ("model", "data", "loss", "batch_size", "lr_g", "lr_d", "width", "diffaugment",
                "ema_decay", "mode_seeking", "aux_weight", "seed")
        shown = [[html.escape(k), html.escape(str(config[k]))] for k in keys if k in config]
        parts.append(_table(["setting", "value"], shown))
    if (run / "checkpoint.json").exists():
        step = json.loads((run / "checkpoint.json").read_text()).get("step")
        parts.append(f'<p class="note">Last checkpoint at step {step}.</p>')
    if (run / "metrics.csv").exists():
        curve = loss_curve(run / "metrics.csv")
        if curve is not None:
            parts.append("<h3>Losses</h3>" + _png(curve, "losses by step"))
    grids = sorted((run / "samples").glob("*.png")) if (run / "samples").is_dir() else []
    if grids:
        if len(grids) > MAX_GRIDS:
            last = len(grids) - 1
            grids = [grids[round(i * last / (MAX_GRIDS - 1))] for i in range(MAX_GRIDS)]
        parts.append("<h3>Samples from fixed noise</h3>"
                     + "".join(_png_file(p) for p in grids))
    if (run / "evaluation.json").exists():
        parts.append("<h3>Evaluation</h3>"
                     + evaluation_section(json.loads((run / "evaluation.json").read_text())))
    return "".join(parts)


def study_section(folder: Path) -> str:
    from augkit.study import results_table, work_table

    header, rows, notes = results_table(json.loads((folder / "results.json").read_text()))
    cells = [[f"<b>{html.escape(text)}</b>" if best else html.escape(text)
              for text, best in row] for row in rows]
    parts = [_table(header, cells)]
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in notes]
    if (folder / "study.png").exists():
        parts.append(_png_file(folder / "study.png", "accuracy against labels per class"))
    grids = [(run, sorted((run / "samples").glob("*.png")))
             for run in sorted(folder.glob("gans/*/run"))]
    if any(pngs for _, pngs in grids):
        parts.append("<h3>The GAN of each labeled subset, at the end of its training</h3>"
                     + "".join(_png_file(pngs[-1], run.parent.name) for run, pngs in grids
                               if pngs))
    for arm in ("gan-ssl", "consistency+gan-ssl"):
        ssl_grids = sorted(folder.glob(f"{arm}/*.png"))
        if ssl_grids:
            parts.append(f"<h3>The generator of each {arm} cell (its discriminator is the "
                         "classifier)</h3>" + "".join(_png_file(p, p.stem) for p in ssl_grids))
    work_header, work_rows = work_table(json.loads((folder / "results.json").read_text()))
    parts.append("<h3>What each cell cost (mean over seeds)</h3>"
                 + _table(work_header, [[html.escape(t) for t in row] for row in work_rows]))
    return "".join(parts)


def augment_section(run: Path) -> str:
    """An ``augkit augment`` output: settings, counts, the pipeline, and the first few source
    images each beside its first outputs."""
    import yaml

    from augkit.augment import MANIFEST, ORIGINAL, RUN_FILE, SKIPPED, replay_records

    state = json.loads((run / RUN_FILE).read_text())
    config = state["config"]
    written, shown = _first_outputs(run / MANIFEST, ORIGINAL)
    rows = [[name, html.escape(str(value))] for name, value in (
        ("source", config["source"]), ("format", config["format"]),
        ("copies per image", config["copies"]), ("seed", config["seed"]),
        ("originals kept", config["include_original"]), ("masks", config["masks"]),
        ("outputs written", f"{written:,}"),
        ("unreadable inputs skipped", _count_lines(run / SKIPPED)),
        ("complete", state.get("complete", False)))]
    parts = [_table(["setting", "value"], rows), "<h3>Pipeline</h3><pre>"
             + html.escape(yaml.safe_dump(config["pipeline"], sort_keys=False)) + "</pre>"]
    if not shown:
        return "".join(parts)
    records = [r for index, copies in shown.items()
               for r in [{"index": index, "copy": ORIGINAL}, *copies]]
    try:
        images = replay_records(run, records)
    except AugkitError as error:
        return "".join(parts) + f'<p class="note">No picture: {html.escape(str(error))}</p>'
    tiles = iter(_tile(image) for image in images)
    picture = grid([[next(tiles) for _ in range(1 + len(copies))] for copies in shown.values()])
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    parts.append("<h3>Sources and their outputs</h3>" + _png(
        buffer.getvalue(), "each row: a source image, then its first outputs, replayed from "
        "the manifest (before any JPEG or WebP encoding)"))
    return "".join(parts)


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def _first_outputs(manifest: Path, original: str) -> tuple[int, dict[int, list[dict]]]:
    """The manifest's line count and the records of its first AUGMENT_ROWS sources (up to
    AUGMENT_COPIES each, originals left out), streamed: only those lines are parsed."""
    count, shown, full = 0, {}, False
    if not manifest.exists():
        return count, shown
    with manifest.open() as lines:
        for line in lines:
            count += 1
            if full:
                continue
            record = json.loads(line)
            if record["copy"] == original:
                continue
            if record["index"] not in shown and len(shown) == AUGMENT_ROWS:
                full = True
                continue
            copies = shown.setdefault(record["index"], [])
            if len(copies) < AUGMENT_COPIES:
                copies.append(record)
    return count, shown


def _tile(image: Any) -> Image.Image:
    """One image (or ``{"image", "mask"}``) padded into a TILE x TILE square; small images
    are enlarged by whole pixels."""
    pixels = np.asarray(image["image"] if isinstance(image, dict) else image)
    picture = Image.fromarray(pixels).convert("RGB")
    small = max(picture.size) < TILE
    return ImageOps.pad(picture, (TILE, TILE), color=(255, 255, 255),
                        method=Image.Resampling.NEAREST if small else Image.Resampling.BICUBIC)


def section(path: Path) -> tuple[str, str]:
    """The title and HTML of what ``path`` holds."""
    if path.is_dir() and (path / "results.json").exists():
        return f"Study: {path.name}", study_section(path)
    if path.is_dir() and ((path / "checkpoint.json").exists() or (path / "metrics.csv").exists()):
        return f"Training run: {path.name}", run_section(path)
    if path.is_dir() and (path / "augkit-run.json").exists():
        return f"Augmented dataset: {path.name}", augment_section(path)
    if path.is_file() and path.suffix == ".json":
        try:
            result = json.loads(path.read_text())
        except ValueError:
            result = None
        if isinstance(result, dict) and "samples_figures" in result:
            return f"Evaluation: {path.name}", evaluation_section(result)
        raise AugkitError(f"{path}: not an evaluation file (expected the JSON of augkit "
                          "evaluate --json)")
    if path.is_file() and path.suffix.lower() == ".png":
        return path.stem, _png_file(path)
    if path.is_dir():
        pictures = sorted(path.glob("*.png"))
        if pictures:
            return f"Pictures: {path.name}", "".join(_png_file(p) for p in pictures)
    if not path.exists():
        raise AugkitError(f"{path}: no such file or folder")
    raise AugkitError(f"{path}: nothing to report; expected a training run, a study folder, an "
                      "augkit augment output, an evaluation JSON, or PNG pictures")


def build_report(paths: list[str | Path], out: str | Path,
                 title: str = "augkit report") -> Path:
    """Write the report of ``paths`` to ``out`` (atomically) and return its path."""
    if not paths:
        raise AugkitError("paths: nothing to report")
    sections = [section(Path(p)) for p in paths]
    body = "".join(f"<h2>{html.escape(name)}</h2>{content}" for name, content in sections)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
            f"<script>{CHECK_SCRIPT}</script></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>\n")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(out, page)
    return out


__all__ = ["build_report", "loss_curve", "section"]
