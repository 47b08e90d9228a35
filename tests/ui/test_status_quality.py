"""The status bar names the adaptive quality level the window runs at."""
from __future__ import annotations

from app.governor import LEVELS


def test_status_bar_shows_the_quality_level_and_follows_it(window, qtbot):
    pipe = window.controller.pipeline
    assert pipe.governor is not None  # the window adapts its quality
    qtbot.waitUntil(lambda: f"quality: {pipe.governor.level.name}" in window.status.text(), timeout=5000)
    lowest = len(pipe.governor.levels) - 1
    level = pipe.governor.levels[lowest]
    assert level.name == "small tracker"
    pipe.governor.on_change(level)  # what a step down does, applied to the real pipeline
    pipe.governor.index = lowest
    qtbot.waitUntil(lambda: "quality: small tracker" in window.status.text(), timeout=5000)
    # The real engine looks its maps up in pose tables: the mirror ensemble costs no frame
    # time, so it stays on while the tracker's input shrinks.
    assert pipe.engine.mirror_ensemble is True and level.tracker_size == LEVELS[2].tracker_size
