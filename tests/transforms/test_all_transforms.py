"""Every transform over every input kind and a batch: kinds kept, replay exact, serializable."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from augkit.transforms import (
    AugMix,
    AutoAugment,
    Compose,
    ElasticTransform,
    GaussianBlur,
    GaussianNoise,
    RandAugment,
    RandomAffine,
    RandomApply,
    RandomAutocontrast,
    RandomBrightness,
    RandomChoice,
    RandomColor,
    RandomContrast,
    RandomCrop,
    RandomEnhance,
    RandomEqualize,
    RandomErasing,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomInvert,
    RandomOrder,
    RandomPerspective,
    RandomPhotometricDistort,
    RandomPosterize,
    RandomResizedCrop,
    RandomSharpness,
    RandomSolarize,
    RandomVerticalFlip,
    RandomZoomOut,
    TrivialAugmentWide,
    from_dict,
    load,
    save,
)
from augkit.transforms.calls import joinable
from tests.helpers import KINDS, MODES, as_kind, random_hwc, to_hwc

FACTORIES = {
    "RandomColor": lambda: RandomColor(),
    "RandomBrightness": lambda: RandomBrightness(),
    "RandomContrast": lambda: RandomContrast(),
    "RandomSharpness": lambda: RandomSharpness(),
    "RandomEnhance": lambda: RandomEnhance(random_order=True),
    "RandomAffine": lambda: RandomAffine(15, (0.1, 0.2), (0.8, 1.2), (-5, 5, -3, 3),
                                         "bilinear", fill=3),
    "RandomResizedCrop": lambda: RandomResizedCrop((9, 11)),
    "RandomPerspective": lambda: RandomPerspective(0.6, p=0.7, interpolation="bicubic",
                                                   fill=9),
    "RandomPhotometricDistort": lambda: RandomPhotometricDistort(p=0.6),
    "RandomHorizontalFlip": lambda: RandomHorizontalFlip(),
    "RandomVerticalFlip": lambda: RandomVerticalFlip(),
    "RandomErasing": lambda: RandomErasing(p=0.7, value=200),
    "RandomZoomOut": lambda: RandomZoomOut(fill=5, side_range=(1.0, 2.0), p=1.0),
    "ElasticTransform": lambda: ElasticTransform(alpha=20.0, sigma=1.5, fill=6),
    "RandomInvert": lambda: RandomInvert(),
    "RandomPosterize": lambda: RandomPosterize(3),
    "RandomSolarize": lambda: RandomSolarize(100),
    "RandomAutocontrast": lambda: RandomAutocontrast(cutoff=2),
    "RandomEqualize": lambda: RandomEqualize(),
    "RandomGrayscale": lambda: RandomGrayscale(p=0.5),
    "RandAugment": lambda: RandAugment(),
    "RandomCrop": lambda: RandomCrop(10, padding=2, padding_mode="symmetric"),
    "TrivialAugmentWide": lambda: TrivialAugmentWide(),
    "AutoAugment": lambda: AutoAugment("svhn", fill=4),
    "AugMix": lambda: AugMix(severity=5, mixture_width=2),
    "GaussianNoise": lambda: GaussianNoise((0.01, 0.2)),
    "GaussianBlur": lambda: GaussianBlur(sigma=(0.2, 2.0), p=0.8),
    "RandomApply": lambda: RandomApply([RandomColor(), RandomAffine(10)], p=0.6),
    "RandomChoice": lambda: RandomChoice([RandomHorizontalFlip(p=1), GaussianBlur()],
                                         weights=[1, 3]),
    "RandomOrder": lambda: RandomOrder([RandomContrast(), RandomErasing(p=1)]),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_every_kind_and_mode_comes_back_as_itself_and_replays(name):
    rng = np.random.default_rng(0)
    for mode in MODES:
        hwc = random_hwc(rng, 14, 16, mode)
        for kind in KINDS:
            t = FACTORIES[name]().reseed(7)
            img = as_kind(hwc, mode, kind)
            out = t(img)
            assert type(out) is type(img)
            if kind == "pil":
                assert out.mode == mode
            again = FACTORIES[name]()(as_kind(hwc, mode, "tensor"), params=t.last_params)
            assert np.array_equal(to_hwc(out), to_hwc(again)), (mode, kind)


@pytest.mark.parametrize("name", FACTORIES)
def test_batches_get_per_sample_draws_equal_to_single_replays(name):
    rng = np.random.default_rng(1)
    batch = torch.from_numpy(rng.integers(0, 256, (12, 3, 14, 16), dtype=np.uint8))
    before = batch.clone()
    t = FACTORIES[name]().reseed(3)
    out = t(batch)
    assert out.shape[0] == 12
    assert torch.equal(batch, before)  # samples are written into the call's own copy only
    params = t.last_params
    from augkit.transforms.base import select

    single = FACTORIES[name]()
    differing = 0
    for i in range(12):
        one = select(params, torch.tensor([i]))
        expected = single(batch[i:i + 1], params=one)
        assert torch.equal(out[i:i + 1], expected), i
        differing += int(not torch.equal(out[i], out[0]))
    assert differing > 0  # the samples did not all get the same draw
    assert torch.equal(t(batch, params=params), out)


@pytest.mark.parametrize("name", [name for name, make in FACTORIES.items() if joinable(make())])
def test_joined_draws_act_as_each_draw_alone(name):
    """``concat_params``, which lets ``augkit augment`` run several blocks' draws as one
    batch: the joined draw on the joined batch gives each block's own output."""
    from augkit.transforms.calls import concat_params

    rng = np.random.default_rng(4)
    parts = [torch.from_numpy(rng.integers(0, 256, (n, 3, 14, 16), dtype=np.uint8))
             for n in (5, 1, 7)]
    t = FACTORIES[name]()
    generator = torch.Generator().manual_seed(11)
    draws = [t.draw(len(part), generator) for part in parts]
    joined = t(torch.cat(parts), params=concat_params(draws))
    alone = torch.cat([t(part, params=draw) for part, draw in zip(parts, draws, strict=True)])
    assert torch.equal(joined, alone)


