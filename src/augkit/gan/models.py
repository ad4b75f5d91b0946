"""GAN generators and discriminators: the study log's ``reference`` model, ``dcgan`` and the
class-conditional ``cdcgan``.

Every generator maps ``(z, labels)`` to images in [-1, 1] of shape (N, C, H, W); every
discriminator maps ``(images, labels)`` to logits (``(N, 2)`` for ``reference``, ``(N,)``
otherwise). Unconditional models ignore the labels.

>>> import torch
>>> g, d = build_models("cdcgan", image_size=28, channels=1, num_classes=10)
>>> z, y = torch.randn(4, g.z_dim), torch.arange(4)
>>> d(g(z, y), y).shape
torch.Size([4])
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from augkit.errors import AugkitError

MODELS = ("reference", "dcgan", "cdcgan")
IMAGE_SIZES = (28, 32, 64)


# ---- the study log's model (reference-gan.md), layer for layer ----------------------------


class ReferenceGenerator(nn.Module):
    """The log's generator: two dense layers, then upsample + 5x5 conv twice; tanh throughout."""

    conditional = False

    def __init__(self, z_dim: int = 100):
        super().__init__()
        self.z_dim = z_dim
        self.fc1 = nn.Linear(z_dim, 1024)
        self.bn1 = nn.BatchNorm1d(1024)
        self.fc2 = nn.Linear(1024, 128 * 7 * 7)
        self.bn2 = nn.BatchNorm1d(128 * 7 * 7)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear")
        self.conv1 = nn.Conv2d(128, 64, 5, padding=2)
        self.bn3 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 1, 5, padding=2)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = torch.tanh(self.bn1(self.fc1(z)))                      # (N, 1024)
        x = torch.tanh(self.bn2(self.fc2(x))).view(-1, 128, 7, 7)  # (N, 128, 7, 7)
        x = torch.tanh(self.bn3(self.conv1(self.up(x))))           # (N, 64, 14, 14)
        return torch.tanh(self.conv2(self.up(x)))                  # (N, 1, 28, 28)


class ReferenceDiscriminator(nn.Module):
    """The log's discriminator: two 3x3 conv + max-pool blocks, two dense layers, and a
    softmax over (fake, real) that the loss then treats as logits (the log's double softmax)."""

    conditional = False

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 128, 3)
        self.bn2 = nn.BatchNorm2d(128)
        self.fc1 = nn.Linear(128 * 5 * 5, 1024)
        self.bn3 = nn.BatchNorm1d(1024)
        self.fc2 = nn.Linear(1024, 2)
        self.pool = nn.MaxPool2d(2)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.pool(torch.relu(self.bn1(self.conv1(images))))  # (N, 64, 13, 13)
        x = self.pool(torch.relu(self.bn2(self.conv2(x))))       # (N, 128, 5, 5)
        x = torch.relu(self.bn3(self.fc1(x.flatten(1))))         # (N, 1024)
        return torch.softmax(self.fc2(x), dim=1)                 # (N, 2): fake, real


# ---- DCGAN and its class-conditional version ------------------------------------------------


class MinibatchStd(nn.Module):
    """Append the mean standard deviation over the batch as one more channel, so that the
    discriminator can see a batch with no variety (the collapse a conditional GAN falls into)."""

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        group = min(self.group, n)
        while n % group:
            group -= 1
        y = x.view(group, -1, c, h, w)
        # the variance spelled out: Tensor.var over this leading dim is 8x slower on CPU
        deviation = y - y.mean(dim=0)
        y = (deviation.square().mean(dim=0) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (N / group,)
        y = y.view(-1, 1, 1, 1).repeat(group, 1, h, w)
        return torch.cat([x, y], dim=1)


class DCGenerator(nn.Module):
    """Dense projection to (4 * width, S/4, S/4), two stride-2 transposed convs, a 3x3 conv;
    with ``num_classes`` a label embedding is concatenated to z."""

    def __init__(self, image_size: int = 28, channels: int = 1, z_dim: int = 100,
                 width: int = 64, num_classes: int = 0):
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        self.conditional = num_classes > 0
        self.base = image_size // 4
        embed_dim = 32 if self.conditional else 0
        self.embed = nn.Embedding(num_classes, embed_dim) if self.conditional else None
        self.project = nn.Sequential(
            nn.Linear(z_dim + embed_dim, 4 * width * self.base * self.base, bias=False),
            nn.BatchNorm1d(4 * width * self.base * self.base), nn.ReLU(inplace=True))
        self.width = width
        self.body = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False),  # S/2
            nn.BatchNorm2d(2 * width), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),      # S
            nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, channels, 3, padding=1), nn.Tanh())

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            z = torch.cat([z, self.embed(labels)], dim=1)
        x = self.project(z).view(-1, 4 * self.width, self.base, self.base)
        return self.body(x)


