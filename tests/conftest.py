"""Shared fixtures: tests are offline and build everything they read in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKET_SAMPLE = REPO_ROOT.parent / "shared" / "data" / "market1501_sample"


@pytest.fixture(scope="session")
def market_sample() -> Path:
    """Real Market-1501 crops kept beside the checkout (never copied into the repository)."""
    if not MARKET_SAMPLE.is_dir():
        pytest.skip(f"real Market-1501 sample not found at {MARKET_SAMPLE}")
    return MARKET_SAMPLE
