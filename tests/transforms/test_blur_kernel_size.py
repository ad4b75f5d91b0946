"""GaussianBlur(kernel_size, sigma) with torchvision's meaning; kernel_size=None is Pillow's."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
import torch
from PIL import ImageFilter

import augkit.functional as F
from augkit.errors import AugkitError
from augkit.transforms import GaussianBlur, from_dict
from tests.functional.test_noise import _assert_rounds_like, _reference_blur
from tests.helpers import KINDS, as_kind, random_hwc, to_hwc


def _batch(n: int = 6, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.integers(0, 256, (n, 3, 16, 19), dtype=np.uint8))


def test_signature_and_first_docstring_line():
    parameters = inspect.signature(GaussianBlur).parameters
    assert list(parameters) == ["kernel_size", "sigma", "p", "seed", "generator"]
    assert parameters["kernel_size"].default is None
    assert parameters["sigma"].default == (0.1, 2.0)
    assert all(parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
               for name in ("p", "seed", "generator"))
    first = GaussianBlur.__doc__.splitlines()[0]
    assert all(word in first for word in ("kernel_size", "None", "Pillow", "int",
                                          "torchvision"))


def test_no_kernel_size_is_pillows_blur_with_drawn_sigma():
    hwc = random_hwc(np.random.default_rng(1), 14, 15, "RGB")
    t = GaussianBlur(sigma=(0.5, 2.0), seed=3)
    out = t(as_kind(hwc, "RGB", "pil"))
    sigma = float(t.last_params["sigma"][0])
    assert 0.5 <= sigma <= 2.0
    expected = as_kind(hwc, "RGB", "pil").filter(ImageFilter.GaussianBlur(sigma))
    assert np.array_equal(to_hwc(out), to_hwc(expected))


@pytest.mark.parametrize("kernel_size", [5, (7, 3), [3, 9]])
def test_kernel_size_follows_torchvision_per_sample(kernel_size):
    batch = _batch()
    t = GaussianBlur(kernel_size, sigma=(0.3, 2.5), seed=4)
    out = t(batch)
    sigmas = t.last_params["sigma"]
    assert sigmas.shape == (6,) and ((sigmas >= 0.3) & (sigmas <= 2.5)).all()
    assert len(set(sigmas.tolist())) == 6
    kx, ky = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    for i, sigma in enumerate(sigmas.tolist()):
        expected = _reference_blur(batch[i].numpy(), sigma, kx, ky)
        _assert_rounds_like(out[i].numpy(), expected)
    assert torch.equal(out, F.gaussian_blur(batch, sigmas, kernel_size))


def test_a_number_is_a_fixed_sigma():
    t = GaussianBlur(3, sigma=1.25, seed=0)
    t(_batch(n=4))
    assert t.last_params["sigma"].tolist() == [1.25] * 4
    assert t.sigma == (1.25, 1.25)


def test_replay_with_params_on_every_kind():
    hwc = random_hwc(np.random.default_rng(2), 13, 17, "RGBA")
    for kind in KINDS:
        t = GaussianBlur((5, 3), sigma=(0.5, 3.0), seed=9)
        img = as_kind(hwc, "RGBA", kind)
        out = t(img)
        assert type(out) is type(img)
        again = GaussianBlur((5, 3), sigma=(0.5, 3.0))(as_kind(hwc, "RGBA", "tensor"),
                                                       params=t.last_params)
        assert np.array_equal(to_hwc(out), to_hwc(again)), kind
    batch = _batch()
    t = GaussianBlur(7, p=0.5, seed=1)
    out = t(batch)
    assert not t.last_params["applied"].all() and t.last_params["applied"].any()
    assert torch.equal(GaussianBlur(7)(batch, params=t.last_params), out)
    skipped = ~t.last_params["applied"]
    assert torch.equal(out[skipped], batch[skipped])


@pytest.mark.parametrize("kernel_size, stored", [(None, None), (5, 5), ((7, 3), [7, 3]),
                                                 ([3, 9], [3, 9])])
def test_serialisation_round_trips(kernel_size, stored):
    t = GaussianBlur(kernel_size, sigma=(0.2, 1.8), p=0.9, seed=6)
    spec = t.to_dict()
    assert spec["kernel_size"] == stored and spec["sigma"] == [0.2, 1.8]
    restored = from_dict(json.loads(json.dumps(spec)))
    assert restored.to_dict() == spec
    batch = _batch()
    assert torch.equal(restored(batch), t(batch))


def test_float_batches_stay_float_and_close_to_uint8():
    batch = _batch()
    t = GaussianBlur(5, sigma=(0.5, 2.0), seed=2)
    out = t(batch.float() / 255)
    assert out.dtype == torch.float32
    as_uint8 = GaussianBlur(5, sigma=(0.5, 2.0))(batch, params=t.last_params)
    assert (out * 255 - as_uint8.float()).abs().max() <= 0.5 + 1e-3


@pytest.mark.parametrize("kernel_size", [4, 0, -3, 3.0, (3, 4), (3,), "5", True,
                                         (0.1, 2.0)])
def test_bad_kernel_sizes_are_named(kernel_size):
    with pytest.raises(AugkitError) as info:
        GaussianBlur(kernel_size)
    message = str(info.value)
    assert message.startswith("kernel_size:") and "\n" not in message


def test_bad_kernel_size_in_a_spec_is_named():
    with pytest.raises(AugkitError, match="kernel_size"):
        from_dict({"type": "GaussianBlur", "kernel_size": 2})
