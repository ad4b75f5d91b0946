"""The call forms with targets: albumentations' keywords, torchvision's (img, target), batches,
lists, replay, pipelines saved to YAML, Hugging Face datasets and tv_tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augkit.errors import AugkitError
from augkit.transforms import (
    Compose,
    GaussianNoise,
    RandomAffine,
    RandomBrightness,
    RandomEnhance,
    RandomHorizontalFlip,
    RandomResizedCrop,
    column_transform,
    from_dict,
    to_yaml,
)
from augkit.transforms.serialization import yaml


def _scene(height: int = 20, width: int = 30):
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    mask = np.zeros((height, width), np.uint8)
    mask[4:10, 3:9] = 2
    boxes = np.array([[3.0, 4.0, 9.0, 10.0], [20.0, 12.0, 29.0, 19.0]])
    return image, mask, boxes


def test_keywords_return_the_same_keys_and_move_everything_together():
    image, mask, boxes = _scene()
    flip = RandomHorizontalFlip(p=1.0)
    out = flip(image=image, mask=mask, boxes=boxes, labels=np.array([1, 2]),
               keypoints=np.array([[3.5, 4.5]]))
    assert set(out) == {"image", "mask", "boxes", "labels", "keypoints", "keypoints_visible"}
    assert np.array_equal(out["image"], image[:, ::-1]) and np.array_equal(out["mask"],
                                                                            mask[:, ::-1])
    assert np.allclose(out["boxes"], [[21, 4, 27, 10], [1, 12, 10, 19]])
    assert np.allclose(out["keypoints"], [[26.5, 4.5]]) and out["keypoints_visible"].all()
    assert out["labels"].tolist() == [1, 2]


@pytest.mark.parametrize("box_format, given", [
    ("xywh", [[3, 4, 6, 6]]),
    ("cxcywh", [[6, 7, 6, 6]]),
    ("xyxyn", [[3 / 30, 4 / 20, 9 / 30, 10 / 20]]),
    ("cxcywhn", [[6 / 30, 7 / 20, 6 / 30, 6 / 20]]),
])
def test_box_formats_are_read_and_written_in_their_own_format(box_format, given):
    image, _, _ = _scene()
    flip = RandomHorizontalFlip(p=1.0)
    out = flip(image=image, boxes=np.array(given), box_format=box_format)
    back = flip(image=out["image"], boxes=out["boxes"], box_format=box_format)
    assert np.allclose(back["boxes"], given)
    xyxy = flip(image=image, boxes=np.array([[3.0, 4, 9, 10]]))["boxes"]
    assert np.allclose(xyxy, [[21, 4, 27, 10]])


def test_boxes_that_leave_the_image_are_dropped_with_their_labels():
    image, _, boxes = _scene()
    shift = RandomAffine(translate=(0.5, 0.0), seed=0)
    shift.make_params = lambda n, g: {"angle": torch.zeros(n, dtype=torch.float64),
                                      "translate": torch.tensor([[-0.45, 0.0]] * n),
                                      "scale": torch.ones(n, dtype=torch.float64),
                                      "shear": torch.zeros(n, 2, dtype=torch.float64)}
    out = shift(image=image, boxes=boxes, labels=[7, 8])
    assert out["labels"] == [8] and np.allclose(out["boxes"], [[6.5, 12, 15.5, 19]])
    half = shift(image=image, boxes=np.array([[10.0, 0, 20, 5]]), labels=[1], min_visibility=0.7)
    assert half["labels"] == []  # 6.5 of its 10 pixels of width are left: below 0.7
    kept = shift(image=image, boxes=np.array([[10.0, 0, 20, 5]]), labels=[1], min_area=10)
    assert kept["labels"] == [1] and np.allclose(kept["boxes"], [[0, 0, 6.5, 5]])


@pytest.mark.parametrize("rule", ["keep", "flag", "drop"])
def test_keypoints_that_leave_the_image_follow_the_rule(rule):
    image, _, _ = _scene()
    points = np.array([[1.0, 1.0, 2.0], [15.0, 10.0, 2.0]])
    crop = RandomResizedCrop((20, 30), scale=(0.25, 0.25), ratio=(1.5, 1.5), antialias=False,
                             seed=0)
    crop.make_params = lambda n, g: {"area": torch.full((n,), 0.25, dtype=torch.float64),
                                     "log_ratio": torch.full((n,), np.log(1.5),
                                                             dtype=torch.float64),
                                     "y": torch.full((n,), 0.5, dtype=torch.float64),
                                     "x": torch.full((n,), 0.5, dtype=torch.float64)}
    out = crop(image=image, keypoints=points, outside_keypoints=rule)
    if rule == "drop":
        assert len(out["keypoints"]) == 1
    else:
        assert len(out["keypoints"]) == 2
        assert out["keypoints"][0, 2] == (0 if rule == "flag" else 2)
    assert np.allclose(out["keypoints"][-1, :2], [15.0, 10.0])  # the centre stays the centre


def test_torchvision_form_with_a_detection_style_dataset():
    image, mask, boxes = _scene()

    class Detection(torch.utils.data.Dataset):
        def __init__(self, transforms):
            self.transforms = transforms

        def __len__(self):
            return 4

        def __getitem__(self, index):
            img = torch.from_numpy(image).permute(2, 0, 1)
            target = {"boxes": torch.tensor(boxes, dtype=torch.float32),
                      "labels": torch.tensor([1, 2]), "masks": torch.from_numpy(mask)[None],
                      "image_id": index}
            return self.transforms(img, target)

    pipeline = Compose([RandomHorizontalFlip(), RandomAffine(10, scale=(0.9, 1.1)),
                        RandomBrightness(0.2)], seed=0)
    for index in range(4):
        img, target = Detection(pipeline)[index]
        assert img.shape == (3, 20, 30) and target["image_id"] == index
        assert target["boxes"].dtype == torch.float32 and target["masks"].shape == (1, 20, 30)
        assert len(target["labels"]) == len(target["boxes"])
        assert set(target["masks"].unique().tolist()) <= {0, 2}


def test_chained_like_torchvision_compose_and_a_lambda_step():
    image, mask, _ = _scene()
    img = torch.from_numpy(image).permute(2, 0, 1)
    steps = [RandomHorizontalFlip(p=1.0), RandomEnhance(seed=0)]
    inputs = (img, {"masks": torch.from_numpy(mask)[None]})
    for step in steps:  # what torchvision's v2.Compose does
        inputs = step(*inputs)
    assert torch.equal(inputs[1]["masks"][0], torch.from_numpy(mask).flip(-1))
    with_lambda = Compose([RandomHorizontalFlip(p=1.0), lambda x: x // 2])
    out = with_lambda(image=img, mask=torch.from_numpy(mask))
    assert torch.equal(out["image"], img.flip(-1) // 2)
    assert torch.equal(out["mask"], torch.from_numpy(mask).flip(-1))
    with pytest.raises(AugkitError, match="plain callable"):
        with_lambda.to_dict()


def test_a_batch_gives_each_sample_and_its_targets_their_own_parameters():
    image, mask, boxes = _scene()
    batch = torch.from_numpy(np.stack([image] * 6)).permute(0, 3, 1, 2)
    masks = torch.from_numpy(np.stack([mask] * 6))
    pipeline = Compose([RandomAffine(30, translate=(0.1, 0.1)), GaussianNoise(),
                        RandomHorizontalFlip()], seed=3)
    out = pipeline(image=batch, mask=masks, boxes=[boxes] * 6, labels=[[1, 2]] * 6)
    drawn = pipeline.last_params
    for i in range(6):
        one = {k: v for k, v in drawn.items()}
        one = _select(drawn, i)
        alone = pipeline(image=batch[i], mask=masks[i], boxes=boxes, labels=[1, 2], params=one)
        assert torch.equal(alone["image"], out["image"][i])
        assert torch.equal(alone["mask"], out["mask"][i])
        assert np.allclose(alone["boxes"], out["boxes"][i])
    assert len({out["boxes"][i][0, 0].item() for i in range(6)}) > 1


def _select(params, i):
    if isinstance(params, torch.Tensor):
        return params[i:i + 1]
    if isinstance(params, dict):
        return {k: _select(v, i) for k, v in params.items()}
    if isinstance(params, list):
        return [_select(v, i) for v in params]
    return params


def test_replay_and_yaml_pipelines_work_with_targets():
    image, mask, _ = _scene()
    pipeline = Compose([RandomResizedCrop((16, 16), scale=(0.5, 1.0)), RandomAffine(15)],
                       box_format="xywh", min_area=2.0, seed=4)
    xywh = np.array([[3.0, 4, 6, 6]])
    first = pipeline(image=image, mask=mask, boxes=xywh)
    again = pipeline(image=image, mask=mask, boxes=xywh, params=pipeline.last_params)
    assert np.array_equal(first["mask"], again["mask"])
    assert np.allclose(first["boxes"], again["boxes"])
    rebuilt = from_dict(yaml.safe_load(to_yaml(pipeline)))
    assert rebuilt.target_options() == pipeline.target_options()
    third = rebuilt(image=image, mask=mask, boxes=xywh, params=pipeline.last_params)
    assert np.allclose(first["boxes"], third["boxes"])


def test_photometric_ops_leave_masks_untouched():
    image, mask, boxes = _scene()
    pipeline = Compose([RandomEnhance(), GaussianNoise(std=0.2)], seed=0)
    out = pipeline(image=image, mask=mask, boxes=boxes)
    assert np.array_equal(out["mask"], mask) and np.array_equal(out["boxes"], boxes)
    assert not np.array_equal(out["image"], image)


def test_every_input_kind():
    image, mask, _ = _scene()
    flip = RandomHorizontalFlip(p=1.0)
    nhwc = np.stack([image, image[::-1]])
    assert np.array_equal(flip(nhwc), nhwc[:, :, ::-1])
    pils = [Image.fromarray(image), Image.fromarray(image[:10, :12])]
    out = flip(pils)
    assert isinstance(out, list) and out[1].size == (12, 10)
    assert np.array_equal(np.asarray(out[0]), image[:, ::-1])
    five = torch.rand(2, 5, 8, 8)
    assert torch.equal(RandomAffine(degrees=(90, 90))(five), five.rot90(-1, dims=(2, 3)))
    pil_mask = Image.fromarray(mask, mode="L").convert("P")
    pil_mask.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * 759)
    result = flip(image=Image.fromarray(image), mask=pil_mask)
    assert result["mask"].mode == "P" and result["mask"].getpalette()[3:6] == [255, 0, 0]
    assert np.array_equal(np.asarray(result["mask"]), mask[:, ::-1])
    crops = RandomResizedCrop(8, seed=0)(pils)
    assert [c.size for c in crops] == [(8, 8), (8, 8)]


def test_hugging_face_datasets_with_transform():
    datasets = pytest.importorskip("datasets")
    image, mask, _ = _scene()
    table = datasets.Dataset.from_dict({"image": [Image.fromarray(image)] * 3,
                                        "label": [Image.fromarray(mask)] * 3, "id": [0, 1, 2]})
    table = table.cast_column("image", datasets.Image()).cast_column("label", datasets.Image())
    flipped = table.with_transform(column_transform(RandomHorizontalFlip(p=1.0), mask="label"))
    rows = flipped[:2]
    assert rows["id"] == [0, 1]
    assert np.array_equal(np.asarray(rows["image"][0]), image[:, ::-1])
    assert np.array_equal(np.asarray(rows["label"][1]), mask[:, ::-1])


class _TvTensor(torch.Tensor):
    """A stand-in for torchvision's tv_tensors (a Tensor subclass with metadata)."""

    __module__ = "torchvision.tv_tensors._stand_in"

    @staticmethod
    def __new__(cls, data, format=None, canvas_size=None):
        tensor = torch.Tensor._make_subclass(cls, torch.as_tensor(data))
        tensor.format, tensor.canvas_size = format, canvas_size
        return tensor


