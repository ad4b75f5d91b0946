"""RandAugment and TrivialAugmentWide: torchvision's spaces, each sample's own draw, every
operation equal to the kernel it names."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.transforms import RandAugment, TrivialAugmentWide
from augkit.transforms.auto import RAND_AUGMENT, TRIVIAL_AUGMENT_WIDE


def test_the_spaces_are_torchvisions():
    assert list(RAND_AUGMENT) == ["Identity", "ShearX", "ShearY", "TranslateX", "TranslateY",
                                  "Rotate", "Brightness", "Color", "Contrast", "Sharpness",
                                  "Posterize", "Solarize", "AutoContrast", "Equalize"]
    assert RAND_AUGMENT["Rotate"][0](31, 32, 32)[-1] == pytest.approx(30.0)
    assert RAND_AUGMENT["TranslateX"][0](31, 20, 331)[-1] == pytest.approx(150.0)
    assert RAND_AUGMENT["Posterize"][0](31, 8, 8).tolist()[:9:4] == [8, 7, 7]
    assert TRIVIAL_AUGMENT_WIDE["Rotate"][0](31, 8, 8)[-1] == pytest.approx(135.0)
    assert TRIVIAL_AUGMENT_WIDE["Posterize"][0](31, 8, 8)[-1] == 2


EXPECTED = {
    "Brightness": lambda x, v: F.brightness(x, 1 + v),
    "Color": lambda x, v: F.color(x, 1 + v),
    "Contrast": lambda x, v: F.contrast(x, 1 + v),
    "Sharpness": lambda x, v: F.sharpness(x, 1 + v),
    "Posterize": lambda x, v: F.posterize(x, int(v)),
    "Solarize": lambda x, v: F.solarize(x, 255 * v),
    "AutoContrast": lambda x, v: F.autocontrast(x),
    "Equalize": lambda x, v: F.equalize(x),
    "Identity": lambda x, v: x,
    "Rotate": lambda x, v: F.affine(x, angle=-v),
    "TranslateX": lambda x, v: F.affine(x, translate=(int(v), 0)),
    "TranslateY": lambda x, v: F.affine(x, translate=(0, int(v))),
    "ShearX": lambda x, v: F.affine(x, shear=(np.degrees(np.arctan(v)), 0), center=(0, 0)),
    "ShearY": lambda x, v: F.affine(x, shear=(0, np.degrees(np.arctan(v))), center=(0, 0)),
}


def test_each_sample_gets_the_operation_it_drew():
    rng = np.random.default_rng(0)
    batch = torch.from_numpy(rng.integers(0, 256, (40, 3, 16, 16), dtype=np.uint8))
    policy = RandAugment(num_ops=1, magnitude=12, seed=4)
    out = policy(batch)
    params = policy.last_params
    names = list(RAND_AUGMENT)
    seen = set()
    for i in range(len(batch)):
        name, sign = names[int(params["ops"][i, 0])], int(params["signs"][i, 0])
        seen.add(name)
        make, signed = RAND_AUGMENT[name]
        value = 0.0 if make is None else float(make(31, 16, 16)[12]) * (sign if signed else 1)
        expected = EXPECTED[name]
        assert torch.equal(out[i], expected(batch[i], value)), name
    assert len(seen) >= 10


def test_trivial_augment_draws_its_bins_per_sample_and_replays():
    batch = torch.randint(0, 256, (32, 1, 12, 12), dtype=torch.uint8,
                          generator=torch.Generator().manual_seed(0))
    policy = TrivialAugmentWide(seed=2)
    out = policy(batch)
    assert len(policy.last_params["bins"].unique()) > 5
    assert torch.equal(policy(batch, params=policy.last_params), out)


def test_targets_are_refused_as_torchvision_does():
    with pytest.raises(AugkitError, match="images only"):
        RandAugment(seed=0)(image=torch.zeros(3, 8, 8, dtype=torch.uint8),
                            mask=torch.zeros(8, 8, dtype=torch.uint8))


@pytest.mark.parametrize("call, words", [
    (lambda: RandAugment(num_ops=-1), ["num_ops", "-1"]),
    (lambda: RandAugment(magnitude=31), ["magnitude", "31", "[0, 31)"]),
    (lambda: TrivialAugmentWide(num_magnitude_bins=1), ["num_magnitude_bins", "1"]),
    (lambda: RandAugment(interpolation="lanczos"), ["interpolation", "'lanczos'"]),
])
def test_bad_policy_arguments_are_one_line(call, words):
    with pytest.raises(AugkitError) as info:
        call()
    assert all(word in str(info.value) for word in words), str(info.value)
