"""The study with an unlabeled pool: a miniature pool study, no pool label reaching a model,
and the pool's bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import augkit.study as study_module
from augkit.cli import main
from augkit.data import load_dataset, write_npz
from augkit.semi import (
    ConsistencySchedule,
    pipeline_transform,
    train_consistency,
    train_ssl_gan,
)
from augkit.study import Study, StudyConfig, labeled_subset
from augkit.transforms.presets import small_jitter, strong

PER_CLASS = 2


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Labeled images whose pixel (0, 0) is their index and pixel (0, 1) their label."""
    folder = tmp_path_factory.mktemp("pool")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 6)
    images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(len(labels))
    images[:, 0, 1] = labels
    write_npz(folder / "train.npz", images, labels)
    write_npz(folder / "test.npz", images[:20], labels[:20])
    return folder, images, labels


def tiny_pool_config(folder, **overrides) -> StudyConfig:
    values = dict(data=str(folder / "train.npz"), test=str(folder / "test.npz"),
                  labels_per_class=(PER_CLASS,), seeds=1, classifier_batch=8,
                  unlabeled="rest", unlabeled_ratio=2,
                  arms=("none", "consistency", "gan-ssl", "consistency+gan-ssl"),
                  steps=2)
    values.update(overrides)
    return StudyConfig(**values)


