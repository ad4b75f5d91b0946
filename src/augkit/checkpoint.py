"""Checkpoints that are safe to load and written atomically.

A checkpoint is two files: ``NAME-<step>.safetensors`` holding every tensor (weights,
optimizer moments, RNG states) and ``NAME.json`` holding everything else plus the tensor
file's name and SHA-256. The JSON file is replaced last, atomically, so it always points to a
complete tensor file; older tensor files are removed after. Nothing in either file is ever
executed: a pickle, or any file that is not what it claims, is refused with a one-line error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from augkit.errors import AugkitError
from augkit.files import atomic_path, sha256, write_text_atomically

FORMAT = "augkit-checkpoint-1"


def flatten(tree: Any, prefix: str = "") -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nest of dicts and lists into ``{dotted.key: tensor}`` and a JSON skeleton
    whose tensors are replaced by ``{"__tensor__": key}``."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(node: Any, key: str) -> Any:
        if isinstance(node, torch.Tensor):
            tensors[key] = node.detach().cpu().contiguous()
            return {"__tensor__": key}
        if isinstance(node, dict):
            return {"__dict__": [[k if isinstance(k, str) else {"__int__": k},
                                  walk(v, f"{key}.{k}")] for k, v in node.items()]}
        if isinstance(node, (list, tuple)):
            return [walk(v, f"{key}.{i}") for i, v in enumerate(node)]
        return node

    return tensors, walk(tree, prefix)


def unflatten(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of ``flatten``."""
    if isinstance(skeleton, dict) and "__tensor__" in skeleton:
        return tensors[skeleton["__tensor__"]]
    if isinstance(skeleton, dict) and "__dict__" in skeleton:
        return {(k["__int__"] if isinstance(k, dict) else k): unflatten(v, tensors)
                for k, v in skeleton["__dict__"]}
    if isinstance(skeleton, list):
        return [unflatten(v, tensors) for v in skeleton]
    return skeleton


def save(directory: Path, name: str, step: int, state: dict[str, Any]) -> Path:
    """Write ``state`` (any nest of dicts, lists, tensors and JSON values) atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    tensors, skeleton = flatten(state, "state")
    tensor_file = directory / f"{name}-{step:08d}.safetensors"
    with atomic_path(tensor_file) as tmp:
        save_file(tensors, str(tmp))
    meta = {"format": FORMAT, "step": step, "tensors": tensor_file.name,
            "sha256": sha256(tensor_file), "state": skeleton}
    meta_file = directory / f"{name}.json"
    write_text_atomically(meta_file, json.dumps(meta) + "\n")
    for old in directory.glob(f"{name}-*.safetensors"):
        if old != tensor_file:
            old.unlink(missing_ok=True)
    return meta_file


def load(meta_file: Path) -> dict[str, Any]:
    """Read a checkpoint written by ``save``; a one-line ValueError for anything else."""
    try:
        meta = json.loads(meta_file.read_text())
    except OSError as error:
        raise AugkitError(f"{meta_file}: cannot read checkpoint ({error.strerror})") from None
    except (ValueError, UnicodeDecodeError):
        raise AugkitError(f"{meta_file}: not an augkit checkpoint (not JSON; augkit never "
                          "loads pickles)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise AugkitError(f"{meta_file}: not an augkit checkpoint (format "
                          f"{meta.get('format') if isinstance(meta, dict) else None!r})")
    tensor_file = meta_file.parent / str(meta.get("tensors"))
    if not tensor_file.is_file():
        raise AugkitError(f"{tensor_file}: checkpoint weights are missing")
    if sha256(tensor_file) != meta.get("sha256"):
        raise AugkitError(f"{tensor_file}: checkpoint weights are corrupt or truncated "
                          "(checksum mismatch)")
    try:
        tensors = load_file(str(tensor_file))
    except (SafetensorError, OSError, ValueError) as error:
        raise AugkitError(f"{tensor_file}: not a safetensors file ({error})") from None
    return unflatten(meta["state"], tensors)
