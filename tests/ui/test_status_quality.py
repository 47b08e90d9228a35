"""The status bar names the adaptive quality level the window runs at."""
from __future__ import annotations

from app.governor import LEVELS


def test_status_bar_shows_the_quality_level_and_follows_it(window, qtbot):
    pipe = window.controller.pipeline
    assert pipe.governor is not None  # the window adapts its quality
    qtbot.waitUntil(lambda: f"quality: {pipe.governor.level.name}" in window.status.text(), timeout=5000)
    pipe.governor.on_change(LEVELS[2])  # what a step down does, applied to the real pipeline
    pipe.governor.index = 2
    qtbot.waitUntil(lambda: "quality: small tracker" in window.status.text(), timeout=5000)
    assert pipe.engine.mirror_ensemble is False
