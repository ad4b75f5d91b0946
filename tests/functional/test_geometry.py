"""Geometric kernels are exact where exactness is defined."""

from __future__ import annotations

import enum
import math

import numpy as np
import pytest
import torch
from PIL import Image

import augkit.functional as F
from augkit.errors import AugkitError
from augkit.functional._warp_cpu import warp_uint8
from augkit.functional.geometry import check_interpolation, warp
from tests.helpers import KINDS, as_kind, random_hwc, to_hwc

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


def _batch(n=3, channels=3, size=15, dtype=torch.uint8, seed=0):
    rng = np.random.default_rng(seed)
    batch = torch.from_numpy(rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8))
    return batch if dtype == torch.uint8 else batch.to(dtype) / 255


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
def test_identity_parameters_return_the_input(interpolation, dtype):
    x = _batch(dtype=dtype)
    assert torch.equal(F.affine(x, interpolation=interpolation), x)
    assert torch.equal(F.affine(x, angle=360, scale=1.0, interpolation=interpolation), x)
    assert torch.equal(F.resize(x, (15, 15), interpolation), x)
    assert torch.equal(F.resized_crop(x, 0, 0, 15, 15, 15, interpolation), x)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("turns", [1, 2, 3, -1])
def test_quarter_turns_equal_rot90(interpolation, turns):
    for dtype in (torch.uint8, torch.float64):
        x = _batch(dtype=dtype, size=16)
        out = F.affine(x, angle=90 * turns, interpolation=interpolation)
        assert torch.equal(out, torch.rot90(x, -turns, dims=(2, 3)))  # affine turns clockwise


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("tx, ty", [(3, -2), (-5, 4), (0, 7), (20, 0)])
def test_integer_translations_equal_a_shifted_copy_with_fill(interpolation, tx, ty):
    x = _batch(size=13)
    out = F.affine(x, translate=(tx, ty), interpolation=interpolation, fill=(10, 20, 30))
    expected = torch.tensor([10, 20, 30], dtype=torch.uint8).view(1, 3, 1, 1).repeat(3, 1, 13, 13)
    for y in range(13):
        for x_ in range(13):
            if 0 <= y - ty < 13 and 0 <= x_ - tx < 13:
                expected[:, :, y, x_] = x[:, :, y - ty, x_ - tx]
    assert torch.equal(out, expected)


def test_per_sample_parameters_equal_single_calls():
    x = _batch(n=4)
    angles, scales = [0.0, 15.0, -30.0, 90.0], [1.0, 0.8, 1.2, 1.0]
    translate = [[0, 0], [1.5, -2.0], [3, 3], [0, 1]]
    shear = [[0, 0], [5, 0], [0, -5], [10, 10]]
    out = F.affine(x, angles, translate, scales, shear, "bilinear")
    for i in range(4):
        assert torch.equal(out[i], F.affine(x[i], angles[i], translate[i], scales[i], shear[i],
                                            "bilinear"))


def test_flips_are_exact_on_every_kind():
    hwc = random_hwc(np.random.default_rng(1), 5, 7, "RGB")
    for kind in KINDS:
        img = as_kind(hwc, "RGB", kind)
        assert np.array_equal(to_hwc(F.hflip(img)), hwc[:, ::-1])
        assert np.array_equal(to_hwc(F.vflip(img)), hwc[::-1])
    batch = _batch()
    assert torch.equal(F.hflip(F.hflip(batch)), batch)


def test_erasing_touches_exactly_its_rectangle():
    x = _batch(n=2, size=10)
    out = F.erase(x, top=[1, 4], left=[2, 0], height=[3, 6], width=[4, 10], value=(7, 8, 9))
    changed = (out != x).any(dim=1)
    for i, (top, left, h, w) in enumerate([(1, 2, 3, 4), (4, 0, 6, 10)]):
        inside = torch.zeros(10, 10, dtype=torch.bool)
        inside[top:top + h, left:left + w] = True
        assert torch.equal(out[i][:, ~inside], x[i][:, ~inside])
        assert (out[i][:, inside] == torch.tensor([7, 8, 9], dtype=torch.uint8).view(3, 1)).all()
        assert not changed[i][~inside].any()


