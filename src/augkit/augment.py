"""Augment a whole dataset on disk: N augmented copies of every image, resumable, reproducible.

The sources are cut into fixed chunks (256 small images, fewer large ones: ``chunk_size``).
Each chunk, and each copy of it,
draws from its own generator seeded from ``(seed, chunk, copy)``, with same-size images
augmented together as one batch; so the outputs do not depend on how many worker processes
run the chunks. DST holds the outputs, ``manifest.jsonl`` (one line per output: its source,
copy, the seed and the parameters applied), ``skipped.jsonl`` (unreadable inputs) and
``augkit-run.json`` (the run's settings and how many chunks are done, saved at most every
``STATE_EVERY`` seconds and at any stop Python sees). Every file is written under a temporary
name and renamed; a rerun of the same command continues after the last chunk recorded done
(after a kill -9, that may be a few chunks back: they are written again, the same bytes).

Segmentation masks travel along: when SRC has them (a folder with ``images/`` and ``masks/``,
or an npz with a ``masks`` array; see ``augkit.data.sources``), every output's mask is moved
with the same drawn parameters as its image (geometric ops with nearest sampling, values kept
exactly, uncovered pixels ``mask_fill``; photometric and noise ops leave it). The png format
writes ``DST/images/<name>`` and ``DST/masks/<name>`` (mode L PNGs when the values fit in
0..255, else I;16; a P-mode input's palette is dropped, its indices kept), both in the same
chunk, with the mask's path in the manifest line's ``mask``; npz writes a ``masks`` array
beside ``images`` (the smallest of uint8, uint16, int32, int64 that holds the values); IDX
has no place for masks and refuses them. jpeg and webp write the images in their codec (at
``quality``) and the masks as PNGs, as png does.

The shard formats write one file per chunk, named by the chunk's index: ``wds`` writes
``DST/shard-<chunk>.tar`` (each output a WebDataset sample: ``<key>.npy``, ``<key>.cls`` when
labeled, ``<key>.json`` holding its manifest line, ``<key>.mask.png`` with masks), ``parquet``
``DST/part-<chunk>.parquet`` (see ``augkit.data.writers``). A rerun after an interruption
rewrites the unfinished chunks' files only, and the files are the same bytes whatever the
worker count. A shard's chunk is made of whole blocks of the automatic chunk size
(``RunConfig.block``), each drawn from the generators that chunk would have in the png
format, so a shard holds exactly the png run's images; by default ``SHARD_BLOCKS`` blocks'
worth of outputs. ``shard_size`` asks for another number of outputs per shard: rounded down
to whole source images (``shard_size // (copies + include_original)``) and to whole blocks;
below one block a shard is its own block, and its images are other draws.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import json
import multiprocessing
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from tqdm import tqdm

from augkit.data import (
    WRITE_FORMATS,
    ImageSource,
    UnreadableImage,
    encode_mask_png,
    mask_dtype,
    open_source,
    to_nchw,
    to_nhwc,
    write_idx_pair,
    write_npz,
)
from augkit.data.sources import IMAGES_FOLDER, MASKS_FOLDER
from augkit.data.writers import (
    FOLDER_FORMATS,
    IMAGE_SUFFIXES_OUT,
    SHARD_FORMATS,
    Sample,
    check_quality,
    check_shard_size,
    encode_image,
    json_line,
    write_parquet_part,
    write_shard,
)
from augkit.devices import check_device
from augkit.engines import check_engine, ray_map
from augkit.errors import AugkitError
from augkit.files import write_many_small, write_text_atomically
from augkit.progress import progress_bar
from augkit.remote import is_uri, stage_input, staged_output
from augkit.seeding import check_seed, derive_seed
from augkit.transforms import Transform, from_dict
from augkit.transforms.base import params_from_json
from augkit.transforms.calls import NotPerSample, concat_params, joinable
from augkit.transforms.presets import for_channels

CHUNK = 256
_CHUNK_VALUES = 4_000_000  # pixel values per chunk: big images get smaller chunks


def chunk_size(source: ImageSource) -> int:
    """Images per chunk, from the size of the first readable image (a power of two, 8..256)."""
    for index in range(min(len(source), 16)):
        try:
            values = source.read(index).size
        except UnreadableImage:
            continue
        return int(min(CHUNK, max(8, 2 ** int(np.log2(max(_CHUNK_VALUES // values, 1))))))
    return CHUNK
FORMATS = WRITE_FORMATS  # "folder": the older name of png
ARRAY_FORMATS = ("npz", "idx")  # the parent joins the chunks' arrays into one file at the end
SHARD_NAMES = {"wds": "shard-{:05d}.tar", "parquet": "part-{:05d}.parquet"}
RUN_FILE = "augkit-run.json"
STATE_EVERY = 0.5  # seconds between saves of the run file while chunks finish
SHARD_BLOCKS = 8   # automatic chunks' worth of outputs in a default shard or Parquet part
MANIFEST = "manifest.jsonl"
SKIPPED = "skipped.jsonl"
PARTS = ".augkit-parts"
STAGING = ".augkit-staging"
ORIGINAL = "original"


@dataclass(frozen=True)
class RunConfig:
    """What defines a run; a rerun with the same config continues it."""

    source: str
    pipeline: dict
    copies: int
    seed: int
    format: str
    include_original: bool
    chunk: int = CHUNK
    masks: bool = False
    quality: int | None = None  # jpeg and webp only
    block: int = 0  # images per seeded block when a chunk holds several (shards); 0: chunk


@dataclass
class RunState:
    config: RunConfig
    chunks_done: int = 0
    complete: bool = False
    saved_at: float = 0.0  # time.monotonic() of the last save (not saved)


@dataclass
class Summary:
    """What a call to ``augment_dataset`` did."""

    written: int = 0
    skipped: list[str] = field(default_factory=list)
    resumed_chunks: int = 0
    total_outputs: int = 0
    already_complete: bool = False
    #: whether the outputs carry masks (SRC had them)
    masks: bool = False
    #: seconds spent reading (decoding), augmenting and writing (encoding), over all workers
    seconds: dict[str, float] = field(
        default_factory=lambda: {"read": 0.0, "augment": 0.0, "write": 0.0})


# ---- run folder bookkeeping ----------------------------------------------------------------


def _save_state(dst: Path, state: RunState) -> None:
    state_dict = {"config": asdict(state.config), "chunks_done": state.chunks_done,
                  "complete": state.complete}
    write_text_atomically(dst / RUN_FILE, json.dumps(state_dict, indent=1) + "\n")
    state.saved_at = time.monotonic()


def _load_state(dst: Path) -> RunState | None:
    path = dst / RUN_FILE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        return RunState(RunConfig(**raw["config"]), raw["chunks_done"], raw["complete"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AugkitError(f"{path}: unreadable run file ({error}); pass --overwrite to start "
                          "a new run here") from None


def _records_before(path: Path, chunk_limit: int, chunk: int) -> list[str]:
    """Lines of a JSONL file whose source index falls in the first ``chunk_limit`` chunks."""
    if not path.exists():
        return []
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if record.get("index", -1) // chunk < chunk_limit:
            kept.append(line)
    return kept


def _check_paths(source: ImageSource, dst: Path) -> None:
    if dst.exists() and not dst.is_dir():
        raise AugkitError(f"{dst}: DST is an existing file; the output is a folder, choose "
                          "another name")
    src = source.path.resolve()
    resolved = dst.resolve()
    if resolved == src:
        raise AugkitError(f"{dst}: DST is SRC; choose another output folder")
    if src.is_dir() and resolved.is_relative_to(src):
        raise AugkitError(f"{dst}: DST is inside SRC ({source.path}); SRC is never written to, "
                          "choose an output folder outside it")
    if source.kind != "folder" and any(resolved == f.resolve() for f in source.input_files()):
        raise AugkitError(f"{dst}: DST is an input file of SRC")


def _prepare(dst: Path, config: RunConfig, overwrite: bool) -> RunState:
    state = _load_state(dst) if dst.exists() else None
    if state is not None and state.config == config:
        for leftover in dst.rglob(".*.tmp-*"):  # half-written files of a killed run
            leftover.unlink(missing_ok=True)
        shutil.rmtree(dst / STAGING, ignore_errors=True)
        return state
    if dst.exists() and any(dst.iterdir()) and not overwrite:
        what = "a different augkit run" if state else "files that are not an augkit run"
        raise AugkitError(f"{dst}: holds {what}; pass --overwrite to start a new run there, "
                          "or choose an empty folder")
    if state is not None:  # overwrite: remove the old run's outputs and bookkeeping
        _remove_run(dst, state)
    dst.mkdir(parents=True, exist_ok=True)
    state = RunState(config)
    _save_state(dst, state)
    return state


def _remove_run(dst: Path, state: RunState) -> None:
    """Remove an earlier run's outputs and bookkeeping (for overwrite)."""
    shards = SHARD_NAMES.get(state.config.format)
    if shards is not None:
        for chunk in range(state.chunks_done + 1):
            (dst / shards.format(chunk)).unlink(missing_ok=True)
    else:
        for line in _records_before(dst / MANIFEST, state.chunks_done + 1, state.config.chunk):
            record = json.loads(line)
            for name in (record["output"], record.get("mask")):
                if name:
                    (dst / name).unlink(missing_ok=True)
    for name in ("augmented.npz", "augmented-images-idx3-ubyte.gz",
                 "augmented-images-idx4-ubyte.gz", "augmented-labels-idx1-ubyte.gz"):
        (dst / name).unlink(missing_ok=True)
    for name in (MANIFEST, SKIPPED, RUN_FILE):
        (dst / name).unlink(missing_ok=True)
    shutil.rmtree(dst / PARTS, ignore_errors=True)


