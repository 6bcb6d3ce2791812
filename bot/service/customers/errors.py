"""The customers package's refusals: one root, so a caller can catch them all."""

from __future__ import annotations


class CustomerError(ValueError):
    """Root of every error this package raises; the message is for the operator as is."""