def test_draws_that_differ_per_call_are_not_joined():
    from augkit.transforms import CutMix, MixUp, RandomResize
    from augkit.transforms.calls import NotPerSample, concat_params

    assert not any(joinable(t) for t in (RandomResize(8, 30), MixUp(), CutMix(),
                                         Compose([RandomColor(), MixUp()])))
    assert joinable(Compose([RandomColor(), RandomChoice([RandomAffine(5), RandomInvert()])]))
    draws = [{"factor": torch.ones(2), "size": 3}, {"factor": torch.ones(4), "size": 4}]
    with pytest.raises(NotPerSample, match="drawn per call differs: 3"):
        concat_params(draws)
    assert concat_params(draws[:1] * 2)["factor"].shape == (4,)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_float_batches_are_supported_and_stay_in_range(dtype):
    batch = torch.rand(6, 3, 12, 12, dtype=dtype)
    factories = {**FACTORIES, "RandomAffine": lambda: RandomAffine(15, fill=0.5),
                 "RandomPerspective": lambda: RandomPerspective(interpolation="bicubic",
                                                                fill=0.5),
                 "RandomErasing": lambda: RandomErasing(p=0.7, value=[0.1, 0.2, 0.3]),
                 "RandomZoomOut": lambda: RandomZoomOut(fill=0.5, p=1.0),
                 "ElasticTransform": lambda: ElasticTransform(sigma=1.0)}
    for name, make in factories.items():
        if name in ("RandomPosterize", "RandomEqualize", "RandomSolarize", "RandAugment",
                    "TrivialAugmentWide", "AutoAugment", "AugMix"):
            continue  # uint8 only, as in torchvision (solarize: its threshold is in 0-255)
        out = make().reseed(0)(batch)
        assert out.dtype == dtype and out.min() >= 0 and out.max() <= 1, name


def test_mixed_pipeline_round_trips_through_yaml_and_json(tmp_path):
    pipeline = Compose([make() for make in FACTORIES.values()
                        if make().keeps_size], seed=5)
    batch = torch.from_numpy(np.random.default_rng(2).integers(0, 256, (5, 3, 16, 16),
                                                               dtype=np.uint8))
    expected = pipeline(batch)
    for name in ("p.yaml", "p.json"):
        save(pipeline, tmp_path / name)
        restored = load(tmp_path / name)
        assert restored.to_dict() == pipeline.to_dict()
        assert torch.equal(restored(batch), expected)
    assert torch.equal(pickle.loads(pickle.dumps(pipeline.reseed(5)))(batch), expected)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_repr_is_a_constructor_call_that_rebuilds_the_transform(name):
    import augkit.transforms as transforms

    made = FACTORIES[name]()
    rebuilt = eval(repr(made), vars(transforms))
    assert rebuilt.to_dict() == made.to_dict()


def test_repr_of_a_pipeline_with_a_plain_function_names_it():
    from augkit.transforms import Lambda

    assert repr(Compose([Lambda(abs)], seed=2)) == "Compose(transforms=[Lambda(abs)], seed=2)"


def test_log_pipeline_for_digits():
    """The study log's four ops followed by a small affine jitter, as a user writes it."""
    spec = {"type": "Compose", "seed": 0, "transforms": [
        {"type": "RandomEnhance"},
        {"type": "RandomAffine", "degrees": 10, "translate": [0.1, 0.1], "scale": [0.9, 1.1]},
    ]}
    digits = torch.zeros(4, 1, 28, 28, dtype=torch.uint8)
    digits[:, :, 8:20, 12:16] = 255
    out = from_dict(spec)(digits)
    assert out.shape == digits.shape and not torch.equal(out, digits)


@pytest.mark.parametrize("make, words", [
    (lambda: RandomAffine(degrees=-5), ["degrees", "-5"]),
    (lambda: RandomAffine(translate=(0.5, 2)), ["translate", "[0, 1]"]),
    (lambda: RandomAffine(scale=(1.2, 0.8)), ["scale", "greater than max"]),
    (lambda: RandomAffine(interpolation="lanczos"), ["interpolation", "'lanczos'"]),
    (lambda: RandomAffine(fill=-1), ["fill", "-1"]),
    (lambda: RandomResizedCrop(0), ["size", "0"]),
    (lambda: RandomResizedCrop(8, scale=(0, 1)), ["scale"]),
    (lambda: RandomErasing(ratio=(2, 1)), ["ratio", "greater than max"]),
    (lambda: GaussianNoise(std=2), ["std", "2"]),
    (lambda: GaussianBlur(sigma=(-1, 1)), ["sigma"]),
    (lambda: RandomChoice([RandomColor()], weights=[1, 2]), ["weights"]),
    (lambda: RandomChoice([]), ["at least one"]),
    (lambda: RandomOrder([RandomColor(), 3]), ["transforms[1]", "int"]),
])
def test_bad_arguments_are_named(make, words):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert all(word in str(info.value) for word in words), str(info.value)


def test_size_changing_choice_on_a_batch_is_refused():
    choice = RandomChoice([RandomResizedCrop(8), RandomColor()], seed=1)
    with pytest.raises(ValueError, match="must keep the image size"):
        choice(torch.zeros(16, 3, 12, 12, dtype=torch.uint8))