# ---- the work on one chunk (runs in worker processes) --------------------------------------


def output_name(source: ImageSource, index: int, copy: int | str, suffix: str = ".png") -> str:
    """Relative path of an output image: class folder, source stem, copy, ``suffix``; under
    ``images/`` when the source has masks (``mask_name`` gives the mask's, under ``masks/``)."""
    prefix = f"{IMAGES_FOLDER}/" if source.has_masks else ""
    return f"{prefix}{sample_key(source, index, copy)}{suffix}"


def sample_key(source: ImageSource, index: int, copy: int | str) -> str:
    """An output's name without folder prefix or suffix: ``<class>/<stem>_aug<copy>`` (or
    ``_orig``); the key of its sample in a shard or Parquet part."""
    name = source.names[index]
    if source.kind == "folder":
        stem = name.rsplit(".", 1)[0]
    else:
        label = int(source.labels[index])
        stem = f"{label}/{index:06d}" if label >= 0 else f"{index:06d}"
    suffix = "orig" if copy == ORIGINAL else f"aug{copy}"
    return f"{stem}_{suffix}"


def mask_name(source: ImageSource, index: int, copy: int | str) -> str:
    """Relative path of the mask PNG of an output: ``masks/`` and the image output's name."""
    return f"{MASKS_FOLDER}/{sample_key(source, index, copy)}.png"


