"""What a user meets first: each known mistake gives one clear line and changes nothing,
bugs keep their traceback, library calls leave the caller's random state alone."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from augkit.cli import build_parser, main
from augkit.data import load_mnist, output_format, read_image, write_npz
from augkit.devices import check_device
from augkit.errors import AugkitError
from augkit.eval.cas import small_classifier
from augkit.eval.features import TrainSchedule, train_classifier
from augkit.gan.config import TrainConfig
from augkit.gan.trainer import Trainer
from augkit.progress import progress_bar
from augkit.study import StudyConfig
from augkit.transforms import RandomApply, RandomResizedCrop

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def _run(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own refusals
        code = exit.code
    return code, capsys.readouterr().err.strip()


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    images, labels = load_mnist("test")
    path = tmp_path_factory.mktemp("data") / "digits.npz"
    write_npz(path, images[:288], labels[:288])
    return path


def test_augment_into_an_existing_file_is_one_line_and_leaves_it(digits, tmp_path, capsys):
    target = tmp_path / "out.png"
    target.write_bytes(b"mine")
    code, err = _run(["augment", str(digits), str(target), "--quiet"], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "out.png: DST is an existing file" in err
    assert target.read_bytes() == b"mine"


def test_npz_output_of_mixed_sizes_names_the_file_and_leaves_no_run(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(src / "a.png")
    Image.new("RGB", (9, 7), (10, 20, 30)).save(src / "b.png")
    code, err = _run(["augment", str(src), str(tmp_path / "out"), "--format", "npz",
                      "--quiet"], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "outputs of different sizes" in err and "b.png" in err and "--format png" in err
    assert not (tmp_path / "out").exists()


@no_cuda
@pytest.mark.parametrize("command", ["train", "generate", "evaluate", "study"])
def test_cuda_on_a_build_without_it_is_one_line(command, tmp_path, capsys):
    argv = {"train": ["train", "--device", "cuda", "--max-steps", "1", "--out",
                      str(tmp_path / "run")],
            "study": ["study", "--labels-per-class", "1", "--seeds", "1", "--device", "cuda",
                      "--out", str(tmp_path / "run")],
            "generate": ["generate", str(tmp_path), "--n", "4", "--device", "cuda", "--out",
                         str(tmp_path / "x.npz")],
            "evaluate": ["evaluate", "mnist:test", "--device", "cuda"]}[command]
    code, err = _run(argv, capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "--device: cuda is not available" in err and "--device cpu" in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "x.npz").exists()


def test_random_apply_of_a_resizing_op_on_a_batch_is_one_line():
    batch = torch.zeros(4, 3, 16, 16, dtype=torch.uint8)
    with pytest.raises(AugkitError, match=r"RandomApply: p=0.5 on a batch .* use p=1"):
        RandomApply([RandomResizedCrop(8)], p=0.5, seed=0)(batch)
    assert RandomApply([RandomResizedCrop(8)], p=1.0, seed=0)(batch).shape == (4, 3, 8, 8)
    assert RandomApply([RandomResizedCrop(8)], p=0.5, seed=0)(batch[0]).shape[0] == 3


@pytest.mark.parametrize("limit, images, batch, expected", [
    (9, 72, 8, 9),   # the limit falls on an epoch's last batch
    (1, 8, 8, 1),    # one batch per epoch
    (4, 72, 8, 4),
])
def test_max_steps_is_exact(limit, images, batch, expected, digits, tmp_path):
    data = tmp_path / "d.npz"
    pixels, labels = load_mnist("test")
    write_npz(data, pixels[:images], labels[:images])
    config = TrainConfig(model="dcgan", data=str(data), epochs=5, max_steps=limit,
                         batch_size=batch, width=4, z_dim=8, ema_decay=0.0)
    trainer = Trainer(config, tmp_path / "run", progress=False)
    trainer.fit()
    assert trainer.step == expected


@pytest.mark.parametrize("argv, message", [
    (["generate", "RUN", "--n", "20", "--per-class", "2", "--out", "x.npz"],
     "--n and --per-class: give one or the other"),
    (["train", "--batch-size", "0", "--out", "RUN"], "--batch-size: 0 is not allowed"),
    (["train", "--max-minutes", "0", "--out", "RUN"], "--max-minutes: 0.0 is not allowed"),
    (["generate", "RUN", "--n", "2", "--out", "g.png"], "g.png: names an image file"),
    (["train", "--model", "gan", "--out", "RUN"], "argument --model: invalid choice"),
])
def test_refused_arguments_are_one_line_with_flag_names(argv, message, tmp_path, capsys):
    argv = [str(tmp_path / "run") if a == "RUN" else a for a in argv]
    argv = [str(tmp_path / a) if a.endswith((".npz", ".png")) else a for a in argv]
    code, err = _run(argv, capsys)
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_library_messages_use_the_flag_names(tmp_path, capsys):
    out = tmp_path / "pipeline.png"
    out.write_bytes(b"x")
    photo = tmp_path / "p.png"
    Image.new("RGB", (8, 8)).save(photo)
    code, err = _run(["preview", str(photo), "--out", str(out)], capsys)
    assert code == 2 and "pass --overwrite to replace it" in err and "=True" not in err


def test_preview_reads_16_bit_images_as_augment_does(tmp_path, capsys):
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((6, 6), 32896, np.uint16)).save(path)  # 128 after >> 8
    assert int(read_image(path).mean()) == 128
    out = tmp_path / "preview.png"
    assert main(["preview", str(path), "--copies", "1", "--out", str(out), "--quiet"]) == 0
    tiles = np.asarray(Image.open(out).convert("L"))
    assert (tiles == 128).any() and (tiles == 255).mean() < 0.9


def test_a_bug_keeps_its_traceback(monkeypatch):
    def broken(args):
        raise TypeError("a programming error")

    parser = build_parser()
    monkeypatch.setattr("augkit.cli.build_parser", lambda: parser)
    for action in parser._subparsers._group_actions[0].choices.values():
        action.set_defaults(handler=broken)
    with pytest.raises(TypeError, match="a programming error"):
        main(["report", "x"])


def test_every_subcommand_takes_quiet():
    commands = build_parser()._subparsers._group_actions[0].choices
    for name, parser in commands.items():
        assert any("--quiet" in action.option_strings for action in parser._actions), name


def test_library_calls_leave_the_global_random_state_alone(digits, tmp_path):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    model = small_classifier(1, 10, seed=4)
    images = torch.zeros(8, 1, 28, 28, dtype=torch.uint8)
    train_classifier(model, images, torch.arange(8) % 10, TrainSchedule(steps=2, batch_size=4))
    config = TrainConfig(model="cdcgan", data=str(digits), epochs=1, max_steps=1,
                         batch_size=32, width=8)
    Trainer(config, tmp_path / "run", progress=False).fit()
    assert torch.equal(torch.get_rng_state(), before)


def test_progress_off_a_terminal_writes_few_lines():
    log = io.StringIO()
    bar = progress_bar(total=10_000, file=log, desc="work")
    for _ in range(10_000):
        bar.update(1)
    bar.close()
    assert 1 <= log.getvalue().count("\r") + log.getvalue().count("\n") <= 4


@pytest.mark.parametrize("make, message", [
    (lambda: StudyConfig(steps=0), "steps: 0 is not allowed"),
    (lambda: StudyConfig(unlabeled="0"),
     "unlabeled: 0 is not allowed"),
    (lambda: StudyConfig(unlabeled="rest", threshold=1.0),
     "threshold: 1.0 is not allowed"),
    (lambda: output_format("x.npz", "png"),
     "a .npz name for --format png"),
    (lambda: output_format("out", "npz"),
     "give it a name ending in .npz"),
    (lambda: output_format("out", "tiff"),
     "format: 'tiff' is not allowed"),
    (lambda: check_device("gpu"),
     "device: 'gpu' is not allowed"),
])
def test_bad_settings_name_the_argument(make, message):
    with pytest.raises(AugkitError, match=re.escape(message)):
        make()


def test_writing_a_png_dataset_over_a_file_is_refused(tmp_path):
    from augkit.data import write_dataset

    target = tmp_path / "out"
    target.write_text("mine")
    with pytest.raises(AugkitError, match="out: is an existing file"):
        write_dataset(target, np.zeros((2, 4, 4), np.uint8), None)
    assert target.read_text() == "mine"


def test_classify_refuses_images_of_another_channel_count(tmp_path, capsys):
    from augkit.eval.features import save_net

    net = small_classifier(1, 10, seed=0)
    save_net(net, tmp_path / "net.safetensors", {})
    write_npz(tmp_path / "rgb.npz", np.zeros((3, 28, 28, 3), np.uint8), None)
    code, err = _run(["classify", str(tmp_path / "net.safetensors"), str(tmp_path / "rgb.npz"),
                      "--out", str(tmp_path / "p.csv")], capsys)
    assert code == 2 and "3 channel(s); the classifier takes 1" in err
    assert not (tmp_path / "p.csv").exists()


def test_augment_device_is_checked_before_anything_is_written(tmp_path, capsys):
    import numpy as np

    from augkit.cli import main
    from augkit.data import write_npz

    src = tmp_path / "src.npz"
    write_npz(src, np.zeros((4, 8, 8), np.uint8), np.zeros(4, np.int64))
    for extra, words in ((["--device", "cuda:7"], ["--device", "cuda:7"]),
                         (["--device", "tpu"], ["--device", "'tpu'"])):
        code = main(["augment", str(src), str(tmp_path / "out"), "--quiet", *extra])
        error = capsys.readouterr().err
        assert code == 2 and all(w in error for w in words), error
        assert not (tmp_path / "out").exists()
    assert main(["augment", str(src), str(tmp_path / "cpu"), "--quiet", "--device", "cpu"]) == 0


def _refusal_cases():
    import augkit.functional as F
    from augkit.transforms import (
        LinearTransformation,
        RandomIoUCrop,
        TenCrop,
        ToImage,
        ToPILImage,
        UniformTemporalSubsample,
    )

    gray = np.zeros((6, 6), np.uint8)
    return [
        (lambda: F.box_blur(gray, (1, 2, 3)), "radius: (1, 2, 3) is not allowed"),
        (lambda: F.convolve(gray, [1] * 9, offset="a"), "offset: 'a' is not allowed"),
        (lambda: F.median_filter(gray, 0), "size: 0 is not allowed; expected a whole number"),
        (lambda: ToPILImage()(np.zeros((2, 2, 3), np.int32)),
         "img: dtype int32 is not supported"),
        (lambda: F.to_pil_image(torch.zeros(1, 3, 2, 2)),
         "img: tensor of shape (1, 3, 2, 2) is not one image"),
        (lambda: F.grayscale_to_rgb("picture"), "img: expected a PIL image, a numpy array"),
        (lambda: F.grayscale_to_rgb(torch.zeros(2, 2)), "img: tensor of shape (2, 2) is not"),
        (lambda: F.pil_to_tensor(gray), "img: expected a PIL image, got ndarray"),
        (lambda: ToImage()(gray, {}, {}), "ToImage: expected t(img), t(img, target)"),
        (lambda: ToImage()(mask=gray), "ToImage: give the image and its targets all by"),
        (lambda: F.ten_crop(gray, 2, "yes"), "vertical_flip: 'yes' is not allowed"),
        (lambda: TenCrop(2, vertical_flip=1), "vertical_flip: 1 is not allowed"),
        (lambda: RandomIoUCrop(min_scale=2), "min_scale: (2, 1.0) is not allowed"),
        (lambda: LinearTransformation(np.zeros((3, 2)), np.zeros(3)),
         "transformation_matrix: shape (3, 2) is not allowed"),
        (lambda: UniformTemporalSubsample(0), "num_samples: 0 is not allowed"),
        (lambda: RandomResizedCrop(8, antialias="yes"), "antialias: 'yes' is not allowed"),
    ]


@pytest.mark.parametrize("index", range(16))
def test_the_new_catalogue_refusals_are_one_line(index):
    call, message = _refusal_cases()[index]
    with pytest.raises(AugkitError, match="^" + re.escape(message)) as info:
        call()
    assert "\n" not in str(info.value)


def test_a_uri_without_pyarrow_is_one_line(monkeypatch):
    import sys

    from augkit.remote import stage_input

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(AugkitError, match=r"^src: s3://bucket/x is a URI, which needs pyarrow"):
        stage_input("s3://bucket/x")


def test_a_uri_destination_without_pyarrow_is_one_line(monkeypatch):
    import sys

    from augkit.remote import staged_output

    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with (pytest.raises(AugkitError, match=r"^dst: gs://bucket/out is a URI, which needs"),
          staged_output("gs://bucket/out")):
        pass
