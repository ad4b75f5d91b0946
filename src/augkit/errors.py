"""The exceptions augkit raises for user errors.

``AugkitError`` marks a mistake in what the user gave (a path, an argument, a file): its
message is one line that names the culprit and what was expected. The CLI prints exactly
these as ``augkit CMD: error: ...``; any other exception is a bug and keeps its traceback.
It subclasses ``ValueError`` so that code catching ``ValueError`` keeps working.
"""

from __future__ import annotations


class AugkitError(ValueError):
    """A user error; ``str()`` is one line naming the argument or file and what was expected."""


class AugkitTypeError(AugkitError, TypeError):
    """A user error about an argument's type (also a ``TypeError``)."""


__all__ = ["AugkitError", "AugkitTypeError"]