def _shard_key(key: str) -> str:
    """A sample key WebDataset splits back whole: no dot in its last part."""
    folder, _, name = key.rpartition("/")
    return f"{folder}/{name.replace('.', '_')}" if folder else name.replace(".", "_")


class _Sample(NamedTuple):
    index: int
    image: np.ndarray
    mask: np.ndarray | None  # int64 HxW, or None when the source has no masks


class _Output(NamedTuple):
    image: np.ndarray
    mask: np.ndarray | None
    seed: int
    position: int
    params: Any  # this sample's drawn parameters, as JSON


class _Batched(list):
    """A batched tensor's values as a list, one entry per sample (see ``_batch_json``)."""


def _batch_json(params: Any) -> Any:
    """Drawn parameters with each batched tensor turned into a list once (see
    ``_per_sample_json``)."""
    if isinstance(params, torch.Tensor):
        return _Batched(params.tolist()) if params.ndim else params.tolist()
    if isinstance(params, dict):
        return {k: _batch_json(v) for k, v in params.items()}
    if isinstance(params, list):
        return [_batch_json(v) for v in params]
    return params


def _per_sample_json(tree: Any, count: int) -> list[Any]:
    """Each of ``count`` samples' parameters as JSON, cut from a ``_batch_json`` tree node by
    node: sample i's is what ``params_to_json(select(params, torch.tensor([i])))`` gives,
    value for value, without a tensor operation per sample."""
    if isinstance(tree, _Batched):
        return [[value] for value in tree[:count]]
    if isinstance(tree, dict):
        columns = [_per_sample_json(value, count) for value in tree.values()]
        return [dict(zip(tree, row, strict=True)) for row in zip(*columns, strict=True)]
    if isinstance(tree, list):
        columns = [_per_sample_json(value, count) for value in tree]
        return [list(row) for row in zip(*columns, strict=True)] if columns else [
            [] for _ in range(count)]
    return [tree] * count


def _batches(samples: list[_Sample]) -> Iterator[list[_Sample]]:
    """Same-shape images together, groups in order of first appearance."""
    groups: dict[tuple[int, ...], list[_Sample]] = {}
    for sample in samples:
        groups.setdefault(sample.image.shape, []).append(sample)
    yield from groups.values()


def _unbatched(batch: torch.Tensor, like: np.ndarray) -> list[np.ndarray]:
    images = _host_nhwc(batch) if batch.device.type == "cuda" else to_nhwc(batch)
    return list(images if images.ndim == like.ndim + 1 else images[..., None])


def _device_batch(images: list[np.ndarray], device: str) -> torch.Tensor:
    """Same-shape uint8 images as an (N, C, H, W) batch on ``device``. To a GPU they go
    stacked into page-locked memory, copied without waiting, and reordered there."""
    if not device.startswith("cuda"):
        return to_nchw(np.stack(images)).to(device)
    first = images[0]
    host = torch.empty((len(images), *first.shape), dtype=torch.uint8, pin_memory=True)
    np.stack(images, out=host.numpy())
    batch = host.to(device, non_blocking=True)
    return (batch[:, None] if first.ndim == 2 else batch.permute(0, 3, 1, 2)).contiguous()


def _host_nhwc(batch: torch.Tensor) -> np.ndarray:
    """``to_nhwc`` of a batch on a GPU: reordered there, copied into page-locked memory."""
    nhwc = batch.detach().permute(0, 2, 3, 1).contiguous()
    host = torch.empty(nhwc.shape, dtype=nhwc.dtype, pin_memory=True)
    host.copy_(nhwc, non_blocking=True)
    torch.cuda.current_stream(batch.device).synchronize()
    images = host.numpy()
    return images[..., 0] if images.shape[-1] == 1 else images


@dataclass
class ChunkResult:
    chunk: int
    records: list[dict]
    skipped: list[dict]
    images: list[np.ndarray]
    labels: list[int]
    seconds: dict[str, float]
    #: the masks of ``images`` (npz format, sources with masks); empty otherwise
    masks: list[np.ndarray] = field(default_factory=list)
    #: ``records`` as JSON text, made once in the worker (the manifest's lines); the
    #: records themselves come back only for npz and IDX, whose parent checks their sizes
    lines: list[str] = field(default_factory=list)


def _read_chunk(source: ImageSource, start: int, stop: int
                ) -> tuple[list[_Sample], list[dict]]:
    """The readable images (and masks) of ``start..stop``, and skip lines for the others."""
    readable, skipped = [], []
    for index in range(start, stop):
        try:
            image = source.read(index)
            mask = _read_mask(source, index, image) if source.has_masks else None
        except UnreadableImage as error:
            skipped.append({"index": index, "source": source.names[index],
                            "reason": error.reason, "path": error.path})
            continue
        readable.append(_Sample(index, image, mask))
    return readable, skipped


