"""Pipelines to and from plain dicts, YAML and JSON, by short class names.

>>> from augkit.transforms import Compose, RandomEnhance, from_dict
>>> pipeline = Compose([RandomEnhance()])
>>> from_dict(pipeline.to_dict()).to_dict() == pipeline.to_dict()
True
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import yaml

from augkit.errors import AugkitError
from augkit.files import write_text_atomically
from augkit.transforms.base import REGISTRY, Transform
from augkit.transforms.container import Compose


def from_dict(spec: Any, where: str = "pipeline") -> Transform:
    """Build a transform from ``{"type": Name, **arguments}`` (nested for containers), or a
    named preset from ``{"preset": name}`` (e.g. ``preset: study-log`` in YAML); a list of
    them is their ``Compose``, as albumentations reads a list of transforms."""
    if isinstance(spec, list) and spec:
        return Compose([from_dict(item, f"{where}[{i}]") for i, item in enumerate(spec)])
    if isinstance(spec, dict) and "preset" in spec and "type" not in spec:
        return _preset(spec, where)
    if not isinstance(spec, dict) or "type" not in spec:
        raise AugkitError(f"{where}: expected a mapping with a 'type' key (or 'preset'), or a "
                          f"list of them, got {spec!r:.80}")
    name = spec["type"]
    cls = REGISTRY.get(name)
    if cls is None or inspect.isabstract(cls):
        known = ", ".join(sorted(n for n, c in REGISTRY.items() if not inspect.isabstract(c)))
        raise AugkitError(f"{where}: unknown transform type {name!r}; known: {known}")
    allowed = [n for n in inspect.signature(cls.__init__).parameters
               if n not in ("self", "generator")]
    kwargs = {}
    for key, value in spec.items():
        if key == "type":
            continue
        if key not in allowed:
            raise AugkitError(f"{where}: {name} has no argument {key!r}; allowed: "
                              f"{', '.join(allowed)}")
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = [from_dict(v, f"{where}.{key}[{i}]") for i, v in enumerate(value)]
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as error:
        raise AugkitError(f"{where} ({name}): {error}") from None


def _preset(spec: dict[str, Any], where: str) -> Transform:
    from augkit.transforms.presets import PRESETS

    name = spec["preset"]
    extra = sorted(set(spec) - {"preset", "seed"})
    if extra:
        raise AugkitError(f"{where}: a preset takes only 'seed' beside its name; got {extra[0]!r}")
    if name not in PRESETS:
        raise AugkitError(f"{where}: unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]().reseed(spec.get("seed"))


def to_yaml(transform: Transform) -> str:
    """The pipeline as YAML text."""
    return yaml.safe_dump(transform.to_dict(), sort_keys=False, default_flow_style=None)


def to_json(transform: Transform) -> str:
    """The pipeline as JSON text."""
    return json.dumps(transform.to_dict(), indent=2)


def save(transform: Transform, path: str | Path) -> None:
    """Write the pipeline to ``path``: JSON for ``.json``, YAML otherwise."""
    path = Path(path)
    text = to_json(transform) if path.suffix.lower() == ".json" else to_yaml(transform)
    write_text_atomically(path, text)


def _where(error: Exception) -> str:
    """A parse error as "line L, column C: what is wrong"."""
    if isinstance(error, json.JSONDecodeError):
        return f"line {error.lineno}, column {error.colno}: {error.msg}"
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def load(path: str | Path) -> Transform:
    """Read a pipeline written by ``save`` (or by hand) from a YAML or JSON file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise AugkitError(f"{path}: cannot read pipeline file ({error.strerror})") from None
    try:
        spec = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise AugkitError(f"{path}: not valid {kind} ({_where(error)})") from None
    return from_dict(spec, where=str(path))
