"""The benchmarks' own arguments: a wrong op name is one line that lists the right ones."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _transforms_benchmark():
    path = Path(__file__).parent.parent / "benchmarks" / "transforms.py"
    spec = importlib.util.spec_from_file_location("transforms_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_unknown_op_is_one_line_naming_the_ops(capsys):
    with pytest.raises(SystemExit) as info:
        _transforms_benchmark().main(["--ops", "rotate(30, nearest);rotate"])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--ops: no op named 'rotate'; the ops are invert;" in last
    assert "rotate(30, nearest)" in last