def _read_mask(source: ImageSource, index: int, image: np.ndarray) -> np.ndarray:
    mask = source.read_mask(index)
    if mask.shape != image.shape[:2]:
        where = source.mask_path(index) if source.kind == "folder" else source.path
        raise UnreadableImage(where, f"mask of {mask.shape[1]}x{mask.shape[0]} pixels for an "
                                     f"image of {image.shape[1]}x{image.shape[0]}")
    return mask


def _augment_batch(pipeline: Transform, group: list[_Sample], params: dict,
                   device: str = "cpu") -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """One same-size group through the pipeline with drawn ``params`` on ``device``; masks
    move along."""
    batch = _device_batch([sample.image for sample in group], device)
    if group[0].mask is None:
        out = pipeline(batch, params=params)
        return _unbatched(out, group[0].image), [None] * len(group)
    masks = torch.from_numpy(np.stack([sample.mask for sample in group])).to(device)
    result = pipeline(image=batch, mask=masks, params=params)
    return (_unbatched(result["image"], group[0].image),
            list(result["mask"].to(torch.int64).cpu().numpy()))


def _augment_chunk(pipeline: Transform, config: RunConfig, chunk: int,
                   readable: list[_Sample], device: str = "cpu"
                   ) -> dict[tuple[int, int], _Output]:
    """Every copy of every readable sample, drawn from the (seed, block, copy) generators: a
    block is the chunk itself, or a fixed part of it (``RunConfig.block``: a shard of several
    chunks draws as those chunks would). The draws of same-size groups are then applied as
    one batch where they concatenate (every parameter per sample), as each alone."""
    block = config.block or config.chunk
    draws: list[_Draw] = []
    for first in range(chunk * config.chunk, (chunk + 1) * config.chunk, block):
        part = [sample for sample in readable if first <= sample.index < first + block]
        for copy in range(config.copies if part else 0):
            copy_seed = derive_seed(config.seed, first // block, copy)
            generator = torch.Generator().manual_seed(copy_seed)
            for group in _batches(part):
                draws.append(_Draw(group, pipeline.draw(len(group), generator), copy,
                                   copy_seed))
    outputs: dict[tuple[int, int], _Output] = {}
    for run, params in _batched_draws(draws, joinable(pipeline)):
        group = [sample for draw in run for sample in draw.group]
        images, masks = _augment_batch(pipeline, group, params, device)
        start = 0
        for draw in run:
            drawn = _per_sample_json(_batch_json(draw.params), len(draw.group))
            for position, sample in enumerate(draw.group):
                outputs[(sample.index, draw.copy)] = _Output(
                    images[start + position], masks[start + position], draw.copy_seed,
                    position, drawn[position])
            start += len(draw.group)
    return outputs


class _Draw(NamedTuple):
    group: list[_Sample]  # same-size samples of one block
    params: Any  # drawn for them from the block's generator of ``copy``
    copy: int
    copy_seed: int


def _batched_draws(draws: list[_Draw], join: bool) -> Iterator[tuple[list[_Draw], Any]]:
    """Runs of draws of one image size (and mask presence), each with its parameters joined
    into one batch's (``join``: the pipeline allows it); a run whose draws differ in a value
    drawn per call comes one draw at a time."""
    if not join:
        yield from (([draw], draw.params) for draw in draws)
        return
    runs: dict[tuple, list[_Draw]] = {}
    for draw in draws:
        first = draw.group[0]
        runs.setdefault((first.image.shape, first.mask is None), []).append(draw)
    for run in runs.values():
        try:
            yield run, concat_params([draw.params for draw in run])
        except NotPerSample:
            yield from (([draw], draw.params) for draw in run)


def _output_of(sample: _Sample, copy: int | str, outputs: dict[tuple[int, int], _Output]
               ) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """The image, mask and manifest fields (seed, position, params) of one output."""
    if copy == ORIGINAL:
        return sample.image, sample.mask, {"seed": None, "params": None}
    out = outputs[(sample.index, copy)]
    return out.image, out.mask, {"seed": out.seed, "position": out.position,
                                 "params": out.params}


def _make_folders(source: ImageSource, dst: Path, readable: list[_Sample]) -> None:
    (dst / STAGING).mkdir(exist_ok=True)
    names = [output_name(source, s.index, 0) for s in readable]
    if source.has_masks:
        names += [mask_name(source, s.index, 0) for s in readable]
    for folder in {(dst / name).parent for name in names}:
        folder.mkdir(parents=True, exist_ok=True)


def _write_chunk(source: ImageSource, config: RunConfig, dst: Path, readable: list[_Sample],
                 outputs: dict[tuple[int, int], _Output], result: ChunkResult) -> None:
    """Write the image files (image, then its mask) or the shard of a chunk, or keep the
    arrays in ``result`` (npz, IDX); fill in the manifest records."""
    files = config.format in FOLDER_FORMATS
    if files:
        _make_folders(source, dst, readable)
    shard = SHARD_NAMES.get(config.format, "").format(result.chunk)
    samples: list[Sample] = []
    copies: list[int | str] = [ORIGINAL] if config.include_original else []
    copies += list(range(config.copies))
    for sample in readable:
        label = int(source.labels[sample.index])
        for copy in copies:
            image, mask, extra = _output_of(sample, copy, outputs)
            if shard:
                key = _shard_key(sample_key(source, sample.index, copy))
                name, masked = f"{shard}/{key}", {}
            else:
                name = output_name(source, sample.index, copy,
                                   IMAGE_SUFFIXES_OUT.get(config.format, ".png"))
                masked = ({"mask": mask_name(source, sample.index, copy)}
                          if files and mask is not None else {})
            record = {"output": name, **masked, "index": sample.index,
                      "source": source.names[sample.index], "label": label, "copy": copy,
                      **extra}
            result.records.append(record)
            result.lines.append(json_line(record))
            if files:
                _write_files(config, dst, name, image, masked.get("mask"), mask)
            elif shard:  # the record as the shard's JSON member, or Parquet's columns
                samples.append(Sample(key, image, label, mask, result.lines[-1]
                                      if config.format == "wds" else record))
            else:
                _keep_arrays(result, image, label, mask)
    if samples:
        _write_shard_file(source, config, dst / shard, samples)


def _write_files(config: RunConfig, dst: Path, name: str, image: np.ndarray,
                 mask_file: str | None, mask: np.ndarray | None) -> None:
    data = encode_image(image, config.format, config.quality, dst / name)
    write_many_small(dst / name, data, dst / STAGING)
    if mask_file is not None:
        write_many_small(dst / mask_file, encode_mask_png(mask, dst / mask_file), dst / STAGING)


def _keep_arrays(result: ChunkResult, image: np.ndarray, label: int,
                 mask: np.ndarray | None) -> None:
    result.images.append(image)
    result.labels.append(label)
    if mask is not None:
        result.masks.append(mask)


def _write_shard_file(source: ImageSource, config: RunConfig, path: Path,
                      samples: list[Sample]) -> None:
    """One chunk's shard or Parquet part, written atomically under its final name."""
    if config.format == "wds":
        write_shard(path, samples)
    else:
        write_parquet_part(path, samples, source.class_names)


def process_chunk(source: ImageSource, pipeline: Transform, config: RunConfig, dst: Path,
                  chunk: int, device: str = "cpu") -> ChunkResult:
    """Read, augment (on ``device``) and (for the file and shard formats) write one chunk;
    deterministic. Masks, when the source has them, take the same parameters as their
    images."""
    with _collector_paused():
        return _process_chunk(source, pipeline, config, dst, chunk, device)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a chunk runs: a chunk makes tens of thousands of
    small dicts and lists (records, parameters) and no cycles, and the collector's passes
    over them cost as much as the rest of a shard's work. Any cycle is collected after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _process_chunk(source: ImageSource, pipeline: Transform, config: RunConfig, dst: Path,
                   chunk: int, device: str) -> ChunkResult:
    start, stop = chunk * config.chunk, min((chunk + 1) * config.chunk, len(source))
    seconds = {}
    clock = time.perf_counter()
    readable, skipped = _read_chunk(source, start, stop)
    seconds["read"] = time.perf_counter() - clock
    clock = time.perf_counter()
    outputs = _augment_chunk(pipeline, config, chunk, readable, device)
    seconds["augment"] = time.perf_counter() - clock
    clock = time.perf_counter()
    result = ChunkResult(chunk, [], skipped, [], [], seconds)
    _write_chunk(source, config, dst, readable, outputs, result)
    seconds["write"] = time.perf_counter() - clock
    if config.format not in ARRAY_FORMATS:
        result.records = []  # the parent needs only the lines: half as much to send back
    return result


