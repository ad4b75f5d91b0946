"""The ``augkit`` command line."""

from __future__ import annotations

import subprocess
import sys

from PIL import Image

from augkit.cli import main
from augkit.data.photos import PHOTOS_DIR


def test_preview_writes_a_grid(tmp_path):
    out = tmp_path / "grid.png"
    photos = [str(PHOTOS_DIR / "coffee.png"), str(PHOTOS_DIR / "chelsea.png")]
    assert main(["preview", *photos, "--copies", "3", "--out", str(out)]) == 0
    with Image.open(out) as grid:
        assert grid.size == (4 * 224 + 5 * 4, 2 * 224 + 3 * 4)


def test_preview_with_a_pipeline_file_is_reproducible(tmp_path):
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("type: RandomBrightness\nfactor: [0.5, 1.5]\n")
    photo = str(PHOTOS_DIR / "astronaut.png")
    outputs = []
    for name in ("a.png", "b.png"):
        out = tmp_path / name
        assert main(["preview", photo, "--pipeline", str(pipeline), "--seed", "4",
                     "--out", str(out)]) == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_preview_refuses_bad_input_with_one_line(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    assert main(["preview", str(text), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("augkit preview: error:") and "notes.txt: not an image" in err
    assert len(err.splitlines()) == 1

    existing = tmp_path / "keep.png"
    existing.write_bytes(b"precious")
    assert main(["preview", str(PHOTOS_DIR / "coffee.png"), "--out", str(existing)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert existing.read_bytes() == b"precious"

    bad_pipeline = tmp_path / "bad.yaml"
    bad_pipeline.write_text("type: RandomWarp\n")
    assert main(["preview", str(PHOTOS_DIR / "coffee.png"), "--pipeline", str(bad_pipeline),
                 "--out", str(tmp_path / "y.png")]) == 2
    assert "unknown transform type 'RandomWarp'" in capsys.readouterr().err

    out = tmp_path / "many.png"
    assert main(["preview", str(PHOTOS_DIR / "coffee.png"), "--copies", "101",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--copies: 101" in err and "at most 100" in err and not out.exists()


def test_console_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "augkit", "--version"], capture_output=True,
                            text=True, check=True)
    assert result.stdout.startswith("augkit ")
