"""The augmentation study: a miniature study end to end, no leak outside the labeled subset,
resume, and its bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import augkit.gan.trainer as trainer_module
import augkit.study as study_module
from augkit.cli import main
from augkit.data import write_npz
from augkit.study import Study, StudyConfig, labeled_subset, mix

PER_CLASS = 3


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A tiny labeled dataset with a distinct image for every index, and a test set."""
    folder = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 8)
    images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(len(labels))  # every image unique
    write_npz(folder / "train.npz", images, labels)
    test_labels = np.repeat(np.arange(10), 3)
    write_npz(folder / "test.npz", rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
              test_labels)
    return folder, images, labels


def tiny_config(folder, **overrides) -> StudyConfig:
    values = dict(data=str(folder / "train.npz"), test=str(folder / "test.npz"),
                  labels_per_class=(PER_CLASS,), seeds=1, classifier_steps=4,
                  classifier_batch=16, gan_steps=3, gan_batch=16, gan_width=8,
                  synthetic_per_real=2)
    values.update(overrides)
    return StudyConfig(**values)


def test_subsets_are_balanced_seeded_and_differ_by_seed():
    labels = torch.arange(10).repeat_interleave(20)
    a = labeled_subset(labels, 5, seed=0)
    assert torch.equal(a, labeled_subset(labels, 5, seed=0))
    assert not torch.equal(a, labeled_subset(labels, 5, seed=1))
    assert torch.bincount(labels[a]).tolist() == [5] * 10
    with pytest.raises(ValueError, match="class 0 has only 20"):
        labeled_subset(labels, 21, seed=0)


def test_mix_repeats_real_images_to_the_asked_share():
    real = (torch.zeros(10, 1, 4, 4, dtype=torch.uint8), torch.zeros(10, dtype=torch.int64))
    synthetic = (torch.ones(100, 1, 4, 4, dtype=torch.uint8), torch.ones(100, dtype=torch.int64))
    images, labels = mix(real, synthetic, real_share=0.5)
    assert len(images) == 200 and int((labels == 0).sum()) == 100
    images, _ = mix(real, (real[0][:0], real[1][:0]), real_share=0.5)
    assert len(images) == 10


def test_no_image_outside_the_subset_reaches_the_gan_or_the_classifier(dataset, tmp_path,
                                                                      monkeypatch):
    folder, all_images, all_labels = dataset
    gan_inputs, classifier_inputs = [], []
    load = trainer_module.load_training_data
    train = study_module.train_classifier

    def recording_load(spec, image_size=None):
        gan_inputs.append(spec)
        return load(spec, image_size)

    def recording_train(model, images, labels, *args, **kwargs):
        classifier_inputs.append((images.clone(), labels.clone()))
        return train(model, images, labels, *args, **kwargs)

    monkeypatch.setattr(trainer_module, "load_training_data", recording_load)
    monkeypatch.setattr(study_module, "train_classifier", recording_train)
    # a threshold every sample passes: the filtering classifier is still trained, and checked
    study = Study(tiny_config(folder, min_confidence=1e-6), tmp_path / "study", progress=False)
    study.run()

    subset = labeled_subset(torch.from_numpy(all_labels), PER_CLASS, seed=0).numpy()
    allowed = {all_images[i].tobytes(): int(all_labels[i]) for i in subset}
    outside = {all_images[i].tobytes() for i in range(len(all_images)) if i not in set(subset)}
    assert len(allowed) == 10 * PER_CLASS

    # the GAN read one file, and that file holds exactly the subset
    assert len(gan_inputs) == 1
    images, labels, _ = load(gan_inputs[0])
    seen = {img[0].numpy().tobytes(): int(lab) for img, lab in zip(images, labels, strict=True)}
    assert seen == allowed

    # every classifier saw the subset and, in the GAN arms, the GAN's samples: nothing else
    synthetic = np.load(study.gan_dir(PER_CLASS, 0) / "synthetic.npz")["images"]
    synthetic_set = {img.tobytes() for img in synthetic}
    assert len(classifier_inputs) == 5  # four arms and the filtering classifier
    for images, labels in classifier_inputs:
        real_seen = set()
        for img, label in zip(images, labels, strict=True):
            key = img[0].numpy().tobytes()
            assert key not in outside
            if key in allowed:
                assert allowed[key] == int(label)
                real_seen.add(key)
            else:
                assert key in synthetic_set
        assert real_seen == set(allowed)


