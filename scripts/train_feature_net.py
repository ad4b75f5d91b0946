"""Train the MNIST feature net that ships with augkit, reproducibly.

Schedule (``TrainSchedule()``): 1,500 AdamW steps of 128 images (3.2 epochs), one-cycle
learning rate peaking at 2e-3, weight decay 5e-4, a small random affine jitter on each batch
(augkit's own RandomAffine), seed 0, on the CPU. Writes
``src/augkit/eval/weights/mnist_feature_net.safetensors`` and its JSON metadata, with the
test accuracy (the bar is 99.3%).

``--floors`` instead computes the real floors that ship beside the net (the figures of 10,000
and of all 60,000 real training digits against the test set, with CAS, and the same without
it) and writes ``src/augkit/eval/weights/mnist_floors.json``, tied to the net by its
checksum. Rerun it after retraining the net; it takes a few minutes on 2 cores.

    python scripts/train_feature_net.py
    python scripts/train_feature_net.py --floors
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from augkit.data import load_mnist
from augkit.data.mnist import _expected_sums
from augkit.eval.features import (
    MNIST_NET,
    WEIGHTS_DIR,
    TrainSchedule,
    accuracy,
    epochs,
    save_net,
    train_feature_net,
)
from augkit.eval.floors import FLOORS_FILE, compute_floor, floor_key
from augkit.files import sha256, write_text_atomically

FLOOR_SIZES = (10000, 60000)


def as_batch(images) -> torch.Tensor:
    return torch.from_numpy(images).unsqueeze(1).contiguous()


def write_floors(out: Path) -> None:
    """Compute the shipped MNIST floors (the non-CAS ones are the CAS ones less CAS)."""
    start = time.perf_counter()
    floors = {}
    for n in FLOOR_SIZES:
        key, figures = compute_floor("mnist", n, cas=True)
        floors[floor_key("mnist", n, cas=False)] = {**figures, "cas": None}
        floors[key] = figures
        print(f"{key}: {figures}")
    data = {
        "made_by": "scripts/train_feature_net.py --floors",
        "feature_net_sha256": sha256(MNIST_NET),
        "torch": torch.__version__,
        "seconds": round(time.perf_counter() - start, 1),
        "floors": floors,
    }
    write_text_atomically(out, json.dumps(data, indent=1) + "\n")
    print(f"wrote {out} after {data['seconds']:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default: the shipped file in eval/weights)")
    parser.add_argument("--steps", type=int, default=TrainSchedule.steps)
    parser.add_argument("--floors", action="store_true",
                        help="compute the shipped real floors instead of training the net")
    args = parser.parse_args()
    if args.floors:
        write_floors(args.out or FLOORS_FILE)
        return
    args.out = args.out or WEIGHTS_DIR / "mnist_feature_net.safetensors"
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