def test_resized_crop_output_size_and_content():
    x = torch.arange(64, dtype=torch.uint8).view(1, 1, 8, 8)
    crop = F.resized_crop(x, 2, 3, 4, 4, 4, "nearest")
    assert torch.equal(crop, x[:, :, 2:6, 3:7])
    assert F.resized_crop(x, 0, 0, 8, 8, (3, 5)).shape == (1, 1, 3, 5)
    pil = F.resize(Image.new("RGB", (30, 20)), (10, 12))
    assert pil.size == (12, 10) and pil.mode == "RGB"
    assert F.resize(np.zeros((20, 30), np.uint8), 8).shape == (8, 12)  # the shorter side


def test_rotation_is_clockwise_as_in_torchvision_affine():
    x = torch.zeros(1, 1, 5, 5, dtype=torch.uint8)
    x[0, 0, 2, 4] = 255  # right of the centre
    out = F.affine(x, angle=90)
    assert out[0, 0, 4, 2] == 255  # now below it


def test_shear_follows_torchvision_matrix():
    # torchvision: x' = x - tan(sx) * y about the centre for an x-shear alone
    x = torch.zeros(1, 1, 9, 9, dtype=torch.uint8)
    x[0, 0, 0, 4] = 255  # 4 rows above the centre
    out = F.affine(x, shear=(45, 0))
    assert out[0, 0, 0, 8] == 255  # moved right by tan(45) * 4