_WORKER: dict[str, Any] = {}


def _init_worker(source: ImageSource, pipeline: Transform, config: RunConfig, dst: Path) -> None:
    torch.set_num_threads(1)  # the processes are the parallelism
    _WORKER.update(source=source, pipeline=pipeline, config=config, dst=dst)


def _draw_from_parent(transform: Transform) -> Transform:
    """Drop every seed in the tree so that all draws come from the chunk's generator."""
    transform.reseed(None)
    for child in getattr(transform, "transforms", []):
        _draw_from_parent(child)
    return transform


_THREAD = threading.local()


def _uses_threads(device: str, workers: int) -> bool:
    """Workers on a GPU are threads of this process sharing it; on the CPU, processes.
    (Processes with a CUDA context each took the GPU in turns: 8 of them ran 6x slower than
    one thread.)"""
    return device != "cpu" and workers > 1


def _device_chunk(source: ImageSource, config: RunConfig, dst: Path, device: str,
                  chunk: int) -> ChunkResult:
    """One chunk on ``device`` in a thread, with the thread's own copy of the pipeline."""
    if getattr(_THREAD, "pipeline", None) is None:
        _THREAD.pipeline = _draw_from_parent(from_dict(config.pipeline))
        # its own stream, so that one thread's waits for its copies do not hold the others
        _THREAD.stream = torch.cuda.Stream(device) if device.startswith("cuda") else None
    with torch.cuda.stream(_THREAD.stream) if _THREAD.stream else contextlib.nullcontext():
        return process_chunk(source, _THREAD.pipeline, config, dst, chunk, device)


