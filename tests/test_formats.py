"""Every output format round trips (images, labels, masks, manifest); WebDataset shards read in
tarfile and webdataset, Parquet in Hugging Face datasets; damaged shards and tables give one
line each, skip what cannot be read and keep the rest; augment writes shards resumably and
identically for any worker count."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augkit import augment as augment_module
from augkit.augment import augment_dataset
from augkit.cli import main
from augkit.data import (
    load_arrays,
    load_dataset,
    open_source,
    output_format,
    write_dataset,
)
from augkit.data import tables as tables_module
from augkit.data.codecs import fast_png, npy_bytes, read_npy
from augkit.data.tars import END, member, scan
from augkit.errors import AugkitError
from augkit.transforms import Compose, RandomAffine, RandomHorizontalFlip, RandomResizedCrop
from tests.helpers import interrupt_at_chunk

COUNT = 20
RNG = np.random.default_rng(0)
_RAMP = np.arange(6)[:, None, None] * 20 + np.arange(5)[None, :, None] * 12 + [0, 40, 80]
IMAGES = (_RAMP + RNG.integers(0, 60, (COUNT, 1, 1, 3))).astype(np.uint8)  # smooth: for JPEG
LABELS = RNG.integers(0, 3, COUNT)
MASKS = RNG.integers(0, 300, (COUNT, 6, 5))
SRC = Path(__file__).resolve().parents[1] / "src" / "augkit"


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _order(source) -> np.ndarray:
    """The written index of each sample: files and tables keep the order they were written
    in; image folders list theirs by class, in files named "<index>.<ext>"."""
    if source.kind != "folder":
        return np.arange(len(source))
    return np.array([int(name.rsplit("/", 1)[-1].split(".")[0]) for name in source.names])


@pytest.mark.parametrize(("fmt", "out", "lossless"), [
    ("png", "pngs", True), ("jpeg", "jpegs", False), ("webp", "webps", False),
    ("npz", "all.npz", True), ("wds", "one.tar", True), ("wds", "shards", True),
    ("parquet", "one.parquet", True), ("parquet", "parts", True),
])
def test_every_format_round_trips_images_labels_and_masks(tmp_path, fmt, out, lossless):
    shard_size = 7 if fmt in ("wds", "parquet") and "." not in out else None
    write_dataset(tmp_path / out, IMAGES, LABELS, fmt, masks=MASKS, shard_size=shard_size)
    source = open_source(tmp_path / out)
    assert len(source) == COUNT and source.has_masks
    images, labels = load_arrays(source)
    order = _order(source)
    assert sorted(order.tolist()) == list(range(COUNT))
    assert np.array_equal(labels, LABELS[order])
    masks = np.stack([source.read_mask(i) for i in range(COUNT)])
    assert np.array_equal(masks, MASKS[order])
    difference = np.abs(images.astype(int) - IMAGES[order]).mean()
    assert difference == 0 if lossless else difference < 8
    if shard_size:
        files = sorted(p.name for p in (tmp_path / out).iterdir())
        assert files == [f"{'shard' if fmt == 'wds' else 'part'}-0000{i}."
                         f"{'tar' if fmt == 'wds' else 'parquet'}" for i in range(3)]


def test_idx_round_trips_and_refuses_masks(tmp_path):
    gray = IMAGES[..., 0]
    write_dataset(tmp_path / "idx", gray, LABELS, "idx")
    images, labels = load_arrays(open_source(tmp_path / "idx"))
    assert np.array_equal(images, gray) and np.array_equal(labels, LABELS)
    with pytest.raises(AugkitError, match="IDX has no place for masks"):
        write_dataset(tmp_path / "idx2", gray, LABELS, "idx", masks=MASKS)


def test_unlabeled_shards_and_tables(tmp_path):
    for name in ("u.tar", "u.parquet"):
        write_dataset(tmp_path / name, IMAGES, None)
        data = load_dataset(tmp_path / name)
        assert data.labels is None and data.images.shape == (COUNT, 3, 6, 5)


def test_codecs_are_lossless_and_numpy_compatible():
    for image in (IMAGES[0], IMAGES[0, ..., 0], MASKS[0].astype(np.uint16)):
        with Image.open(io.BytesIO(fast_png(image))) as img:
            assert np.array_equal(np.asarray(img).astype(int), image.astype(int))
        buffer = io.BytesIO()
        np.save(buffer, image)
        assert npy_bytes(image) == buffer.getvalue()
        assert np.array_equal(read_npy(npy_bytes(image)), image)


def test_shards_read_in_tarfile_and_webdataset(tmp_path):
    write_dataset(tmp_path / "s.tar", IMAGES[:3], LABELS[:3], masks=MASKS[:3])
    with tarfile.open(tmp_path / "s.tar") as archive:
        names = archive.getnames()
        assert names[:3] == ["000000.npy", "000000.cls", "000000.mask.png"]
        stored = io.BytesIO(archive.extractfile("000001.npy").read())
        assert np.array_equal(np.load(stored), IMAGES[1])
        assert int(archive.extractfile("000002.cls").read()) == LABELS[2]
    webdataset = pytest.importorskip("webdataset")
    samples = list(webdataset.WebDataset(str(tmp_path / "s.tar"), shardshuffle=False).decode())
    assert [s["__key__"] for s in samples] == ["000000", "000001", "000002"]
    assert np.array_equal(samples[1]["npy"], IMAGES[1]) and samples[2]["cls"] == LABELS[2]


def test_parquet_loads_in_hugging_face_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    write_dataset(tmp_path / "p.parquet", IMAGES, LABELS, masks=MASKS)
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "p.parquet"),
                                   split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.features["image"].__class__.__name__ == "Image"
    assert loaded.features["label"].names == ["0", "1", "2"]
    assert loaded["label"] == LABELS.tolist()
    assert np.array_equal(np.asarray(loaded[3]["image"]), IMAGES[3])
    assert np.array_equal(np.asarray(loaded[3]["mask"]).astype(int), MASKS[3])


def test_save_to_disk_folder_is_a_source(tmp_path):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"img": datasets.Image(),
                                  "label": datasets.ClassLabel(names=["cat", "dog", "owl"])})
    data = datasets.Dataset.from_dict({"img": [Image.fromarray(a) for a in IMAGES],
                                       "label": LABELS.tolist()}, features=features)
    data.save_to_disk(str(tmp_path / "saved"))
    source = open_source(tmp_path / "saved")
    assert source.kind == "arrow" and source.class_names == ["cat", "dog", "owl"]
    images, labels = load_arrays(source)
    assert np.array_equal(images, IMAGES) and np.array_equal(labels, LABELS)
    datasets.DatasetDict({"train": data}).save_to_disk(str(tmp_path / "splits"))
    with pytest.raises(AugkitError, match=r"a DatasetDict .*splits: train\); name one split"):
        open_source(tmp_path / "splits")


def _digits(tmp_path: Path) -> Path:
    path = tmp_path / "digits.npz"
    write_dataset(path, IMAGES[..., 0].repeat(2, axis=0), np.tile(LABELS, 2),
                  masks=np.tile(MASKS % 4, (2, 1, 1)))
    return path


def _pipeline() -> Compose:
    return Compose([RandomHorizontalFlip(), RandomAffine(10, mask_fill=9)])


@pytest.mark.parametrize("fmt", ["wds", "parquet"])
def test_augment_shards_hold_the_png_run_with_its_manifest(tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(augment_module, "CHUNK", 8)  # png: 5 chunks; shards: 2 chunks each
    src = _digits(tmp_path)
    augment_dataset(src, tmp_path / "png", _pipeline(), copies=2, seed=3, progress=False)
    augment_dataset(src, tmp_path / fmt, _pipeline(), copies=2, seed=3, format=fmt,
                    include_original=True, progress=False)
    shards, png = open_source(tmp_path / fmt), open_source(tmp_path / "png")
    records = [json.loads(line) for line in (tmp_path / fmt / "manifest.jsonl").open()]
    assert len(shards) == len(records) == 3 * 2 * COUNT
    assert [shards.record(i) for i in range(len(shards))] == records
    augmented = {r["output"].split("/", 1)[1]: i for i, r in enumerate(records)
                 if r["copy"] != "original"}
    for i, name in enumerate(png.names):  # the same draws as --format png
        j = augmented[name.rsplit(".", 1)[0]]
        assert np.array_equal(shards.read(j), png.read(i))
        assert np.array_equal(shards.read_mask(j), png.read_mask(i))
    assert np.array_equal(shards.labels, [r["label"] for r in records])
    pattern = "shard-*.tar" if fmt == "wds" else "part-*.parquet"
    assert len(list((tmp_path / fmt).glob(pattern))) == 3  # 120 outputs, 48 a shard


def test_a_resizing_pipelines_blocks_run_as_one_batch_with_the_png_runs_pixels(tmp_path,
                                                                               monkeypatch):
    """RandomResizedCrop's output size is set whatever is drawn, so a shard's blocks go to
    the kernels as one batch; each output is still the png run's."""
    monkeypatch.setattr(augment_module, "CHUNK", 8)  # png: 5 chunks; shards: 2 chunks each
    src = _digits(tmp_path)
    pipeline = Compose([RandomResizedCrop((9, 7), scale=(0.3, 1.0)), RandomHorizontalFlip()])
    augment_dataset(src, tmp_path / "png", pipeline, copies=2, seed=3, progress=False)
    sizes = []
    real = augment_module._augment_batch

    def recorded(pipeline, group, params, device="cpu"):
        sizes.append(len(group))
        return real(pipeline, group, params, device)

    monkeypatch.setattr(augment_module, "_augment_batch", recorded)
    augment_dataset(src, tmp_path / "wds", pipeline, copies=2, seed=3, format="wds",
                    progress=False)
    assert max(sizes) > 8  # blocks of 8 joined
    shards, png = open_source(tmp_path / "wds"), open_source(tmp_path / "png")
    keys = {shards.record(i)["output"].split("/", 1)[1]: i for i in range(len(shards))}
    for i, name in enumerate(png.names):
        j = keys[name.rsplit(".", 1)[0]]
        assert shards.read(j).shape == (9, 7)
        assert np.array_equal(shards.read(j), png.read(i))
        assert np.array_equal(shards.read_mask(j), png.read_mask(i))


