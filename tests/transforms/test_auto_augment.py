"""AutoAugment, RandAugment, TrivialAugmentWide and AugMix: torchvision's spaces and policies,
each sample's own draw, every operation equal to the kernel it names."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.transforms import AugMix, AutoAugment, RandAugment, TrivialAugmentWide
from augkit.transforms.auto import (
    AUGMIX,
    AUGMIX_PARTIAL,
    AUTO_AUGMENT,
    POLICIES,
    RAND_AUGMENT,
    TRIVIAL_AUGMENT_WIDE,
)


def test_the_spaces_are_torchvisions():
    assert list(RAND_AUGMENT) == ["Identity", "ShearX", "ShearY", "TranslateX", "TranslateY",
                                  "Rotate", "Brightness", "Color", "Contrast", "Sharpness",
                                  "Posterize", "Solarize", "AutoContrast", "Equalize"]
    assert RAND_AUGMENT["Rotate"][0](31, 32, 32)[-1] == pytest.approx(30.0)
    assert RAND_AUGMENT["TranslateX"][0](31, 20, 331)[-1] == pytest.approx(150.0)
    assert RAND_AUGMENT["Posterize"][0](31, 8, 8).tolist()[:9:4] == [8, 7, 7]
    assert TRIVIAL_AUGMENT_WIDE["Rotate"][0](31, 8, 8)[-1] == pytest.approx(135.0)
    assert TRIVIAL_AUGMENT_WIDE["Posterize"][0](31, 8, 8)[-1] == 2
    assert list(AUTO_AUGMENT) == [*list(RAND_AUGMENT)[1:], "Invert"]
    assert [len(POLICIES[name]) for name in ("imagenet", "cifar10", "svhn")] == [25, 25, 25]
    assert list(AUGMIX_PARTIAL) == ["ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate",
                                    "Posterize", "Solarize", "AutoContrast", "Equalize"]
    assert list(AUGMIX) == [*AUGMIX_PARTIAL, "Brightness", "Color", "Contrast",
                            "Sharpness"]
    assert AUGMIX["Posterize"][0](10, 8, 8).tolist() == [4, 4, 3, 3, 2, 2, 1, 1, 0, 0]
    assert AUGMIX["TranslateX"][0](10, 8, 30)[-1] == pytest.approx(10.0)


EXPECTED = {
    "Brightness": lambda x, v: F.brightness(x, 1 + v),
    "Color": lambda x, v: F.color(x, 1 + v),
    "Contrast": lambda x, v: F.contrast(x, 1 + v),
    "Sharpness": lambda x, v: F.sharpness(x, 1 + v),
    "Posterize": lambda x, v: F.posterize(x, int(v)),
    "Solarize": lambda x, v: F.solarize(x, 255 * v),
    "AutoContrast": lambda x, v: F.autocontrast(x),
    "Equalize": lambda x, v: F.equalize(x),
    "Invert": lambda x, v: F.invert(x),
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


def _chain(policy, image, ops, bins, signs):
    """The operations of one sample, one after the other, by the kernels they name."""
    names = list(policy.space)
    height, width = image.shape[-2:]
    for op, index, sign in zip(ops.tolist(), bins.tolist(), signs.tolist(), strict=True):
        if op < 0:
            continue
        make, signed = policy.space[names[op]]
        value = 0.0 if make is None else float(make(10, height, width)[index])
        image = EXPECTED[names[op]](image, value * sign if signed else value)
    return image


@pytest.mark.parametrize("name", ["imagenet", "cifar10", "svhn"])
def test_auto_augment_runs_each_samples_sub_policy_with_its_chances(name):
    batch = torch.randint(0, 256, (48, 3, 12, 14), dtype=torch.uint8,
                          generator=torch.Generator().manual_seed(1))
    policy = AutoAugment(name, seed=5)
    out = policy(batch)
    params = policy.last_params
    names = list(AUTO_AUGMENT)
    for i in range(len(batch)):
        sub = POLICIES[name][int(params["sub_policies"][i])]
        for step, (op, _, bin_) in enumerate(sub):
            assert int(params["ops"][i, step]) in (-1, names.index(op))
            assert int(params["bins"][i, step]) == (bin_ or 0)
        expected = _chain(policy, batch[i], params["ops"][i], params["bins"][i],
                          params["signs"][i])
        assert torch.equal(out[i], expected), (i, sub)
    chances = torch.tensor([[c for _, c, _ in POLICIES[name][int(k)]]
                            for k in params["sub_policies"]])
    ran = params["ops"] >= 0
    assert not ran[chances == 0].any() and ran[chances == 1].all()
    assert len(params["sub_policies"].unique()) > 15


def test_augmix_blends_each_samples_chains_with_its_weights():
    batch = torch.randint(0, 256, (10, 3, 12, 12), dtype=torch.uint8,
                          generator=torch.Generator().manual_seed(2))
    policy = AugMix(mixture_width=2, interpolation="nearest", seed=3)  # as EXPECTED
    out = policy(batch)
    params = policy.last_params
    total = params["original_weights"] + params["chain_weights"].sum(1)
    assert torch.allclose(total, torch.ones(10, dtype=torch.float64))
    depths = (params["ops"] >= 0).sum(2)
    assert depths.min() >= 1 and depths.max() <= 3 and len(depths.unique()) > 1
    assert params["bins"].max() < 3  # below severity
    for i in range(len(batch)):
        mix = params["original_weights"][i].float() * batch[i].float()
        for chain in range(2):
            chained = _chain(policy, batch[i], params["ops"][i, chain],
                             params["bins"][i, chain], params["signs"][i, chain])
            mix += params["chain_weights"][i, chain].float() * chained.float()
        assert torch.equal(out[i], mix.to(torch.uint8)), i
    fixed = AugMix(chain_depth=2, seed=0)
    fixed(batch)
    assert ((fixed.last_params["ops"] >= 0).sum(2) == 2).all()


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
    (lambda: AutoAugment("coco"), ["policy", "'coco'", "imagenet, cifar10, svhn"]),
    (lambda: AugMix(severity=11), ["severity", "11", "1 to 10"]),
    (lambda: AugMix(mixture_width=0), ["mixture_width", "0"]),
    (lambda: AugMix(chain_depth=0), ["chain_depth", "0"]),
    (lambda: AugMix(alpha=0.0), ["alpha", "0.0", "> 0"]),
    (lambda: AugMix(all_ops="yes"), ["all_ops", "'yes'"]),
])
def test_bad_policy_arguments_are_one_line(call, words):
    with pytest.raises(AugkitError) as info:
        call()
    assert all(word in str(info.value) for word in words), str(info.value)