def _in_threads(work: Callable[[int], ChunkResult], chunks: list[int], threads: int
                ) -> Iterator[ChunkResult]:
    """``work`` on every chunk in ``threads`` threads (a device's kernels, reading and
    encoding overlap: torch, zlib and Pillow let go of the GIL), the results in order, at
    most two per thread waiting."""
    pool = ThreadPoolExecutor(threads, thread_name_prefix="augkit-chunk")
    pending: collections.deque[Future[ChunkResult]] = collections.deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(work, chunk))
            if len(pending) >= 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_chunk(chunk: int) -> ChunkResult:
    return process_chunk(_WORKER["source"], _WORKER["pipeline"], _WORKER["config"],
                         _WORKER["dst"], chunk)


def chunk_worker(config: RunConfig, dst: Path,
                 shared: tuple[ImageSource, dict[str, np.ndarray]]
                 ) -> Callable[[int], ChunkResult]:
    """What a Ray worker process runs: the driver's source, with the arrays of an IDX or
    npz source that the driver read (not read again), and the pipeline built once from
    ``config``, then ``process_chunk`` for each chunk it is given."""
    torch.set_num_threads(1)  # the processes are the parallelism
    source, arrays = shared
    source.use_arrays(arrays)
    pipeline = _draw_from_parent(from_dict(config.pipeline))
    return functools.partial(process_chunk, source, pipeline, config, dst)


# ---- the driver ----------------------------------------------------------------------------


