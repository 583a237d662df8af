"""Tests of the Python interface run against the repository's CLI build (or THERMOLEARN_CLI when set)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import thermolearn as tl  # noqa: E402


@pytest.fixture(scope="session")
def trap():
    """Driven 2-D trap (k = 1, eps = 0.3, mu = 1, T = 0.5; exact EP rate 2 mu eps^2 / k = 0.18): 200 x 1,001 frames."""
    return tl.simulate("driven-trap-2d", trajectories=200, steps=10000, dt=0.001, save_every=10, seed=1, energetics=True)
