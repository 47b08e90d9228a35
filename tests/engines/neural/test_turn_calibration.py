"""The choice of turn factor from a measured gain curve and the rigs' amplitudes."""
from __future__ import annotations

import numpy as np

from engines.neural.turn_calibration import best_shrink

RATIOS = np.array([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0])


def test_a_typical_engine_on_typical_rigs_keeps_its_turn() -> None:
    gains = np.array([1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 0.0])  # peaks where the engine is right
    s, expected = best_shrink(RATIOS, gains, np.ones(5))
    assert s == 1.0 and expected[1.0] == max(expected.values())


def test_an_engine_that_turns_too_far_is_scaled_down() -> None:
    gains = np.array([1.0, 2.0, 3.0, 4.0, 3.0, 2.0, 0.0])
    s, _ = best_shrink(RATIOS, gains, np.full(5, 1.6))  # every rig moves 1/1.6 of the engine
    assert abs(s * 1.6 - 1.0) < 0.05


def test_overshoot_that_costs_more_than_undershoot_favours_less_motion() -> None:
    gains = np.array([2.0, 3.0, 3.6, 4.0, 0.0, -2.0, -4.0])  # steep beyond the truth
    s, _ = best_shrink(RATIOS, gains, np.array([0.6, 1.0, 1.4]))  # rigs spread around the engine
    assert s < 1.0


def test_on_val_chooses_the_factor_with_the_highest_gain_on_a_real_rig() -> None:
    from engines.neural.turn_calibration import VAL_FACTORS, VAL_TURNS, measure_on_val

    result = measure_on_val(rigs=("koharu",))
    assert set(result["turn_scale"]) == set(VAL_TURNS) and 1.0 in VAL_FACTORS
    for t in VAL_TURNS:
        g = np.array(result["gain_db"][t])
        assert g.shape == (len(VAL_FACTORS),) and np.isfinite(g).all()
        assert g.max() - g.min() > 0.5, t  # how far the head turns matters
        assert g[VAL_FACTORS.index(result["turn_scale"][t])] == g.max()
