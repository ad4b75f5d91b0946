"""The conversion transforms: torchvision's shapes, dtypes and scaling, targets passed
unchanged in every call form, pipelines that save, bad input in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augkit.errors import AugkitError, AugkitTypeError
from augkit.transforms import (
    RGB,
    Compose,
    ConvertImageDtype,
    PILToTensor,
    RandomHorizontalFlip,
    ToImage,
    ToPILImage,
    ToPureTensor,
    ToTensor,
    from_dict,
)

RNG = np.random.default_rng(0)
HWC = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)


def test_to_image_and_pil_to_tensor_keep_values_and_dtype():
    for image in (HWC, Image.fromarray(HWC)):
        out = ToImage()(image)
        assert out.dtype == torch.uint8 and torch.equal(out, torch.from_numpy(HWC).permute(2, 0,
                                                                                         1))
    assert ToImage()(HWC[:, :, 0]).shape == (1, 5, 7)
    floats = RNG.random((4, 3)).astype(np.float32)
    assert torch.equal(ToImage()(floats)[0], torch.from_numpy(floats))
    tensor = torch.zeros(3, 2, 2)
    assert ToImage()(tensor) is tensor and PILToTensor()(tensor) is tensor
    palette = Image.fromarray(HWC).convert("P")
    assert torch.equal(PILToTensor()(palette)[0], torch.from_numpy(np.array(palette)))


def test_to_tensor_scales_uint8_and_keeps_other_dtypes():
    out = ToTensor()(Image.fromarray(HWC))
    assert out.dtype == torch.float32
    assert torch.equal(out, torch.from_numpy(HWC).permute(2, 0, 1).float() / 255)
    wide = RNG.integers(0, 1000, (3, 4)).astype(np.int32)
    assert ToTensor()(wide).dtype == torch.int32


def test_to_pil_image_truncates_floats_and_picks_the_mode_by_channels():
    floats = torch.tensor([[[0.0, 0.5, 0.999, 1.0]]])
    assert np.asarray(ToPILImage()(floats)).tolist() == [[0, 127, 254, 255]]
    assert ToPILImage()(torch.zeros(2, 3, 3, dtype=torch.uint8)).mode == "LA"
    pictures = ToPILImage()(torch.zeros(4, 4, 3, 3, dtype=torch.uint8))
    assert [p.mode for p in pictures] == ["RGBA"] * 4
    back = ToPILImage("RGB")(ToImage()(Image.fromarray(HWC)))
    assert np.array_equal(np.asarray(back), HWC)


def test_rgb_converts_any_pil_mode_and_repeats_one_channel():
    for mode in ("L", "P", "CMYK", "RGBA", "LA"):
        picture = Image.fromarray(HWC).convert(mode)
        assert np.array_equal(np.asarray(RGB()(picture)), np.asarray(picture.convert("RGB")))
    batch = torch.from_numpy(HWC[None, None, :, :, 0].copy()).expand(2, 1, 5, 7)
    assert RGB()(batch).shape == (2, 3, 5, 7)
    assert RGB()(torch.zeros(4, 2, 2)).shape == (4, 2, 2)  # three or more channels kept


def test_pure_tensor_drops_a_subclass():
    class Image_(torch.Tensor):
        pass

    out = ToPureTensor()(torch.zeros(3, 2, 2).as_subclass(Image_))
    assert type(out) is torch.Tensor


def test_targets_pass_in_every_call_form_and_pipelines_save():
    boxes = {"boxes": torch.tensor([[0.0, 0.0, 2.0, 2.0]]), "labels": torch.tensor([1])}
    image, target = ToImage()(HWC, boxes)
    assert image.shape == (3, 5, 7) and target is boxes
    out = ToTensor()(image=HWC, mask=HWC[:, :, 0])
    assert out["image"].dtype == torch.float32 and out["mask"] is not None
    pipeline = Compose([ToImage(), RandomHorizontalFlip(), ConvertImageDtype("float32")],
                       seed=0)
    out = pipeline(Image.fromarray(HWC))
    assert out.dtype == torch.float32 and out.max() <= 1
    rebuilt = from_dict(pipeline.to_dict())
    assert torch.equal(rebuilt(Image.fromarray(HWC)), out)


@pytest.mark.parametrize("call, error, message", [
    (lambda: ToPILImage(mode="CMYK"), AugkitError, "mode: 'CMYK' is not allowed"),
    (lambda: ToPILImage("L")(torch.zeros(3, 2, 2)), AugkitError,
     "mode: 'L' does not fit 3 channels"),
    (lambda: ToPILImage()(torch.zeros(5, 2, 2)), AugkitError, "mode: None does not fit 5"),
    (lambda: ToImage()("picture.png"), AugkitTypeError, "img: expected a PIL image"),
    (lambda: ToImage()(np.zeros((2, 2, 2, 2))), AugkitError, "img: numpy array of shape"),
    (lambda: ConvertImageDtype("complex"), AugkitError, "dtype: 'complex' is not allowed"),
])
def test_bad_input_is_one_line(call, error, message):
    with pytest.raises(error, match="^" + message) as info:
        call()
    assert "\n" not in str(info.value)
