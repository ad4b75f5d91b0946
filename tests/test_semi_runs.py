"""Semi-supervised runs outside the study: ``augkit train --data L --unlabeled P``, exact
resume after a stop or a crash, the exported classifier, and the refusals."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest
from safetensors.numpy import load_file

from augkit.cli import main
from augkit.data import load_mnist, write_npz
from augkit.errors import AugkitError
from augkit.semi.runs import SemiConfig, SemiRun


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("semi")
    images, labels = load_mnist("train")
    labeled, pool = root / "labeled.npz", root / "pool.npz"
    pick = np.concatenate([np.flatnonzero(labels == k)[:2] for k in range(10)])
    write_npz(labeled, images[pick], labels[pick])
    write_npz(pool, images[1000:1048], labels[1000:1048])  # labels in the file are dropped
    write_npz(root / "small.npz", images[1000:1010, :20, :20], None)
    write_npz(root / "rgb.npz", np.repeat(images[1000:1010, :, :, None], 3, axis=3), None)
    return root


def _config(data, semi: str, **changes) -> SemiConfig:
    values = {"semi": semi, "data": str(data / "labeled.npz"),
              "unlabeled": str(data / "pool.npz"), "steps": 6, "batch_size": 4,
              "unlabeled_ratio": 2, "checkpoint_every": 2,
              "ema_teacher_after": 4, **changes}  # the teacher changes after the resume
    return SemiConfig(**values)


def _weights(run) -> dict[str, np.ndarray]:
    return load_file(str(run / "classifier.safetensors"))


@pytest.mark.parametrize("semi", ["consistency", "gan-ssl", "consistency+gan-ssl"])
def test_a_stopped_run_resumed_equals_an_uninterrupted_one(data, tmp_path, semi):
    whole = SemiRun(_config(data, semi), tmp_path / "whole", progress=False)
    assert whole.fit() == 6
    SemiRun(_config(data, semi), tmp_path / "parts", progress=False).fit(until=3)
    resumed = SemiRun(_config(data, semi), tmp_path / "parts", resume=True, progress=False)
    assert resumed.training.step == 3 and resumed.fit() == 6
    first, second = _weights(tmp_path / "whole"), _weights(tmp_path / "parts")
    assert all(np.array_equal(first[k], second[k]) for k in first)
    rows = list(csv.reader((tmp_path / "parts" / "metrics.csv").open()))
    assert rows == list(csv.reader((tmp_path / "whole" / "metrics.csv").open()))
    assert [row[0] for row in rows[1:]] == [str(step) for step in range(1, 7)]
    if semi != "consistency":
        assert (tmp_path / "parts" / "samples.png").is_file()
    if semi == "consistency+gan-ssl":  # FixMatch's term ran beside the GAN's
        assert rows[0] == ["step", "d_loss", "g_loss", "pseudo_labeled"]


def test_a_crash_between_checkpoints_resumes_from_the_last_one(data, tmp_path, monkeypatch):
    SemiRun(_config(data, "consistency"), tmp_path / "whole", progress=False).fit()
    crashing = SemiRun(_config(data, "consistency"), tmp_path / "crashed", progress=False)
    real_step = crashing.training.train_step

    def step_then_crash():
        if crashing.training.step == 5:
            raise KeyboardInterrupt
        return real_step()

    monkeypatch.setattr(crashing.training, "train_step", step_then_crash)
    with pytest.raises(KeyboardInterrupt):
        crashing.fit()
    resumed = SemiRun(_config(data, "consistency"), tmp_path / "crashed", resume=True,
                      progress=False)
    assert resumed.training.step == 4  # the checkpoint of step 4; step 5 is done again
    resumed.fit()
    first, second = _weights(tmp_path / "whole"), _weights(tmp_path / "crashed")
    assert all(np.array_equal(first[k], second[k]) for k in first)


def test_the_command_line_trains_resumes_and_the_classifier_classifies(data, tmp_path):
    run, predictions = tmp_path / "run", tmp_path / "predictions.csv"
    common = ["train", "--data", str(data / "labeled.npz"), "--unlabeled",
              str(data / "pool.npz"), "--batch-size", "4", "--unlabeled-ratio", "2",
              "--out", str(run), "--quiet"]
    assert main([*common, "--max-steps", "2"]) == 0
    assert main([*common, "--max-steps", "2"]) == 2  # the run exists: --resume is needed
    assert main([*common, "--max-steps", "2", "--resume"]) == 0  # already done: no step
    assert main(["classify", str(run / "classifier.safetensors"), str(data / "pool.npz"),
                 "--out", str(predictions), "--quiet"]) == 0
    rows = list(csv.DictReader(predictions.open()))
    assert len(rows) == 48 and {int(r["label"]) for r in rows} <= set(range(10))


@pytest.mark.parametrize("pool, words", [
    ("small.npz", ["pool", "(1, 20, 20)", "(1, 28, 28)"]),
    ("rgb.npz", ["pool", "(3, 28, 28)"]),
    ("missing.npz", ["missing.npz"]),
])
def test_a_pool_that_does_not_fit_is_one_line_and_writes_nothing(data, tmp_path, pool, words):
    run = tmp_path / "run"
    with pytest.raises(AugkitError) as info:
        SemiRun(_config(data, "consistency", unlabeled=str(data / pool)), run, progress=False)
    assert all(word in str(info.value) for word in words), str(info.value)
    assert not run.exists()


@pytest.mark.parametrize("argv, words", [
    (["--unlabeled", "POOL", "--model", "dcgan"], ["--model", "not used with --unlabeled"]),
    (["--semi", "gan-ssl"], ["--semi", "--unlabeled"]),
    (["--unlabeled", "POOL", "--threshold", "1.5"], ["threshold", "1.5"]),
    (["--ema-teacher-after", "3"], ["--ema-teacher-after", "--unlabeled"]),
    (["--unlabeled", "POOL", "--ema-teacher-after", "-1"],
     ["--ema-teacher-after", "-1 is not allowed"]),
    (["--strong-view", "strong"], ["--strong-view", "--unlabeled"]),
    (["--unlabeled", "POOL", "--strong-view", "nosuch"],
     ["--strong-view", "'nosuch'", "neither a preset", "nor a pipeline file"]),
])
def test_flags_that_do_not_fit_are_refused(data, tmp_path, capsys, argv, words):
    argv = [a.replace("POOL", str(data / "pool.npz")) for a in argv]
    code = main(["train", "--data", str(data / "labeled.npz"), "--out", str(tmp_path / "r"),
                 "--quiet", *argv])
    error = capsys.readouterr().err.strip()
    assert code == 2 and len(error.splitlines()) == 1
    assert all(word in error for word in words), error
    assert not (tmp_path / "r").exists()


def test_resuming_with_other_settings_is_refused(data, tmp_path):
    SemiRun(_config(data, "consistency"), tmp_path / "run", progress=False).fit(until=2)
    with pytest.raises(AugkitError, match="other settings.*threshold"):
        SemiRun(_config(data, "consistency", threshold=0.8), tmp_path / "run", resume=True,
                progress=False)


def test_the_views_are_settings_of_the_run(data, tmp_path):
    import json

    from augkit.transforms import save
    from augkit.transforms.presets import small_jitter, strong

    view = tmp_path / "view.yaml"
    save(small_jitter(), view)
    runs = {}
    for name, strong_view in (("default", None), ("file", str(view))):
        run = tmp_path / name
        SemiRun(_config(data, "consistency", strong_view=strong_view), run,
                progress=False).fit(until=2)
        runs[name] = _weights(run)
        assert json.loads((run / "semi.json").read_text())["config"]["strong_view"] == \
            strong_view
    assert any(not np.array_equal(runs["default"][k], runs["file"][k]) for k in runs["file"])
    with pytest.raises(AugkitError, match="other settings.*strong_view"):
        SemiRun(_config(data, "consistency"), tmp_path / "file", resume=True, progress=False)
    resumed = SemiRun(_config(data, "consistency", strong_view=str(view)), tmp_path / "file",
                      resume=True, progress=False)
    assert resumed.training.step == 2  # the same file, unchanged: the run continues
    from augkit.transforms import presets

    started_with = json.loads((tmp_path / "default" / "semi.json").read_text())["views"]
    default = presets.default_view_names(1, labels_per_class=2)[1]  # the data: 2 per class
    assert started_with["strong"] == json.loads(json.dumps(presets.PRESETS[default]().to_dict()))
    with pytest.MonkeyPatch.context() as patch:  # a later version's default differs
        patch.setattr(presets, "FEW_LABELS", 0 if default == "strong-wide" else 2)
        assert presets.default_view_names(1, labels_per_class=2)[1] != default
        resumed = SemiRun(_config(data, "consistency"), tmp_path / "default", resume=True,
                          progress=False)
    assert resumed.training.step == 2 and resumed._view_specs() == started_with
    save(strong(), view)  # the file edited after the start
    with pytest.raises(AugkitError, match="the strong view differs from the one the run "):
        SemiRun(_config(data, "consistency", strong_view=str(view)), tmp_path / "file",
                resume=True, progress=False)


def test_one_label_per_class_runs_without_the_entropy_term_and_old_runs_resume_with_it(
        data, tmp_path):
    """The default is stored with the run; a run from before it was stored resumes with
    the weight it started with (1), so that the resume stays exact."""
    import json

    images, labels = load_mnist("train")
    one = tmp_path / "one.npz"
    pick = np.array([np.flatnonzero(labels == k)[0] for k in range(10)])
    write_npz(one, images[pick], labels[pick])
    config = replace(_config(data, "gan-ssl"), data=str(one))
    run = SemiRun(config, tmp_path / "run", progress=False)
    assert run.training.schedule.entropy_weight == 0.0
    run.fit(until=2)
    settings = json.loads((tmp_path / "run" / "semi.json").read_text())
    assert settings["entropy_weight"] == 0.0
    del settings["entropy_weight"]  # as a run written before the default was stored
    (tmp_path / "run" / "semi.json").write_text(json.dumps(settings))
    resumed = SemiRun(config, tmp_path / "run", resume=True, progress=False)
    assert resumed.training.schedule.entropy_weight == 1.0
    two = SemiRun(_config(data, "gan-ssl"), tmp_path / "two", progress=False)
    assert two.training.schedule.entropy_weight == 0.0  # 2 labels per class: left out too
