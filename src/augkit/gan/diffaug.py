"""DiffAugment (Zhao et al. 2020) built on augkit's differentiable kernels: colour
(brightness, saturation and contrast with Pillow's semantics), translation and cutout, drawn
per sample, applied to real and generated batches alike so that a discriminator trained on
little data does not memorise it.
"""

from __future__ import annotations

import torch

from augkit.functional import affine, enhance, erase

POLICIES = ("color", "translation", "cutout")


def diff_augment(images: torch.Tensor, policy: tuple[str, ...] = POLICIES,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Augment a batch in [-1, 1] (N, C, H, W) differentiably."""
    n, _, height, width = images.shape
    x = (images + 1) / 2
    if "color" in policy:
        u = torch.rand(n, 3, generator=generator, dtype=torch.float64)
        ops = ["brightness", "color", "contrast"] if x.shape[1] > 1 else ["brightness",
                                                                          "contrast"]
        factors = {"brightness": 0.5 + u[:, 0], "color": 2 * u[:, 1], "contrast": 0.5 + u[:, 2]}
        x = enhance(x, ops, [factors[op] for op in ops])
    if "translation" in policy:
        shift = torch.randint(-(width // 8), width // 8 + 1, (n, 2), generator=generator)
        shift[:, 1] = torch.randint(-(height // 8), height // 8 + 1, (n,), generator=generator)
        x = affine(x, translate=shift.to(torch.float64), interpolation="nearest")
    if "cutout" in policy:
        cut_h, cut_w = height // 2, width // 2
        top = torch.randint(0, height - cut_h + 1, (n,), generator=generator)
        left = torch.randint(0, width - cut_w + 1, (n,), generator=generator)
        x = erase(x, top, left, cut_h, cut_w, value=0.0)
    return x * 2 - 1