def test_float_path_is_differentiable():
    x = _batch(dtype=torch.float64).requires_grad_()
    out = F.affine(x, angle=17, translate=(0.5, -1.2), scale=1.1, interpolation="bilinear")
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("call, words", [
    (lambda x: F.affine(x, interpolation="cubic"), ["interpolation", "'cubic'"]),
    (lambda x: F.affine(x, scale=0), ["scale", "0.0"]),
    (lambda x: F.affine(x, angle=float("nan")), ["angle", "nan"]),
    (lambda x: F.affine(x, translate=(1, 2, 3)), ["translate", "3 values"]),
    (lambda x: F.affine(x, angle=[1, 2]), ["angle", "2 values", "batch of 3"]),
    (lambda x: F.affine(x, fill=300), ["fill", "300"]),
    (lambda x: F.rotate(x, 10 ** 400), ["angle", "too large", "finite"]),
    (lambda x: F.rotate(x, 30, fill=-1), ["fill", "-1"]),
    (lambda x: F.resized_crop(x, 0, 0, 4, 4, size=0), ["size", "0"]),
    (lambda x: F.erase(x, 0.5, 0, 2, 2), ["whole numbers"]),
    (lambda x: F.hflip(x.view(-1)), ["img", "(C, H, W)"]),
])
def test_bad_arguments_are_named(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call(_batch())
    assert all(word in str(info.value) for word in words), str(info.value)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_compiled_cpu_sampler_equals_the_torch_sampler(interpolation):
    """The uint8 CPU path (numba) and the tensor path (used on CUDA) agree bit for bit."""
    from augkit.functional.geometry import affine_matrices, warp

    rng = np.random.default_rng(5)
    x = torch.from_numpy(rng.integers(0, 256, (6, 3, 23, 31), dtype=np.uint8))
    angle = rng.uniform(-40, 40, 6)
    translate = rng.uniform(-4, 4, (6, 2))
    scale = rng.uniform(0.7, 1.4, 6)
    shear = rng.uniform(-10, 10, (6, 2))
    fill = (10.5, 200, 30)
    out = F.affine(x, angle, translate, scale, shear, interpolation, fill)
    inverse = np.linalg.inv(affine_matrices((23, 31), angle, translate, scale, shear))[:, :2]
    assert torch.equal(out, warp(x, torch.from_numpy(inverse), (23, 31), interpolation, fill))
    hwc = x[0].permute(1, 2, 0).numpy().copy()
    single = F.affine(hwc, angle[0], translate[0], scale[0], shear[0], interpolation, fill)
    assert np.array_equal(single, out[0].permute(1, 2, 0).numpy())

    top, left = rng.uniform(-2, 5, 6), rng.uniform(-2, 5, 6)
    height, width = rng.uniform(5, 20, 6), rng.uniform(5, 25, 6)
    crops = F.resized_crop(x, top, left, height, width, (17, 13), interpolation)
    inverse = np.zeros((6, 2, 3))
    inverse[:, 0, 0], inverse[:, 1, 1] = width / 13, height / 17
    inverse[:, 0, 2] = left + 0.5 * width / 13 - 0.5
    inverse[:, 1, 2] = top + 0.5 * height / 17 - 0.5
    expected = warp(x, torch.from_numpy(inverse), (17, 13), interpolation, border="edge")
    assert torch.equal(crops, expected)


# ---- bicubic ------------------------------------------------------------------------------


def _keys(d: float, a: float = -0.75) -> float:
    """The cubic convolution kernel (Keys 1981), textbook form."""
    d = abs(d)
    if d <= 1:
        return (a + 2) * d**3 - (a + 3) * d**2 + 1
    if d < 2:
        return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
    return 0.0


def _bicubic_reference(img: np.ndarray, sx: float, sy: float, border: str,
                       fill: float) -> np.ndarray:
    """One output pixel of a (C, H, W) float64 image, summed over the 4x4 neighbours."""
    _, h, w = img.shape
    total = np.zeros(img.shape[0])
    for iy in range(math.floor(sy) - 1, math.floor(sy) + 3):
        for ix in range(math.floor(sx) - 1, math.floor(sx) + 3):
            if border == "edge":
                value = img[:, min(max(iy, 0), h - 1), min(max(ix, 0), w - 1)]
            elif 0 <= iy < h and 0 <= ix < w:
                value = img[:, iy, ix]
            else:
                value = np.full(img.shape[0], fill)
            total += _keys(sx - ix) * _keys(sy - iy) * value
    return total


def _smooth(height: int = 20, width: int = 24) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.stack([0.5 + 0.4 * np.sin(0.35 * x + 0.2 * y + phase) * np.cos(0.25 * y)
                     for phase in (0.0, 1.0, 2.0)])


def _rotation_inverse(degrees: float, size: tuple[int, int], scale: float,
                      shift: tuple[float, float]) -> np.ndarray:
    """Output to input coordinates of a rotation and scale about the centre, then a shift."""
    h, w = size
    c, s = math.cos(math.radians(degrees)) / scale, math.sin(math.radians(degrees)) / scale
    cx, cy = (w - 1) / 2, (h - 1) / 2
    dx, dy = cx + shift[0], cy + shift[1]
    return np.array([[c, -s, cx - c * dx + s * dy], [s, c, cy - s * dx - c * dy]])


def test_bicubic_matches_an_independent_float64_reference():
    img = _smooth()
    inverse = _rotation_inverse(23.0, (20, 24), 0.85, (1.3, -0.7))
    out = warp(torch.from_numpy(img)[None], torch.from_numpy(inverse)[None], (18, 26),
               "bicubic", fill=0.25).numpy()[0]
    for y, x in [(0, 0), (3, 5), (9, 12), (17, 25), (11, 2), (5, 20)]:
        sx, sy = inverse @ (x, y, 1.0)
        expected = _bicubic_reference(img, sx, sy, "fill", 0.25)
        assert np.allclose(out[:, y, x], expected, atol=1e-12, rtol=0), (y, x)

    top, left, box_h, box_w = 2.3, -1.6, 11.5, 17.25
    crop = F.resized_crop(torch.from_numpy(img), top, left, box_h, box_w, (9, 14),
                          "bicubic").numpy()
    for y in range(9):
        for x in range(14):
            sx = left + (x + 0.5) * box_w / 14 - 0.5
            sy = top + (y + 0.5) * box_h / 9 - 0.5
            expected = _bicubic_reference(img, sx, sy, "edge", 0.0)
            assert np.allclose(crop[:, y, x], expected, atol=1e-12, rtol=0), (y, x)


@pytest.mark.parametrize("border, padding_mode", [("fill", "zeros"), ("edge", "border")])
def test_bicubic_equals_torch_grid_sample(border, padding_mode):
    """The same kernel (a = -0.75) and border rules as grid_sample's bicubic mode."""
    img = torch.from_numpy(_smooth())[None].repeat(2, 1, 1, 1)
    inverse = np.stack([_rotation_inverse(a, (20, 24), s, (0.4, 2.2))
                        for a, s in ((31.0, 1.3), (-12.0, 0.6))])
    out = warp(img, torch.from_numpy(inverse), (20, 24), "bicubic", fill=0, border=border)
    ys, xs = np.mgrid[0:20, 0:24].astype(np.float64)
    points = np.stack([xs, ys, np.ones_like(xs)], -1)
    source = np.einsum("nij,hwj->nhwi", inverse, points)
    grid = source * (2 / np.array([23.0, 19.0])) - 1  # align_corners=True
    expected = torch.nn.functional.grid_sample(img, torch.from_numpy(grid), mode="bicubic",
                                               padding_mode=padding_mode, align_corners=True)
    assert torch.allclose(out, expected, atol=1e-10, rtol=0)


def _rot90_inverse(turns: int, size: int) -> torch.Tensor:
    """Output to input coordinates of ``torch.rot90(x, turns, dims=(2, 3))`` on a square."""
    last = size - 1
    matrices = {1: [[0, -1, last], [1, 0, 0]], 2: [[-1, 0, last], [0, -1, last]],
                3: [[0, 1, 0], [-1, 0, last]]}
    return torch.tensor([matrices[turns % 4]], dtype=torch.float64)


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_bicubic_quarter_turns_and_shifts_are_exact(turns):
    x = _batch(n=1, size=16)
    expected = torch.rot90(x, turns, dims=(2, 3))
    inverse = _rot90_inverse(turns, 16)
    assert torch.equal(warp(x, inverse, (16, 16), "bicubic"), expected)
    cpu = warp_uint8(x.numpy(), True, inverse.numpy(), (16, 16), "bicubic",
                     np.zeros(3, np.float32), "fill")
    assert np.array_equal(cpu, expected.numpy())
    floats = x.double() / 255
    assert torch.equal(warp(floats, inverse, (16, 16), "bicubic"),
                       torch.rot90(floats, turns, dims=(2, 3)))
    # whatever direction affine's angle takes, a quarter turn is a rot90 with bicubic too
    out = F.affine(x, angle=90 * turns, interpolation="bicubic")
    assert torch.equal(out, F.affine(x, angle=90 * turns, interpolation="nearest"))
    assert torch.equal(out, expected) or torch.equal(out, torch.rot90(x, -turns, dims=(2, 3)))


def test_bicubic_uint8_rounds_and_clamps_and_floats_overshoot():
    step = torch.zeros(1, 1, 8, 8, dtype=torch.float64)
    step[..., 4:] = 1.0
    shift = torch.tensor([[[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]]], dtype=torch.float64)
    floats = warp(step, shift, (8, 8), "bicubic", border="edge")
    assert floats.min() < 0 and floats.max() > 1  # ringing is kept on floats
    as_uint8 = warp((step * 255).to(torch.uint8), shift, (8, 8), "bicubic", border="edge")
    expected = (floats * 255).round().clamp(0, 255).to(torch.uint8)
    assert torch.equal(as_uint8, expected)
    assert as_uint8.min() == 0 and as_uint8.max() == 255


def _random_inverses(rng: np.random.Generator, n: int, border: str) -> np.ndarray:
    """(n, 2, 3) warps that turn, shear, scale and shift; with the fill border the last one
    sends every position far outside (torch's edge border clamps an overflowed floor)."""
    inverse = np.zeros((n, 2, 3))
    inverse[:, :, :2] = rng.uniform(-1.5, 1.5, (n, 2, 2))
    inverse[:, 0, 0] += rng.uniform(0.2, 2.5, n)
    inverse[:, 1, 1] += rng.uniform(0.2, 2.5, n)
    inverse[:, :, 2] = rng.uniform(-6, 20, (n, 2))
    if border == "fill":
        inverse[n - 1, :, 2] = 1e20
    return inverse


def _assert_compiled_equals_torch(x: torch.Tensor, inverse: np.ndarray, interpolation: str,
                                  fill: np.ndarray, border: str) -> None:
    """``warp_uint8`` on planar and on interleaved copies of ``x`` gives torch's bytes."""
    expected = warp(x, torch.from_numpy(inverse), (23, 21), interpolation, fill, border)
    for planar in (True, False):
        images = x.numpy() if planar else np.ascontiguousarray(x.numpy().transpose(0, 2, 3, 1))
        out = warp_uint8(images, planar, inverse, (23, 21), interpolation, fill, border)
        out = out if planar else out.transpose(0, 3, 1, 2)
        assert np.array_equal(out, expected.numpy()), (tuple(x.shape), planar)


@pytest.mark.parametrize("border", ["fill", "edge"])
def test_compiled_bicubic_equals_torch_on_random_warps(border):
    rng = np.random.default_rng(11)
    x = torch.from_numpy(rng.integers(0, 256, (8, 4, 19, 27), dtype=np.uint8))
    x[:2] = x[:2] // 128 * 255  # hard edges: overshoot beyond 0 and 255
    inverse = _random_inverses(rng, 8, border)
    fill = np.array([0.0, 17.5, 255.0, 99.25], np.float32)
    _assert_compiled_equals_torch(x, inverse, "bicubic", fill, border)


@pytest.mark.parametrize("border", ["fill", "edge"])
def test_compiled_bilinear_equals_torch_on_random_warps(border):
    """Interleaved pixels read a window at a time, pixels half outside one by one, pixels
    wholly outside the fill: L, RGB, RGBA and six channels (four at a time), images from
    1x1, fractional fills, far-off positions."""
    rng = np.random.default_rng(12)
    for channels, (height, width) in ((1, (19, 27)), (3, (19, 27)), (4, (2, 3)),
                                      (6, (19, 27)), (3, (1, 1)), (1, (5, 1))):
        x = torch.from_numpy(rng.integers(0, 256, (4, channels, height, width),
                                          dtype=np.uint8))
        inverse = _random_inverses(rng, 4, border)
        fill = rng.uniform(0, 255, channels).astype(np.float32)
        _assert_compiled_equals_torch(x, inverse, "bilinear", fill, border)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_cuda_warp_equals_the_cpu_paths(interpolation):
    x = _batch(n=4, size=21)
    inverse = torch.from_numpy(np.stack([_rotation_inverse(a, (21, 21), s, (1.5, -0.5))
                                         for a, s in ((10, 1.0), (37, 0.7), (-80, 1.4),
                                                      (5, 2.0))]))
    cpu = warp(x, inverse, (21, 21), interpolation, fill=(1, 2, 3))
    compiled = warp_uint8(x.numpy(), True, inverse.numpy(), (21, 21), interpolation,
                          np.array([1, 2, 3], np.float32), "fill")
    assert np.array_equal(cpu.numpy(), compiled)
    cuda = warp(x.cuda(), inverse, (21, 21), interpolation, fill=(1, 2, 3))
    assert torch.equal(cuda.cpu(), cpu)
    floats = x.float() / 255
    assert torch.allclose(warp(floats.cuda(), inverse, (21, 21), interpolation).cpu(),
                          warp(floats, inverse, (21, 21), interpolation), atol=1e-6)


class _Mode(enum.Enum):
    """Like torchvision's InterpolationMode, without importing it."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    LANCZOS = "lanczos"


def test_interpolation_accepts_enums_and_any_case():
    assert check_interpolation(_Mode.BICUBIC) == "bicubic"
    assert check_interpolation("BiCubic") == "bicubic"
    assert check_interpolation("NEAREST") == "nearest"
    assert F.geometry._check_interpolation is check_interpolation
    x = _batch(n=2)
    expected = F.affine(x, angle=17, scale=0.9, interpolation="bicubic")
    assert torch.equal(F.affine(x, angle=17, scale=0.9, interpolation=_Mode.BICUBIC), expected)
    assert torch.equal(F.affine(x, angle=17, scale=0.9, interpolation="Bicubic"), expected)
    crop = F.resized_crop(x, 1, 2, 9, 8, 12, _Mode.BILINEAR)
    assert torch.equal(crop, F.resized_crop(x, 1, 2, 9, 8, 12, "bilinear"))
    assert torch.equal(F.resize(x.float(), 7, "BICUBIC"), F.resize(x.float(), 7, "bicubic"))


@pytest.mark.parametrize("value", [_Mode.LANCZOS, "lanczos", 2, None, enum.Enum("M", "A").A])
def test_bad_interpolations_are_refused_in_one_line(value):
    with pytest.raises(AugkitError) as info:
        F.affine(_batch(n=1), angle=3, interpolation=value)
    message = str(info.value)
    assert message.startswith("interpolation:") and "bicubic" in message
    assert "\n" not in message


def test_batched_nearest_sources_equal_pillows_row_by_row():
    """The tensor path's NEAREST sources (made on the image's device) against the per-row
    reproduction of Pillow's sampler, for rotations, shears and pure scale-and-shift rows."""
    from augkit.functional.pillow_sampling import affine_sources, affine_sources_batch

    rng = np.random.default_rng(5)
    data = rng.uniform(-2, 2, (12, 6)) * [1, 1, 20, 1, 1, 20]
    data[::3, 1] = data[::3, 3] = 0  # scale and shift: Pillow's float64 running sum
    data[1] = [0.5, 0.0, -3.25, 0.0, 0.5, 7.0]  # positions landing on .5 exactly
    for in_size, out_size in (((17, 23), (17, 23)), ((9, 30), (31, 6)), ((1, 1), (4, 5))):
        expected = np.stack([affine_sources(row, in_size, out_size) for row in data])
        got = affine_sources_batch(data, in_size, out_size)
        assert got.dtype == torch.long and np.array_equal(got.numpy(), expected)