def _final_arrays(dst: Path, chunks: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The images, labels and masks (None without) of all chunk parts, in order."""
    images, labels, masks = [], [], []
    for chunk in range(chunks):
        part = dst / PARTS / f"{chunk:06d}.npz"
        if not part.exists():
            continue
        with np.load(part) as data:
            images.append(data["images"])
            labels.append(data["labels"])
            if "masks" in data.files:
                masks.append(data["masks"])
    if not images:
        return np.zeros((0, 1, 1), np.uint8), np.zeros(0, np.int64), None
    shapes = {a.shape[1:] for a in images}
    if len(shapes) > 1:
        raise AugkitError(f"{dst}: outputs of different sizes {sorted(shapes)} cannot share one "
                          "npz/IDX file; use --format folder")
    return np.concatenate(images), np.concatenate(labels), _joined_masks(masks)


def _joined_masks(masks: list[np.ndarray]) -> np.ndarray | None:
    """The chunks' masks as one array of the smallest dtype that holds their values."""
    if not masks:
        return None
    joined = np.concatenate(masks)
    low, high = (int(joined.min()), int(joined.max())) if joined.size else (0, 0)
    return joined.astype(mask_dtype(low, high))


def _channels(source: ImageSource) -> int:
    """Channels of the first readable image (1 when there is none)."""
    for index in range(len(source)):
        try:
            image = source.read(index)
        except UnreadableImage:
            continue
        return 1 if image.ndim == 2 else image.shape[2]
    return 1


def augment_dataset(src: str | os.PathLike, dst: str | os.PathLike,
                    pipeline: Transform | None = None, copies: int = 1, seed: int = 0,
                    workers: int = 1, format: str = "png", include_original: bool = False,
                    overwrite: bool = False, progress: bool = True,
                    device: str = "cpu", quality: int | None = None,
                    shard_size: int | None = None, engine: str = "local",
                    source_name: str | None = None) -> Summary:
    """Write ``copies`` augmented versions of every image in ``src`` to ``dst``; the masks
    of a source with masks go along (see the module's docstring). ``device`` runs the
    pipeline's kernels on batches there (uint8 outputs of the exact ops are the CPU's).
    ``quality`` is JPEG's and WebP's (1-100, default 90); ``shard_size`` the outputs per
    shard or Parquet part (default: one chunk, 256 small images or fewer large ones).
    ``engine="ray"`` runs the chunks as Ray Data tasks, ``workers`` at a time
    (``augkit.engines``); the outputs are the same bytes as the local engine's. ``src`` and
    ``dst`` may be URIs that ``pyarrow.fs`` opens (``augkit.remote``); the run records
    ``source_name`` (default: the URI, or the source's resolved path) as its source."""
    seed = check_seed(seed)
    if is_uri(str(src)) or is_uri(str(dst)):
        with staged_output(str(dst), "dst", overwrite) as local:
            return augment_dataset(
                stage_input(str(src), "src"), local, pipeline, copies=copies, seed=seed,
                workers=workers, format=format, include_original=include_original,
                overwrite=overwrite, progress=progress, device=device, quality=quality,
                shard_size=shard_size, engine=engine,
                source_name=source_name or (str(src) if is_uri(str(src)) else None))
    for name, value in (("copies", copies), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise AugkitError(f"{name}: {value!r} is not allowed; expected an integer >= 1")
    check_device(device, "device")
    check_engine(engine)
    if device != "cpu" and engine == "ray":
        raise AugkitError(f"device: {device} with engine ray; the Ray engine runs on CPUs, "
                          "use --engine local for a GPU")
    if format not in FORMATS:
        raise AugkitError(f"format: {format!r} is not allowed; expected one of "
                          f"{', '.join(FORMATS)}")
    source = open_source(src)
    dst = Path(dst)
    _check_paths(source, dst)
    format = "png" if format == "folder" else format
    _check_masks(source, format)
    pipeline = for_channels(_channels(source)) if pipeline is None else pipeline
    config = RunConfig(source_name or str(source.path.resolve()), pipeline.to_dict(), copies,
                       seed, format, include_original, chunk_size(source), source.has_masks)
    config = _with_format_settings(config, source, quality, shard_size)
    fresh = not dst.exists() or not any(dst.iterdir())
    state = _prepare(dst, config, overwrite)
    try:
        return _run(source, _draw_from_parent(from_dict(config.pipeline)), state, dst,
                    workers, progress, device, engine)
    except AugkitError:
        if fresh and state.chunks_done == 0:  # nothing of the user's is in DST: leave none
            shutil.rmtree(dst, ignore_errors=True)
        raise


def _with_format_settings(config: RunConfig, source: ImageSource, quality: int | None,
                          shard_size: int | None) -> RunConfig:
    """``config`` with the format's settings checked and set: JPEG's and WebP's quality, the
    chunk a shard size asks for."""
    if quality is not None and config.format not in ("jpeg", "webp"):
        raise AugkitError(f"quality: only for --format jpeg or webp, not {config.format}")
    if shard_size is not None and config.format not in SHARD_FORMATS:
        raise AugkitError(f"shard_size: only for --format wds or parquet, not {config.format}")
    if config.format == "jpeg" and _channels(source) == 4:
        raise AugkitError(f"format: 'jpeg' has no alpha channel for the RGBA images of "
                          f"{source.path}; use --format png or webp")
    if config.format in ("jpeg", "webp"):
        config = replace(config, quality=check_quality(quality))
    if config.format in SHARD_FORMATS:
        config = _shard_chunks(config, shard_size)
    return config


def _shard_chunks(config: RunConfig, shard_size: int | None) -> RunConfig:
    """A shard is one chunk of the run made of whole blocks of the automatic chunk size
    (default: enough for about SHARD_BLOCKS blocks of outputs), each drawn as the png format
    draws that chunk; a shard smaller than one block is its own block."""
    per_source = config.copies + int(config.include_original)
    base = config.chunk
    if shard_size is None:
        return replace(config, chunk=base * max(1, SHARD_BLOCKS // per_source), block=base)
    images = max(1, check_shard_size(shard_size) // per_source)
    if images < base:
        return replace(config, chunk=images, block=images)
    return replace(config, chunk=images // base * base, block=base)


def _check_masks(source: ImageSource, format: str) -> None:
    """Refuse masks that the output format cannot hold."""
    if not source.has_masks:
        return
    if format == "idx":
        raise AugkitError(f"format: 'idx' has no place for the masks of {source.path}; use "
                          "--format png, npz, wds or parquet")
    if format != "npz" and source.kind == "npz":
        masks = source._masks()
        low, high = (int(masks.min()), int(masks.max())) if masks.size else (0, 0)
        if low < 0 or high > 65535:
            raise AugkitError(f"{source.path}: masks hold values {low}..{high}; a PNG mask "
                              "holds 0..65535, use --format npz")


def _run(source: ImageSource, pipeline: Transform, state: RunState, dst: Path, workers: int,
         progress: bool, device: str = "cpu", engine: str = "local") -> Summary:
    config = state.config
    per_source = config.copies + int(config.include_original)
    summary = Summary(resumed_chunks=state.chunks_done, total_outputs=len(source) * per_source,
                      masks=config.masks)
    if state.complete:
        summary.already_complete = True
        return summary
    chunks = -(-len(source) // config.chunk)
    manifest = _records_before(dst / MANIFEST, state.chunks_done, config.chunk)
    skipped = _records_before(dst / SKIPPED, state.chunks_done, config.chunk)
    write_text_atomically(dst / MANIFEST, "".join(line + "\n" for line in manifest))
    write_text_atomically(dst / SKIPPED, "".join(line + "\n" for line in skipped))
    summary.skipped = [json.loads(line)["path"] for line in skipped]
    todo = list(range(state.chunks_done, chunks))
    bar = progress_bar(total=summary.total_outputs, unit="img", disable=not progress,
                       initial=state.chunks_done * config.chunk * per_source, desc="augment")
    if config.format in ARRAY_FORMATS:
        (dst / PARTS).mkdir(exist_ok=True)
    pool, first_output, results = None, {}, iter(())
    try:
        if engine == "ray":
            results = ray_map(functools.partial(chunk_worker, config, dst), todo, workers,
                              shared=(source, source.loaded_arrays()))
        elif _uses_threads(device, workers):
            results = _in_threads(functools.partial(_device_chunk, source, config, dst, device),
                                  todo, workers)
        elif workers > 1 and len(todo) > 1:
            context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
            pool = context.Pool(workers, initializer=_init_worker,
                                initargs=(source, pipeline, config, dst))
            results = pool.imap(_run_chunk, todo)
        else:
            results = (process_chunk(source, pipeline, config, dst, c, device) for c in todo)
        with open(dst / MANIFEST, "a") as manifest_file, open(dst / SKIPPED, "a") as skip_file:
            for result in results:
                _record(result, source, state, dst, summary,
                        (manifest_file, skip_file, first_output))
                bar.update((min((result.chunk + 1) * config.chunk, len(source))
                            - result.chunk * config.chunk) * per_source)
    finally:
        bar.close()
        if engine == "ray" or _uses_threads(device, workers):
            results.close()  # stops the tasks (and a local Ray started for this run) or threads
        if pool is not None:
            pool.terminate()
            pool.join()
        _save_state(dst, state)  # the chunks finished since the last save, at any stop
    _finish(dst, state, chunks)
    return summary


def _record(result: ChunkResult, source: ImageSource, state: RunState, dst: Path,
            summary: Summary, files: tuple[Any, Any, dict[str, Any]]) -> None:
    """Keep one finished chunk: its array part, its manifest and skip lines, the state."""
    manifest_file, skip_file, first_output = files
    if state.config.format in ARRAY_FORMATS and result.images:  # none: nothing was readable
        _check_one_size(result, source, first_output)
        write_npz(dst / PARTS / f"{result.chunk:06d}.npz", np.stack(result.images),
                  np.asarray(result.labels, dtype=np.int64), overwrite=True,
                  masks=np.stack(result.masks) if result.masks else None)
    for line in result.skipped:
        tqdm.write(f"skipped {line['path']}: {line['reason']}", file=sys.stderr)
        summary.skipped.append(line["path"])
    skip_file.write("".join(json.dumps(r) + "\n" for r in result.skipped))
    lines = result.lines or [json.dumps(r) for r in result.records]
    manifest_file.write("".join(line + "\n" for line in lines))
    # flush, not fsync: resuming is for killed processes, whose written data the OS keeps,
    # and an fsync per chunk costs more than the chunk on some disks
    skip_file.flush()
    manifest_file.flush()
    state.chunks_done = result.chunk + 1
    # Replacing the run file costs a flush on ext4 (a few ms); a killed run (kill -9) redoes
    # at most STATE_EVERY seconds of chunks, which give the same bytes again.
    if time.monotonic() - state.saved_at >= STATE_EVERY:
        _save_state(dst, state)
    summary.written += len(lines)
    for phase, value in result.seconds.items():
        summary.seconds[phase] += value


def _check_one_size(result: ChunkResult, source: ImageSource, first: dict[str, Any]) -> None:
    """npz and IDX hold one image size: name the first output that differs from ``first``
    (the first output's shape and source, filled in by the first call)."""
    for image, record in zip(result.images, result.records, strict=True):
        if not first:
            first.update(shape=image.shape, source=record["source"])
        elif image.shape != first["shape"]:
            raise AugkitError(f"{source.path}: outputs of different sizes ({record['source']} "
                              f"gives {image.shape}, {first['source']} gives {first['shape']}) "
                              "cannot "
                              "share one npz/IDX file; use --format png, or a pipeline that "
                              "resizes (RandomResizedCrop)")


def _finish(dst: Path, state: RunState, chunks: int) -> None:
    if state.config.format in ARRAY_FORMATS:
        images, labels, masks = _final_arrays(dst, chunks)
        if state.config.format == "npz":
            write_npz(dst / "augmented.npz", images, labels, overwrite=True, masks=masks)
        elif len(images):
            write_idx_pair(dst, "augmented", images, labels, overwrite=True)
        shutil.rmtree(dst / PARTS, ignore_errors=True)
    shutil.rmtree(dst / STAGING, ignore_errors=True)
    state.complete = True
    _save_state(dst, state)


def replay(run: str | os.PathLike, output: str) -> np.ndarray | dict[str, np.ndarray]:
    """Regenerate one output of a finished or partial run from its manifest line.

    ``output`` is the output's name in ``manifest.jsonl`` (for a run with masks in the png
    format, its mask's name ``masks/...`` works too). Returns the image as a numpy array; for
    a run whose source had masks, ``{"image": image, "mask": mask}`` (the mask int64 HxW)."""
    run = Path(run)
    return replay_records(run, [manifest_record(run, output)])[0]


def replay_records(run: Path, records: list[dict]) -> list[np.ndarray | dict[str, np.ndarray]]:
    """``replay`` for several manifest lines of ``run``, reading its source once."""
    state = _load_state(run)
    if state is None:
        raise AugkitError(f"{run}: not an augkit run (no {RUN_FILE})")
    source = open_source(stage_input(state.config.source, "source"))
    pipeline = from_dict(state.config.pipeline)
    outputs = []
    for record in records:
        image = source.read(record["index"])
        mask = source.read_mask(record["index"]) if state.config.masks else None
        if record["copy"] != ORIGINAL:
            params = params_from_json(record["params"])
            if mask is None:
                image = pipeline(image, params=params)
            else:
                result = pipeline(image=image, mask=mask, params=params)
                image, mask = result["image"], np.asarray(result["mask"], np.int64)
        outputs.append(image if mask is None else {"image": image, "mask": mask})
    return outputs


def manifest_record(run: Path, output: str) -> dict:
    """The manifest line of ``output`` (an image's or a mask's name) in the run ``run``."""
    for line in (run / MANIFEST).read_text().splitlines():
        record = json.loads(line)
        if output in (record["output"], record.get("mask")):
            return record
    raise AugkitError(f"{run / MANIFEST}: no output named {output!r}")