class DCDiscriminator(nn.Module):
    """Two stride-2 convs and a 3x3 conv with LeakyReLU and a minibatch-std channel, then the
    whole S/4 x S/4 map (not a global average, which would judge texture only, not shape)
    into one logit; with ``num_classes`` a projection head adds ``<embed(label), features>``
    (Miyato and Koyama)."""

    def __init__(self, image_size: int = 28, channels: int = 1, width: int = 64,
                 num_classes: int = 0, spectral_norm: bool = True, classifier: bool = False):
        super().__init__()
        self.conditional = num_classes > 0
        wrap = _spectral_norm if spectral_norm else (lambda m: m)
        self.body = nn.Sequential(
            wrap(nn.Conv2d(channels, width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),   # S/2
            wrap(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),  # S/4
            MinibatchStd(),
            wrap(nn.Conv2d(2 * width + 1, 2 * width, 3, 1, 1)), nn.LeakyReLU(0.2, inplace=True),
            nn.Flatten())                                                    # (N, 2w * S/4 * S/4)
        features = 2 * width * (image_size // 4) ** 2
        self.linear = wrap(nn.Linear(features, 1))
        self.embed = wrap(nn.Embedding(num_classes, features)) if self.conditional else None
        # an auxiliary class head (AC-GAN): trained on real images, it pulls each generated
        # image towards its own class, which the projection term alone does slowly
        self.classify = (wrap(nn.Linear(features, num_classes))
                         if classifier and self.conditional else None)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None,
                with_classes: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Logits (N,); with ``with_classes`` also the class logits (N, K) of the aux head."""
        features = self.body(images)
        logits = self.linear(features).squeeze(1)
        if self.conditional:
            logits = logits + (self.embed(labels) * features).sum(dim=1)
        if with_classes:
            if self.classify is None:
                raise AugkitError("with_classes: this discriminator has no class head")
            return logits, self.classify(features)
        return logits


INITS = ("default", "dcgan")


def initialise(module: nn.Module, scheme: str) -> nn.Module:
    """``default`` keeps PyTorch's initialisation; ``dcgan`` draws conv and linear weights
    from N(0, 0.02) and batch-norm scales from N(1, 0.02), biases 0 (Radford et al.)."""
    if scheme not in INITS:
        raise AugkitError(f"init: {scheme!r} is not allowed; expected one of {', '.join(INITS)}")
    if scheme == "dcgan":
        for layer in module.modules():
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
                weight = getattr(layer, "weight_orig", None)
                if weight is None and hasattr(layer, "parametrizations"):
                    weight = layer.parametrizations.weight.original
                nn.init.normal_(weight if weight is not None else layer.weight, 0.0, 0.02)
                if getattr(layer, "bias", None) is not None:
                    nn.init.zeros_(layer.bias)
            elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
                nn.init.normal_(layer.weight, 1.0, 0.02)
                nn.init.zeros_(layer.bias)
    return module


def build_models(model: str, image_size: int = 28, channels: int = 1, num_classes: int = 10,
                 z_dim: int = 100, width: int = 64, spectral_norm: bool = True,
                 classifier: bool = False) -> tuple[nn.Module, nn.Module]:
    """Generator and discriminator for ``model``, freshly initialised."""
    if model not in MODELS:
        raise AugkitError(f"model: {model!r} is not allowed; expected one of {', '.join(MODELS)}")
    if image_size not in IMAGE_SIZES:
        raise AugkitError(f"image_size: {image_size} is not allowed; expected one of "
                          f"{', '.join(map(str, IMAGE_SIZES))}")
    if model == "reference":
        if image_size != 28 or channels != 1:
            raise AugkitError(f"model 'reference' is the study log's 28x28 gray model; got "
                              f"{image_size}x{image_size} with {channels} channel(s) (use dcgan "
                              "or cdcgan)")
        return ReferenceGenerator(z_dim), ReferenceDiscriminator()
    classes = num_classes if model == "cdcgan" else 0
    generator = DCGenerator(image_size, channels, z_dim, width, classes)
    discriminator = DCDiscriminator(image_size, channels, width, classes, spectral_norm,
                                    classifier)
    return generator, discriminator
