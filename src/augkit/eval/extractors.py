"""What turns images into the feature vectors the metrics compare: ``features=`` of evaluate.

- ``"auto"``: the reference's own feature net when it is labeled; for an unlabeled reference
  of 1x28x28 images the shipped MNIST net; otherwise an error asking for one of the others.
- ``"mnist"``: the shipped MNIST feature net (1x28x28 images).
- a labeled dataset path: that dataset's feature net (trained on first use and cached).
- ``"inception"``: Inception-v3 pool features (2048) from torch-fidelity or clean-fid, so that
  FID and KID are comparable with published numbers; their weights are never downloaded
  here, only used when already in their cache.

Only a net trained on the reference's own labels has a classifier head for its classes, so
label accuracy and class coverage need one (``classes_of`` names the dataset it was trained on).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from augkit.data import to_nchw, to_nhwc
from augkit.errors import AugkitError
from augkit.eval.features import MNIST_NET, load_net, predict
from augkit.eval.reference import Reference, load_reference
from augkit.progress import progress_bar
from augkit.seeding import seeded

MNIST_SHAPE = (1, 28, 28)
INCEPTION_BATCH = 100
TORCH_FIDELITY_URL = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                      "weights-inception-2015-12-05-6726825d.pth")
CLEANFID_WEIGHTS = Path("/tmp/inception-2015-12-05.pt")  # where clean-fid keeps them on Linux


@dataclass
class Extractor:
    """Images to float64 features (N, D) on the CPU, and predicted labels when it classifies."""

    name: str                 # for the report
    key: str                  # part of the real floor's cache key
    classes_of: str | None    # key of the dataset whose classes the head predicts; None: no head
    embed: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.embed(images)


def _net_extractor(net: torch.nn.Module, name: str, key: str, device: str) -> Extractor:
    net.to(device)
    return Extractor(name, key, key, lambda images: predict(net, images))


def _fits(shape: tuple[int, ...], wanted: tuple[int, ...], what: str) -> None:
    if tuple(shape) != tuple(wanted):
        raise AugkitError(f"features: {what} takes {wanted[1]}x{wanted[2]} images with "
                          f"{wanted[0]} channel(s); the reference has {shape[1]}x{shape[2]} "
                          f"with {shape[0]} channel(s)")


def choose_features(features: str | Path, reference: Reference, device: str = "cpu",
                    progress: bool = True) -> Extractor:
    """The extractor ``features`` names (see the module docstring), on ``device``."""
    spec = str(features)
    if spec == "auto" and reference.labeled:
        return _net_extractor(reference.feature_net(progress=progress),
                              "the reference's own feature net", reference.key, device)
    if spec == "auto" and reference.image_shape != MNIST_SHAPE:
        c, h, w = reference.image_shape
        raise AugkitError(f"features: the reference {reference.name} has no labels to train a "
                          f"feature net on, and its {h}x{w} images with {c} channel(s) do not "
                          "fit the shipped MNIST net; pass features= a labeled dataset path or "
                          "'inception'")
    if spec in ("auto", "mnist"):
        _fits(reference.image_shape, MNIST_SHAPE, "the shipped MNIST net")
        return _net_extractor(load_net(MNIST_NET)[0], "the shipped MNIST feature net", "mnist",
                              device)
    if spec == "inception":
        return inception_extractor(reference.image_shape, device, progress)
    if not Path(spec).exists():
        raise AugkitError(f"features: {spec!r} is neither 'auto', 'mnist', 'inception' nor an "
                          "existing dataset path")
    other = load_reference(spec)
    if other.key == reference.key:
        other = reference
    if not other.labeled:
        raise AugkitError(f"features: {spec} has no labels; a feature net is trained on a "
                          "labeled dataset")
    _fits(reference.image_shape, other.image_shape, f"the feature net of {spec}")
    return _net_extractor(other.feature_net(progress=progress), f"the feature net of {spec}",
                          other.key, device)


def _three_channels(images: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    return images.expand(-1, 3, -1, -1) if shape[0] == 1 else images


def _batched(images: torch.Tensor, run: Callable[[torch.Tensor], torch.Tensor], progress: bool
             ) -> tuple[torch.Tensor, None]:
    starts = range(0, len(images), INCEPTION_BATCH)
    with torch.no_grad():
        parts = [run(images[i:i + INCEPTION_BATCH]).cpu().to(torch.float64)
                 for i in progress_bar(starts, desc="inception", disable=not progress,
                                       unit="batch")]
    return (torch.cat(parts) if parts else torch.zeros(0, 2048, dtype=torch.float64)), None


def _torch_fidelity_weights() -> Path:
    module = sys.modules.get("torch_fidelity.feature_extractor_inceptionv3")
    url = getattr(module, "URL_INCEPTION_V3", TORCH_FIDELITY_URL)
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def _torch_fidelity(weights: Path, shape: tuple[int, int, int], device: str,
                    progress: bool) -> Extractor:
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    with seeded(0):  # building the layers draws from the global generator
        model = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                            feature_extractor_weights_path=str(weights))
    model.to(device)

    # uint8 in, resized to 299 inside with its TensorFlow-compatible bilinear resize
    def run(batch: torch.Tensor) -> torch.Tensor:
        return model(_three_channels(batch, shape).contiguous().to(device))[0]

    return Extractor("Inception-v3 pool features (torch-fidelity)", "inception-tf", None,
                     lambda images: _batched(images, run, progress))


def _cleanfid(shape: tuple[int, int, int], device: str, progress: bool) -> Extractor:
    from cleanfid.features import build_feature_extractor
    from cleanfid.resize import build_resizer

    with seeded(0):
        model = build_feature_extractor("clean", device=torch.device(device),
                                        use_dataparallel=False)
    resize = build_resizer("clean")  # PIL bicubic to 299x299, float [0, 255], as clean-fid does

    def run(batch: torch.Tensor) -> torch.Tensor:
        arrays = to_nhwc(_three_channels(batch, shape))
        resized = np.stack([resize(image) for image in arrays])
        return model(to_nchw(resized).to(device))

    return Extractor("Inception-v3 pool features (clean-fid)", "inception-clean", None,
                     lambda images: _batched(images, run, progress))


def inception_extractor(shape: tuple[int, int, int], device: str = "cpu",
                        progress: bool = True) -> Extractor:
    """Inception-v3 pool features from torch-fidelity, else clean-fid, with weights on disk."""
    if shape[0] not in (1, 3):
        raise AugkitError(f"features: inception takes 1- or 3-channel images; the reference has "
                          f"{shape[0]} channels")
    found = []
    try:
        import torch_fidelity  # noqa: F401
    except ImportError:
        pass
    else:
        weights = _torch_fidelity_weights()
        if weights.exists():
            return _torch_fidelity(weights, shape, device, progress)
        found.append(f"torch-fidelity is installed but its weights are not at {weights}")
    try:
        import cleanfid  # noqa: F401
    except ImportError:
        pass
    else:
        if CLEANFID_WEIGHTS.exists():
            return _cleanfid(shape, device, progress)
        found.append(f"clean-fid is installed but its weights are not at {CLEANFID_WEIGHTS}")
    raise AugkitError("features: inception needs torch-fidelity and its Inception weights "
                      "(pip install torch-fidelity; the weights are downloaded on first use, "
                      f"with internet, to {_torch_fidelity_weights()}) or clean-fid (weights in "
                      f"{CLEANFID_WEIGHTS}); "
                      + ("; ".join(found) if found else "neither package was found here"))


__all__ = ["Extractor", "choose_features", "inception_extractor"]
