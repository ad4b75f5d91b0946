"""Random transforms: draw per-sample parameters, then call ``augkit.functional`` kernels."""

from augkit.transforms.auto import AugMix, AutoAugment, RandAugment, TrivialAugmentWide
from augkit.transforms.base import REGISTRY, Transform
from augkit.transforms.color import (
    ColorJitter,
    RandomBrightness,
    RandomColor,
    RandomContrast,
    RandomEnhance,
    RandomPhotometricDistort,
    RandomSharpness,
)
from augkit.transforms.columns import column_transform
from augkit.transforms.container import Compose, RandomApply, RandomChoice, RandomOrder
from augkit.transforms.convert import (
    RGB,
    ConvertImageDtype,
    PILToTensor,
    ToImage,
    ToPILImage,
    ToPureTensor,
    ToTensor,
)
from augkit.transforms.crop import (
    CenterCrop,
    FiveCrop,
    Normalize,
    Pad,
    RandomCrop,
    RandomZoomOut,
    TenCrop,
    ToDtype,
)
from augkit.transforms.geometry import (
    RandomAffine,
    RandomErasing,
    RandomHorizontalFlip,
    RandomPerspective,
    RandomResizedCrop,
    RandomVerticalFlip,
)
from augkit.transforms.imageops import (
    Grayscale,
    RandomAutocontrast,
    RandomEqualize,
    RandomGrayscale,
    RandomInvert,
    RandomPosterize,
    RandomSolarize,
)
from augkit.transforms.misc import (
    JPEG,
    Identity,
    Lambda,
    RandomAdjustSharpness,
    RandomChannelPermutation,
    RandomRotation,
)
from augkit.transforms.mixing import CutMix, MixUp
from augkit.transforms.noise import GaussianBlur, GaussianNoise
from augkit.transforms.resize import RandomResize, RandomShortestSize, Resize, ScaleJitter
from augkit.transforms.serialization import from_dict, load, save, to_json, to_yaml
from augkit.transforms.targets import TargetOptions

__all__ = [
    "JPEG",
    "REGISTRY",
    "RGB",
    "AugMix",
    "AutoAugment",
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "ConvertImageDtype",
    "CutMix",
    "FiveCrop",
    "GaussianBlur",
    "GaussianNoise",
    "Grayscale",
    "Identity",
    "Lambda",
    "MixUp",
    "Normalize",
    "PILToTensor",
    "Pad",
    "RandAugment",
    "RandomAdjustSharpness",
    "RandomAffine",
    "RandomApply",
    "RandomAutocontrast",
    "RandomBrightness",
    "RandomChannelPermutation",
    "RandomChoice",
    "RandomColor",
    "RandomContrast",
    "RandomCrop",
    "RandomEnhance",
    "RandomEqualize",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomInvert",
    "RandomOrder",
    "RandomPerspective",
    "RandomPhotometricDistort",
    "RandomPosterize",
    "RandomResize",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomSharpness",
    "RandomShortestSize",
    "RandomSolarize",
    "RandomVerticalFlip",
    "RandomZoomOut",
    "Resize",
    "ScaleJitter",
    "TargetOptions",
    "TenCrop",
    "ToDtype",
    "ToImage",
    "ToPILImage",
    "ToPureTensor",
    "ToTensor",
    "Transform",
    "TrivialAugmentWide",
    "column_transform",
    "from_dict",
    "load",
    "save",
    "to_json",
    "to_yaml",
]