@pytest.mark.parametrize("fmt", ["wds", "parquet"])
def test_augment_shards_resume_and_match_for_any_worker_count(tmp_path, monkeypatch, fmt):
    src = _digits(tmp_path)
    options = {"copies": 2, "seed": 1, "format": fmt, "shard_size": 20, "progress": False}
    augment_dataset(src, tmp_path / "one", _pipeline(), workers=1, **options)
    augment_dataset(src, tmp_path / "two", _pipeline(), workers=2, **options)
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    assert len([p for p in (tmp_path / "one").iterdir() if p.name[:4] in ("shar", "part")]) == 4
    real = interrupt_at_chunk(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        augment_dataset(src, tmp_path / "cut", _pipeline(), **options)
    monkeypatch.setattr(augment_module, "process_chunk", real)
    assert augment_module._load_state(tmp_path / "cut").chunks_done == 2
    summary = augment_dataset(src, tmp_path / "cut", _pipeline(), **options)
    assert summary.resumed_chunks == 2 and summary.written == 40  # 2 of 4 shards of 20
    assert _tree(tmp_path / "cut") == _tree(tmp_path / "one")


def _three_samples(tmp_path: Path, drop_image: bool = False) -> Path:
    parts = []
    for i in range(3):
        if not (drop_image and i == 1):
            parts.append(member(f"k{i}.npy", npy_bytes(IMAGES[i])))
        parts += [member(f"k{i}.cls", b"%d" % LABELS[i]), member(f"k{i}.json", b"{}")]
    path = tmp_path / "s.tar"
    path.write_bytes(b"".join(parts) + END)
    return path


def _skips(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_a_truncated_shard_keeps_its_whole_samples(tmp_path, capsys):
    path = _three_samples(tmp_path)
    data = path.read_bytes()
    last_image = int(scan(data).offsets[6])
    path.write_bytes(data[: last_image + 100])  # inside the third sample's image
    images, labels = load_arrays(open_source(path))
    assert np.array_equal(images, IMAGES[:2]) and np.array_equal(labels, LABELS[:2])
    lines = _skips(capsys)
    assert len(lines) == 1 and str(path) in lines[0] and "truncated" in lines[0]
    path.write_bytes(data[: -len(END)])  # every sample whole, the end blocks missing
    assert len(load_arrays(open_source(path))[0]) == 3
    lines = _skips(capsys)
    assert len(lines) == 1 and "without its end blocks" in lines[0]


def test_a_sample_missing_its_image_is_skipped_with_one_line(tmp_path, capsys):
    path = _three_samples(tmp_path, drop_image=True)
    source = open_source(path)
    images, labels = load_arrays(source)
    assert np.array_equal(images, IMAGES[[0, 2]]) and np.array_equal(labels, LABELS[[0, 2]])
    lines = _skips(capsys)
    assert len(lines) == 1 and f"{path}: sample k1: no image" in lines[0]
    assert augment_dataset(path, tmp_path / "out", _pipeline(), format="wds",
                           progress=False).skipped == [str(path)]
    skipped = [json.loads(line) for line in (tmp_path / "out" / "skipped.jsonl").open()]
    assert [s["source"] for s in skipped] == ["s.tar[k1]"]
    assert len(open_source(tmp_path / "out")) == 2


def test_bad_tables_give_one_line(tmp_path, capsys):
    parquet = pytest.importorskip("pyarrow.parquet")
    pyarrow = pytest.importorskip("pyarrow")

    plain = tmp_path / "parts" / "part-00001.parquet"
    plain.parent.mkdir()
    parquet.write_table(pyarrow.table({"pixels": [b"x"], "label": [1]}), plain)
    with pytest.raises(AugkitError, match=r"part-00001.parquet: no image column \(its columns: "
                                          r"pixels, label\)") as error:
        open_source(plain)
    assert "\n" not in str(error.value)
    write_dataset(tmp_path / "parts" / "part-00000.parquet", IMAGES[:4], LABELS[:4])
    images, labels = load_arrays(open_source(tmp_path / "parts"))
    assert np.array_equal(images, IMAGES[:4]) and np.array_equal(labels, LABELS[:4])
    lines = _skips(capsys)
    assert len(lines) == 1 and f"{plain}: no image column" in lines[0]
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(AugkitError, match="junk.parquet: cannot read it as Parquet"):
        open_source(tmp_path / "junk.parquet")


def test_suffix_decides_the_format_and_unknown_ones_are_refused(tmp_path, capsys):
    assert [output_format(name, None) for name in ("a.npz", "a.tar", "a.parquet", "a")] == [
        "npz", "wds", "parquet", "png"]
    for name, words in (("g.png", "names an image file"), ("g.foo", "unknown suffix '.foo'"),
                        ("g.tar", "a .tar name for --format parquet")):
        with pytest.raises(AugkitError, match=words):
            output_format(name, "parquet" if name == "g.tar" else None)
    src = _digits(tmp_path)
    for flags, words in ((["--format", "wds", "--quality", "80"], "--quality: only for"),
                         (["--shard-size", "5"], "--shard-size: only for --format wds"),
                         (["--format", "jpeg", "--quality", "0"], "--quality: 0 is not")):
        assert main(["augment", str(src), str(tmp_path / "o"), "--quiet", *flags]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    run = str(tmp_path / "no-run")  # the output's name is checked before the run is read
    assert main(["generate", run, "--n", "2", "--out", str(tmp_path / "g.foo")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "g.foo: unknown suffix '.foo'" in err[0]
    rgba = np.zeros((2, 4, 4, 4), np.uint8)
    with pytest.raises(AugkitError, match="JPEG has no alpha channel"):
        write_dataset(tmp_path / "j", rgba, None, "jpeg")
    assert main(["augment", str(src), str(tmp_path / "w"), "--format", "wds", "--quiet"]) == 0
    assert len(load_dataset(tmp_path / "w")) == 2 * COUNT


def test_pyarrow_is_optional(tmp_path, monkeypatch):
    for path in SRC.rglob("*.py"):  # never imported at module level
        for node in ast.parse(path.read_text()).body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "pyarrow" for n in names), path
    import builtins

    real = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.split(".")[0] == "pyarrow":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(AugkitError, match=r"x.parquet: .*need pyarrow.*augkit\[parquet\]"):
        write_dataset(tmp_path / "x.parquet", IMAGES, LABELS)
    assert tables_module.PARQUET_EXTRA in "pip install 'augkit[parquet]'"
