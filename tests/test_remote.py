"""Datasets behind pyarrow.fs URIs (file:// here, the same code path as s3:// or gs://):
inputs staged once, outputs written locally and copied up, runs resumed, bad URIs one line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from augkit.cli import main
from augkit.data import load_mnist, write_npz
from augkit.errors import AugkitError
from augkit.remote import is_uri, stage_input

pytest.importorskip("pyarrow")


def _tree(root: Path) -> dict[str, str]:
    """Every output's bytes; the run file, which names its source, apart."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != "augkit-run.json"}


@pytest.fixture
def digits(tmp_path, monkeypatch):
    monkeypatch.setenv("AUGKIT_CACHE", str(tmp_path / "cache"))
    images, labels = load_mnist("test")
    path = tmp_path / "remote" / "digits.npz"
    path.parent.mkdir()
    write_npz(path, images[:300], labels[:300])
    return path


def test_augment_from_and_to_uris_writes_what_a_local_run_writes(digits, tmp_path):
    assert main(["augment", str(digits), str(tmp_path / "local"), "--seed", "3", "--quiet"]) == 0
    remote_out = tmp_path / "remote" / "out"
    assert main(["augment", digits.as_uri(), remote_out.as_uri(), "--seed", "3", "--quiet"]) == 0
    assert _tree(remote_out) == _tree(tmp_path / "local")
    run = json.loads((remote_out / "augkit-run.json").read_text())
    assert run["config"]["source"] == digits.as_uri() and run["complete"]
    # a rerun finds the finished run there and writes nothing new
    assert main(["augment", digits.as_uri(), remote_out.as_uri(), "--seed", "3", "--quiet"]) == 0
    assert _tree(remote_out) == _tree(tmp_path / "local")
    first = json.loads((remote_out / "manifest.jsonl").read_text().splitlines()[0])["output"]
    assert main(["replay", str(remote_out), first]) == 0  # the source is staged again


def test_an_interrupted_remote_run_continues_from_its_staging_folder(digits, tmp_path,
                                                                     monkeypatch):
    from tests.helpers import interrupt_at_chunk

    assert main(["augment", str(digits), str(tmp_path / "local"), "--seed", "1", "--quiet"]) == 0
    remote_out = tmp_path / "remote" / "out"
    with monkeypatch.context() as patched:
        interrupt_at_chunk(patched, chunk=1)
        assert main(["augment", digits.as_uri(), remote_out.as_uri(), "--seed", "1",
                     "--quiet"]) == 130
    assert not remote_out.exists()  # nothing half-written is copied up
    assert main(["augment", digits.as_uri(), remote_out.as_uri(), "--seed", "1", "--quiet"]) == 0
    assert _tree(remote_out) == _tree(tmp_path / "local")


def test_inputs_are_staged_once_and_again_when_they_change(digits):
    first = stage_input(digits.as_uri())
    assert Path(first).read_bytes() == digits.read_bytes()
    assert stage_input(digits.as_uri()) == first
    images, labels = load_mnist("test")
    write_npz(digits, images[:50], labels[:50], overwrite=True)
    assert Path(stage_input(digits.as_uri())).read_bytes() == digits.read_bytes()
    assert stage_input("some/local/path") == "some/local/path"
    assert is_uri("s3://bucket/x") and not is_uri("C:/data") and not is_uri("plain")


@pytest.mark.parametrize("uri, message", [
    ("nosuch://bucket/data", "src: nosuch://bucket/data cannot be opened through pyarrow.fs"),
    ("file:///no/such/folder", "src: file:///no/such/folder does not exist"),
])
def test_bad_uris_are_one_line(digits, uri, message, capsys):
    with pytest.raises(AugkitError, match="^" + message):
        stage_input(uri)
    assert main(["augment", uri, str(digits.parent / "out"), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and message in error
    assert not np.any([p.name == "out" for p in digits.parent.iterdir()])


def test_the_other_commands_stage_their_dataset_inputs(digits):
    from augkit.cli import _stage_inputs, build_parser

    args = build_parser().parse_args(["train", "--data", digits.as_uri(), "--out", "run"])
    _stage_inputs(args)
    assert Path(args.data).read_bytes() == digits.read_bytes()
    args = build_parser().parse_args(["evaluate", digits.as_uri(), "--reference", "mnist"])
    _stage_inputs(args)
    assert Path(args.samples).read_bytes() == digits.read_bytes() and args.reference == "mnist"
