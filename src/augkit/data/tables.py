"""Parquet files and Arrow tables in the Hugging Face ``datasets`` layout, through pyarrow.

An image column is a struct ``{bytes: binary, path: string}``, as ``datasets.Image()``
stores it; the schema's ``huggingface`` metadata names the features, so that
``datasets.load_dataset("parquet", data_files=...)`` gives PIL images and class labels.
``Dataset.save_to_disk`` writes the same columns as Arrow stream files beside
``dataset_info.json`` and ``state.json``.

pyarrow is optional (``pip install 'augkit[parquet]'``): it is imported inside these
functions only, and its absence is one line naming the file and the extra to install.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from augkit.errors import AugkitError
from augkit.files import atomic_path

PARQUET_EXTRA = "pip install 'augkit[parquet]'"
# the manifest fields a Parquet part of ``augkit augment`` holds, and their column types
MANIFEST_COLUMNS = {"output": "string", "source": "string", "index": "int64", "copy": "int64",
                    "seed": "int64", "position": "int64", "params": "string"}


def pyarrow(path: str | os.PathLike) -> Any:
    """The pyarrow module, with ``pyarrow.parquet`` loaded; a one-line AugkitError naming
    ``path`` and the extra to install when it is missing."""
    try:
        import pyarrow as pa
        import pyarrow.parquet
    except ImportError:
        raise AugkitError(f"{path}: Parquet and Arrow files need pyarrow, which is not "
                          f"installed; {PARQUET_EXTRA}") from None
    return pa


def is_image_type(pa: Any, kind: Any) -> bool:
    """Whether an Arrow type is an image column's struct (a ``bytes`` field inside)."""
    return pa.types.is_struct(kind) and kind.get_field_index("bytes") >= 0


def open_table(path: Path) -> tuple[Any, int]:
    """The schema and row count of a Parquet file or an Arrow (IPC stream or file) table,
    read without loading the data; AugkitError when it is not readable as one."""
    pa = pyarrow(path)
    try:
        if path.suffix.lower() == ".arrow":
            table = _arrow_table(pa, path)
            return table.schema, table.num_rows
        meta = pa.parquet.ParquetFile(path).metadata
        return meta.schema.to_arrow_schema(), meta.num_rows
    except (OSError, pa.ArrowException) as error:
        raise AugkitError(f"{path}: cannot read it as {_what(path)} ({_first_line(error)})"
                          ) from None


def read_columns(path: Path, columns: list[str]) -> dict[str, list]:
    """The named columns of a table as Python lists (structs as dicts)."""
    pa = pyarrow(path)
    try:
        if path.suffix.lower() == ".arrow":
            table = _arrow_table(pa, path).select(columns)
        else:
            table = pa.parquet.read_table(path, columns=columns)
        return {name: table.column(name).to_pylist() for name in columns}
    except (OSError, pa.ArrowException) as error:
        raise AugkitError(f"{path}: cannot read it as {_what(path)} ({_first_line(error)})"
                          ) from None


def _image_array(pa: Any, kind: Any, data: list, paths: list) -> Any:
    """A struct {bytes, path} column, null where ``data`` is None (built from two flat
    arrays: converting a dict per row costs a hundred times more)."""
    missing = pa.array([d is None for d in data], pa.bool_())
    return pa.StructArray.from_arrays([pa.array(data, pa.binary()), pa.array(paths, pa.string())],
                                      fields=list(kind), mask=missing)


def _arrow_table(pa: Any, path: Path) -> Any:
    source = pa.memory_map(str(path))
    try:
        return pa.ipc.open_stream(source).read_all()
    except pa.ArrowInvalid:
        return pa.ipc.open_file(source).read_all()


def _what(path: Path) -> str:
    return "an Arrow table" if path.suffix.lower() == ".arrow" else "Parquet"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def hf_features(schema: Any) -> dict[str, Any]:
    """The ``datasets`` features stored in a schema's metadata ({} when there are none)."""
    raw = (schema.metadata or {}).get(b"huggingface")
    try:
        return json.loads(raw)["info"]["features"] if raw else {}
    except (ValueError, KeyError, TypeError):
        return {}


def write_parquet(path: str | os.PathLike, columns: dict[str, list], types: dict[str, str],
                  features: dict[str, Any], overwrite: bool = True) -> None:
    """Write ``columns`` (name to values) as one Parquet file, atomically. ``types`` gives each
    column's kind: "image" (values: a pair of lists, the encoded images (None for a null
    cell) and their paths), "int64" or "string"; ``features`` is the ``datasets`` features
    dict stored in the metadata."""
    pa = pyarrow(path)
    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    kinds = {"image": image, "int64": pa.int64(), "string": pa.string()}
    schema = pa.schema([(name, kinds[types[name]]) for name in columns],
                       metadata={"huggingface": json.dumps({"info": {"features": features}})})
    arrays = {name: (_image_array(pa, image, *values) if types[name] == "image"
                     else pa.array(values, kinds[types[name]]))
              for name, values in columns.items()}
    table = pa.table(arrays, schema=schema)
    images = [name for name in columns if types[name] == "image"]
    codec = "zstd" if pa.Codec.is_available("zstd") else "snappy"
    with atomic_path(path, overwrite=overwrite) as tmp:
        # images as stored (uncompressed) PNGs, compressed here over the whole column: smaller
        # than deflating each image, and several times faster; no dictionary for them
        pa.parquet.write_table(table, tmp, compression=codec,
                               use_dictionary=[name for name in columns if name not in images])


__all__ = ["MANIFEST_COLUMNS", "PARQUET_EXTRA", "hf_features", "is_image_type", "open_table",
           "pyarrow", "read_columns", "write_parquet"]