def test_nearest_affine_gathers_equal_pillow_in_every_channel_count():
    """Pillow's NEAREST ``transform(AFFINE)`` against the 16-pixel gathers (1 to 4 channels,
    outputs 16 wide and more) and the per-pixel loop beside them (pure scales, narrow
    outputs): images down to 4 bytes, their last pixel sampled, fills per channel, and a
    batch mixing both kinds of map."""
    from augkit.functional.geometry import transform_nearest

    rng = np.random.default_rng(11)
    modes = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
    sizes = ((1, 4), (2, 2), (1, 1), (5, 3), (19, 33), (40, 17))
    for i in range(96):
        channels = i % 4 + 1
        height, width = sizes[i % len(sizes)]
        if height * width * channels < 4:
            height, width = 2, 2
        out_h, out_w = (int(v) for v in rng.integers(1, 40, 2))
        image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
        turn, scale = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 2.5)
        data = [np.cos(turn) * scale, np.sin(turn) * scale, rng.uniform(-width, 2 * width),
                -np.sin(turn) * scale, np.cos(turn) * scale, rng.uniform(-height, 2 * height)]
        if i % 7 == 0:  # the bottom-right pixel everywhere: the image's last bytes
            data = [0.001, 0.001, width - 0.5, 0.001, 0.001, height - 0.5]
        if i % 11 == 0:  # 16.16 positions past int32, which wrapped would land inside
            data = [0.0, 0.0, 65537.0, 0.001, 1.0, 0.0]
        fill = tuple(int(v) for v in rng.integers(0, 256, channels))
        pil = Image.fromarray(image[:, :, 0] if channels == 1 else image, modes[channels])
        expected = np.asarray(pil.transform((out_w, out_h), Image.Transform.AFFINE, data,
                                            Image.Resampling.NEAREST,
                                            fillcolor=fill[0] if channels == 1 else fill))
        got = transform_nearest(image, np.array([data]), list(fill), (out_h, out_w))
        assert np.array_equal(got.reshape(expected.shape), expected), (i, data)
    image = rng.integers(0, 256, (3, 21, 26), dtype=np.uint8)
    data = np.array([[0.9, 0.3, -2.0, -0.3, 0.9, 4.0], [1.5, 0.0, 1.0, 0.0, 0.7, -2.0]])
    batch = transform_nearest(torch.from_numpy(image).expand(2, -1, -1, -1), data, 7)
    for row, got in zip(data, batch, strict=True):
        pil = Image.fromarray(image.transpose(1, 2, 0))
        expected = pil.transform((26, 21), Image.Transform.AFFINE, list(row),
                                 Image.Resampling.NEAREST, fillcolor=(7, 7, 7))
        assert np.array_equal(got.permute(1, 2, 0).numpy(), np.asarray(expected))
