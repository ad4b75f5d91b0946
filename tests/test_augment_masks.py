"""`augkit augment` with segmentation masks: folder pairs and npz in, PNG and npz out; masks
take their image's parameters, survive resume and any worker count; bad masks are refused."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augkit import augment as augment_module
from augkit.augment import augment_dataset, replay
from augkit.cli import main
from augkit.data import encode_mask_png, open_source, read_image, read_mask, write_npz
from augkit.transforms import Compose, RandomAffine, RandomBrightness, RandomContrast, save
from augkit.transforms.base import params_from_json
from tests.helpers import interrupt_at_chunk

COUNT, HEIGHT, WIDTH = 6, 20, 24
LABELS = (0, 1, 2, 255)
FILL = 255


def geometric() -> Compose:
    return Compose([RandomAffine(20, mask_fill=FILL), RandomBrightness(0.3)])


def photometric() -> Compose:
    return Compose([RandomBrightness(0.3), RandomContrast(0.3)])


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _box_mask(rng: np.random.Generator) -> np.ndarray:
    """Background 0 and three boxes labelled 1, 2 and 255 (overlaps allowed)."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    for label in LABELS[1:]:
        top, left = rng.integers(0, HEIGHT - 6), rng.integers(0, WIDTH - 6)
        mask[top:top + rng.integers(4, 10), left:left + rng.integers(4, 12)] = label
    return mask


