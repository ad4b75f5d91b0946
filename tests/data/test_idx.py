"""IDX reading and writing, and the bundled MNIST."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from augkit.data import load_mnist, read_idx, write_idx
from augkit.data import mnist as mnist_module


def test_bundled_mnist_loads_with_the_canonical_shapes_and_labels():
    images, labels = load_mnist("train")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(labels).tolist()[:3] == [5923, 6742, 5958]
    test_images, test_labels = load_mnist("test")
    assert test_images.shape == (10000, 28, 28) and test_labels[:5].tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_then_read_round_trips(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)
    assert not list(tmp_path.glob(".*tmp*"))


def test_raw_idx_is_byte_identical_to_the_canonical_file(tmp_path):
    source = mnist_module.BUNDLED_DIR / "t10k-labels-idx1-ubyte.gz"
    labels = read_idx(source)
    write_idx(tmp_path / "labels", labels)
    assert (tmp_path / "labels").read_bytes() == gzip.decompress(source.read_bytes())


def test_truncated_file_is_named(tmp_path):
    path = tmp_path / "short-idx3-ubyte"
    write_idx(path, np.zeros((4, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"short-idx3-ubyte: IDX file of shape \(4, 28, 28\) "
                                         r"should be 3152 bytes, found 3142 \(truncated\)"):
        read_idx(path)


@pytest.mark.parametrize("content, words", [
    (b"\x01\x02\x08\x03" + b"\x00" * 20, "bad IDX magic number 01020803"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "bad IDX magic number 00000701"),
    (b"\x00\x00", "too short for an IDX header"),
    (b"\x00\x00\x08\x03\x00\x00", "truncated IDX header"),
    (b"\x1f\x8b\x08\x00garbage", "corrupt or truncated gzip data"),
])
def test_wrong_files_are_named(tmp_path, content, words):
    path = tmp_path / "bad.idx"
    path.write_bytes(content)
    with pytest.raises(ValueError) as info:
        read_idx(path)
    assert str(info.value).startswith(str(path)) and words in str(info.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="nothing.idx: cannot read IDX file"):
        read_idx(tmp_path / "nothing.idx")


def test_unsupported_dtype_for_writing(tmp_path):
    with pytest.raises(ValueError, match="IDX cannot store dtype uint16"):
        write_idx(tmp_path / "x", np.zeros(3, np.uint16))


def _copy_test_split(tmp_path):
    for name in mnist_module.FILES["test"]:
        shutil.copy(mnist_module.BUNDLED_DIR / name, tmp_path / name)


def test_mnist_from_another_folder_is_checksummed(tmp_path):
    _copy_test_split(tmp_path)
    images, _ = load_mnist("test", root=tmp_path)
    assert images.shape == (10000, 28, 28)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-1] + b"\x09"))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz: checksum mismatch"):
        load_mnist("test", root=tmp_path)


def test_missing_mnist_is_downloaded_from_a_mirror_and_verified(tmp_path):
    mirror = mnist_module.BUNDLED_DIR.as_uri() + "/"
    broken = (tmp_path / "broken-mirror")
    broken.mkdir()
    (broken / "t10k-images-idx3-ubyte.gz").write_bytes(b"not mnist")
    target = tmp_path / "data"
    path = mnist_module.download("t10k-images-idx3-ubyte.gz", target,
                                 mirrors=(broken.as_uri() + "/", mirror))
    assert path == target / "t10k-images-idx3-ubyte.gz"
    mnist_module.verify(path)
    assert not list(target.glob(".*part*"))
    with pytest.raises(ValueError, match="could not download MNIST file.*checksum mismatch"):
        mnist_module.download("t10k-images-idx3-ubyte.gz", tmp_path / "other",
                              mirrors=(broken.as_uri() + "/",))


def test_missing_mnist_without_download_is_named(tmp_path):
    with pytest.raises(ValueError, match="MNIST file is missing .pass download_missing=True"):
        load_mnist("test", root=tmp_path)
    with pytest.raises(ValueError, match="split: 'validation'"):
        load_mnist("validation")
