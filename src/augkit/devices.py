"""Checking a ``--device`` before any work starts."""

from __future__ import annotations

import re

import torch

from augkit.errors import AugkitError


def check_device_name(device: str, name: str = "device") -> str:
    """``device`` if it names a device kind augkit runs on (it may be absent here)."""
    if not isinstance(device, str) or not re.fullmatch(r"cpu|cuda(:\d+)?|mps", device):
        raise AugkitError(f"{name}: {device!r} is not allowed; expected cpu, cuda, cuda:N "
                          "or mps")
    return device


def check_device(device: str, name: str = "device") -> str:
    """``device`` if torch can run on it here; else one line saying why not."""
    check_device_name(device, name)
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            build = ("this torch build has no CUDA support" if torch.version.cuda is None
                     else "no CUDA device is visible")
            raise AugkitError(f"{name}: {device} is not available ({build}); use --device cpu")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise AugkitError(f"{name}: {device} is not available; this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s)")
    if device == "mps" and not torch.backends.mps.is_available():
        raise AugkitError(f"{name}: mps is not available on this machine; use --device cpu")
    return device


__all__ = ["check_device", "check_device_name"]
