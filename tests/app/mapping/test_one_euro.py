"""The One-Euro filter on its own."""
from __future__ import annotations

import random
import statistics

import pytest

from app.mapping import OneEuroFilter


def test_first_sample_passes_and_still_input_stays():
    f = OneEuroFilter(1.0, 5.0)
    assert f(3.0, 0.0) == 3.0
    assert all(f(3.0, i / 30) == pytest.approx(3.0) for i in range(1, 30))


def test_jitter_is_reduced_and_speed_opens_the_filter():
    rng = random.Random(1)
    xs = [rng.gauss(0.0, 0.01) for _ in range(300)]
    slow, fast = OneEuroFilter(1.0, 0.0), OneEuroFilter(1.0, 50.0)
    ys_slow = [slow(x, i / 30) for i, x in enumerate(xs)]
    assert statistics.pstdev(xs) / statistics.pstdev(ys_slow) > 3.0
    # A jump: beta > 0 follows it much faster than the plain low-pass.
    slow.reset(0.0, 0.0)
    fast.reset(0.0, 0.0)
    a = [slow(1.0, i / 30) for i in range(1, 4)]
    b = [fast(1.0, i / 30) for i in range(1, 4)]
    assert b[-1] > 0.9 and a[-1] < 0.6


def test_repeated_timestamp_changes_nothing_and_bad_settings_fail():
    f = OneEuroFilter(1.0, 1.0)
    f(0.0, 1.0)
    assert f(5.0, 1.0) == 0.0
    with pytest.raises(ValueError, match="min_cutoff"):
        OneEuroFilter(0.0, 1.0)
