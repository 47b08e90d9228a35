"""Sources: real video files, still images, the clock, and cameras that go wrong.

There is no webcam here, so the camera tests pass OpenCV captures opened on real video
files through CameraSource's capture_factory (the OpenCV edge)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.frames import now
from app.sources import (CameraSource, ImageSource, NoSource, SourceError, VideoFileSource,
                         list_cameras, make_source, resolve_camera)


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    for i in range(12):
        f = np.full((48, 64, 3), i * 20, np.uint8)
        w.write(f)
    w.release()
    return path


def test_video_offline_reads_range_fast(clip):
    src = VideoFileSource(clip, realtime=False, start=2, stop=8)
    src.open()
    assert src.fps == 25 and src.frame_count == 6
    t0 = now()
    frames = []
    while (f := src.read()) is not None:
        frames.append(f)
    src.close()
    assert len(frames) == 6
    assert [f.index for f in frames] == [1, 2, 3, 4, 5, 6]
    levels = [int(f.bgr.mean()) for f in frames]
    assert levels == sorted(levels) and levels[0] > 30  # frame 2 onward, in order
    assert all(b.capture_ts >= a.capture_ts for a, b in zip(frames, frames[1:]))
    assert now() - t0 < 0.2


def test_video_realtime_is_paced_and_loops(clip):
    src = VideoFileSource(clip, realtime=True, fps=50, loop=True)
    src.open()
    t0 = now()
    frames = [src.read() for _ in range(20)]  # more than the 12 in the file
    elapsed = now() - t0
    src.close()
    assert all(f is not None for f in frames)
    assert 0.3 <= elapsed < 0.8  # 20 frames at 50 fps ~ 0.38 s
    assert frames[12].bgr.mean() < frames[11].bgr.mean()  # wrapped to the start


def test_image_and_none_sources(tmp_path):
    p = tmp_path / "face.png"
    cv2.imwrite(str(p), np.full((30, 40, 3), 99, np.uint8))
    src = make_source(f"image:{p}", fps=100)
    assert isinstance(src, ImageSource)
    src.open()
    a, b = src.read(), src.read()
    assert a.bgr.shape == (30, 40, 3) and b.capture_ts - a.capture_ts >= 0.005
    none = make_source("none", fps=100)
    assert isinstance(none, NoSource)
    none.open()
    assert none.read().bgr is None


def test_bad_specs_and_files(tmp_path):
    with pytest.raises(SourceError, match="unknown source"):
        make_source("webcam please")
    with pytest.raises(SourceError, match="not found"):
        VideoFileSource(tmp_path / "missing.mp4").open()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"garbage" * 100)
    with pytest.raises(SourceError, match="cannot read video"):
        VideoFileSource(bad).open()


def test_missing_camera_gives_a_message_quickly():
    t0 = now()
    with pytest.raises(SourceError, match="could not be opened"):
        CameraSource(97).open()
    assert now() - t0 < 5
    assert all(c.index != 97 for c in list_cameras(probe=False))


def test_a_camera_asked_for_by_a_name_nobody_has_is_refused_with_the_list():
    assert resolve_camera("3") == 3
    with pytest.raises(SourceError, match="no camera named 'Omokage Test Cam'; available: ") as err:
        resolve_camera("Omokage Test Cam")
    listed = list_cameras(probe=False)
    assert str(err.value).endswith(", ".join(c.label() for c in listed) or "none found")


def test_busy_camera_opens_but_gives_no_picture(clip):
    def busy(_index):
        cap = cv2.VideoCapture(str(clip))
        cap.set(cv2.CAP_PROP_POS_FRAMES, 10_000)  # nothing left to read
        return cap
    with pytest.raises(SourceError, match="busy"):
        CameraSource(0, capture_factory=busy).open()


def test_camera_unplugged_mid_stream(clip):
    opened = []
    def camera(index):
        opened.append(index)
        return cv2.VideoCapture(str(clip))  # 12 frames, then the "cable is pulled"
    cam = CameraSource(3, capture_factory=camera, max_failed_reads=3)
    cam.open()
    got = 0
    with pytest.raises(SourceError, match="stopped delivering"):
        for _ in range(50):
            assert cam.read().bgr.shape == (48, 64, 3)
            got += 1
    cam.close()
    assert opened == [3] and got == 11  # open() consumed the first frame
