"""`augkit evaluate` on MNIST: the metrics can fail, real data sits at the floor, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from augkit.cli import main
from augkit.data import write_npz
from augkit.eval import TrainSchedule, evaluate, load_reference
from augkit.eval import reference as reference_module
from augkit.eval.features import WEIGHTS_DIR, accuracy, load_net

N = 1000
QUICK_CAS = TrainSchedule(steps=30, batch_size=64, seed=0, augment=False)


def _real(mnist, n=N, offset=0):
    return mnist.train_images[offset:offset + n], mnist.train_labels[offset:offset + n]


def _run(samples, mnist, **kwargs):
    kwargs.setdefault("kid_subsets", 10)
    kwargs.setdefault("kid_subset_size", 500)
    kwargs.setdefault("progress", False)
    return evaluate(samples, mnist, **kwargs)


def test_the_shipped_feature_net_reaches_99_3_percent(mnist):
    model, meta = load_net(WEIGHTS_DIR / "mnist_feature_net.safetensors")
    assert meta["test_accuracy"] >= 0.993
    # the first 2,000 test digits (the whole split is in the benchmark): at most 1% wrong
    assert accuracy(model, mnist.test_images[:2000], mnist.test_labels[:2000]) >= 0.99


def test_real_training_images_sit_at_the_floor(mnist):
    result = _run(_real(mnist, offset=30000), mnist)
    mine, floor = result["samples_figures"], result["real_floor"]
    assert mine["precision"] >= 0.8 and mine["recall"] >= 0.8
    assert floor["precision"] >= 0.8 and floor["recall"] >= 0.8
    assert mine["fid"] < 2 * floor["fid"] + 1.0
    assert mine["class_coverage"] == 10 and mine["label_accuracy"] > 0.98


def test_noise_and_a_repeated_image_fail(mnist):
    noise = torch.randint(0, 256, (N, 1, 28, 28), generator=torch.Generator().manual_seed(0),
                          dtype=torch.uint8)
    floor = _run(_real(mnist), mnist)["samples_figures"]
    noisy = _run((noise, None), mnist)["samples_figures"]
    assert noisy["fid"] > 20 * max(floor["fid"], 1.0)
    images, labels = _real(mnist)
    repeated = _run((images[:1].repeat(N, 1, 1, 1), labels[:1].repeat(N)), mnist)
    figures = repeated["samples_figures"]
    assert figures["fid"] > 20 * max(floor["fid"], 1.0)
    assert figures["recall"] < 0.02 and figures["class_coverage"] == 1


def test_ten_digits_repeated_look_perfect_to_labels_but_not_to_recall_or_cas(mnist):
    images, labels = _real(mnist)
    firsts = [int((labels == digit).nonzero()[0]) for digit in range(10)]
    index = torch.tensor(firsts).repeat_interleave(N // 10)
    collapsed = (images[index], labels[index])
    result = _run(collapsed, mnist, cas=True, cas_schedule=QUICK_CAS)
    mine, floor = result["samples_figures"], result["real_floor"]
    assert mine["label_accuracy"] == 1.0
    assert mine["recall"] < 0.05 <= floor["recall"]
    assert mine["cas"] < floor["cas"] - 0.2


def test_fid_rises_with_added_noise(mnist):
    images, labels = _real(mnist)
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(images.shape, generator=generator)
    fids = []
    for sigma in (0.0, 0.05, 0.1, 0.2):
        noisy = (images.float() + 255 * sigma * noise).round().clamp(0, 255).to(torch.uint8)
        fids.append(_run((noisy, labels), mnist, floor=False)["samples_figures"]["fid"])
    assert fids == sorted(fids) and fids[0] < fids[-1]


@pytest.mark.parametrize("make, words", [
    (lambda m: (torch.zeros(300, 1, 32, 32, dtype=torch.uint8), None), ["32x32", "28x28"]),
    (lambda m: (torch.zeros(300, 3, 28, 28, dtype=torch.uint8), None),
     ["3 channel(s)", "1 channel(s)"]),
    (lambda m: _real(m, 1), ["1 sample(s)", "at least 2"]),
    (lambda m: (m.train_images[:300], torch.full((300,), 12)), ["label 12", "0..9"]),
])
def test_bad_samples_get_one_line_errors(mnist, make, words):
    with pytest.raises(ValueError) as info:
        _run(make(mnist), mnist)
    assert all(word in str(info.value) for word in words), str(info.value)
    assert "\n" not in str(info.value)


def test_cli_prints_the_table_and_writes_json(mnist, tmp_path, capsys):
    images, labels = _real(mnist, 300)
    path = tmp_path / "samples.npz"
    write_npz(path, images[:, 0].numpy(), labels.numpy())
    reference = tmp_path / "reference.npz"
    write_npz(reference, mnist.test_images[:1000, 0].numpy(), mnist.test_labels[:1000].numpy())
    out = tmp_path / "figures.json"
    assert main(["evaluate", str(path), "--reference", str(reference), "--features", "mnist",
                 "--json", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "FID" in printed and "real floor" in printed and "recall" in printed
    figures = json.loads(out.read_text())
    assert figures["samples_figures"]["n"] == 300 and "real_floor" in figures

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["evaluate", str(empty), "--quiet"]) == 2
    assert "no images found" in capsys.readouterr().err


def _shapes_dataset(root, per_class=60):
    """Three classes of 16x16 gray pictures: a bar, a cross and a box, with noise."""
    rng = np.random.default_rng(0)
    images, labels = [], []
    for label in range(3):
        for _ in range(per_class):
            img = np.zeros((16, 16), np.float32)
            if label == 0:
                img[6:10, 2:14] = 1
            elif label == 1:
                img[7:9, :] = 1
                img[:, 7:9] = 1
            else:
                img[3:13, 3:13] = 1
                img[5:11, 5:11] = 0
            img = np.roll(img, rng.integers(-2, 3, 2), axis=(0, 1))
            img = np.clip(img * 220 + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)
            images.append(img)
            labels.append(label)
    path = root / "shapes.npz"
    write_npz(path, np.stack(images), np.array(labels))
    return path


def test_a_new_reference_trains_its_feature_net_once_and_caches_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AUGKIT_CACHE", str(tmp_path / "cache"))
    dataset = _shapes_dataset(tmp_path)
    calls = []
    real_train = reference_module.train_feature_net

    def counting(*args, **kwargs):
        calls.append(1)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(reference_module, "train_feature_net", counting)
    schedule = TrainSchedule(steps=60, batch_size=32)
    for _ in range(2):
        reference = load_reference(dataset)
        assert reference.num_classes == 3 and reference.image_shape == (1, 16, 16)
        net = reference.feature_net(schedule=schedule, progress=False)
        assert accuracy(net, reference.test_images, reference.test_labels) > 0.9
    assert len(calls) == 1
    cached = list((tmp_path / "cache" / "feature_nets").glob("*.safetensors"))
    assert len(cached) == 1 and reference.key in cached[0].name
