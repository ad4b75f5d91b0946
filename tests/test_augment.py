"""`augkit augment`: outputs, manifest, skipped inputs, refusals, resume, determinism."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augkit import augment as augment_module
from augkit.augment import augment_dataset, replay
from augkit.cli import main
from augkit.data import load_mnist, open_source, read_image, write_npz
from augkit.transforms import Compose, RandomBrightness, RandomEnhance, save
from augkit.transforms.presets import digits
from tests.helpers import interrupt_at_chunk


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def photo_folder(tmp_path):
    root = tmp_path / "src"
    rng = np.random.default_rng(0)
    for label in ("cat", "dog"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)).save(
                root / label / f"img{i}.png")
    Image.fromarray(rng.integers(0, 256, (7, 9), dtype=np.uint8)).save(root / "dog" / "gray.jpg")
    good = (root / "cat" / "img0.png").read_bytes()
    (root / "cat" / "corrupt.png").write_bytes(good[: len(good) // 2])
    (root / "cat" / "empty.png").write_bytes(b"")
    (root / "dog" / "notes.png").write_text("this is text, not a picture")
    return root


@pytest.fixture
def digits_npz(tmp_path):
    images, labels = load_mnist("test")
    path = tmp_path / "digits.npz"
    write_npz(path, images[:600], labels[:600])
    return path


def test_folder_run_writes_outputs_manifest_and_names_unreadable_files(photo_folder, tmp_path,
                                                                       capsys):
    before = _tree(photo_folder)
    dst = tmp_path / "out"
    assert main(["augment", str(photo_folder), str(dst), "--copies", "2", "--seed", "3",
                 "--include-original", "--quiet"]) == 0
    captured = capsys.readouterr()
    for name, reason in (("corrupt.png", "truncated or corrupt"), ("empty.png", "empty file"),
                         ("notes.png", "not an image")):
        lines = [line for line in captured.err.splitlines() if name in line]
        assert len(lines) == 1 and reason in lines[0] and lines[0].startswith("skipped ")
    assert "wrote 21 images" in captured.out and "3 unreadable inputs skipped" in captured.out
    assert _tree(photo_folder) == before  # SRC untouched
    records = [json.loads(line) for line in (dst / "manifest.jsonl").read_text().splitlines()]
    assert len(records) == 7 * 3
    assert {r["output"] for r in records} == {str(p.relative_to(dst)) for p in dst.rglob("*.png")}
    augmented = [r for r in records if r["copy"] != "original"]
    assert all(r["seed"] is not None and r["params"]["applied"] == [True] for r in augmented)
    gray = read_image(dst / "dog" / "gray_aug0.png")
    assert gray.shape == (7, 9)
    assert np.array_equal(read_image(dst / "cat" / "img1_orig.png"),
                          read_image(photo_folder / "cat" / "img1.png"))
    skipped = (dst / "skipped.jsonl").read_text().splitlines()
    assert len(skipped) == 3
    for record in augmented:
        assert np.array_equal(replay(dst, record["output"]), read_image(dst / record["output"]))


def test_photos_are_read_upright_by_their_exif_orientation(tmp_path):
    stored = np.zeros((4, 6, 3), np.uint8)
    stored[0, 0] = 255  # the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    Image.fromarray(stored).save(tmp_path / "side.png", exif=exif)
    Image.fromarray(stored).save(tmp_path / "plain.png")
    shown = read_image(tmp_path / "side.png")
    assert shown.shape == (6, 4, 3) and np.array_equal(shown, np.rot90(stored, -1))
    assert np.array_equal(read_image(tmp_path / "plain.png"), stored)


def test_nothing_readable_exits_non_zero(tmp_path, capsys):
    src = tmp_path / "bad"
    src.mkdir()
    (src / "a.png").write_bytes(b"")
    (src / "b.png").write_text("text")
    assert main(["augment", str(src), str(tmp_path / "out"), "--quiet"]) == 1
    assert "none of the inputs" in capsys.readouterr().err


def test_refusals_keep_everything_in_place(photo_folder, tmp_path, capsys):
    assert main(["augment", str(photo_folder), str(photo_folder), "--quiet"]) == 2
    assert "DST is SRC" in capsys.readouterr().err
    assert main(["augment", str(photo_folder), str(photo_folder / "cat" / "out"),
                 "--quiet"]) == 2
    assert "DST is inside SRC" in capsys.readouterr().err
    assert not (photo_folder / "cat" / "out").exists()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    assert main(["augment", str(photo_folder), str(busy), "--quiet"]) == 2
    assert "files that are not an augkit run" in capsys.readouterr().err
    assert (busy / "mine.txt").read_text() == "keep me"

    dst = tmp_path / "run"
    assert main(["augment", str(photo_folder), str(dst), "--copies", "2", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["augment", str(photo_folder), str(dst), "--copies", "1", "--quiet"]) == 2
    assert "holds a different augkit run" in capsys.readouterr().err
    assert (dst / "cat" / "img0_aug1.png").exists()
    assert main(["augment", str(photo_folder), str(dst), "--copies", "1", "--overwrite",
                 "--quiet"]) == 0
    assert not (dst / "cat" / "img0_aug1.png").exists()
    assert (dst / "cat" / "img0_aug0.png").exists()

    assert main(["augment", str(tmp_path / "missing"), str(tmp_path / "x"), "--quiet"]) == 2
    assert "missing" in capsys.readouterr().err
    bad_pipeline = tmp_path / "p.yaml"
    bad_pipeline.write_text("type: RandomColour\n")
    assert main(["augment", str(photo_folder), str(tmp_path / "y"), "--pipeline",
                 str(bad_pipeline), "--quiet"]) == 2
    assert "unknown transform type 'RandomColour'" in capsys.readouterr().err


def test_same_seed_gives_identical_bytes_whatever_the_worker_count(digits_npz, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    pipeline = Compose([RandomEnhance(random_order=True)])
    augment_dataset(digits_npz, one, pipeline, copies=2, seed=4, workers=1, progress=False)
    augment_dataset(digits_npz, two, pipeline, copies=2, seed=4, workers=2, progress=False)
    assert _tree(one) == _tree(two)
    other = tmp_path / "other"
    augment_dataset(digits_npz, other, pipeline, copies=2, seed=5, progress=False)
    assert _tree(other) != _tree(one)


@pytest.mark.parametrize("fmt", ["png", "wds"])
def test_threads_sharing_a_device_give_the_bytes_of_one_worker(digits_npz, tmp_path,
                                                                 monkeypatch, fmt):
    """The GPU path's threads (forced here on the CPU): chunks finish out of order, land in
    order, and each thread's own pipeline draws as the single worker's does."""
    one, threads = tmp_path / "one", tmp_path / "threads"
    pipeline = Compose([RandomEnhance(random_order=True), digits()])
    kwargs = dict(copies=2, seed=4, format=fmt, progress=False,
                  shard_size=256 if fmt == "wds" else None)
    augment_dataset(digits_npz, one, pipeline, workers=1, **kwargs)
    monkeypatch.setattr(augment_module, "_uses_threads", lambda device, workers: workers > 1)
    real = augment_module.process_chunk

    def slow_even_chunks(source, pipeline, config, dst, chunk, device="cpu"):
        if chunk % 2 == 0:
            time.sleep(0.2)
        return real(source, pipeline, config, dst, chunk, device)

    monkeypatch.setattr(augment_module, "process_chunk", slow_even_chunks)
    summary = augment_dataset(digits_npz, threads, pipeline, workers=3, **kwargs)
    assert summary.written == 1200
    assert _tree(one) == _tree(threads)


def test_interrupted_run_resumes_to_the_uninterrupted_result(digits_npz, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    augment_dataset(digits_npz, reference, copies=1, seed=2, progress=False)

    dst = tmp_path / "interrupted"
    real = interrupt_at_chunk(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        augment_dataset(digits_npz, dst, copies=1, seed=2, progress=False)
    monkeypatch.setattr(augment_module, "process_chunk", real)
    # what a kill -9 can leave: a half-written temp file, a cut manifest line, and outputs
    # of the unfinished chunk that the manifest does not list yet
    (dst / "7" / ".000999_aug0.png.tmp-1-2").write_bytes(b"half")
    with open(dst / "manifest.jsonl", "a") as f:
        f.write('{"output": "7/000300_aug0.png", "ind')
    real(open_source(digits_npz), augment_module._draw_from_parent(
        digits()), augment_module._load_state(dst).config, dst, 1)
    summary = augment_dataset(digits_npz, dst, copies=1, seed=2, progress=False)
    assert summary.resumed_chunks == 1 and summary.written == 600 - 256
    assert _tree(dst) == _tree(reference)


def test_kill_nine_then_rerun_matches_an_uninterrupted_run(tmp_path):
    images, labels = load_mnist("test")
    source = tmp_path / "digits.npz"
    write_npz(source, images[:2048], labels[:2048])  # 8 chunks of 256
    reference = tmp_path / "reference"
    augment_dataset(source, reference, copies=1, seed=8, progress=False)
    dst = tmp_path / "killed"
    command = [sys.executable, "-m", "augkit", "augment", str(source), str(dst), "--seed", "8",
               "--quiet"]
    process = subprocess.Popen(command)
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        state = dst / "augkit-run.json"
        if state.exists() and '"chunks_done": 0' not in state.read_text():
            break
        time.sleep(0.05)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    subprocess.run(command, check=True)
    assert _tree(dst) == _tree(reference)


@pytest.mark.parametrize("fmt", ["npz", "idx"])
def test_array_formats_keep_labels_and_resume(digits_npz, tmp_path, fmt):
    dst = tmp_path / fmt
    augment_dataset(digits_npz, dst, Compose([RandomBrightness()]), copies=2, seed=1,
                    format=fmt, include_original=True, progress=False)
    target = dst / "augmented.npz" if fmt == "npz" else dst / "augmented-images-idx3-ubyte.gz"
    out = open_source(target)
    assert len(out) == 600 * 3
    _, labels = load_mnist("test")
    assert np.array_equal(out.labels, np.repeat(labels[:600], 3))
    assert not (dst / ".augkit-parts").exists()
    records = (dst / "manifest.jsonl").read_text().splitlines()
    assert len(records) == 1800
    src = open_source(digits_npz)
    assert np.array_equal(out.read(3), src.read(1))  # the original of the second image


def test_pipeline_file_and_replay_command(photo_folder, tmp_path, capsys):
    pipeline = tmp_path / "pipeline.yaml"
    save(Compose([RandomEnhance(random_order=True)]), pipeline)
    dst = tmp_path / "run"
    assert main(["augment", str(photo_folder), str(dst), "--pipeline", str(pipeline),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["replay", str(dst), "dog/img2_aug0.png", "--out", str(tmp_path / "r.png")]) == 0
    assert "identical to the replayed image" in capsys.readouterr().out
    assert main(["replay", str(dst), "dog/none.png"]) == 2
    assert "no output named 'dog/none.png'" in capsys.readouterr().err


def test_bad_arguments(photo_folder, tmp_path):
    for kwargs, words in (({"copies": 0}, "copies"), ({"workers": 0}, "workers"),
                          ({"format": "tar"}, "format"), ({"seed": -1}, "seed: -1"),
                          ({"seed": 1.5}, "seed: 1.5"), ({"seed": True}, "seed: True")):
        with pytest.raises(ValueError, match=words):
            augment_dataset(photo_folder, tmp_path / "x", progress=False, **kwargs)
