"""Training runs: resume is bit-exact, the divergence guard, DDP, generation, bad input."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from augkit import checkpoint
from augkit.cli import main
from augkit.data import load_mnist, open_source, write_npz
from augkit.eval.labeling import label_with_classifier
from augkit.gan import sample as sample_module
from augkit.gan import trainer as trainer_module
from augkit.gan.config import TrainConfig
from augkit.gan.sample import generate, load_generator
from augkit.gan.trainer import Trainer, TrainingDiverged, images_from_model


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    images, labels = load_mnist("test")
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    write_npz(path, images[:256], labels[:256])
    return path


def _config(digits, **overrides):
    values = {"model": "cdcgan", "data": str(digits), "epochs": 2, "batch_size": 64,
              "width": 8, "ema_decay": 0.9, "log_every": 2}
    values.update(overrides)
    return TrainConfig(**values)


def _weights(run: Path) -> dict[str, torch.Tensor]:
    state = checkpoint.load(run / "checkpoint.json")
    return {f"{part}.{k}": v for part in ("g", "d", "ema") for k, v in state[part].items()}


def test_training_writes_logs_grids_and_a_checkpoint(digits, tmp_path):
    run = tmp_path / "run"
    trainer = Trainer(_config(digits), run, progress=False)
    trainer.fit()
    assert trainer.step == 8 and trainer.epoch == 2
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_001.png",
                                                                  "epoch_002.png"]
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,epoch,d_loss,g_loss") and len(rows) == 5
    losses = [float(r.split(",")[2]) for r in rows[1:]]
    assert len(set(losses)) > 1
    assert json.loads((run / "config.json").read_text())["model"] == "cdcgan"
    assert len(list(run.glob("checkpoint-*.safetensors"))) == 1


@pytest.mark.parametrize("model", ["cdcgan", "reference"])
def test_one_epoch_resume_one_epoch_equals_two_epochs(digits, tmp_path, model):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    extra = {"diffaugment": True} if model == "cdcgan" else {"model": "reference", "loss": None}
    if model == "reference":  # the log's fixed-size model: 2 steps of 32 images per epoch
        few = tmp_path / "few.npz"
        images, labels = load_mnist("test")
        write_npz(few, images[:64], labels[:64])
        digits, extra["batch_size"] = few, 32
    Trainer(_config(digits, **extra), straight, progress=False).fit()
    Trainer(_config(digits, epochs=1, **extra), resumed, progress=False).fit()
    Trainer(_config(digits, **extra), resumed, resume=True, progress=False).fit()
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_interrupted_mid_epoch_resumes_exactly(digits, tmp_path, monkeypatch):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    Trainer(_config(digits), straight, progress=False).fit()
    trainer = Trainer(_config(digits), resumed, progress=False)
    real_run = trainer._run_batch
    calls = []

    def interrupt_at_third(*args):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        return real_run(*args)

    monkeypatch.setattr(trainer, "_run_batch", interrupt_at_third)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert checkpoint.load(resumed / "checkpoint.json")["step"] == 2
    Trainer(_config(digits), resumed, resume=True, progress=False).fit()
    a, b = _weights(straight), _weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_divergence_stops_with_a_message_and_keeps_the_last_good_checkpoint(digits, tmp_path,
                                                                            monkeypatch):
    run = tmp_path / "run"
    Trainer(_config(digits, epochs=1), run, progress=False).fit()
    good = (run / "checkpoint.json").read_text()
    real_loss = trainer_module.g_loss
    monkeypatch.setattr(trainer_module, "g_loss",
                        lambda loss, logits: real_loss(loss, logits) * float("nan"))
    with pytest.raises(TrainingDiverged, match="diverged at step 5 .*last good checkpoint"):
        Trainer(_config(digits), run, resume=True, progress=False).fit()
    assert (run / "checkpoint.json").read_text() == good


def test_ddp_on_two_gloo_processes_keeps_ranks_identical(digits, tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    # --standalone: a free port of torchrun's choosing (a fixed one was sometimes taken)
    command = [torchrun or "torchrun", "--standalone", "--nproc_per_node", "2",
               str(Path(__file__).parent / "ddp_worker.py"), str(digits), str(tmp_path / "run")]
    done = subprocess.run(command, timeout=120, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    digests = [(tmp_path / f"weights-rank{r}.txt").read_text() for r in (0, 1)]
    assert digests[0] == digests[1] and "step=3" in digests[0]
    assert (tmp_path / "run" / "checkpoint.json").exists()


def test_generate_writes_balanced_labels_in_every_format(digits, tmp_path, capsys):
    run = tmp_path / "run"
    Trainer(_config(digits, epochs=1), run, progress=False).fit()
    images, labels = generate(run, per_class=3)
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(labels, np.repeat(np.arange(10), 3))
    again, _ = generate(run, per_class=3)
    assert np.array_equal(images, again)
    assert main(["generate", str(run), "--n", "20", "--out", str(tmp_path / "g.npz")]) == 0
    assert np.bincount(open_source(tmp_path / "g.npz").labels).tolist() == [2] * 10
    assert main(["generate", str(run), "--n", "20", "--format", "idx",
                 "--out", str(tmp_path / "idx")]) == 0
    assert len(open_source(tmp_path / "idx")) == 20
    assert main(["generate", str(run), "--per-class", "2", "--format", "folder",
                 "--out", str(tmp_path / "folder")]) == 0
    folder = open_source(tmp_path / "folder")
    assert len(folder) == 20 and folder.class_names == [str(i) for i in range(10)]
    assert main(["generate", str(run), "--n", "5", "--format", "folder",
                 "--out", str(tmp_path / "folder")]) == 2
    assert "is not empty; pass --overwrite" in capsys.readouterr().err


def test_bad_input_gets_one_line_errors(digits, tmp_path, capsys):
    with pytest.raises(ValueError, match="model: 'gan' is not allowed"):
        _config(digits, model="gan")
    with pytest.raises(ValueError, match="loss: 'lsgan' is not allowed"):
        _config(digits, loss="lsgan")
    with pytest.raises(ValueError, match="config: unknown key"):
        TrainConfig.from_dict({"modle": "dcgan"})
    rgb = tmp_path / "rgb.npz"
    write_npz(rgb, np.zeros((64, 28, 28, 3), np.uint8), np.zeros(64, np.int64))
    with pytest.raises(ValueError, match="3 channel.*reference model takes 28x28 gray"):
        Trainer(_config(rgb, model="reference", loss=None), tmp_path / "r", progress=False)

    run = tmp_path / "run"
    Trainer(_config(digits, epochs=1), run, progress=False).fit()
    with pytest.raises(ValueError, match="already holds a training run"):
        Trainer(_config(digits, epochs=1), run, progress=False)
    with pytest.raises(ValueError,
                       match=r"another configuration: .*model='cdcgan' \(now 'dcgan'\)"):
        Trainer(_config(digits, model="dcgan", loss=None), run, resume=True, progress=False)

    tensors = next(run.glob("checkpoint-*.safetensors"))
    tensors.write_bytes(tensors.read_bytes()[:-100])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_generator(run)

    class Boom:
        def __reduce__(self):
            return (Path("/tmp/augkit-pickle-ran").touch, ())

    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "checkpoint.json").write_bytes(pickle.dumps({"g": Boom()}))
    with pytest.raises(ValueError, match="not an augkit checkpoint"):
        load_generator(evil)
    assert not Path("/tmp/augkit-pickle-ran").exists()

    assert main(["train", "--data", str(digits), "--out", str(run), "--epochs", "1",
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("augkit train: error:") and len(err.splitlines()) == 1
    assert main(["generate", str(tmp_path / "nothing"), "--n", "5",
                 "--out", str(tmp_path / "x.npz")]) == 2
    assert "not a training run" in capsys.readouterr().err


def test_unconditional_samples_get_labels_from_the_classifier(digits, tmp_path, capsys):
    run = tmp_path / "run"
    Trainer(_config(digits, model="dcgan", loss=None, epochs=1), run, progress=False).fit()
    _, labels = generate(run, n=12)
    assert (labels == -1).all()
    out = tmp_path / "labeled.npz"
    assert main(["generate", str(run), "--n", "40", "--label-with", "mnist",
                 "--min-confidence", "0.0", "--out", str(out)]) == 0
    assert "labeled 40 of 40" in capsys.readouterr().out
    labeled = open_source(out)
    assert len(labeled) == 40 and (labeled.labels >= 0).all()
    real, real_labels = load_mnist("test")
    mixed = np.concatenate([real[:20], np.zeros((5, 28, 28), np.uint8)])  # blanks: unsure
    kept, labels, confidence = label_with_classifier(mixed, "mnist", 0.9)
    assert 15 <= len(kept) < 25 and (confidence >= 0.9).all()
    index = [int(np.flatnonzero((real[:20] == image).all(axis=(1, 2)))[0]) for image in kept]
    assert (labels == real_labels[index]).all()  # every blank dropped, digits labeled right


def test_evaluate_accepts_a_training_run(digits, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AUGKIT_CACHE", str(tmp_path / "cache"))
    run = tmp_path / "run"
    Trainer(_config(digits, epochs=1), run, progress=False).fit()
    assert main(["evaluate", str(run), "--n", "300", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "generated 300 samples" in printed and "label accuracy" in printed


def test_repeat_makes_an_epoch_several_passes(digits, tmp_path):
    trainer = Trainer(_config(digits, repeat=3, epochs=1), tmp_path / "run", progress=False)
    trainer.fit()
    assert trainer.step == 3 * 256 // 64 and trainer.epoch == 1


def test_the_class_head_learns_the_labels_of_real_images(digits, tmp_path):
    """With the auxiliary class head on, the discriminator's class logits get better than
    chance on the training digits within a few steps; with it off there is no head."""
    config = _config(digits, epochs=6, aux_weight=1.0, width=16, lr_g=1e-3, lr_d=1e-3)
    trainer = Trainer(config, tmp_path / "run", progress=False)
    images, labels = next(iter(trainer.loader))
    real = images.float() / 127.5 - 1
    with torch.no_grad():
        before = torch.nn.functional.cross_entropy(
            trainer.d(real, labels, with_classes=True)[1], labels)
    trainer.fit()
    with torch.no_grad():
        after = torch.nn.functional.cross_entropy(
            trainer.d(real, labels, with_classes=True)[1], labels)
    assert float(after) < 0.8 * float(before)
    plain = Trainer(_config(digits, aux_weight=0.0), tmp_path / "plain", progress=False)
    assert plain.d.classify is None
    with pytest.raises(ValueError, match="no class head"):
        plain.d(real, labels, with_classes=True)


def test_aux_weight_and_init_are_checked():
    with pytest.raises(ValueError, match="aux_weight: the class head needs the conditional"):
        TrainConfig(model="dcgan", aux_weight=1.0)
    with pytest.raises(ValueError, match="repeat: 0 is not allowed"):
        TrainConfig(repeat=0)
    with pytest.raises(ValueError, match="init: 'xavier' is not allowed"):
        TrainConfig(init="xavier")
    with pytest.raises(ValueError, match="batch_size: mode seeking compares pairs"):
        TrainConfig(model="cdcgan", batch_size=1)
    assert TrainConfig(model="cdcgan", batch_size=1, mode_seeking=0.0).batch_size == 1
    assert TrainConfig(model="cdcgan").aux_weight == 0.3
    assert TrainConfig(model="dcgan").aux_weight == 0.0


def test_mode_seeking_draws_the_generator_batch_in_pairs_of_one_label(digits, tmp_path,
                                                                       monkeypatch):
    trainer = Trainer(_config(digits, mode_seeking=0.5), tmp_path / "run", progress=False)
    seen = []
    forward = trainer.g.forward
    monkeypatch.setattr(trainer.g, "forward", lambda z, labels: seen.append(
        (z.clone(), labels.clone())) or forward(z, labels))
    real, labels = next(iter(trainer.loader))
    trainer._run_batch(real, labels)
    (_, labels_d), (z_g, labels_g) = seen  # the D step's batch, then the G step's
    assert torch.equal(labels_d, labels)
    assert torch.equal(labels_g[0::2], labels_g[1::2])
    assert torch.equal(labels_g[0::2], labels[:len(labels) // 2])
    assert not torch.equal(z_g[0::2], z_g[1::2])


@pytest.mark.parametrize("model", ["reference", "cdcgan"])
def test_dcgan_init_draws_small_normal_weights(model):
    from augkit.gan.models import build_models, initialise

    g, d = build_models(model, spectral_norm=False)
    default_std = float(g.state_dict()[next(k for k in g.state_dict() if "weight" in k
                                            and g.state_dict()[k].dim() > 1)].std())
    initialise(g, "dcgan")
    initialise(d, "dcgan")
    for net in (g, d):
        for name, value in net.state_dict().items():
            if name.endswith("weight") and value.dim() > 1:
                assert abs(float(value.std()) - 0.02) < 0.004, name
    assert abs(default_std - 0.02) > 0.004  # the default really differs


def test_generate_can_filter_with_the_runs_own_class_head(digits, tmp_path, capsys,
                                                          monkeypatch):
    run = tmp_path / "run"
    Trainer(_config(digits, epochs=6, width=16, lr_g=1e-3, lr_d=1e-3), run,
            progress=False).fit()
    plain, labels = generate(run, per_class=4, seed=3)
    seen = []
    real_load = sample_module.load_class_head

    def recording_head(*args, **kwargs):
        head = real_load(*args, **kwargs)
        forward = head.forward

        def judged(images, labels, with_classes=False):
            logits, classes = forward(images, labels, with_classes=True)
            confidence = torch.softmax(classes, 1).gather(1, labels[:, None]).squeeze(1)
            seen.append((images_from_model(images), labels, confidence))
            return logits, classes

        head.forward = judged
        return head

    monkeypatch.setattr(sample_module, "load_class_head", recording_head)
    # a threshold every class passes half the time: its lowest per-class median confidence
    generate(run, per_class=4, seed=3, min_confidence=1e-9)
    _, first_labels, first_confidence = seen[0]
    threshold = min(float(first_confidence[first_labels == k].median()) for k in range(10))
    seen.clear()
    kept, kept_labels = generate(run, per_class=4, seed=3, min_confidence=threshold)
    assert np.array_equal(kept_labels, labels)
    assert not np.array_equal(kept, plain)  # some first draws were rejected and redrawn
    # every image written was judged at or above the threshold for its own label
    judged = {img.numpy().tobytes(): (int(lab), float(c)) for images, labs, conf in seen
              for img, lab, c in zip(images, labs, conf, strict=True)}
    for image, label in zip(kept, kept_labels, strict=True):
        got_label, confidence = judged[image[None].tobytes()]
        assert got_label == label and confidence >= threshold
    monkeypatch.setattr(sample_module, "MAX_ROUNDS", 3)
    with pytest.raises(ValueError, match="after 3 rounds"):
        generate(run, per_class=4, min_confidence=0.999999)
    plain_run = tmp_path / "plain"
    Trainer(_config(digits, epochs=1, model="dcgan"), plain_run, progress=False).fit()
    assert main(["generate", str(plain_run), "--n", "10", "--min-confidence", "0.5",
                 "--out", str(tmp_path / "x.npz")]) == 2
    assert "has no class head" in capsys.readouterr().err


def test_each_model_has_its_own_default_settings():
    reference = TrainConfig(model="reference")
    assert (reference.batch_size, reference.lr_g, reference.lr_d, reference.init) == (
        64, 1e-3, 1e-4, "dcgan")
    cdcgan = TrainConfig(model="cdcgan")
    assert (cdcgan.batch_size, cdcgan.width, cdcgan.lr_g, cdcgan.lr_d, cdcgan.init) == (
        64, 32, 2e-4, 2e-4, "default")
    assert TrainConfig(model="reference", lr_g=5e-4, batch_size=32).lr_g == 5e-4
    # the resolved values are what a run stores, so a resumed run compares like with like
    assert TrainConfig.from_dict(reference.to_dict()) == reference
