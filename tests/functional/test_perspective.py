"""perspective equals Pillow's Image.transform(PERSPECTIVE) in every mode and filter; the
torch path (any device, floats) samples the same way; RandomPerspective moves targets
through the same map."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.functional.geometry import _fill_values
from augkit.functional.perspective import (
    perspective_coefficients,
    sample_generic,
    transform_generic,
)
from augkit.transforms import RandomPerspective
from tests.helpers import at_page_end

FILTERS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
           "bicubic": Image.Resampling.BICUBIC}


def _case(rng: np.random.Generator, channels: int) -> tuple[np.ndarray, np.ndarray]:
    height, width = (int(v) for v in rng.integers(2, 26, 2))
    image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    start = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], float)
    end = start + rng.integers(-width // 2, width // 2 + 1, (4, 2))
    return image, perspective_coefficients(start, end, degenerate="identity")


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_matches_pillow_with_every_filter(channels):
    rng = np.random.default_rng(channels)
    differing = 0
    for i in range(60):
        image, data = _case(rng, channels)
        image = image[:, :, 0] if channels == 1 else image
        name = list(FILTERS)[i % 3]
        fill = int(rng.integers(0, 256))
        ours = transform_generic(image, data, name, fill)
        pil = Image.fromarray(image)
        theirs = pil.transform(pil.size, Image.Transform.PERSPECTIVE, list(data[0]),
                               FILTERS[name], fillcolor=fill if channels == 1 else
                               (fill,) * channels)
        differing += int((ours != np.asarray(theirs)).sum())
    assert differing == 0


def test_more_than_four_channels_sample_each_channel_alone():
    """The smooth samplers read four channels at a time: six channels give what the same
    transform gives their two halves, and the torch path."""
    rng = np.random.default_rng(9)
    images = torch.from_numpy(rng.integers(0, 256, (2, 6, 15, 19), dtype=np.uint8))
    data = np.array([[0.9, 0.3, -2.0, -0.3, 0.9, 4.0, 0.002, -0.001]] * 2)
    fill = _fill_values(5, 6, torch.uint8)
    for name in ("bilinear", "bicubic"):
        whole = transform_generic(images, data, name, 5)
        halves = torch.cat([transform_generic(images[:, :3].contiguous(), data, name, 5),
                            transform_generic(images[:, 3:].contiguous(), data, name, 5)], 1)
        assert torch.equal(whole, halves)
        assert torch.equal(sample_generic(images, torch.from_numpy(data), name, fill), whole)


def test_bilinear_refuses_images_of_2_gib_in_one_line():
    from augkit.functional.perspective import _compiled

    huge = np.broadcast_to(np.zeros((1, 1, 1, 3), np.uint8), (1, 30000, 30000, 3))
    with pytest.raises(AugkitError) as info:
        _compiled(huge, np.eye(3).reshape(-1)[:8][None], np.zeros(3, np.uint8), "bilinear")
    assert str(info.value).startswith("img: one image of 30000x30000x3 bytes is 2 GiB")


def test_the_torch_path_equals_the_compiled_one_and_batches_are_per_sample():
    rng = np.random.default_rng(5)
    images = torch.from_numpy(rng.integers(0, 256, (6, 3, 17, 23), dtype=np.uint8))
    start = np.array([[0, 0], [22, 0], [22, 16], [0, 16]], float)
    data = perspective_coefficients(np.repeat(start[None], 6, 0),
                                    start + rng.integers(-8, 9, (6, 4, 2)))
    fill = _fill_values(7, 3, torch.uint8)
    for name in FILTERS:
        compiled = transform_generic(images, data, name, 7)
        assert torch.equal(sample_generic(images, torch.from_numpy(data), name, fill), compiled)
        for i in range(6):
            assert torch.equal(transform_generic(images[i], data[i], name, 7), compiled[i])


def test_floats_sample_like_uint8_without_truncation():
    rng = np.random.default_rng(6)
    image = torch.from_numpy(rng.integers(0, 256, (1, 19, 21), dtype=np.uint8))
    identity = [1.0, 0, 0, 0, 1.0, 0, 0, 0]
    as_float = image.double() / 255
    for name in FILTERS:
        assert torch.equal(transform_generic(as_float, identity, name), as_float)
    corners = [[0, 0], [20, 0], [20, 18], [0, 18]]
    moved = [[2, 1], [18, 3], [20, 18], [1, 15]]
    smooth = F.perspective(as_float, corners, moved, "bilinear")
    exact = F.perspective(image, corners, moved, "bilinear")
    assert (smooth * 255 - exact.double()).abs().max() < 1.0 + 1e-9  # truncation only


def test_moved_points_map_back_through_the_coefficients():
    warp = RandomPerspective(0.8, p=1.0, seed=3)
    batch = torch.zeros(40, 1, 20, 30, dtype=torch.uint8)
    warp(batch)
    size = (20, 30)
    forward, _ = warp.forward_matrices(warp.last_params, size)
    data = warp.data(warp.last_params, size)
    rng = np.random.default_rng(0)
    for matrix, (a, b, c, d, e, f, g, h) in zip(forward, data, strict=True):
        points = rng.uniform(0, 20, (10, 2))
        xy = np.c_[points, np.ones(10)] @ matrix.T
        moved = xy[:, :2] / xy[:, 2:] + 0.5  # continuous coordinates of the output
        x, y = moved[:, 0], moved[:, 1]
        back_x = (a * x + b * y + c) / (g * x + h * y + 1) - 0.5
        back_y = (d * x + e * y + f) / (g * x + h * y + 1) - 0.5
        assert np.allclose(np.c_[back_x, back_y], points, atol=1e-9)


def test_keypoints_follow_the_image():
    for seed in range(10):
        image = np.zeros((24, 32), np.uint8)
        image[9:12, 19:22] = 255  # a 3 x 3 block around the point
        warp = RandomPerspective(0.5, p=1.0, interpolation="nearest", seed=seed)
        out = warp(image=image, keypoints=np.array([[20.5, 10.5]]))
        x, y = out["keypoints"][0]
        hits = np.argwhere(out["image"] == 255)
        assert len(hits) and np.abs(hits[:, ::-1] + 0.5 - [x, y]).max(axis=1).min() <= 1.0


@pytest.mark.parametrize("call, words", [
    (lambda x: F.perspective(x, [[0, 0]] * 3, [[0, 0]] * 4), ["startpoints", "four"]),
    (lambda x: F.perspective(x, [[0, 0]] * 4), ["startpoints and endpoints", "or coefficients"]),
    (lambda x: F.perspective(x, coefficients=[1, 0, 0]), ["coefficients", "eight"]),
    (lambda x: F.perspective(x, [[0, 0]] * 4, [[0, 0]] * 4, coefficients=[0] * 8),
     ["coefficients", "not both"]),
    (lambda x: F.perspective(x, [[0, 0], [1, 1], [2, 2], [3, 3]], [[0, 0]] * 4),
     ["startpoints", "line"]),
    (lambda x: F.perspective(x, coefficients=[1, 0, 0, 0, 1, 0, 0, 0],
                             interpolation="cubic"), ["interpolation", "'cubic'"]),
    (lambda x: RandomPerspective(1.5), ["distortion_scale", "1.5"]),
])
def test_bad_arguments_are_one_line(call, words):
    with pytest.raises(AugkitError) as info:
        call(torch.zeros(3, 8, 8, dtype=torch.uint8))
    message = str(info.value)
    assert "\n" not in message and all(word in message for word in words), message


def _equal_pillow(image: np.ndarray, data, interpolation: str,
                  size: tuple[int, int] | None = None) -> None:
    """``transform_generic`` of an (H, W, C) image equals Pillow's ``Image.transform``, as a
    numpy image (pixels interleaved) and as a tensor (planes)."""
    size = size or image.shape[:2]
    pil = Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)
    theirs = np.asarray(pil.transform((size[1], size[0]), Image.Transform.PERSPECTIVE,
                                      list(data), FILTERS[interpolation],
                                      fillcolor=(7,) * image.shape[2]))
    theirs = theirs.reshape(size[0], size[1], image.shape[2])
    as_numpy = image[:, :, 0] if image.shape[2] == 1 else image
    for img in (as_numpy, torch.from_numpy(image).permute(2, 0, 1)):
        ours = transform_generic(img, np.array([data], float), interpolation, 7, size)
        if isinstance(ours, torch.Tensor):
            ours = ours.permute(1, 2, 0)
        assert np.array_equal(np.asarray(ours).reshape(theirs.shape), theirs), (
            image.shape, data, type(img))


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_bilinear_quick_pass_and_its_checks_equal_pillow(channels):
    """BILINEAR goes through a float32 pass checked lane by lane; these maps and images put
    lanes where its checks must send a group back to Pillow's float64 steps: a turn by almost
    nothing (results a hair from whole numbers), shifts a hair short of whole pixels (whose
    rounded positions' floors are one more than Pillow's), flat windows (posterized), -0
    offsets, -0 quotients of a perspective, images a pixel or two thin, and an image wider
    than the quick pass takes; as numpy images and as tensors (planar output)."""
    from augkit.data import load_photo

    photo = np.asarray(load_photo("coffee").resize((48, 40)))
    photo = np.concatenate([photo, photo[:, :, :1]], 2)[:, :, :channels].copy()
    turn = np.radians(0.002)
    maps = [
        [np.cos(turn), np.sin(turn), -0.03, -np.sin(turn), np.cos(turn), 0.05, 0, 0],
        [1, 0, 3, 0, 1, -2, 0, 0],
        [1, 0, 3 - 2.0**-40, 0, 1, 2.0**-40 - 2, 0, 0],
        [0.8660254, -0.5, 15.0, 0.5, 0.8660254, -8.0, 0, 0],
        [-0.0, 1.0, -0.0, 1.0, -0.0, -0.0, 0, 0],
        [0.0, 0.0, 0.0, 0.2, 0.9, 1.0, -0.02, 0.01],
    ]
    for image in (photo, photo // 64 * 64):
        for data in maps:
            _equal_pillow(image, data, "bilinear")
    # three columns of 0, then 200, shifted a hair short of 3 pixels: Pillow's first pixel
    # lerps from a 0 column to 200 (just under 200), the rounded position's window is all 200
    stripes = np.array([0, 0, 0] + [200] * 45, np.uint8)[None, :, None]
    _equal_pillow(np.repeat(np.repeat(stripes, 20, 0), channels, 2),
                  [1, 0, 3 - 2.0**-40, 0, 1, 0.3, 0, 0], "bilinear")
    # thin images: groups whose every window lies inside skip the clipping, which a row or
    # two (or a column or two) of pixels must not take, nor read past the image's end
    rng = np.random.default_rng(channels)
    for shape in ((1, 40), (2, 40), (3, 40), (40, 1), (40, 2), (3, 3)):
        thin = at_page_end(rng.integers(0, 256, (*shape, channels), dtype=np.uint8))
        for data in ([1, 0, 0.37, 0, 1, 0.21, 0, 0], [0.97, 0.05, 0.3, -0.05, 0.97, 0.4, 0, 0],
                     [1, 0, -1, 0, 1, 4, -0.013, -0.004]):
            _equal_pillow(thin, data, "bilinear")
    # a few columns stretched over 16: every window of a group inside, one reaching near the
    # image's last byte
    for width in (2, 3, 5, 6):
        narrow = at_page_end(rng.integers(0, 256, (5, width, channels), dtype=np.uint8))
        _equal_pillow(narrow, [(width - 1) / 16, 0, 0.5, 0, 1, 0.25, 0, 0], "bilinear", (5, 16))
    wide = np.random.default_rng(channels).integers(0, 256, (1, 2**19 + 40, channels),
                                                    dtype=np.uint8)
    _equal_pillow(wide, [1.0, 0.0, 0.77, 0.0, 1.0, 0.2, 0, 0], "bilinear")



@pytest.mark.parametrize("channels", [1, 3, 4])
def test_bicubic_quick_pass_and_its_checks_equal_pillow(channels):
    """BICUBIC's float32 quick pass, checked lane by lane: turns by almost nothing (values a
    hair from whole numbers, redone in float64), shifts a hair short of whole pixels (floors
    one more than Pillow's), flat windows (posterized), perspective maps, images too small
    for the pass or ending at an unreadable page, and an image wider than it takes."""
    from augkit.data import load_photo

    photo = np.asarray(load_photo("coffee").resize((48, 40)))
    photo = np.concatenate([photo, photo[:, :, :1]], 2)[:, :, :channels].copy()
    turn = np.radians(0.002)
    maps = [
        [np.cos(turn), np.sin(turn), -0.03, -np.sin(turn), np.cos(turn), 0.05, 0, 0],
        [1, 0, 3 - 2.0**-40, 0, 1, 2.0**-40 - 2, 0, 0],
        [0.8660254, -0.5, 15.0, 0.5, 0.8660254, -8.0, 0, 0],
        [0.0, 0.0, 0.0, 0.2, 0.9, 1.0, -0.02, 0.01],
        [1.05, 0.05, -2.0, 0.02, 1.1, -1.0, 0.0004, 0.0003],
    ]
    for image in (photo, photo // 64 * 64):
        for data in maps:
            _equal_pillow(image, data, "bicubic")
    rng = np.random.default_rng(channels)
    for shape in ((1, 40), (3, 40), (4, 40), (5, 40), (6, 40), (40, 2), (40, 3), (40, 4),
                  (5, 5)):
        small = at_page_end(rng.integers(0, 256, (*shape, channels), dtype=np.uint8))
        for data in ([1, 0, 0.37, 0, 1, 0.21, 0, 0], [0.97, 0.05, 0.3, -0.05, 0.97, 0.4, 0, 0]):
            _equal_pillow(small, data, "bicubic")
    for width in (4, 5, 6):  # a few columns stretched over 16, the last window at the end
        narrow = at_page_end(rng.integers(0, 256, (8, width, channels), dtype=np.uint8))
        _equal_pillow(narrow, [(width - 3) / 16, 0, 1.5, 0, 1, 0.25, 0, 0], "bicubic", (8, 16))
    wide = rng.integers(0, 256, (6, 2**18 + 40, channels), dtype=np.uint8)
    _equal_pillow(wide, [1.0, 0.0, 0.77, 0.0, 1.0, 0.7, 0, 0], "bicubic")
