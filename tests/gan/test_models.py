"""GAN building blocks: the log's model layer by layer, the DCGANs, losses, EMA, DiffAugment."""

from __future__ import annotations

import pytest
import torch

from augkit.gan import EMA, build_models, d_loss_fake, d_loss_real, diff_augment, g_loss
from augkit.gan.losses import check_loss, gradient_penalty, mode_seeking_penalty
from augkit.gan.models import MinibatchStd


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_reference_model_is_the_logs_layer_for_layer():
    g, d = build_models("reference")
    # Linear 100-1024, BN, Linear 1024-6272, BN, conv 128-64 5x5, BN, conv 64-1 5x5
    assert _count(g) == (100 * 1024 + 1024) + 2 * 1024 + (1024 * 6272 + 6272) + 2 * 6272 \
        + (128 * 64 * 25 + 64) + 2 * 64 + (64 * 25 + 1) == 6_753_409
    # conv 1-64 3x3, BN, conv 64-128 3x3, BN, Linear 3200-1024, BN, Linear 1024-2
    assert _count(d) == (9 * 64 + 64) + 128 + (64 * 128 * 9 + 128) + 256 \
        + (3200 * 1024 + 1024) + 2048 + (1024 * 2 + 2) == 3_356_802
    shapes = {}
    hooks = [m.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, o.shape))
             for name, m in list(g.named_children()) + [("d." + n, m)
                                                        for n, m in d.named_children()]]
    images = g(torch.randn(4, 100))
    probabilities = d(images)
    for hook in hooks:
        hook.remove()
    assert shapes["fc2"] == (4, 6272) and shapes["conv1"] == (4, 64, 14, 14)
    assert images.shape == (4, 1, 28, 28) and images.abs().max() <= 1
    assert shapes["d.conv1"] == (4, 64, 26, 26) and shapes["d.conv2"] == (4, 128, 11, 11)
    assert shapes["d.fc1"] == (4, 1024)
    assert probabilities.shape == (4, 2)
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(4))


@pytest.mark.parametrize("model", ["dcgan", "cdcgan"])
@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3), (64, 1)])
def test_dcgans_make_every_supported_size(model, size, channels):
    g, d = build_models(model, image_size=size, channels=channels, num_classes=5, width=16)
    labels = torch.arange(6) % 5
    images = g(torch.randn(6, g.z_dim), labels)
    assert images.shape == (6, channels, size, size)
    assert d(images, labels).shape == (6,)


def test_conditional_discriminator_uses_the_label():
    torch.manual_seed(0)
    g, d = build_models("cdcgan", width=16)
    images = g(torch.randn(4, g.z_dim), torch.zeros(4, dtype=torch.int64))
    assert not torch.allclose(d(images, torch.zeros(4, dtype=torch.int64)),
                              d(images, torch.full((4,), 3)))


@pytest.mark.parametrize("model, loss", [("reference", "reference"), ("dcgan", "nsgan"),
                                         ("cdcgan", "hinge"), ("cdcgan", "wgan-gp")])
def test_a_few_steps_move_the_losses(model, loss):
    torch.manual_seed(0)
    g, d = build_models(model, width=16)
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(32, 1, 28, 28) * 2 - 1
    labels = torch.arange(32) % 10
    history = []
    for _ in range(5):
        fake = g(torch.randn(32, g.z_dim), labels)
        loss_d = d_loss_real(loss, d(real, labels)) + d_loss_fake(loss, d(fake.detach(), labels))
        if loss == "wgan-gp":
            loss_d = loss_d + 10 * gradient_penalty(d, real, fake, labels)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = g_loss(loss, d(g(torch.randn(32, g.z_dim), labels), labels))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        history.append((loss_d.item(), loss_g.item()))
    assert all(torch.isfinite(torch.tensor(history)).flatten())
    assert history[0][0] != history[-1][0] and history[0][1] != history[-1][1]
    if loss == "reference":  # the double softmax bounds each term to [log(1+1/e), log(1+e)]
        low, high = 0.3132, 1.3133
        assert all(2 * low <= d_value <= 2 * high and low <= g_value <= high
                   for d_value, g_value in history)


def test_ema_tracks_the_weights():
    model = torch.nn.Linear(3, 3)
    ema = EMA(model, decay=0.5)
    before = ema.model.weight.clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)  # warm-up: the first update keeps only 1/10 of the old weights
    assert torch.allclose(ema.model.weight, before + 0.9)
    ema.updates = 100
    before = ema.model.weight.clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    assert torch.allclose(ema.model.weight, before + 0.5 * (model.weight - before))
    with pytest.raises(ValueError, match="decay"):
        EMA(model, decay=1.0)


def test_minibatch_std_sees_a_collapsed_batch():
    varied = MinibatchStd()(torch.randn(8, 2, 4, 4))
    collapsed = MinibatchStd()(torch.randn(1, 2, 4, 4).repeat(8, 1, 1, 1))
    assert varied[:, -1].mean() > 0.5 and collapsed[:, -1].abs().max() < 1e-3


def test_mode_seeking_penalises_pairs_that_ignore_their_noise():
    z = torch.randn(8, 16)
    varied = torch.randn(8, 1, 6, 6)
    collapsed = torch.randn(4, 1, 6, 6).repeat_interleave(2, dim=0)  # each pair identical
    assert mode_seeking_penalty(collapsed, z) > 1e4 > 10 > mode_seeking_penalty(varied, z)
    # only within-pair distances count: the same pairs in another order score the same
    order = torch.tensor([2, 3, 0, 1, 6, 7, 4, 5])
    assert torch.isclose(mode_seeking_penalty(varied[order], z[order]),
                         mode_seeking_penalty(varied, z))
    # an odd last sample is left out
    assert torch.equal(mode_seeking_penalty(varied[:7], z[:7]),
                       mode_seeking_penalty(varied[:6], z[:6]))
    with pytest.raises(ValueError, match="at least one pair"):
        mode_seeking_penalty(varied[:1], z[:1])


def test_diff_augment_is_differentiable_and_seeded():
    x = (torch.rand(8, 3, 32, 32) * 2 - 1).requires_grad_()
    a = diff_augment(x, generator=torch.Generator().manual_seed(1))
    b = diff_augment(x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == x.shape and a.min() >= -1 and a.max() <= 1
    a.sum().backward()
    assert x.grad.abs().sum() > 0
    assert not torch.equal(a, x)


@pytest.mark.parametrize("call, words", [
    (lambda: build_models("stylegan"), ["model", "'stylegan'"]),
    (lambda: build_models("dcgan", image_size=48), ["image_size", "48"]),
    (lambda: build_models("reference", image_size=32), ["reference", "28x28"]),
    (lambda: check_loss("lsgan", "dcgan"), ["loss", "'lsgan'"]),
    (lambda: check_loss("reference", "cdcgan"), ["does not fit"]),
])
def test_bad_choices_are_named(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert all(word in str(info.value) for word in words), str(info.value)
