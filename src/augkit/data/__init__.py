"""Dataset readers and writers, and the bundled MNIST."""

from augkit.data.idx import read_idx, write_idx
from augkit.data.mnist import load_mnist
from augkit.data.photos import load_photo, load_photos

__all__ = ["load_mnist", "load_photo", "load_photos", "read_idx", "write_idx"]
