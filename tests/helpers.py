"""Shared test helpers: random images of every kind, and Pillow's results as the reference."""

from __future__ import annotations

import ctypes
import mmap
import sys

import numpy as np
import torch
from PIL import Image, ImageEnhance

MODES = ("L", "RGB", "RGBA")
PIL_ENHANCE = {
    "color": ImageEnhance.Color,
    "brightness": ImageEnhance.Brightness,
    "contrast": ImageEnhance.Contrast,
    "sharpness": ImageEnhance.Sharpness,
}


def random_hwc(rng: np.random.Generator, height: int, width: int, mode: str) -> np.ndarray:
    """A random uint8 HxWxC image, sometimes in coarse levels (flat areas, clipping)."""
    arr = rng.integers(0, 256, (height, width, len(mode)), dtype=np.uint8)
    if rng.random() < 0.25:
        arr = (arr // 85 * 85).astype(np.uint8)
    return arr


def to_pil(hwc: np.ndarray, mode: str) -> Image.Image:
    return Image.fromarray(hwc[..., 0] if mode == "L" else hwc, mode)


def pil_to_hwc(img: Image.Image) -> np.ndarray:
    arr = np.asarray(img)
    return arr[..., None] if arr.ndim == 2 else arr


def pillow_enhance(op: str, hwc: np.ndarray, mode: str, factor: float) -> np.ndarray:
    """Pillow's ImageEnhance result as HxWxC uint8."""
    return pil_to_hwc(PIL_ENHANCE[op](to_pil(hwc, mode)).enhance(float(factor)))


def as_kind(hwc: np.ndarray, mode: str, kind: str):
    """The same image as a PIL image, an HxW/HxWxC array or a (C,H,W) tensor."""
    if kind == "pil":
        return to_pil(hwc, mode)
    if kind == "numpy":
        return hwc[..., 0].copy() if mode == "L" else hwc.copy()
    return torch.from_numpy(hwc.copy()).permute(2, 0, 1).contiguous()


def to_hwc(img) -> np.ndarray:
    """Back from any kind to HxWxC uint8."""
    if isinstance(img, Image.Image):
        return pil_to_hwc(img)
    if isinstance(img, np.ndarray):
        return img[..., None] if img.ndim == 2 else img
    return img.permute(1, 2, 0).numpy()


KINDS = ("pil", "numpy", "tensor")


def interrupt_at_chunk(monkeypatch, chunk: int = 1):
    """Make ``augkit augment`` raise KeyboardInterrupt when it reaches ``chunk``, as a
    Ctrl-C there would; returns the real ``process_chunk``, to put back with
    ``monkeypatch.setattr``."""
    from augkit import augment as augment_module

    real = augment_module.process_chunk

    def stop(source, pipeline, config, out, index, *rest):
        if index == chunk:
            raise KeyboardInterrupt
        return real(source, pipeline, config, out, index, *rest)

    monkeypatch.setattr(augment_module, "process_chunk", stop)
    return real


def at_page_end(array: np.ndarray) -> np.ndarray:
    """A copy of ``array`` whose last byte is the last before an unreadable page, so that a
    kernel reading past its end stops the process (Linux; elsewhere a plain copy)."""
    if not sys.platform.startswith("linux"):
        return array.copy()
    page = mmap.PAGESIZE
    pages = -(-array.nbytes // page) + 1
    memory = mmap.mmap(-1, pages * page)
    guard = ctypes.addressof(ctypes.c_char.from_buffer(memory)) + (pages - 1) * page
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    if libc.mprotect(guard, page, 0) != 0:  # PROT_NONE
        return array.copy()
    start = (pages - 1) * page - array.nbytes
    copy = np.frombuffer(memory, np.uint8, array.nbytes, start).view(array.dtype)
    copy = copy.reshape(array.shape)
    copy[...] = array
    return copy
