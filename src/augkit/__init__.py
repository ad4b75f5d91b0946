"""augkit: grow image training sets with classical and generative augmentation."""

__version__ = "0.1.0"
