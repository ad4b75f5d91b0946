"""Reading image folders, IDX pairs and npz files as ImageSources, and writing them back."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from augkit.data import (
    ImageDataset,
    OutputExistsError,
    UnreadableImage,
    load_arrays,
    open_source,
    save_png,
    write_idx,
    write_idx_pair,
    write_npz,
)

RNG = np.random.default_rng(0)
GRAY = RNG.integers(0, 256, (6, 5), dtype=np.uint8)
RGB = RNG.integers(0, 256, (6, 5, 3), dtype=np.uint8)
RGBA = RNG.integers(0, 256, (6, 5, 4), dtype=np.uint8)


def _save(path, img: Image.Image, **options) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **options)


def _png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def tree(tmp_path):
    """Two classes, 'cat' and 'dog', in every format and a few modes; plus files to ignore."""
    root = tmp_path / "pets"
    _save(root / "cat" / "a_gray.png", Image.fromarray(GRAY))
    _save(root / "cat" / "b_rgb.bmp", Image.fromarray(RGB))
    _save(root / "cat" / "c_rgba.webp", Image.fromarray(RGBA), lossless=True)
    _save(root / "cat" / "sub" / "d.JPG", Image.fromarray(RGB))
    palette = Image.fromarray(GRAY // 64).convert("P")
    _save(root / "dog" / "e_p.png", palette)
    _save(root / "dog" / "f_p_transparent.png", palette, transparency=0)
    _save(root / "dog" / "g_la.png", Image.fromarray(RGBA[..., :2], "LA"))
    _save(root / "dog" / "h.jpeg", Image.fromarray(GRAY))
    _save(root / "dog" / "i_16bit.png", Image.fromarray((GRAY.astype(np.uint16) << 8) + 255))
    _save(root / "dog" / "j_bilevel.png", Image.fromarray(GRAY > 127))
    (root / "dog" / "notes.txt").write_text("ignored")
    _save(root / "dog" / ".hidden.png", Image.fromarray(GRAY))
    _save(root / ".cache" / "x.png", Image.fromarray(GRAY))
    (root / "empty_folder").mkdir()
    return root


def test_class_folders_give_sorted_names_labels_and_classes(tree):
    source = open_source(tree)
    assert source.kind == "folder" and source.path == tree
    assert source.class_names == ["cat", "dog"]
    assert source.names == ["cat/a_gray.png", "cat/b_rgb.bmp", "cat/c_rgba.webp", "cat/sub/d.JPG",
                            "dog/e_p.png", "dog/f_p_transparent.png", "dog/g_la.png", "dog/h.jpeg",
                            "dog/i_16bit.png", "dog/j_bilevel.png"]
    assert source.labels.dtype == np.int64 and source.labels.tolist() == [0] * 4 + [1] * 6
    assert len(source) == 10 and source.input_files()[0] == tree / "cat" / "a_gray.png"


def test_every_format_and_mode_reads_as_gray_rgb_or_rgba(tree):
    source = open_source(tree)
    images = {name.split("/")[-1]: source.read(i) for i, name in enumerate(source.names)}
    assert all(image.dtype == np.uint8 for image in images.values())
    assert np.array_equal(images["a_gray.png"], GRAY)
    assert np.array_equal(images["b_rgb.bmp"], RGB)
    assert np.array_equal(images["c_rgba.webp"], RGBA)
    assert images["d.JPG"].shape == (6, 5, 3) and images["h.jpeg"].shape == (6, 5)
    assert np.array_equal(images["e_p.png"], np.repeat((GRAY // 64)[..., None], 3, axis=2))
    transparent = images["f_p_transparent.png"]
    assert transparent.shape == (6, 5, 4)
    assert np.array_equal(transparent[..., 3], np.where(GRAY // 64 == 0, 0, 255))
    la = images["g_la.png"]
    assert la.shape == (6, 5, 4) and np.array_equal(la[..., 0], RGBA[..., 0])
    assert np.array_equal(la[..., 3], RGBA[..., 1])
    assert np.array_equal(images["i_16bit.png"], GRAY)
    assert np.array_equal(images["j_bilevel.png"], np.where(GRAY > 127, 255, 0))


def test_flat_folder_is_unlabeled(tmp_path):
    for name in ("b.png", "a.png"):
        _save(tmp_path / name, Image.fromarray(GRAY))
    source = open_source(str(tmp_path))
    assert source.names == ["a.png", "b.png"] and source.labels.tolist() == [-1, -1]
    assert source.class_names == []


def test_unreadable_images_are_listed_and_named_when_read(tmp_path):
    data = _png_bytes(RGB)
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not a picture")
    (tmp_path / "locked.png").write_bytes(data)
    source = open_source(tmp_path)
    assert source.names == ["empty.png", "locked.png", "text.png", "truncated.png"]
    reasons = {"empty.png": "empty file", "text.png": "not an image (cannot identify image file)",
               "truncated.png": "truncated or corrupt image data (image file is truncated)"}
    for name, reason in reasons.items():
        with pytest.raises(UnreadableImage) as info:
            source.read(source.names.index(name))
        assert info.value.path == str(tmp_path / name) and info.value.reason == reason
        assert str(info.value) == f"{tmp_path / name}: {reason}"
    error = pickle.loads(pickle.dumps(info.value))
    assert (error.path, error.reason) == (info.value.path, info.value.reason)
    (tmp_path / "locked.png").chmod(0)
    # Root reads any file, so the refusal can only be checked for other users.
    if not os.access(tmp_path / "locked.png", os.R_OK):
        with pytest.raises(UnreadableImage, match="locked.png: permission denied$"):
            source.read(1)
    (tmp_path / "locked.png").chmod(0o644)


def test_decompression_bombs_are_unreadable(tmp_path, monkeypatch):
    save_png(tmp_path / "big.png", RGB)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    with pytest.raises(UnreadableImage, match="big.png: too many pixels to decode safely"):
        open_source(tmp_path).read(0)


@pytest.mark.parametrize("gz", [".gz", ""])
def test_idx_pair_by_folder_and_by_images_file(tmp_path, gz):
    images = RNG.integers(0, 256, (4, 6, 5), dtype=np.uint8)
    for prefix, labels in (("t10k", [9, 9, 9, 9]), ("train", [3, 1, 0, 1])):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte{gz}", images)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte{gz}", np.array(labels, np.uint8))
    source = open_source(tmp_path)
    assert source.kind == "idx" and source.path == tmp_path
    assert source.names[1] == f"train-images-idx3-ubyte{gz}[1]"
    assert source.labels.tolist() == [3, 1, 0, 1] and source.class_names == ["0", "1", "2", "3"]
    assert np.array_equal(source.read(2), images[2])
    assert source.input_files() == [tmp_path / f"train-images-idx3-ubyte{gz}",
                                    tmp_path / f"train-labels-idx1-ubyte{gz}"]
    by_file = open_source(tmp_path / f"t10k-images-idx3-ubyte{gz}")
    assert by_file.labels.tolist() == [9] * 4 and len(by_file.class_names) == 10
    (tmp_path / f"t10k-labels-idx1-ubyte{gz}").unlink()
    unlabeled = open_source(tmp_path / f"t10k-images-idx3-ubyte{gz}")
    assert unlabeled.labels.tolist() == [-1] * 4 and unlabeled.class_names == []


def test_npz_with_and_without_labels(tmp_path):
    images = RNG.integers(0, 256, (3, 6, 5, 1), dtype=np.uint8)
    np.savez(tmp_path / "digits.npz", images=images, labels=np.array([2, 0, 2], np.int32))
    source = open_source(tmp_path / "digits.npz")
    assert source.kind == "npz" and source.names == ["digits.npz[0]", "digits.npz[1]",
                                                     "digits.npz[2]"]
    assert source.labels.dtype == np.int64 and source.labels.tolist() == [2, 0, 2]
    assert source.class_names == ["0", "1", "2"]
    assert np.array_equal(source.read(1), images[1, ..., 0])
    np.savez_compressed(tmp_path / "rgb.npz", images=RGB[None].repeat(2, axis=0))
    unlabeled = open_source(tmp_path / "rgb.npz")
    assert unlabeled.labels.tolist() == [-1, -1] and np.array_equal(unlabeled.read(1), RGB)


@pytest.mark.parametrize("name, count, first_label", [("mnist", 60000, 5),
                                                      ("mnist:test", 10000, 7)])
def test_bundled_mnist(name, count, first_label):
    source = open_source(name)
    assert source.kind == "idx" and len(source) == count and source.labels[0] == first_label
    assert source.names[17] == f"{'t10k' if count == 10000 else 'train'}-images-idx3-ubyte.gz[17]"
    assert source.read(0).shape == (28, 28) and len(source.class_names) == 10


def _error_cases(tmp_path):
    """(path to open, start of the one-line message) for every way a dataset can be wrong."""
    mixed = tmp_path / "mixed"
    _save(mixed / "top.png", Image.fromarray(GRAY))
    _save(mixed / "cat" / "a.png", Image.fromarray(GRAY))
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    arrays = {
        "float.npz": {"images": np.zeros((2, 4, 4), np.float32)},
        "rank2.npz": {"images": np.zeros((4, 4), np.uint8)},
        "channels.npz": {"images": np.zeros((2, 4, 4, 2), np.uint8)},
        "nothing.npz": {"images": np.zeros((0, 4, 4), np.uint8)},
        "short.npz": {"images": np.zeros((2, 4, 4), np.uint8), "labels": np.array([1])},
        "negative.npz": {"images": np.zeros((2, 4, 4), np.uint8), "labels": np.array([1, -3])},
        "fractional.npz": {"images": np.zeros((2, 4, 4), np.uint8), "labels": np.ones(2)},
        "no_images.npz": {"pixels": np.zeros((2, 4, 4), np.uint8)},
    }
    for name, content in arrays.items():
        np.savez(tmp_path / name, **content)
    np.save(tmp_path / "single.npy", np.zeros((2, 4, 4), np.uint8))
    os.replace(tmp_path / "single.npy", tmp_path / "single.npz")
    (tmp_path / "zip.npz").write_bytes(b"PK\x03\x04 broken")
    idx = tmp_path / "idx"
    idx.mkdir()
    write_idx(idx / "x-images-idx3-ubyte", np.zeros((3, 4, 4), np.int32))
    write_idx(idx / "a-images-idx3-ubyte", np.zeros((3, 4, 4), np.uint8))
    write_idx(idx / "a-labels-idx1-ubyte", np.zeros(2, np.uint8))
    shape = "expected uint8 images of shape (N, H, W) or (N, H, W, C) with C 1, 3 or 4; found"
    t = tmp_path
    return [
        (t / "missing", f"{t / 'missing'}: no such file or folder; expected a folder of PNG"),
        ("mnist:validation", "mnist:validation: no such file or folder; expected 'mnist', "
                             "'mnist:train' or 'mnist:test' for the bundled MNIST"),
        (mixed, f"{mixed}: holds images at the top level (top.png, ...) and in class "
                "sub-folders (cat, ...); expected one or the other"),
        (t / "empty", f"{t / 'empty'}: no images found (expected PNG, JPEG, BMP or WebP files, "
                      "optionally in class sub-folders)"),
        (t / "notes.txt", f"{t / 'notes.txt'}: not a dataset; expected a folder of PNG"),
        (t / "float.npz", f"{t / 'float.npz'}: {shape} float32 (2, 4, 4)"),
        (t / "rank2.npz", f"{t / 'rank2.npz'}: {shape} uint8 (4, 4)"),
        (t / "channels.npz", f"{t / 'channels.npz'}: {shape} uint8 (2, 4, 4, 2)"),
        (t / "nothing.npz", f"{t / 'nothing.npz'}: no images (N is 0)"),
        (t / "short.npz", f"{t / 'short.npz'}: labels of shape (1,) for 2 images; expected (2,)"),
        (t / "negative.npz", f"{t / 'negative.npz'}: negative label -3 at index 1; labels must "
                             "be >= 0, or all -1 for unlabeled data"),
        (t / "fractional.npz", f"{t / 'fractional.npz'}: labels must be integers, found float64"),
        (t / "no_images.npz", f"{t / 'no_images.npz'}: cannot read npz (no 'images' array; "
                              "found pixels)"),
        (t / "single.npz", f"{t / 'single.npz'}: cannot read npz (a single .npy array, not an "
                           "npz archive)"),
        (t / "zip.npz", f"{t / 'zip.npz'}: cannot read npz (File is not a zip file)"),
        (idx / "x-images-idx3-ubyte", f"{idx / 'x-images-idx3-ubyte'}: {shape} "
                                      "IDX type 0x0c (3, 4, 4)"),
        (idx / "a-images-idx3-ubyte", f"{idx / 'a-labels-idx1-ubyte'}: labels of shape (2,) for "
                                      "3 images; expected (3,)"),
    ]


def test_every_wrong_dataset_is_named_in_one_line(tmp_path):
    for path, message in _error_cases(tmp_path):
        with pytest.raises(ValueError) as info:
            open_source(path)
        assert str(info.value).startswith(message), str(info.value)
        assert "\n" not in str(info.value)


def test_a_folder_with_several_idx_datasets_is_ambiguous(tmp_path):
    for prefix in ("train-a", "train-b"):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"holds several IDX datasets \(train-a-images-idx3-ubyte"
                                         r".gz, train-b-images-idx3-ubyte.gz\); name one"):
        open_source(tmp_path)


def test_idx_changed_after_opening_is_unreadable(tmp_path):
    path = tmp_path / "data-images-idx3-ubyte"
    write_idx(path, np.zeros((3, 2, 2), np.uint8))
    source = open_source(path)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(UnreadableImage, match=r"data-images-idx3-ubyte: IDX file of shape "
                                              r"\(3, 2, 2\) should be 28 bytes, found 27"):
        source.read(0)


def test_png_is_deterministic_and_never_overwritten_by_default(tmp_path):
    for image in (GRAY, RGB, RGBA, RGB[..., :1]):
        save_png(tmp_path / "a.png", image, overwrite=True)
        first = (tmp_path / "a.png").read_bytes()
        save_png(tmp_path / "a.png", image, overwrite=True)
        assert (tmp_path / "a.png").read_bytes() == first
        assert np.array_equal(open_source(tmp_path).read(0), image.squeeze(2) if image.ndim == 3
                              and image.shape[2] == 1 else image)
    with pytest.raises(OutputExistsError, match="a.png: already exists; pass --overwrite"):
        save_png(tmp_path / "a.png", GRAY)
    assert isinstance(OutputExistsError("x"), FileExistsError)
    with pytest.raises(ValueError, match=r"b.png: expected uint8 images of shape \(H, W\) or "
                                         r"\(H, W, C\) with C 1, 3 or 4; found float64 \(2, 2\)"):
        save_png(tmp_path / "b.png", np.zeros((2, 2)))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.png"]


def test_npz_and_idx_pair_round_trip_through_open_source(tmp_path):
    images = RNG.integers(0, 256, (3, 4, 5, 3), dtype=np.uint8)
    labels = np.array([1, 0, 1])
    write_npz(tmp_path / "out.npz", images, labels)
    back = open_source(tmp_path / "out.npz")
    assert np.array_equal(load_arrays(back)[0], images) and back.labels.tolist() == [1, 0, 1]
    write_npz(tmp_path / "plain.npz", images[..., 0], None)
    assert open_source(tmp_path / "plain.npz").labels.tolist() == [-1, -1, -1]
    with pytest.raises(OutputExistsError, match="out.npz: already exists"):
        write_npz(tmp_path / "out.npz", images, labels)
    folder = tmp_path / "idx"
    paths = write_idx_pair(folder, "train", images, labels)
    assert paths == (folder / "train-images-idx4-ubyte.gz", folder / "train-labels-idx1-ubyte.gz")
    pair = open_source(folder)
    assert np.array_equal(load_arrays(pair)[0], images) and pair.labels.tolist() == [1, 0, 1]
    with pytest.raises(OutputExistsError, match="train-images-idx4-ubyte.gz: already exists"):
        write_idx_pair(folder, "train", images, labels)
    gray = write_idx_pair(folder, "gray", images[..., 0], None)
    assert gray == (folder / "gray-images-idx3-ubyte.gz", None)
    assert np.array_equal(open_source(gray[0]).read(2), images[2, ..., 0])
    leftovers = [path for path in tmp_path.rglob("*") if path.name.startswith(".")]
    assert leftovers == []


def test_load_arrays_stacks_a_folder_and_names_the_odd_image(tmp_path):
    for i in range(3):
        save_png(tmp_path / "cls" / f"{i}.png", RGB + i)
    images, labels = load_arrays(open_source(tmp_path))
    assert images.shape == (3, 6, 5, 3) and np.array_equal(images[2], RGB + 2)
    assert labels.tolist() == [0, 0, 0]
    save_png(tmp_path / "cls" / "3.png", GRAY)
    with pytest.raises(ValueError, match=r"cls/3.png: shape \(6, 5\) differs from \(6, 5, 3\) of "
                                         r"the first image \(cls/0.png\)"):
        load_arrays(open_source(tmp_path))


def _invert(image: torch.Tensor) -> torch.Tensor:
    return 255 - image


def test_image_dataset_in_a_dataloader_with_workers(tmp_path):
    for i, label in enumerate("abcab"):
        save_png(tmp_path / label / f"{i}.png", np.full((4, 4, 3), i, np.uint8))
    dataset = ImageDataset(tmp_path, transform=_invert)
    image, label = dataset[0]
    assert image.shape == (3, 4, 4) and image.dtype == torch.uint8 and label == 0
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, num_workers=2)
    batches = list(loader)
    labels = torch.cat([batch_labels for _, batch_labels in batches]).tolist()
    assert labels == [0, 0, 1, 1, 2]
    assert torch.cat([images for images, _ in batches])[:, 0, 0, 0].tolist() == [
        255 - int(name.split("/")[1][0]) for name in dataset.source.names]
    gray = ImageDataset(open_source("mnist:test"))
    assert gray[0][0].shape == (1, 28, 28) and gray[0][1] == 7


def test_pickled_source_leaves_its_arrays_behind(tmp_path):
    images = RNG.integers(0, 256, (200, 32, 32), dtype=np.uint8)
    write_npz(tmp_path / "many.npz", images, np.arange(200) % 10)
    source = open_source(tmp_path / "many.npz")
    source.read(0)
    data = pickle.dumps(source)
    assert len(data) < 4000 < images.nbytes
    copy = pickle.loads(data)
    assert copy.names == source.names and np.array_equal(copy.read(199), images[199])


def test_a_worker_takes_the_arrays_its_driver_read(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 5, 4, 3), dtype=np.uint8)
    write_npz(tmp_path / "d.npz", images, np.arange(6), masks=np.ones((6, 5, 4), np.int64))
    driver = open_source(tmp_path / "d.npz")
    driver.read(0), driver.read_mask(0)
    arrays = driver.loaded_arrays()
    assert sorted(arrays) == ["images", "masks"]
    worker = pickle.loads(pickle.dumps(driver))  # arrays are not pickled with the source
    (tmp_path / "d.npz").unlink()  # the worker reads nothing from the file
    worker.use_arrays(arrays)
    assert np.array_equal(worker.read(5), images[5]) and worker.read_mask(2).sum() == 20
    with pytest.raises(ValueError, match="images: 2 items for a source of 6"):
        worker.use_arrays({"images": images[:2]})
