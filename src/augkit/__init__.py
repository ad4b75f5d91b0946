"""augkit: grow image training sets with classical and generative augmentation."""

from augkit.errors import AugkitError

__version__ = "0.1.0"

__all__ = ["AugkitError", "__version__"]
