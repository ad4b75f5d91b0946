"""Config dataclasses declared once: each field's default, type and help text live in the
dataclass, and the command line is built from them (``add_flags``, ``values_from``).

A field made with ``option(default, "help", choices=...)`` becomes ``--field-name``. ``None``
is the one way to say "use the default": a field whose default is ``None`` is resolved by
its class (a model's own default, no limit, ...), and its help says what ``None`` means.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any

from augkit.errors import AugkitError


def option(default: Any, help: str, choices: tuple[Any, ...] | None = None,
           flag: str | None = None, cli: bool = True) -> Any:
    """A dataclass field with its help text (and closed set of values, and flag name)."""
    metadata = {"help": help, "choices": choices, "flag": flag, "cli": cli}
    if isinstance(default, (list, dict, set)):
        raise TypeError("option: use a tuple for sequence defaults")
    return dataclasses.field(default=default, metadata=metadata)


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """The field's value type and whether it is a tuple of that type."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _base_type(args[0])
    if origin is tuple:
        return args[0], True
    return annotation, False


def flag_name(field: dataclasses.Field) -> str:
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def _sequence(kind: type, name: str) -> Any:
    def parse(text: str) -> tuple:
        try:
            return tuple(kind(v.strip()) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a comma-separated list of {kind.__name__} values") from None
    parse.__name__ = f"list of {kind.__name__}"
    return parse


def add_flags(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """A ``--flag`` for every field of the dataclass ``cls`` that is not in ``skip``."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in skip or not field.metadata.get("cli", True):
            continue
        kind, is_tuple = _base_type(hints[field.name])
        help_text = field.metadata.get("help", "")
        flag = flag_name(field)
        if kind is bool:
            if field.default is True:
                parser.add_argument("--no-" + flag[2:], dest=field.name, action="store_false",
                                    default=None, help=f"{help_text} (on unless given)")
            else:
                parser.add_argument(flag, dest=field.name, action="store_true", default=None,
                                    help=help_text)
            continue
        shown = field.default
        if is_tuple and shown is not None:
            shown = ",".join(map(str, shown))
        default_text = ("" if shown is None or "default" in help_text.lower()
                        else f" (default: {shown})")
        parser.add_argument(flag, dest=field.name, default=None,
                            type=_sequence(kind, field.name) if is_tuple else kind,
                            choices=field.metadata.get("choices"),
                            metavar=None if field.metadata.get("choices") else
                            field.name.upper(), help=help_text + default_text)


def values_from(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` given on the command line (flags left out stay unset)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
            if getattr(args, f.name, None) is not None}


def flags_of(cls: type) -> dict[str, str]:
    """Field name to flag name, for error messages that use the flag's name."""
    return {f.name: flag_name(f) for f in dataclasses.fields(cls)}


def check_types(cls: type, values: dict[str, Any], where: str = "config") -> dict[str, Any]:
    """``values`` checked against the field types of ``cls``; unknown keys are errors."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise AugkitError(f"{where}: unknown key(s) {', '.join(unknown)}; known: "
                          f"{', '.join(known)}")
    checked = {}
    for name, value in values.items():
        kind, is_tuple = _base_type(hints[name])
        optional = type(None) in typing.get_args(hints[name])
        if value is None and optional:
            checked[name] = None
            continue
        items = value if is_tuple and isinstance(value, (list, tuple)) else [value]
        ok = (not is_tuple or isinstance(value, (list, tuple))) and all(
            _is(kind, item) for item in items)
        if not ok:
            raise AugkitError(f"{where}: {name}={value!r} has the wrong type; expected "
                              f"{'a list of ' if is_tuple else ''}{kind.__name__}")
        if kind is float:
            items = [float(item) for item in items]
        checked[name] = tuple(items) if is_tuple else items[0]
    return checked


def _is(kind: type, value: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def to_dict(config: Any) -> dict[str, Any]:
    """A config as JSON-ready values (tuples as lists)."""
    values = dataclasses.asdict(config)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


__all__ = ["add_flags", "check_types", "flags_of", "option", "to_dict", "values_from"]
