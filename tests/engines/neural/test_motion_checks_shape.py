"""`motion_checks shape` on a real rig with the shipped engine: how far the rig truly turns,
and the engine's motion pattern against the best rigid shift of the head."""
from __future__ import annotations

from engines.neural import evaluate as ev
from engines.neural.motion_checks import shape


def test_shape_reports_every_turn_and_the_engine_beats_a_rigid_shift_on_a_roll() -> None:
    rows = shape(["z16"])
    assert set(rows) == set(ev.TURN_CATEGORIES)
    for r in rows.values():
        assert r["true_px"] > 0.5  # every turn moves the head
        assert 0.0 <= r["shape_error"] <= 1.5 and r["scale"] >= 0.0
        assert 0.0 <= r["shift_shape_error"] <= 1.0 + 1e-6  # the oracle shift is never worse than standing still
    # A roll turns the head about the neck: no single shift describes it, the rotator's grid does.
    assert rows["head_roll"]["shape_error"] < rows["head_roll"]["shift_shape_error"] - 0.2