def _samples() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (COUNT, HEIGHT, WIDTH, 3), dtype=np.uint8)
    return images, np.stack([_box_mask(rng) for _ in range(COUNT)])


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 4: the six samples make two chunks (resume and workers have work to split)."""
    monkeypatch.setattr(augment_module, "CHUNK", 4)


@pytest.fixture
def pair(tmp_path) -> Path:
    """SRC/images/<class>/imgK.png with SRC/masks/<class>/imgK.png (mode L)."""
    root = tmp_path / "pair"
    images, masks = _samples()
    for i, (image, mask) in enumerate(zip(images, masks, strict=True)):
        rel = f"{'ab'[i % 2]}/img{i}"
        for folder in ("images", "masks"):
            (root / folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / "images" / f"{rel}.png")
        (root / "masks" / f"{rel}.png").write_bytes(encode_mask_png(mask))
    return root


@pytest.fixture
def masks_npz(tmp_path) -> Path:
    images, masks = _samples()
    path = tmp_path / "seg.npz"
    write_npz(path, images, np.arange(COUNT) % 3, masks=masks.astype(np.int32))
    return path


def _records(dst: Path) -> list[dict]:
    return [json.loads(line) for line in (dst / "manifest.jsonl").read_text().splitlines()]


def _expected(pipeline: Compose, src: Path, record: dict) -> dict:
    source = open_source(src)
    return pipeline(image=source.read(record["index"]), mask=source.read_mask(record["index"]),
                    params=params_from_json(record["params"]))


def test_folder_pair_masks_move_with_their_images(pair, tmp_path, capsys):
    pipeline_file, dst = tmp_path / "pipeline.yaml", tmp_path / "out"
    save(geometric(), pipeline_file)
    assert main(["augment", str(pair), str(dst), "--pipeline", str(pipeline_file),
                 "--copies", "2", "--seed", "3", "--quiet"]) == 0
    assert "images, each with its mask," in capsys.readouterr().out
    records = _records(dst)
    assert len(records) == COUNT * 2
    source, moved = open_source(pair), 0
    for record in records:
        assert record["output"].startswith("images/")
        assert record["mask"] == "masks/" + record["output"].removeprefix("images/")
        with Image.open(dst / record["mask"]) as stored:
            assert stored.mode == "L"
        out_mask = read_mask(dst / record["mask"])
        before = source.read_mask(record["index"])
        assert set(np.unique(out_mask)) <= set(np.unique(before)) | {FILL}
        expected = _expected(geometric(), pair, record)
        assert np.array_equal(out_mask, expected["mask"])
        assert np.array_equal(read_image(dst / record["output"]), expected["image"])
        replayed = replay(dst, record["output"])
        assert np.array_equal(replayed["mask"], out_mask)
        moved += not np.array_equal(out_mask, before)
    assert moved > COUNT  # the affine moved most masks: the comparison is not vacuous
    assert main(["replay", str(dst), records[-1]["mask"]]) == 0
    out = capsys.readouterr().out
    assert "identical to the replayed image" in out and "identical to the replayed mask" in out


def test_photometric_pipeline_leaves_masks_byte_identical(pair, tmp_path):
    dst = tmp_path / "out"
    augment_dataset(pair, dst, photometric(), copies=2, seed=1, include_original=True,
                    progress=False)
    source = open_source(pair)
    records = _records(dst)
    assert len(records) == COUNT * 3
    for record in records:
        original = source.mask_path(record["index"]).read_bytes()
        assert (dst / record["mask"]).read_bytes() == original


@pytest.mark.parametrize("pipeline", [geometric, photometric])
def test_npz_masks_travel_into_the_npz(masks_npz, tmp_path, pipeline):
    dst = tmp_path / "out"
    augment_dataset(masks_npz, dst, pipeline(), copies=2, seed=5, format="npz", progress=False)
    with np.load(dst / "augmented.npz") as out:
        images, masks, labels = out["images"], out["masks"], out["labels"]
    assert masks.shape == (COUNT * 2, HEIGHT, WIDTH) and masks.dtype == np.uint8
    source = open_source(masks_npz)
    for i, record in enumerate(_records(dst)):
        before = source.read_mask(record["index"])
        assert set(np.unique(masks[i])) <= set(np.unique(before)) | {FILL}
        expected = _expected(pipeline(), masks_npz, record)
        assert np.array_equal(masks[i], expected["mask"])
        assert np.array_equal(images[i], expected["image"])
        assert labels[i] == record["index"] % 3
        if pipeline is photometric:
            assert np.array_equal(masks[i], before)


def test_npz_masks_to_png_files(masks_npz, tmp_path):
    dst = tmp_path / "out"
    augment_dataset(masks_npz, dst, geometric(), copies=1, seed=2, progress=False)
    record = _records(dst)[4]
    assert (record["output"], record["mask"]) == ("images/1/000004_aug0.png",
                                                  "masks/1/000004_aug0.png")
    assert np.array_equal(read_mask(dst / record["mask"]),
                          _expected(geometric(), masks_npz, record)["mask"])


def test_palette_and_sixteen_bit_masks_keep_their_values(tmp_path):
    root, dst = tmp_path / "pair", tmp_path / "out"
    images, masks = _samples()
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    for i in range(2):
        Image.fromarray(images[i]).save(root / "images" / f"{i}.jpg")
    palette = Image.fromarray(masks[0]).convert("P")  # indices are the labels
    palette.putpalette([v for i in range(256) for v in (i, 255 - i, i // 2)])
    palette.save(root / "masks" / "0.png")
    Image.fromarray(masks[1].astype(np.uint16) * 4).save(root / "masks" / "1.png")  # to 1020
    augment_dataset(root, dst, geometric(), seed=1, progress=False)
    with Image.open(dst / "masks" / "0_aug0.png") as p, Image.open(dst / "masks" /
                                                                    "1_aug0.png") as w:
        assert (p.mode, w.mode) == ("L", "I;16")
    for record in _records(dst):
        assert np.array_equal(read_mask(dst / record["mask"]),
                              _expected(geometric(), root, record)["mask"])
    assert set(np.unique(read_mask(dst / "masks" / "1_aug0.png"))) <= {0, 4, 8, 255, 1020}


@pytest.mark.parametrize("fmt", ["png", "npz"])
def test_workers_give_identical_outputs(pair, masks_npz, tmp_path, fmt):
    src = pair if fmt == "png" else masks_npz
    one, two = tmp_path / "one", tmp_path / "two"
    for dst, workers in ((one, 1), (two, 2)):
        augment_dataset(src, dst, geometric(), copies=2, seed=4, workers=workers, format=fmt,
                        progress=False)
    assert _tree(one) == _tree(two)


@pytest.mark.parametrize("fmt", ["png", "npz"])
def test_interrupted_run_resumes_to_the_uninterrupted_result(pair, masks_npz, tmp_path,
                                                             monkeypatch, fmt):
    src = pair if fmt == "png" else masks_npz
    reference, dst = tmp_path / "reference", tmp_path / "interrupted"
    augment_dataset(src, reference, geometric(), copies=2, seed=2, format=fmt, progress=False)
    real = interrupt_at_chunk(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        augment_dataset(src, dst, geometric(), copies=2, seed=2, format=fmt, progress=False)
    monkeypatch.setattr(augment_module, "process_chunk", real)
    state = augment_module._load_state(dst)
    assert state.chunks_done == 1 and not state.complete
    if fmt == "png":  # a kill between an image of the unfinished chunk and its mask
        real(open_source(src), augment_module._draw_from_parent(geometric()), state.config,
             dst, 1)
        (dst / "masks" / "b" / "img5_aug1.png").unlink()
    summary = augment_dataset(src, dst, geometric(), copies=2, seed=2, format=fmt,
                              progress=False)
    assert summary.resumed_chunks == 1 and summary.written == (COUNT - 4) * 2
    assert _tree(dst) == _tree(reference)


def test_deleted_last_chunk_is_rewritten(pair, tmp_path):
    reference, dst = tmp_path / "reference", tmp_path / "out"
    for folder in (reference, dst):
        augment_dataset(pair, folder, geometric(), copies=2, seed=6, progress=False)
    for record in _records(dst):  # the last chunk's outputs and the state saying it is done
        if record["index"] >= 4:
            (dst / record["output"]).unlink()
            (dst / record["mask"]).unlink()
    state = augment_module._load_state(dst)
    state.chunks_done, state.complete = 1, False
    augment_module._save_state(dst, state)
    augment_dataset(pair, dst, geometric(), copies=2, seed=6, progress=False)
    assert _tree(dst) == _tree(reference)


def _replace_mask(pair: Path, mask: np.ndarray | None) -> None:
    target = pair / "masks" / "b" / "img3.png"
    target.unlink()
    if mask is not None:
        target.write_bytes(encode_mask_png(mask))


@pytest.mark.parametrize(("problem", "words"), [
    ("missing", "masks/b/img3.png: missing; expected the mask of"),
    ("size", "masks/b/img3.png: 24x19 pixels; expected 24x20, the size of"),
    ("idx", "--format: 'idx' has no place for the masks of"),
])
def test_bad_masks_give_one_line_and_leave_dst_as_it_was(pair, tmp_path, capsys, problem,
                                                         words):
    kept = tmp_path / "kept"  # a finished run of the good pair, then rerun on the bad input
    augment_dataset(pair, kept, geometric(), progress=False)
    before = _tree(kept)
    if problem != "idx":
        _replace_mask(pair, None if problem == "missing" else np.zeros((19, 24), np.uint8))
    flags = ["--format", "idx"] if problem == "idx" else []
    for dst in (tmp_path / "fresh", kept):
        assert main(["augment", str(pair), str(dst), "--overwrite", "--quiet", *flags]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "fresh").exists()
    assert _tree(kept) == before


def test_other_bad_masks_are_named(pair, masks_npz, tmp_path):
    shutil.copy(pair / "images" / "a" / "img0.png", pair / "masks" / "b" / "img3.png")
    with pytest.raises(ValueError, match=r"img3\.png: a PNG image of mode RGB; expected the "):
        augment_dataset(pair, tmp_path / "x", progress=False)
    bad = tmp_path / "bad.npz"
    images, masks = _samples()
    np.savez(bad, images=images, masks=masks[:, :, :5])
    with pytest.raises(ValueError, match=r"bad\.npz: 'masks' is uint8 \(6, 20, 5\); expected"):
        augment_dataset(bad, tmp_path / "y", progress=False)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