class BoundingBoxes(_TvTensor):
    __module__ = "torchvision.tv_tensors._stand_in"


class Mask(_TvTensor):
    __module__ = "torchvision.tv_tensors._stand_in"


def test_torchvision_tv_tensors_come_back_as_such():
    image, mask, _ = _scene()
    boxes = BoundingBoxes(torch.tensor([[6.0, 7, 6, 6]]), format="CXCYWH", canvas_size=(20, 30))
    _, target = RandomResizedCrop((10, 15), scale=(1, 1), ratio=(1.5, 1.5))(
        torch.from_numpy(image).permute(2, 0, 1), {"boxes": boxes, "masks": Mask(mask[None])})
    assert type(target["boxes"]) is BoundingBoxes and target["boxes"].canvas_size == (10, 15)
    assert target["boxes"].format == "CXCYWH"
    assert torch.allclose(target["boxes"], torch.tensor([[3.0, 3.5, 3, 3]]))
    assert type(target["masks"]) is Mask and target["masks"].shape == (1, 10, 15)


@pytest.mark.parametrize("call, words", [
    (lambda t, i, m: t(image=i, mask=m[:10]), ["mask", "(10, 30)", "20 x 30"]),
    (lambda t, i, m: t(image=i, boxes=[[0, 0, 40, 5]]), ["boxes", "box 0", "30 x 20"]),
    (lambda t, i, m: t(image=i, boxes=[[0, 0, 4, 5]], box_format="yolo"),
     ["box_format", "'yolo'", "cxcywh"]),
    (lambda t, i, m: t(image=i, boxes=[[0, 0, 4]]), ["boxes", "(1, 3)", "(K, 4)"]),
    (lambda t, i, m: t(image=i, boxes=[[0, 0, 4, 5]], labels=[1, 2]), ["labels", "2 values"]),
    (lambda t, i, m: t(image=i, mask=m.astype(np.float32)), ["mask", "float32", "integer"]),
    (lambda t, i, m: t(image=i, maks=m), ["maks", "not a target"]),
    (lambda t, i, m: t(i, {"applied": torch.ones(1, dtype=torch.bool)}), ["params=", "keyword"]),
    (lambda t, i, m: t(i, 3), ["target", "dict"]),
    (lambda t, i, m: t(image=[i, i], mask=m), ["mask", "list of 2"]),
    (lambda t, i, m: RandomBrightness()(np.zeros((8, 8, 5), np.uint8)), ["img", "5 channels",
                                                                          "brightness"]),
    (lambda t, i, m: RandomBrightness()(torch.full((3, 4, 4), 2.0)), ["img", "[2, 2]",
                                                                       "[0, 1]"]),
    (lambda t, i, m: GaussianNoise()(torch.full((3, 4, 4), -0.5)), ["img", "[-0.5", "[0, 1]"]),
])
def test_bad_calls_are_one_line_naming_the_argument(call, words):
    image, mask, _ = _scene()
    with pytest.raises((ValueError, TypeError)) as info:
        call(RandomHorizontalFlip(p=1.0), image, mask)
    message = str(info.value)
    assert "\n" not in message and all(word in message for word in words), message


