"""Train the MNIST feature net that ships with augkit, reproducibly.

Schedule (``TrainSchedule()``): 1,500 AdamW steps of 128 images (3.2 epochs), one-cycle
learning rate peaking at 2e-3, weight decay 5e-4, a small random affine jitter on each batch
(augkit's own RandomAffine), seed 0, on the CPU. Writes
``src/augkit/eval/weights/mnist_feature_net.safetensors`` and its JSON metadata, with the
test accuracy (the bar is 99.3%).

    python scripts/train_feature_net.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from augkit.data import load_mnist
from augkit.data.mnist import _expected_sums
from augkit.eval.features import (
    WEIGHTS_DIR,
    TrainSchedule,
    accuracy,
    epochs,
    save_net,
    train_feature_net,
)


def as_batch(images) -> torch.Tensor:
    return torch.from_numpy(images).unsqueeze(1).contiguous()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR / "mnist_feature_net.safetensors")
    parser.add_argument("--steps", type=int, default=TrainSchedule.steps)
    args = parser.parse_args()
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    schedule = TrainSchedule(steps=args.steps)
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    start = time.perf_counter()
    model = train_feature_net(as_batch(train_images), torch.from_numpy(train_labels), 10,
                              schedule)
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(model, as_batch(test_images), torch.from_numpy(test_labels))
    save_net(model, args.out, {
        "dataset": "mnist",
        "dataset_sha256": {k: v for k, v in _expected_sums().items()},
        "schedule": schedule.__dict__,
        "epochs": round(epochs(schedule, len(train_images)), 2),
        "test_accuracy": test_accuracy,
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
    })
    print(f"test accuracy {test_accuracy:.4f} after {seconds:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
