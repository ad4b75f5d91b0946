"""The HTML report: self-contained, and its images render in headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess

import pytest
from PIL import Image

from augkit.cli import main
from augkit.data import load_mnist, write_npz
from augkit.gan.config import TrainConfig
from augkit.gan.trainer import Trainer
from augkit.study import Study, StudyConfig

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser",
                                                 "google-chrome") if shutil.which(name)), None)


def render(page) -> tuple[int, int]:
    """(images on the page, images that decoded) as headless Chromium sees them."""
    if CHROMIUM is None:
        if os.environ.get("AUGKIT_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is required here (AUGKIT_REQUIRE_CHROMIUM) but not installed")
        pytest.skip("chromium is not installed")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--virtual-time-budget=10000", "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r'data-images="(\d+)" data-images-rendered="(\d+)"', dom)
    assert found, "the page's check script did not run"
    return int(found.group(1)), int(found.group(2))


@pytest.fixture(scope="module")
def run_and_study(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    run = root / "run"
    images, labels = load_mnist("test")
    write_npz(root / "digits.npz", images[:500], labels[:500])
    config = TrainConfig(model="dcgan", data=str(root / "digits.npz"), epochs=2,
                         batch_size=125, width=8, log_every=2)
    Trainer(config, run, progress=False).fit()
    study = root / "study"
    Study(StudyConfig(data=str(root / "digits.npz"), test=str(root / "digits.npz"),
                      labels_per_class=(2,), seeds=2, arms=("none", "classical"),
                      classifier_steps=3, classifier_batch=8), study, progress=False).run()
    evaluation = {"samples": "x.npz", "reference": "mnist", "seconds": 1.0,
                  "samples_figures": {"n": 300, "fid": 12.5, "precision": 0.7, "recall": 0.6,
                                      "label_accuracy": None, "cas": None},
                  "real_floor": {"n": 300, "fid": 3.4, "precision": 0.87, "recall": 0.88}}
    (run / "evaluation.json").write_text(json.dumps(evaluation))
    return run, study


def test_report_embeds_everything_and_renders(run_and_study, tmp_path):
    run, study = run_and_study
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(pictures / "red.png")
    out = tmp_path / "report.html"
    assert main(["report", str(run), str(study), str(pictures), "--out", str(out)]) == 0
    page = out.read_text()
    assert "Training run: run" in page and "Study: study" in page and "Pictures" in page
    assert "12.50" in page and "3.40" in page  # evaluation beside the real floor
    assert re.search(r"<td>2</td><td>(<b>)?\d+\.\d\d ± \d+\.\d\d", page)  # study table
    assert "src=\"http" not in page and "href=\"http" not in page  # nothing fetched
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    # loss curve, two epoch grids, the study plot, the picture
    assert len(embedded) == 5
    for data in embedded:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert render(out) == (5, 5)


def test_render_check_catches_a_broken_image(tmp_path):
    page = tmp_path / "broken.html"
    assert main(["report", str(_one_png(tmp_path)), "--out", str(page)]) == 0
    text = page.read_text()
    page.write_text(text.replace("base64,iVBOR", "base64,AAAAA", 1))
    assert render(page) == (1, 0)


def _one_png(tmp_path):
    path = tmp_path / "one.png"
    Image.new("L", (8, 8), 128).save(path)
    return path


def test_default_output_is_inside_the_first_path(run_and_study, capsys):
    run, _ = run_and_study
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").exists()
    assert "report.html" in capsys.readouterr().out


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "no such file or folder"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "nothing to report"),
    (lambda p: (p / "other.json").write_text("{}") and p / "other.json",
     "not an evaluation file"),
])
def test_bad_report_input_gives_one_line(make, message, tmp_path, capsys):
    path = make(tmp_path)
    assert main(["report", str(path), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and str(path) in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


def test_an_augment_output_shows_its_settings_and_sources_beside_outputs(tmp_path, capsys):
    source = tmp_path / "photos"
    source.mkdir()
    for i in range(6):
        Image.new("RGB", (12 + i, 10), (40 * i, 100, 30)).save(source / f"p{i}.png")
    augmented = tmp_path / "augmented"
    assert main(["augment", str(source), str(augmented), "--copies", "2", "--quiet"]) == 0
    out = tmp_path / "report.html"
    assert main(["report", str(augmented), "--out", str(out)]) == 0
    page = out.read_text()
    assert "Augmented dataset: augmented" in page and "<td>outputs written</td><td>12</td>" in page
    assert "type: Compose" in page  # the pipeline, as YAML
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(embedded) == 1
    picture = Image.open(io.BytesIO(base64.b64decode(embedded[0])))
    assert picture.size == (3 * 128 + 4 * 4, 4 * 128 + 5 * 4)  # 4 sources, each + 2 copies
    assert render(out) == (1, 1)

    shutil.rmtree(source)
    out = tmp_path / "without-source.html"
    assert main(["report", str(augmented), "--out", str(out)]) == 0
    page = out.read_text()
    assert "No picture:" in page and "photos" in page