def _recognisable(original: np.ndarray, out: np.ndarray) -> bool:
    """Correlation of at least 0.95 with the photo or its mirror (brightness and contrast
    changes keep it near 1; the study log's colour and sharpness ranges do not)."""
    a = original.astype(np.float64).ravel()
    scores = [np.corrcoef(a, candidate.astype(np.float64).ravel())[0, 1]
              for candidate in (out, out[:, ::-1])]
    return max(scores) >= 0.95


def test_the_photo_preset_leaves_the_bundled_photos_recognisable_and_the_log_does_not():
    from augkit.data import load_photos
    from augkit.transforms.presets import photo, study_log

    photos = [np.asarray(p) for p in load_photos()]
    mild, strong = photo().reseed(0), study_log().reseed(0)
    for original in photos:
        assert all(_recognisable(original, mild(original)) for _ in range(8))
    assert sum(not _recognisable(p, strong(p)) for p in photos for _ in range(4)) >= 6


def test_the_command_line_picks_the_preset_by_channel_count(tmp_path):
    import json

    from augkit.cli import main

    for name, image, preset in (("gray", np.zeros((8, 8), np.uint8), "RandomEnhance"),
                                ("rgb", np.zeros((8, 8, 3), np.uint8), "RandomHorizontalFlip")):
        src = tmp_path / name / "a"
        src.mkdir(parents=True)
        Image.fromarray(image).save(src / "x.png")
        dst = tmp_path / f"{name}-out"
        assert main(["augment", str(src.parent), str(dst), "--quiet"]) == 0
        config = json.loads((dst / "augkit-run.json").read_text())["config"]["pipeline"]
        kinds = [step["type"] for step in config["transforms"]]
        assert preset in kinds and (name == "gray") == ("RandomAffine" in kinds)