def test_miniature_pool_study_runs_end_to_end(dataset, tmp_path, capsys):
    folder, _, _ = dataset
    out = tmp_path / "study"
    argv = ["study", "--data", str(folder / "train.npz"), "--test", str(folder / "test.npz"),
            "--labels-per-class", str(PER_CLASS), "--seeds", "1", "--classifier-batch", "8",
            "--unlabeled", "rest", "--unlabeled-ratio", "2", "--arms",
            "none,consistency,gan-ssl",
            "--steps", "2", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert {c["arm"] for c in results["cells"]} == {"none", "consistency", "gan-ssl"}
    consistency = next(c for c in results["cells"] if c["arm"] == "consistency")
    assert consistency["steps"] == 2 and consistency["images_processed"] == 2 * 8 * 5
    assert "pseudo_labeled_share" in consistency
    assert "steps" in (out / "results.md").read_text()
    assert (out / "gan-ssl" / f"k{PER_CLASS}-s0.png").is_file()  # the generator's grid
    classifier = out / "classifiers" / f"k{PER_CLASS}-s0-consistency.safetensors"
    predictions = tmp_path / "p.csv"
    assert main(["classify", str(classifier), str(folder / "test.npz"), "--out",
                 str(predictions), "--quiet"]) == 0
    lines = predictions.read_text().splitlines()
    assert lines[0] == "index,name,label,confidence" and len(lines) == 21
    assert main(argv) == 0  # a rerun trains nothing more
    assert json.loads((out / "results.json").read_text())["cells"] == results["cells"]


def test_no_label_of_the_pool_reaches_a_model(dataset, tmp_path, monkeypatch):
    folder, _, labels = dataset
    seen = []

    def recording(train):
        def record(model, images_l, labels_l, pool, *rest, **options):
            seen.append((images_l.clone(), labels_l.clone(), pool.clone()))
            return train(model, images_l, labels_l, pool, *rest, **options)
        return record

    monkeypatch.setattr(study_module, "train_consistency", recording(train_consistency))
    monkeypatch.setattr(study_module, "train_ssl_gan", recording(train_ssl_gan))
    study = Study(tiny_pool_config(folder), tmp_path / "s", progress=False)
    study.run()
    assert len(seen) == 3  # every pool arm
    subset = labeled_subset(torch.from_numpy(labels), PER_CLASS, 0)
    for labeled, given_labels, pool in seen:
        # the subset alone comes with labels, and they are its own
        assert torch.equal(labeled[:, 0, 0, 0].long(), subset)
        assert torch.equal(given_labels, torch.from_numpy(labels)[subset])
        pool_index = set(pool[:, 0, 0, 0].tolist())
        assert pool_index == set(range(len(labels))) - set(subset.tolist())  # "rest"
    with np.load(tmp_path / "s" / "pools" / f"k{PER_CLASS}-s0.npz") as saved:
        assert saved.files == ["images"]  # the pool's file holds no labels


def test_a_number_draws_a_seeded_part_of_the_rest(dataset, tmp_path):
    folder, _, _ = dataset
    study = Study(tiny_pool_config(folder, unlabeled="7"), tmp_path / "s", progress=False)
    pool = study.pool(PER_CLASS, 0)
    assert len(pool) == 7
    again = Study(tiny_pool_config(folder, unlabeled="7"), tmp_path / "t", progress=False)
    assert torch.equal(again.pool(PER_CLASS, 0), pool)


def test_a_pool_path_drops_its_labels(dataset, tmp_path):
    folder, images, labels = dataset
    write_npz(tmp_path / "extra.npz", images[:9], labels[:9])
    study = Study(tiny_pool_config(folder, unlabeled=str(tmp_path / "extra.npz")),
                  tmp_path / "s", progress=False)
    assert len(study.pool(PER_CLASS, 0)) == 9
    assert load_dataset(tmp_path / "s" / "pools" / f"k{PER_CLASS}-s0.npz").labels is None


@pytest.mark.parametrize("pool, message", [
    ("small", "the pool's images are 14x14 with 1 channel(s); the labeled images are 28x28"),
    ("rgb", "28x28 with 3 channel(s)"),
    ("empty", "no images (N is 0)"),
    ("999", "unlabeled: 999 asked, but only 40 training images are left"),
])
def test_bad_pools_are_one_line_and_write_nothing(pool, message, dataset, tmp_path, capsys):
    folder, _, _ = dataset
    rng = np.random.default_rng(1)
    arrays = {"small": rng.integers(0, 256, (5, 14, 14), dtype=np.uint8),
              "rgb": rng.integers(0, 256, (5, 28, 28, 3), dtype=np.uint8),
              "empty": np.zeros((0, 28, 28), np.uint8)}
    spec = pool
    if pool in arrays:
        spec = str(tmp_path / f"{pool}.npz")
        np.savez(spec, images=arrays[pool])
    out = tmp_path / "study"
    code = main(["study", "--data", str(folder / "train.npz"), "--test",
                 str(folder / "test.npz"), "--labels-per-class", str(PER_CLASS),
                 "--unlabeled", spec, "--arms", "consistency", "--steps", "1", "--quiet",
                 "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_the_views_default_by_channel_count_and_take_presets_or_files(tmp_path):
    from augkit.transforms import save
    from augkit.transforms.presets import consistency_views

    gray_weak, gray_strong = consistency_views(1)
    assert gray_weak.to_dict() == small_jitter().to_dict()
    assert gray_strong.to_dict() == strong().to_dict()
    weak, strong_view = consistency_views(3)
    batch = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (6, 3, 32, 32),
                                                               dtype=np.uint8))
    generator = torch.Generator().manual_seed(0)
    for view in (weak, strong_view):
        out = pipeline_transform(view)(batch, generator)
        assert out.shape == batch.shape and out.dtype == torch.uint8
        assert len({bytes(image.numpy()) for image in out}) == len(out)  # per sample
    path = tmp_path / "view.json"
    save(small_jitter(), path)
    assert consistency_views(3, strong=str(path))[1].to_dict() == small_jitter().to_dict()
    with pytest.raises(ValueError, match="weak_view: 'flip' is neither a preset"):
        consistency_views(1, weak="flip")


def test_few_labels_per_class_take_the_wider_strong_view_on_grayscale(dataset, tmp_path):
    from augkit.transforms.presets import FEW_LABELS, consistency_views, strong_photo, strong_wide

    assert consistency_views(1, labels_per_class=1)[1].to_dict() == strong_wide().to_dict()
    assert consistency_views(1, labels_per_class=FEW_LABELS)[1].to_dict() == \
        strong_wide().to_dict()
    assert consistency_views(1, labels_per_class=FEW_LABELS + 1)[1].to_dict() == \
        strong().to_dict()
    assert consistency_views(3, labels_per_class=1)[1].to_dict() == strong_photo().to_dict()
    assert consistency_views(1, strong="strong", labels_per_class=1)[1].to_dict() == \
        strong().to_dict()  # a named view is kept
    folder, _, _ = dataset
    views = Study(tiny_pool_config(folder, labels_per_class=(1, FEW_LABELS + 1)),
                  tmp_path / "s", progress=False).views
    assert views[1][1].to_dict() == strong_wide().to_dict()
    assert views[FEW_LABELS + 1][1].to_dict() == strong().to_dict()


def test_a_study_refuses_an_unknown_view_before_training(dataset, tmp_path):
    folder, _, _ = dataset
    with pytest.raises(ValueError, match="strong_view: 'wide'"):
        Study(tiny_pool_config(folder, strong_view="wide"), tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()


def test_pool_arms_need_a_pool():
    with pytest.raises(ValueError, match="arms: consistency learn from an unlabeled pool"):
        StudyConfig(arms=("consistency",))


def test_consistency_training_learns_from_confident_pool_images():
    """Two classes that differ in brightness: ten labels, a pool of 200; the pool gets
    pseudo-labels and the classifier separates the classes."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 105)
    images = np.where(labels[:, None, None] == 1, 200, 40) + rng.integers(0, 30, (210, 8, 8))
    batch = torch.from_numpy(images.astype(np.uint8))[:, None]
    from augkit.eval.cas import small_classifier
    from augkit.eval.features import accuracy

    model = small_classifier(1, 2, seed=0)
    labeled = torch.tensor([0, 1, 2, 3, 4, 105, 106, 107, 108, 109])
    classifier, stats = train_consistency(
        model, batch[labeled], torch.from_numpy(labels)[labeled], batch[10:200],
        pipeline_transform(small_jitter()), pipeline_transform(strong()),
        ConsistencySchedule(steps=30, batch_size=8, unlabeled_ratio=2, threshold=0.6),
        progress=False)
    assert stats["pseudo_labeled_share"] > 0.2
    assert accuracy(classifier, batch, torch.from_numpy(labels)) > 0.9


def test_the_semi_supervised_gan_learns_classes_from_the_pool():
    """Two classes of 28x28 images that differ in brightness: ten labels and a pool; the
    classifier-discriminator separates them, its generator is returned, losses are finite."""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 60)
    images = np.where(labels[:, None, None] == 1, 200, 40) + rng.integers(0, 30, (120, 28, 28))
    batch = torch.from_numpy(images.astype(np.uint8))[:, None]
    from augkit.eval.cas import small_classifier
    from augkit.eval.features import accuracy
    from augkit.semi import SSLGANSchedule

    labeled = torch.tensor([0, 1, 2, 3, 4, 60, 61, 62, 63, 64])
    classifier, generator, losses = train_ssl_gan(
        small_classifier(1, 2, seed=0), batch[labeled], torch.from_numpy(labels)[labeled],
        batch[torch.cat([torch.arange(5, 60), torch.arange(65, 120)])], None,
        SSLGANSchedule(steps=25, batch_size=8, generator_width=8),
        progress=False)
    assert accuracy(classifier, batch, torch.from_numpy(labels)) > 0.9
    assert generator(torch.zeros(2, 100)).shape == (2, 1, 28, 28)
    assert all(np.isfinite(v) for v in losses.values())


def test_the_gan_pool_arms_learn_from_pseudo_labels_only(dataset, tmp_path):
    folder, _, labels = dataset
    config = tiny_pool_config(folder, arms=("consistency", "gan-pool", "consistency+gan-pool"),
                              min_confidence=0.0, threshold=0.01, synthetic_per_real=2,
                              gan_batch=8)
    study = Study(config, tmp_path / "s", progress=False)
    results = study.run()
    cells = {c["arm"]: c for c in results["cells"]}
    assert cells["gan-pool"]["synthetic"] == cells["consistency+gan-pool"]["synthetic"] > 0
    # the labeler is trained once; the pool arms count its steps and the GAN's
    assert cells["gan-pool"]["steps"] == 2 + 2 + 2
    from augkit.eval.features import load_net, probabilities

    labeler, _ = load_net(tmp_path / "s" / "labelers" / f"k{PER_CLASS}-s0.safetensors")
    trained_on = load_dataset(tmp_path / "s" / "gans" / f"k{PER_CLASS}-s0-pool" / "subset.npz")
    real = PER_CLASS * 10
    pool_part = trained_on.images[real:]
    assert torch.equal(trained_on.labels[real:], probabilities(labeler, pool_part).argmax(1))
    subset = labeled_subset(torch.from_numpy(labels), PER_CLASS, 0)
    assert torch.equal(trained_on.labels[:real], torch.from_numpy(labels)[subset])
    assert "gan-pool: a cdcgan trained on the subset" in (tmp_path / "s" / "results.md").read_text()


def test_the_combined_arm_adds_fixmatch_to_the_gan_and_counts_its_work(dataset, tmp_path):
    folder, _, _ = dataset
    study = Study(tiny_pool_config(folder, arms=("gan-ssl", "consistency+gan-ssl")),
                  tmp_path / "s", progress=False)
    cells = {c["arm"]: c for c in study.run()["cells"]}
    # labeled, pool and generated batches; FixMatch adds a weak and a strong view per pool image
    assert cells["gan-ssl"]["images_processed"] == 2 * 8 * 3
    assert cells["consistency+gan-ssl"]["images_processed"] == 2 * 8 * (3 + 2 * 2)
    assert "pseudo_labeled" in cells["consistency+gan-ssl"]
    assert "pseudo_labeled" not in cells["gan-ssl"]
    assert (tmp_path / "s" / "consistency+gan-ssl" / f"k{PER_CLASS}-s0.png").is_file()
    from augkit.report import study_section

    page = study_section(tmp_path / "s")
    assert "generator of each gan-ssl cell" in page
    assert "generator of each consistency+gan-ssl cell" in page


def test_the_consistency_term_needs_both_views():
    batch = torch.zeros(4, 1, 28, 28, dtype=torch.uint8)
    from augkit.eval.cas import small_classifier
    from augkit.semi import SSLGANSchedule, SSLGANTraining

    with pytest.raises(ValueError, match="consistency_weight: the consistency term needs"):
        SSLGANTraining(small_classifier(1, 2, seed=0), batch, torch.zeros(4, dtype=torch.long),
                       batch, pipeline_transform(small_jitter()),
                       SSLGANSchedule(steps=1, consistency_weight=1.0))


def test_the_discriminators_input_noise_is_seeded_and_of_the_schedules_size():
    """The noise on what the classifier-discriminator trains on: none at 0, the schedule's
    standard deviation otherwise, the same draws in two runs of the same seed."""
    from augkit.eval.cas import small_classifier
    from augkit.semi import SSLGANSchedule, SSLGANTraining

    batch = torch.full((6, 1, 28, 28), 128, dtype=torch.uint8)

    def training(noise):
        return SSLGANTraining(small_classifier(1, 2, seed=0), batch,
                              torch.zeros(6, dtype=torch.long), batch,
                              schedule=SSLGANSchedule(steps=2, batch_size=3, input_noise=noise))

    images = torch.full((3, 1, 28, 28), 0.5)
    quiet, noisy, again = training(0.0), training(0.3), training(0.3)
    assert torch.equal(quiet.noisy(images), images)
    seen = noisy.noisy(images)
    assert torch.equal(seen, again.noisy(images))
    assert 0.25 < float((seen - images).std()) < 0.35


def test_noise_and_entropy_are_on_for_the_gan_alone_and_the_entropy_enters_the_loss():
    from augkit.eval.cas import small_classifier
    from augkit.semi import SSLGANSchedule, SSLGANTraining

    alone, both = SSLGANSchedule(), SSLGANSchedule(consistency_weight=1.0)
    assert (alone.input_noise, alone.entropy_weight) == (0.15, 1.0)
    assert (both.input_noise, both.entropy_weight) == (0.0, 0.0)
    rng = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (8, 1, 28, 28), generator=rng, dtype=torch.uint8)

    def first_d_loss(weight):
        schedule = SSLGANSchedule(steps=1, batch_size=4, entropy_weight=weight)
        return SSLGANTraining(small_classifier(1, 2, seed=0), images[:4],
                              torch.tensor([0, 1, 0, 1]), images[4:],
                              schedule=schedule).train_step()["d_loss"]

    # the same draws and weights: the difference is the pool's class entropy, in (0, ln 2]
    assert 0 < first_d_loss(1.0) - first_d_loss(0.0) <= math.log(2) + 1e-6


def test_one_label_per_class_leaves_the_entropy_term_out(dataset, tmp_path, monkeypatch):
    from augkit.semi import NO_ENTROPY_LABELS, SSLGANSchedule

    few = SSLGANSchedule(labels_per_class=NO_ENTROPY_LABELS)
    assert (few.input_noise, few.entropy_weight) == (0.15, 0.0)
    assert SSLGANSchedule(labels_per_class=NO_ENTROPY_LABELS + 1).entropy_weight == 1.0
    assert SSLGANSchedule(labels_per_class=1, entropy_weight=0.5).entropy_weight == 0.5
    assert SSLGANSchedule(labels_per_class=1, consistency_weight=1.0).entropy_weight == 0.0
    seen = {}

    def capture(model, images, labels, pool, weak, schedule, **kwargs):
        seen[len(labels) // 10] = schedule.entropy_weight
        raise KeyboardInterrupt  # enough: the schedule is what this test reads

    monkeypatch.setattr(study_module, "train_ssl_gan", capture)
    folder, _, _ = dataset
    for per_class in (NO_ENTROPY_LABELS, NO_ENTROPY_LABELS + 1):
        config = tiny_pool_config(folder, labels_per_class=(per_class,), arms=("gan-ssl",))
        with pytest.raises(KeyboardInterrupt):
            Study(config, tmp_path / f"s{per_class}", progress=False).run()
    assert seen == {NO_ENTROPY_LABELS: 0.0, NO_ENTROPY_LABELS + 1: 1.0}


@pytest.mark.parametrize("changes, message", [
    ({"consistency_weight": -1.0}, "consistency_weight: -1.0 is not allowed"),
    ({"input_noise": -0.1}, "input_noise: -0.1 is not allowed"),
    ({"input_noise": float("nan")}, "input_noise: nan is not allowed"),
    ({"threshold": 1.0}, "threshold: 1.0 is not allowed"),
    ({"unlabeled_ratio": 0}, "unlabeled_ratio: 0 is not allowed"),
    ({"ema_teacher_after": -1}, "ema_teacher_after: -1 is not allowed"),
])
def test_bad_semi_supervised_gan_schedules_are_one_line(changes, message):
    from augkit.semi import SSLGANSchedule

    with pytest.raises(ValueError, match=message):
        SSLGANSchedule(**changes)


@pytest.mark.parametrize("changes, message", [
    ({"threshold": 0.0}, "threshold: 0.0 is not allowed"),
    ({"ema_teacher_after": -5}, "ema_teacher_after: -5 is not allowed"),
])
def test_bad_consistency_schedules_are_one_line(changes, message):
    with pytest.raises(ValueError, match=message):
        ConsistencySchedule(**changes)


def test_the_pseudo_labels_come_from_the_ema_classifier_from_the_step_set():
    """Before ``ema_teacher_after`` the moving classifier labels (in training mode); from it
    on, the EMA classifier in eval mode; the mask keeps what the teacher is sure of."""
    from augkit.eval.cas import small_classifier
    from augkit.gan.ema import EMA
    from augkit.semi.consistency import pseudo_labels

    model, other = small_classifier(1, 10, seed=0), small_classifier(1, 10, seed=1)
    ema = EMA(other, decay=0.5, average_buffers=True)
    views = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    model.train()
    with torch.no_grad():
        torch.manual_seed(0)  # the same dropout draws
        moving = torch.softmax(model(views), 1).max(1)
        averaged = torch.softmax(ema.model.eval()(views), 1).max(1)
    assert not torch.equal(moving.indices, averaged.indices)
    for step, (confidence, guess) in [(2, moving), (3, averaged), (9, averaged)]:
        threshold = float(confidence.median())
        torch.manual_seed(0)
        labels, mask = pseudo_labels(model, ema, step, views, threshold, ema_teacher_after=3)
        assert torch.equal(labels, guess)
        assert torch.equal(mask, (confidence >= threshold).float())
        assert 0 < mask.sum() < len(views)
