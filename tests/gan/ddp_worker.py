"""Run by the DDP test under torchrun: a few training steps, then each rank writes a digest
of its weights (parameters; batch-norm statistics are each rank's own, as in any DDP run)."""

import hashlib
import os
import sys

from augkit.gan.config import TrainConfig
from augkit.gan.trainer import Trainer

data, out = sys.argv[1], sys.argv[2]
config = TrainConfig(model="cdcgan", data=data, epochs=1, max_steps=3, batch_size=16,
                     width=8, ema_decay=0.9)
trainer = Trainer(config, out, progress=False)
trainer.fit()
digest = hashlib.sha256()
for module in (trainer.g, trainer.d):
    for name, tensor in sorted(module.named_parameters()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
rank = os.environ.get("RANK", "0")
with open(os.path.join(os.path.dirname(out), f"weights-rank{rank}.txt"), "w") as f:
    f.write(digest.hexdigest() + f" step={trainer.step}\n")