@pytest.mark.parametrize("call, words", [
    (lambda: Compose([], min_area=-1), ["min_area", "-1"]),
    (lambda: Compose([], min_visibility=2), ["min_visibility", "[0, 1]"]),
    (lambda: Compose([], outside_keypoints="hide"), ["outside_keypoints", "'hide'"]),
    (lambda: RandomHorizontalFlip()(image=np.zeros((4, 4), np.uint8), keypoints=[[1, 1]],
                                    keypoints_visible=[True, False]),
     ["keypoints_visible", "2 flags", "1 keypoints"]),
    (lambda: column_transform(RandomHorizontalFlip(), label="x"), ["label", "not a target"]),
    (lambda: column_transform(RandomHorizontalFlip())({"img": []}), ["image", "no such column"]),
])
def test_bad_target_options_are_one_line(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert "\n" not in str(info.value) and all(w in str(info.value) for w in words), info.value


PRESET_NAMES = ["study-log", "small-jitter", "digits", "photo", "strong", "strong-wide",
                "weak-photo", "strong-photo"]


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_draws_per_sample_and_round_trips(name):
    from augkit.transforms import from_dict
    from augkit.transforms.presets import PRESETS

    assert sorted(PRESETS) == sorted(PRESET_NAMES)
    pipeline = PRESETS[name]().reseed(3)
    batch = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (6, 3, 24, 24),
                                                               dtype=np.uint8))
    out = pipeline(batch)
    assert out.shape == batch.shape and out.dtype == torch.uint8
    assert len({bytes(image.numpy()) for image in out}) == len(out)
    rebuilt = from_dict(yaml.safe_load(yaml.safe_dump(pipeline.to_dict())))
    assert torch.equal(rebuilt(batch, params=pipeline.last_params), out)
