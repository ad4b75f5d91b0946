"""GANs: the study log's reference model, DCGAN and a class-conditional DCGAN."""

from augkit.gan.diffaug import diff_augment
from augkit.gan.ema import EMA
from augkit.gan.losses import LOSSES, d_loss_fake, d_loss_real, g_loss, gradient_penalty
from augkit.gan.models import MODELS, build_models

__all__ = ["EMA", "LOSSES", "MODELS", "build_models", "d_loss_fake", "d_loss_real",
           "diff_augment", "g_loss", "gradient_penalty"]
