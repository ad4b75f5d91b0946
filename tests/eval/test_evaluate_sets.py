"""`augkit evaluate` for any two sets: unlabeled references, small sets, other features, the
shipped floors, and the caller's random state."""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pytest
import torch

from augkit.data import write_npz
from augkit.errors import AugkitError
from augkit.eval import (
    TrainSchedule,
    compute_floor,
    evaluate,
    evaluation_rows,
    floor_key,
    format_table,
    shipped_floors,
)
from augkit.eval import reference as reference_module

QUICK = {"kid_subsets": 10, "kid_subset_size": 200, "progress": False}
TINY_CAS = TrainSchedule(steps=5, batch_size=32, seed=0, augment=False)


def _noise(n, shape=(28, 28), seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def test_an_unlabeled_reference_gives_the_figures_without_the_label_metrics(mnist, tmp_path):
    reference = tmp_path / "digits.npz"
    write_npz(reference, mnist.test_images[:300, 0].numpy(), None)
    digits, noise = tmp_path / "samples.npz", tmp_path / "noise.npz"
    write_npz(digits, mnist.train_images[:300, 0].numpy(), mnist.train_labels[:300].numpy())
    write_npz(noise, _noise(300), None)
    result = evaluate(digits, reference, cas=True, **QUICK)
    mine = result["samples_figures"]
    assert mine["label_accuracy"] is None and mine["class_coverage"] is None
    assert mine["cas"] is None and mine["precision"] > 0.5 and mine["fid"] >= 0
    assert "real_floor" not in result and "MNIST" in result["features"]
    assert any("need a labeled reference" in note for note in result["notes"])
    assert any("no real floor" in note for note in result["notes"])
    assert evaluate(noise, reference, **QUICK)["samples_figures"]["fid"] > 10 * mine["fid"]
    assert ("label accuracy", "-", "-") in evaluation_rows(result)
    assert "note: label accuracy, class coverage and CAS" in format_table(result)


def test_an_unlabeled_reference_of_other_images_takes_a_labeled_sets_features(tmp_path,
                                                                               monkeypatch):
    rng = np.random.default_rng(0)
    labels = np.arange(300) % 3
    images = (rng.normal(60, 20, (300, 16, 16)) + 60 * labels[:, None, None]).clip(0, 255)
    labeled, unlabeled = tmp_path / "labeled.npz", tmp_path / "unlabeled.npz"
    write_npz(labeled, images.astype(np.uint8), labels)
    write_npz(unlabeled, images.astype(np.uint8)[::-1], None)
    with pytest.raises(AugkitError, match="features=") as info:
        evaluate(unlabeled, unlabeled, **QUICK)
    assert "\n" not in str(info.value)
    monkeypatch.setattr(reference_module, "TrainSchedule",
                        lambda: TrainSchedule(steps=20, batch_size=32))
    result = evaluate(labeled, unlabeled, features=labeled, **QUICK)
    assert result["samples_figures"]["fid"] >= 0 and labeled.name in result["features"]
    assert result["samples_figures"]["label_accuracy"] is None


def test_a_hundred_samples_give_a_warning_and_figures(mnist):
    images, labels = mnist.train_images[:100], mnist.train_labels[:100]
    with pytest.warns(UserWarning, match="only 100 samples"):
        result = evaluate((images, labels), mnist, **QUICK)
    assert any(note.startswith("only 100 samples") for note in result["notes"])
    assert result["samples_figures"]["fid"] > 0 and result["real_floor"]["n"] == 100
    assert result["samples_figures"]["label_accuracy"] > 0.9


def test_inception_without_its_package_or_weights_is_a_one_line_error(mnist, monkeypatch,
                                                                        tmp_path):
    samples = (mnist.train_images[:300], None)
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # import fails
    monkeypatch.setitem(sys.modules, "cleanfid", None)
    with pytest.raises(AugkitError) as info:
        evaluate(samples, mnist, features="inception", **QUICK)
    message = str(info.value)
    assert "\n" not in message and "pip install torch-fidelity" in message
    assert message.startswith("features: inception") and "neither package" in message
    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(AugkitError, match="installed but its weights are not at"):
        evaluate(samples, mnist, features="inception", **QUICK)


def test_an_unavailable_device_is_refused_before_any_work(mnist):
    with pytest.raises(AugkitError, match="device"):
        evaluate((mnist.train_images[:300], None), mnist, device="cuda:99", **QUICK)


def test_the_shipped_mnist_floor_is_what_the_code_computes(mnist_full):
    key, fresh = compute_floor(mnist_full, 10000, cas=False, progress=False)
    shipped = shipped_floors()
    assert key == floor_key("mnist", 10000, cas=False) and key in shipped
    assert set(fresh) == set(shipped[key])
    for name, value in fresh.items():
        # FID turns float32 rounding in the features into ~1e-6 relative (one thread vs two)
        expected = pytest.approx(value, rel=1e-5, abs=1e-12) if value is not None else None
        assert shipped[key][name] == expected, name
    with_cas = shipped[floor_key("mnist", 10000, cas=True)]
    assert {**with_cas, "cas": None} == shipped[key] and with_cas["cas"] > 0.95
    assert {floor_key("mnist", 60000, cas) for cas in (False, True)} <= set(shipped)


def test_evaluate_leaves_the_global_random_state_alone(tmp_path):
    reference = tmp_path / "reference.npz"
    write_npz(reference, _noise(120, seed=1), np.arange(120) % 4)
    samples = (torch.from_numpy(_noise(40, seed=2))[:, None], torch.arange(40) % 4)
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = evaluate(samples, reference, cas=True, cas_schedule=TINY_CAS, features="mnist",
                          **QUICK)
    assert torch.equal(torch.get_rng_state(), before)
    assert result["samples_figures"]["cas"] is not None and "real_floor" in result