def test_miniature_study_end_to_end_and_resume(dataset, tmp_path, monkeypatch, capsys):
    folder, _, _ = dataset
    out = tmp_path / "study"
    args = ["study", "--data", str(folder / "train.npz"), "--test", str(folder / "test.npz"),
            "--labels-per-class", f"{PER_CLASS},4", "--seeds", "2", "--arms", "none,classical",
            "--classifier-steps", "4", "--out", str(out), "--quiet"]
    assert main(args) == 0
    results = json.loads((out / "results.json").read_text())
    assert len(results["cells"]) == 2 * 2 * 2
    assert {(r["labels_per_class"], r["arm"]) for r in results["summary"]} == {
        (k, arm) for k in (PER_CLASS, 4) for arm in ("none", "classical")}
    for row in results["summary"]:
        assert 0.0 <= row["mean"] <= 1.0 and row["seeds"] == 2 and row["std"] >= 0
    table = (out / "results.md").read_text()
    assert "| labels per class | none | classical |" in table
    assert (out / "study.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # a rerun trains nothing: every cell is done
    def fail(*args, **kwargs):
        raise AssertionError("a finished cell was trained again")

    monkeypatch.setattr(Study, "train_and_test", fail)
    assert main(args) == 0
    # a stopped study continues with the missing cells only
    (out / "cells" / "k4-s1-classical.json").unlink()
    trained = []
    monkeypatch.setattr(Study, "train_and_test",
                        lambda self, images, labels, seed, augment: trained.append(seed)
                        or (0.5, None))
    assert main(args) == 0
    assert trained == [1]
    capsys.readouterr()

    # more seeds continue the study: only the new seed's cells train
    trained.clear()
    assert main([*args[:-3], "--seeds", "3", "--out", str(out), "--quiet"]) == 0
    assert trained == [2, 2, 2, 2]
    assert json.loads((out / "study.json").read_text())["seeds"] == 3
    capsys.readouterr()

    # other settings in the same folder (fewer seeds too): a clear error, nothing overwritten
    before = (out / "results.json").read_bytes()
    for change in (["--classifier-steps", "5"], ["--seeds", "2"]):
        assert main([*args[:-3], "--seeds", "3", *change, "--out", str(out), "--quiet"]) == 2
        assert "holds a study with other settings" in capsys.readouterr().err
    assert (out / "results.json").read_bytes() == before


@pytest.mark.parametrize("argv, message", [
    (["--arms", "none,magic"], "arms: magic not allowed"),
    (["--labels-per-class", "ten"], "--labels-per-class: 'ten' is not a comma-separated"),
    (["--labels-per-class", "0"], "--labels-per-class: (0,) is not allowed"),
    (["--real-share", "0"], "--real-share: 0.0 is not allowed"),
])
def test_bad_study_arguments_give_one_line(argv, message, tmp_path, capsys):
    try:
        code = main(["study", "--out", str(tmp_path / "s"), *argv])
    except SystemExit as exit:  # argparse's own refusals
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_a_dataset_other_than_mnist_needs_a_test_set(dataset, tmp_path, capsys):
    folder, _, _ = dataset
    assert main(["study", "--data", str(folder / "train.npz"), "--out",
                 str(tmp_path / "s")]) == 2
    assert "needs a test set (--test PATH)" in capsys.readouterr().err


def test_a_folder_that_is_not_a_study_is_refused(dataset, tmp_path, capsys):
    folder, _, _ = dataset
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "mine.txt").write_text("keep me")
    config = tiny_config(folder, arms=("none",))
    with pytest.raises(ValueError, match="exists and is not a study folder"):
        Study(config, tmp_path / "s", progress=False)
    assert (tmp_path / "s" / "mine.txt").read_text() == "keep me"


def test_filtering_keeps_the_samples_the_subset_classifier_is_sure_of(dataset, tmp_path,
                                                                     monkeypatch):
    folder, _, _ = dataset
    study = Study(tiny_config(folder, min_confidence=0.6), tmp_path / "s", progress=False)
    trained_on = []

    class Stub(torch.nn.Module):
        """Class 0 with probability pixel / 255 (two classes), whatever the label."""

        def forward(self, images):
            p = images[:, 0, 0, 0].double() / 255
            return torch.stack([p.log(), (1 - p).clamp(min=1e-9).log()], dim=1)

    def fake_train(self, images, labels, seed, augment):
        trained_on.append((len(images), augment))
        return 0.0, Stub()

    monkeypatch.setattr(Study, "train_and_test", fake_train)
    real = study.subset(PER_CLASS, 0)
    images = torch.zeros(4, 1, 28, 28, dtype=torch.uint8)
    images[:, 0, 0, 0] = torch.tensor([255, 100, 200, 10], dtype=torch.uint8)
    labels = torch.tensor([0, 0, 1, 1])
    kept, kept_labels = study.filter_synthetic(PER_CLASS, 0, real, images, labels)
    # confidences in the given label: 1.0, 0.39, 0.22, 0.96
    assert kept_labels.tolist() == [0, 1] and kept[:, 0, 0, 0].tolist() == [255, 10]
    assert trained_on == [(10 * PER_CLASS, True)]  # the subset alone, with the pipeline
    with pytest.raises(ValueError, match="none of the 2 samples .* reach 0.6"):
        study.filter_synthetic(PER_CLASS, 0, real, images[1:3], labels[1:3])


def test_more_labels_than_a_class_has_is_refused_before_anything_is_written(dataset, tmp_path):
    folder, _, _ = dataset
    with pytest.raises(ValueError, match="9 asked, but the smallest class .* has 8 images"):
        Study(tiny_config(folder, labels_per_class=(2, 9)), tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("overrides, message", [
    ({"seeds": 0}, "seeds: 0 is not allowed"),
    ({"gan_steps": 0}, "gan_steps: 0 is not allowed"),
    ({"synthetic_per_real": -1}, "synthetic_per_real: -1 is not allowed"),
    ({"min_confidence": 1.0}, "min_confidence: 1.0 is not allowed"),
])
def test_bad_study_settings_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        StudyConfig(**overrides)


def test_unlabeled_or_mismatched_data_is_refused(tmp_path):
    rng = np.random.default_rng(1)
    write_npz(tmp_path / "unlabeled.npz", rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
              None)
    write_npz(tmp_path / "small.npz", rng.integers(0, 256, (20, 14, 14), dtype=np.uint8),
              np.arange(20) % 10)
    with pytest.raises(ValueError, match="unlabeled.npz: the study needs labels"):
        Study(StudyConfig(data=str(tmp_path / "unlabeled.npz"), test="mnist:test"),
              tmp_path / "s", progress=False)
    with pytest.raises(ValueError, match=r"mnist:test: test images are \(1, 28, 28\), training "
                                         r"images \(1, 14, 14\)"):
        Study(StudyConfig(data=str(tmp_path / "small.npz"), test="mnist:test"),
              tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()
