"""Seeded random streams, one per named part of the output."""

from __future__ import annotations

import random


def _stream(seed: int, *parts: object) -> random.Random:
    """Return an independent random stream for one named part of the output (stable across runs)."""
    return random.Random(":".join(str(part) for part in (seed, *parts)))
