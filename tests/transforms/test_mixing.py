"""MixUp and CutMix: the images and the labels mixed by the same amount, replayable."""

from __future__ import annotations

import pytest
import torch

from augkit.errors import AugkitError
from augkit.transforms import CutMix, MixUp, from_dict


def _batch():
    generator = torch.Generator().manual_seed(0)
    return torch.rand(6, 3, 10, 12, generator=generator), torch.tensor([0, 1, 2, 3, 4, 0])


def test_mixup_mixes_images_and_labels_with_one_lam():
    images, labels = _batch()
    mix = MixUp(alpha=0.4, num_classes=5, seed=1)
    mixed, soft = mix(images, labels)
    lam = float(mix.last_params["lam"][0])
    assert 0 < lam < 1
    assert torch.allclose(mixed, lam * images + (1 - lam) * images.roll(1, 0))
    assert soft.shape == (6, 5) and torch.allclose(soft.sum(1), torch.ones(6))
    assert soft[1, 1] == pytest.approx(lam) and soft[1, 0] == pytest.approx(1 - lam)
    again, _ = MixUp(alpha=0.4, num_classes=5)(images, labels, params=mix.last_params)
    assert torch.equal(again, mixed)


def test_cutmix_pastes_a_box_and_weighs_labels_by_its_area():
    images, labels = _batch()
    mix = CutMix(num_classes=5, seed=3)
    mixed, soft = mix(images, labels)
    pasted = (mixed != images).any(dim=1)[0]  # where sample 0 took sample 5's pixels
    rows, cols = pasted.nonzero().unbind(1)
    box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
    assert int(pasted.sum()) == int(box)  # one rectangle
    own = 1 - int(box) / (10 * 12)
    assert soft[0, 0] == pytest.approx(own + (1 - own) * 1.0)  # sample 5 is class 0 too
    assert soft[1, 1] == pytest.approx(own)


def test_uint8_stays_uint8_and_configs_round_trip():
    images = torch.randint(0, 256, (4, 1, 6, 6), dtype=torch.uint8)
    mixed, _ = MixUp(num_classes=3, seed=0)(images, torch.tensor([0, 1, 2, 1]))
    assert mixed.dtype == torch.uint8
    assert from_dict(CutMix(alpha=0.5, num_classes=3).to_dict()).alpha == 0.5


@pytest.mark.parametrize("call, words", [
    (lambda: MixUp(alpha=0), ["alpha", "0"]),
    (lambda: MixUp(num_classes=3)(torch.rand(2, 3, 4, 4), torch.tensor([0, 5])),
     ["labels", "class 5", "num_classes=3"]),
    (lambda: MixUp()(torch.rand(2, 3, 4, 4)), ["labels", "missing"]),
    (lambda: CutMix()(torch.rand(3, 4, 4), torch.tensor([0])), ["images", "(N, C, H, W)"]),
    (lambda: CutMix()(torch.rand(2, 3, 4, 4), torch.rand(2)), ["labels", "integer"]),
])
def test_bad_calls_are_one_line(call, words):
    with pytest.raises((AugkitError, TypeError)) as info:
        call()
    assert all(word in str(info.value) for word in words), str(info.value)
