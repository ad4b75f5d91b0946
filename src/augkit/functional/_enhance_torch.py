"""The four ImageEnhance ops on torch batches ``(N, C, H, W)``, any device.

uint8 batches follow Pillow's integer and float32 arithmetic step by step (see
``_enhance_cpu``), so a CUDA result equals Pillow's bit for bit. Each float32 step is its own
elementwise op: nothing is fused into a multiply-add that would round differently.

Float batches in [0, 1] use the same formulas without quantization (gray, mean and smoothing
are not rounded; the result is clamped, not truncated) and are differentiable.
"""

from __future__ import annotations

import torch

# Pillow's ITU-R 601-2 luma weights, in 1/65536 units.
LUMA_WEIGHTS = (19595, 38470, 7471)


def _split_alpha(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    if images.shape[1] == 4:
        return images[:, :3], images[:, 3:]
    return images, None


def _join_alpha(color: torch.Tensor, alpha: torch.Tensor | None) -> torch.Tensor:
    return color if alpha is None else torch.cat([color, alpha], dim=1)


def _blend(degenerate: torch.Tensor, images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    """``degenerate + factor * (images - degenerate)``, clipped; one factor per sample."""
    factor = factors.to(torch.float32).view(-1, 1, 1, 1)
    if images.dtype == torch.uint8:
        degenerate = degenerate.to(torch.float32)
        diff = images.to(torch.float32) - degenerate
        scaled = factor * diff
        return (degenerate + scaled).clamp_(0.0, 255.0).to(torch.uint8)
    factor = factor.to(images.dtype)
    return (degenerate + factor * (images - degenerate)).clamp(0.0, 1.0)


def grayscale(rgb: torch.Tensor) -> torch.Tensor:
    """Pillow's ``convert("L")`` of ``(N, 3, H, W)``; float input uses the same weights."""
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    wr, wg, wb = LUMA_WEIGHTS
    if rgb.dtype == torch.uint8:
        luma = r.to(torch.int32) * wr + g.to(torch.int32) * wg + b.to(torch.int32) * wb + 0x8000
        return (luma >> 16).to(torch.uint8)
    return (r * wr + g * wg + b * wb) / 65536.0


def _gray(color: torch.Tensor) -> torch.Tensor:
    return color if color.shape[1] == 1 else grayscale(color)


def brightness(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    color, alpha = _split_alpha(images)
    return _join_alpha(_blend(torch.zeros_like(color), color, factors), alpha)


def color(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    color, alpha = _split_alpha(images)
    if color.shape[1] == 1:
        return images.clone()
    gray = grayscale(color).expand_as(color)
    return _join_alpha(_blend(gray, color, factors), alpha)


def contrast(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    color, alpha = _split_alpha(images)
    gray = _gray(color)
    if images.dtype == torch.uint8:
        # floor(total / n + 0.5) in integers: a GPU divides by a plain number through its
        # reciprocal, which can round a mean of exactly k + 0.5 down
        total, n = gray.sum(dim=(1, 2, 3), dtype=torch.int64), gray[0].numel()
        mean = torch.div(2 * total + n, 2 * n, rounding_mode="floor")
    else:
        mean = gray.mean(dim=(1, 2, 3))
    degenerate = mean.to(torch.float32 if images.dtype == torch.uint8 else images.dtype)
    degenerate = degenerate.view(-1, 1, 1, 1).expand_as(color)
    return _join_alpha(_blend(degenerate, color, factors), alpha)


def smooth(color: torch.Tensor) -> torch.Tensor:
    """Pillow's SMOOTH filter (3x3, centre weight 5, divisor 13) with border pixels kept."""
    height, width = color.shape[-2:]
    if height < 3 or width < 3:
        return color.clone()
    source = color.to(torch.int32) if color.dtype == torch.uint8 else color
    total = sum(
        source[..., 1 + dy : height - 1 + dy, 1 + dx : width - 1 + dx]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    ) + 4 * source[..., 1:-1, 1:-1]
    if color.dtype == torch.uint8:
        inner = torch.div(total + 6, 13, rounding_mode="floor").to(torch.uint8)
    else:
        inner = total / 13.0
    result = color.clone()
    result[..., 1:-1, 1:-1] = inner
    return result


def sharpness(images: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
    color, alpha = _split_alpha(images)
    return _join_alpha(_blend(smooth(color), color, factors), alpha)


OPS = {"color": color, "brightness": brightness, "contrast": contrast, "sharpness": sharpness}


def chain(ops: tuple[str, ...], images: torch.Tensor, factors: torch.Tensor,
          order: torch.Tensor | None = None) -> torch.Tensor:
    """Apply ``ops`` in sequence with ``factors`` ``(N, len(ops))``; ``order`` per sample."""
    if order is None:
        for i, op in enumerate(ops):
            images = OPS[op](images, factors[:, i])
        return images
    # step by step: at each step, each op on the samples whose order puts it there (at most
    # len(ops)**2 launches, whatever the batch; the indices are found on the host, no sync)
    steps = order.cpu()
    for step in range(len(ops)):
        for k, op in enumerate(ops):
            index = (steps[:, step] == k).nonzero().squeeze(1)
            if len(index) == len(steps):
                images = OPS[op](images, factors[:, k])
            elif len(index):
                at = index.to(images.device)
                images = images.index_copy(0, at, OPS[op](images[at], factors[at, k]))
    return images
