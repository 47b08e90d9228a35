"""Shared fixtures for the app tests that need the real engine and the default character.

OMOKAGE_TEST_WEIGHTS / OMOKAGE_TEST_CHARACTER point the tests at another export or image
(used while the shipped ones are being replaced); by default they use weights/ and
assets/default_character.png.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.cli import DEFAULT_CHARACTER


def default_character() -> Path:
    return Path(os.environ.get("OMOKAGE_TEST_CHARACTER") or DEFAULT_CHARACTER)


def weights_dir() -> Path | None:
    w = os.environ.get("OMOKAGE_TEST_WEIGHTS")
    return Path(w) if w else None


@pytest.fixture(scope="module")
def engine():
    from engines.neural.runtime import NeuralEngine

    return NeuralEngine.load(weights_dir(), threads=1)


def wait_for(cond, timeout: float = 10.0, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()
