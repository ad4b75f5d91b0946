"""Random photometric transforms: draws, per-sample randomness, replay, seeding, serialization."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

import augkit.functional as F
from augkit.errors import AugkitError
from augkit.transforms import (
    Compose,
    RandomBrightness,
    RandomColor,
    RandomContrast,
    RandomEnhance,
    RandomSharpness,
    from_dict,
    load,
    save,
    to_json,
    to_yaml,
)
from augkit.transforms.color import LOG_RANGES
from tests.helpers import KINDS, as_kind, random_hwc, to_hwc

SINGLE = {"color": RandomColor, "brightness": RandomBrightness, "contrast": RandomContrast,
          "sharpness": RandomSharpness}


def _batch(n=16, channels=3, size=12, seed=0):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8))


@pytest.mark.parametrize("op", SINGLE)
def test_log_ranges_draw_multiples_of_a_tenth(op):
    t = SINGLE[op](factor=LOG_RANGES[op], step=0.1, seed=0)
    factors = t.draw(4000)["factor"]
    low, high = LOG_RANGES[op]
    assert factors.min().item() == low and factors.max().item() == high
    tenths = factors * 10
    assert torch.equal(tenths, tenths.round())
    assert len(factors.unique()) == round((high - low) * 10) + 1


@pytest.mark.parametrize("op", SINGLE)
def test_each_sample_gets_its_own_factor_and_the_kernel_result(op):
    t = SINGLE[op](seed=1)
    batch = _batch()
    out = t(batch)
    factors = t.last_params["factor"]
    assert len(factors.unique()) > 1
    for i in range(len(batch)):
        assert torch.equal(out[i], F.ENHANCE_OPS[op](batch[i], factors[i].item()))


@pytest.mark.parametrize("kind", KINDS)
def test_every_input_kind_comes_back_as_itself(kind):
    hwc = random_hwc(np.random.default_rng(2), 9, 9, "RGB")
    t = RandomEnhance(seed=3)
    img = as_kind(hwc, "RGB", kind)
    out = t(img)
    assert type(out) is type(img)
    replay = RandomEnhance()(as_kind(hwc, "RGB", "tensor"), params=t.last_params)
    assert np.array_equal(to_hwc(out), to_hwc(replay))


def test_same_seed_same_outputs_and_other_seed_other_outputs():
    batch = _batch()
    a = RandomEnhance(seed=5)(batch)
    b = RandomEnhance(seed=5)(batch)
    c = RandomEnhance(seed=6)(batch)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_numpy_and_torch_integer_seeds_are_python_ints_and_others_are_refused():
    batch = _batch()
    expected = RandomEnhance(seed=5)(batch)
    for seed in (np.int64(5), np.uint8(5), torch.tensor(5)):
        transform = RandomEnhance(seed=seed)
        assert type(transform.random.seed) is int
        assert torch.equal(transform(batch), expected)
    for seed in (-1, 2.0, True, "5", torch.tensor(5.0)):
        with pytest.raises(ValueError, match="seed: .* expected an integer >= 0"):
            RandomEnhance(seed=seed)


def test_unseeded_transforms_follow_torch_manual_seed():
    batch = _batch()
    torch.manual_seed(0)
    a = RandomColor()(batch)
    torch.manual_seed(0)
    b = RandomColor()(batch)
    assert torch.equal(a, b)


def test_replay_reproduces_exactly_and_transfers_to_other_inputs():
    t = RandomEnhance(random_order=True, seed=7)
    batch, other = _batch(seed=1), _batch(seed=2)
    out = t(batch)
    params = t.last_params
    assert torch.equal(t(batch, params=params), out)
    replayed = t(other, params=params)
    for i in range(len(other)):
        expected = other[i]
        for position in params["order"][i].tolist():
            op = t.ops[position]
            expected = F.ENHANCE_OPS[op](expected, params[op][i].item())
        assert torch.equal(replayed[i], expected)


def test_random_order_varies_per_sample():
    t = RandomEnhance(random_order=True, seed=8)
    t(_batch(n=64))
    orders = t.last_params["order"]
    assert len(orders.unique(dim=0)) > 5
    assert torch.equal(orders.sort(dim=1).values, torch.arange(4).expand(64, 4))


def test_probability_applies_to_a_subset_and_leaves_the_rest_untouched():
    batch = _batch(n=64)
    t = RandomBrightness(factor=(0.1, 0.2), p=0.5, seed=9)
    out = t(batch)
    applied = t.last_params["applied"]
    assert 10 < int(applied.sum()) < 54
    assert torch.equal(out[~applied], batch[~applied])
    assert (out[applied].float().mean() < batch[applied].float().mean() * 0.3)
    never = RandomBrightness(p=0.0, seed=9)
    assert torch.equal(never(batch), batch)
    single = torch.zeros((3, 4, 4), dtype=torch.uint8)
    assert never(single) is single


def test_compose_seeds_its_children_and_replays():
    pipeline = Compose([RandomColor(), RandomBrightness(p=0.5), RandomSharpness()], seed=10)
    batch = _batch()
    out = pipeline(batch)
    again = Compose([RandomColor(), RandomBrightness(p=0.5), RandomSharpness()], seed=10)(batch)
    assert torch.equal(out, again)
    assert torch.equal(pipeline(batch, params=pipeline.last_params), out)
    colour_params = pipeline.last_params["transforms"][0]
    assert torch.equal(pipeline[0].last_params["factor"], colour_params["factor"])


def test_dict_yaml_and_json_round_trips(tmp_path):
    pipeline = Compose([
        RandomEnhance(color=(0.5, 1.5), sharpness=None, random_order=True),
        RandomBrightness(factor=(0.8, 1.2), step=None, p=0.3),
    ], seed=11)
    assert "type: RandomEnhance" in to_yaml(pipeline)
    assert json.loads(to_json(pipeline))["transforms"][1]["p"] == 0.3
    for name in ("pipeline.yaml", "pipeline.json"):
        save(pipeline, tmp_path / name)
        restored = load(tmp_path / name)
        assert restored.to_dict() == pipeline.to_dict()
        batch = _batch()
        assert torch.equal(restored(batch), Compose(pipeline.transforms, seed=11)(batch))
    assert from_dict(pipeline.to_dict()).to_dict() == pipeline.to_dict()


def test_hand_written_yaml_pipeline(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("type: Compose\ntransforms:\n  - type: RandomContrast\n    factor: [1, 2]\n"
                    "  - {type: RandomColor, p: 0.5}\nseed: 3\n")
    pipeline = load(path)
    assert [type(t).__name__ for t in pipeline.transforms] == ["RandomContrast", "RandomColor"]
    assert pipeline.transforms[0].factor == (1.0, 2.0)


def test_a_yaml_list_is_the_compose_of_its_items(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("- type: RandomContrast\n  factor: [1, 2]\n- preset: small-jitter\n")
    pipeline = load(path)
    assert type(pipeline) is Compose
    assert [type(t).__name__ for t in pipeline.transforms] == ["RandomContrast", "RandomAffine"]
    for text, words in (("[]\n", r"got \[\]"), ("- 3\n", r"\[0\]: expected a mapping")):
        path.write_text(text)
        with pytest.raises(ValueError, match=words):
            load(path)


def test_pickled_transforms_continue_the_same_stream():
    t = RandomEnhance(seed=12)
    t(_batch())
    clone = pickle.loads(pickle.dumps(t))
    batch = _batch(seed=3)
    assert torch.equal(clone(batch), t(batch))


class _Digits(Dataset):
    def __init__(self, transform):
        self.image = torch.full((1, 8, 8), 128, dtype=torch.uint8)
        self.transform = transform

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return self.transform(self.image)


def _loader_factors(seed: int, workers: int) -> torch.Tensor:
    loader = DataLoader(_Digits(RandomBrightness((0.0, 2.0), seed=seed)), batch_size=1,
                        num_workers=workers, generator=torch.Generator().manual_seed(0))
    return torch.cat([batch.float().mean().view(1) for batch in loader])


def test_dataloader_workers_draw_different_streams_reproducibly():
    first = _loader_factors(seed=1, workers=2)
    second = _loader_factors(seed=1, workers=2)
    assert torch.equal(first, second)
    # worker 0 serves samples 0, 2, 4, ... and worker 1 samples 1, 3, 5, ...
    assert not torch.equal(first[0::2], first[1::2])
    assert len(first.unique()) == len(first)


@pytest.mark.parametrize("make, words", [
    (lambda: RandomBrightness(factor=(2.0, 1.0)), ["factor", "greater than max"]),
    (lambda: RandomBrightness(factor=(-1.0, 1.0)), ["factor", "[0.0,"]),
    (lambda: RandomBrightness(factor="bright"), ["factor", "'bright'"]),
    (lambda: RandomBrightness(factor=(0.0, float("inf"))), ["factor", "finite"]),
    (lambda: RandomColor(p=1.5), ["p", "1.5", "[0, 1]"]),
    (lambda: RandomColor(step=0), ["step", "0"]),
    (lambda: RandomColor(seed=-3), ["seed", "-3"]),
    (lambda: RandomColor(seed=1, generator=torch.Generator()), ["seed and generator"]),
    (lambda: RandomEnhance(color=None, brightness=None, contrast=None, sharpness=None),
     ["every op is None"]),
    (lambda: RandomEnhance(contrast=(3, 1)), ["contrast", "greater than max"]),
    (lambda: Compose([RandomColor(), "RandomBrightness"]), ["transforms[1]", "str"]),
])
def test_bad_arguments_are_named(make, words):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert all(word in str(info.value) for word in words), str(info.value)


def test_bad_pipelines_and_params_are_named(tmp_path):
    with pytest.raises(ValueError, match="unknown transform type 'RandomBlur'"):
        from_dict({"type": "RandomBlur"})
    with pytest.raises(ValueError, match="RandomColor has no argument 'strength'"):
        from_dict({"type": "RandomColor", "strength": 2})
    with pytest.raises(ValueError, match=r"RandomColor.*p: 2"):
        from_dict({"type": "RandomColor", "p": 2})
    broken = tmp_path / "broken.yaml"
    broken.write_text("type: Compose\ntransforms: [unclosed\n")
    with pytest.raises(ValueError, match=r"broken.yaml: not valid YAML \(line 3, column 1: "):
        load(broken)
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"type": "Compose",\n "transforms": [}\n')
    with pytest.raises(ValueError, match=r"broken.json: not valid JSON \(line 2, column 17: "):
        load(broken_json)
    with pytest.raises(ValueError, match="missing.yaml: cannot read pipeline file"):
        load(tmp_path / "missing.yaml")
    t = RandomColor(seed=0)
    t(_batch(n=4))
    with pytest.raises(ValueError, match="holds 4 samples; the input has 2"):
        t(_batch(n=2), params=t.last_params)


def test_pil_and_numpy_single_images():
    img = Image.new("RGB", (6, 6), (10, 120, 200))
    out = RandomEnhance(seed=0)(img)
    assert isinstance(out, Image.Image) and out.mode == "RGB"
    arr = np.full((6, 6), 77, np.uint8)
    out = RandomContrast(factor=(0.0, 0.0), seed=0)(arr)
    assert isinstance(out, np.ndarray) and (out == 77).all()


def test_photometric_distort_equals_torchvisions_pil_path_step_by_step():
    from augkit.transforms.catalogue import measure

    assert measure("RandomPhotometricDistort", 40, seed=5).startswith("exact")


def test_photometric_distort_takes_each_step_with_chance_p_and_both_contrast_places():
    from augkit.transforms import RandomPhotometricDistort

    batch = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (400, 3, 4, 4),
                                                               dtype=np.uint8))
    t = RandomPhotometricDistort(p=0.3, seed=1)
    out = t(batch)
    params = t.last_params
    share = params["steps"].double().mean(0)
    assert ((share > 0.22) & (share < 0.38)).all(), share
    assert 0.4 < params["contrast_before"].double().mean() < 0.6
    untouched = ~params["steps"].any(1)
    assert torch.equal(out[untouched], batch[untouched])
    assert (out[~untouched] != batch[~untouched]).flatten(1).any(1).float().mean() > 0.9
    assert torch.equal(RandomPhotometricDistort(p=0.0, seed=2)(batch), batch)
    with pytest.raises(AugkitError, match=r"^p: 1.5 is not allowed"):
        RandomPhotometricDistort(p=1.5)
    with pytest.raises(AugkitError, match=r"^hue: \(-0.6, 0.1\) is not allowed"):
        RandomPhotometricDistort(hue=(-0.6, 0.1))
