"""`augkit augment --engine ray`: a stopped driver's rerun continues from the finished chunks,
and the shards are the local engine's bytes whether 1 or 2 actors wrote them."""

from __future__ import annotations

import builtins
import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from augkit import augment as augment_module
from augkit.augment import augment_dataset
from augkit.cli import main
from augkit.data import load_mnist, open_source, write_npz
from augkit.errors import AugkitError
from augkit.transforms import Compose, RandomAffine, RandomBrightness

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (augkit leaves a Ray it did not start running)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def digits(tmp_path) -> Path:
    images, labels = load_mnist("test")
    path = tmp_path / "digits.npz"
    write_npz(path, images[:160], labels[:160])
    return path


def _pipeline() -> Compose:
    return Compose([RandomBrightness(0.3), RandomAffine(10)])


def test_a_stopped_driver_continues_to_the_local_bytes(local_ray, digits, tmp_path,
                                                       monkeypatch):
    monkeypatch.setattr(augment_module, "CHUNK", 32)  # the driver's chunking reaches the actors
    options = {"copies": 1, "seed": 2, "format": "wds", "shard_size": 32, "progress": False}
    augment_dataset(digits, tmp_path / "local", _pipeline(), **options)
    record, calls = augment_module._record, []

    def stop_after_two(*args, **kwargs):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        record(*args, **kwargs)

    monkeypatch.setattr(augment_module, "_record", stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        augment_dataset(digits, tmp_path / "ray", _pipeline(), workers=1, engine="ray",
                        **options)
    monkeypatch.setattr(augment_module, "_record", record)
    # the first 2 chunks from 1 actor, the other 3 from 2: the local run's bytes all the same
    assert augment_module._load_state(tmp_path / "ray").chunks_done == 2
    summary = augment_dataset(digits, tmp_path / "ray", _pipeline(), workers=2, engine="ray",
                              **options)
    assert summary.resumed_chunks == 2 and summary.written == 160 - 64
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")
    shards = open_source(tmp_path / "ray")
    assert np.array_equal(shards.labels, load_mnist("test")[1][:160])


def test_engine_refusals_are_one_line(digits, tmp_path, monkeypatch, capsys):
    with pytest.raises(AugkitError, match=r"engine: 'spark' is not allowed; expected one of "
                                          r"local, ray"):
        augment_dataset(digits, tmp_path / "a", engine="spark", progress=False)
    real_import = builtins.__import__

    def without_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_ray)
    assert main(["augment", str(digits), str(tmp_path / "b"), "--engine", "ray"]) == 2
    assert capsys.readouterr().err.strip() == (
        "augkit augment: error: --engine: 'ray' needs Ray Data, which is not installed; "
        "pip install 'augkit[ray]'")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_ray_reads_and_writes_uris_as_the_local_engine_does(local_ray, tmp_path, monkeypatch):
    """A folder source (read file by file on the workers) behind a file:// URI."""
    pytest.importorskip("pyarrow")
    monkeypatch.setenv("AUGKIT_CACHE", str(tmp_path / "cache"))
    images, labels = load_mnist("test")
    for index in range(40):
        folder = tmp_path / "photos" / str(labels[index])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.stack([images[index]] * 3, axis=-1)).save(folder / f"{index}.png")
    options = {"seed": 4, "format": "wds", "progress": False}
    src = (tmp_path / "photos").as_uri()
    augment_dataset(src, (tmp_path / "local").as_uri(), _pipeline(), **options)
    augment_dataset(src, (tmp_path / "ray").as_uri(), _pipeline(), workers=2, engine="ray",
                    **options)
    assert _tree(tmp_path / "ray") == _tree(tmp_path / "local")


def test_a_users_mistake_inside_a_ray_task_is_its_one_line(local_ray, digits, tmp_path,
                                                            capsys):
    (tmp_path / "crop.yaml").write_text("type: RandomCrop\nsize: 100\n")
    assert main(["augment", str(digits), str(tmp_path / "out"), "--engine", "ray",
                 "--pipeline", str(tmp_path / "crop.yaml"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        "augkit augment: error: size: (100, 100) is larger than the (padded) 28x28 image; "
        "pad it (padding=, pad_if_needed=True)")
    assert not (tmp_path / "out").exists()
