"""The mapper on synthetic FaceState sequences at 30 fps: calibration, smoothing lag and
jitter, eyes, fading to idle and back, pins."""
from __future__ import annotations

import numpy as np
import pytest

from app.mapping import (Mapper, MapperConfig, jitter_factor, smoothing_lag_frames,
                         step_settle_frames)
from app.tracking import FaceState
from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec

FPS = 30.0
OPEN = 0.08  # eyeBlink of an open eye (MediaPipe reads 0.02-0.15)


def face(t: float, yaw=0.0, pitch=0.0, roll=0.0, tracked=True, confidence=1.0, **bs) -> FaceState:
    shapes = {"eyeBlinkLeft": OPEN, "eyeBlinkRight": OPEN, **bs}
    if not tracked:
        return FaceState.lost(t)
    return FaceState(blendshapes=shapes, yaw=yaw, pitch=pitch, roll=roll,
                     confidence=confidence, capture_ts=t, tracked=True)


def run(m: Mapper, faces) -> list[dict[str, float]]:
    return [m.update(f, f.capture_ts) for f in faces]


def settled(config: MapperConfig | None = None, seconds: float = 1.0, **kw):
    """A mapper that has followed a still face long enough to be fully faded in."""
    m = Mapper(DEFAULT_POSE_SPEC, config)
    run(m, [face(i / FPS, **kw) for i in range(int(seconds * FPS))])
    return m, seconds


def test_full_pose_in_spec_names_even_before_any_face():
    m = Mapper(DEFAULT_POSE_SPEC)
    pose = m.update(FaceState.lost(0.0), 0.0)
    assert list(pose) == DEFAULT_POSE_SPEC.names
    for p in DEFAULT_POSE_SPEC.params:
        assert p.lo <= pose[p.name] <= p.hi


def test_a_smaller_spec_gets_only_its_names():
    spec = PoseSpec((DEFAULT_POSE_SPEC["mouth_open"], DEFAULT_POSE_SPEC["head_yaw"]))
    m = Mapper(spec)
    pose = m.update(face(0.0, yaw=10.0, jawOpen=0.3), 0.0)
    assert sorted(pose) == ["head_yaw", "mouth_open"]


def test_calibration_removes_a_constant_offset():
    rest = dict(yaw=8.0, pitch=12.0, roll=-3.0, jawOpen=0.06, mouthSmileLeft=0.15,
                mouthSmileRight=0.15, browOuterUpLeft=0.3, eyeBlinkLeft=0.15, eyeBlinkRight=0.15)
    m, t = settled(**rest)
    before = m.update(face(t, **rest), t)
    assert before["head_yaw"] > 8 and before["head_pitch"] > 10 and before["mouth_form"] > 0.1
    m.calibrate(face(t, **rest))
    after = run(m, [face(t + i / FPS, **rest) for i in range(1, 31)])[-1]
    for name in ("head_yaw", "head_pitch", "head_roll", "mouth_open", "mouth_form",
                 "brow_left", "brow_right", "iris_x", "iris_y"):
        assert after[name] == pytest.approx(0.0, abs=0.05), name
    assert after["eye_left_open"] == pytest.approx(1.0, abs=1e-3)
    assert after["eye_right_open"] == pytest.approx(1.0, abs=1e-3)
    # Moves are now measured from the calibrated rest: +10 deg yaw -> (10 - 0.5 dead zone) * 1.25
    turned = dict(rest, yaw=18.0)
    out = run(m, [face(t + 2 + i / FPS, **turned) for i in range(30)])[-1]
    assert out["head_yaw"] == pytest.approx(9.5 * 1.25, abs=0.1)


def test_recenter_takes_only_the_head_angles():
    m = Mapper(DEFAULT_POSE_SPEC)
    assert m.recenter() is False  # nothing seen yet
    m.calibrate(face(0.0, jawOpen=0.1))
    run(m, [face(i / FPS, yaw=6.0, pitch=-4.0, jawOpen=0.1) for i in range(30)])
    assert m.recenter() is True
    assert (m.calibration.yaw, m.calibration.pitch) == (6.0, -4.0)
    assert m.calibration.base("jawOpen") == 0.1


def test_smoothing_lag_and_step_response_at_default_settings():
    lag = smoothing_lag_frames()
    assert 0.0 < lag < 1.0  # a quick head turn is delayed by under one frame
    heavy = smoothing_lag_frames(MapperConfig(beta=0.0))
    assert heavy > 3 * lag  # the measurement does see smoothing
    settle = step_settle_frames()
    assert settle <= 3
    # Follow a 10 degree step directly: within `settle` frames it is within 10%.
    m, t = settled()
    outs = run(m, [face(t + i / FPS, yaw=10.0) for i in range(20)])
    target = (10.0 - 0.5) * 1.25
    assert abs(outs[settle]["head_yaw"] - target) <= 0.1 * target
    assert outs[0]["head_yaw"] > 0.3 * target  # the first frame already moves


def test_jitter_is_reduced_by_the_stated_factor():
    # The tracker's shimmer on a still head, 0.2-0.5 degrees: cut at least 2.5x.
    assert jitter_factor(noise=0.5) >= 2.5
    assert jitter_factor(noise=0.2) >= 3.0
    assert jitter_factor(MapperConfig(min_cutoff=0.5), noise=0.2) > jitter_factor(noise=0.2)


def test_a_blink_keeps_its_timing():
    m, t = settled()
    seq = [OPEN] * 5 + [0.3, 0.6, 0.6, 0.6, 0.3] + [OPEN] * 10
    outs = run(m, [face(t + i / FPS, eyeBlinkLeft=b, eyeBlinkRight=b * 0.95)
                   for i, b in enumerate(seq)])
    eye = np.array([o["eye_left_open"] for o in outs])
    assert (eye[:5] > 0.99).all()
    assert eye[6] < 0.1 and (eye[6:9] < 0.1).all()  # shut on the first closed frame
    assert eye[11] > 0.9 and (eye[12:] > 0.99).all()  # open again one frame after
    assert np.allclose(eye, [o["eye_right_open"] for o in outs], atol=0.02)  # linked


def test_winks_and_half_closed_eyes():
    m, t = settled()
    # A clear wink of the left eye: left shut, right open.
    o = run(m, [face(t + i / FPS, eyeBlinkLeft=0.3, eyeBlinkRight=OPEN) for i in range(10)])[-1]
    assert o["eye_left_open"] < 0.05 and o["eye_right_open"] > 0.95
    # A small difference is noise: both eyes show the same.
    o = run(m, [face(t + 1 + i / FPS, eyeBlinkLeft=0.2, eyeBlinkRight=0.12)
                for i in range(10)])[-1]
    assert o["eye_left_open"] == pytest.approx(o["eye_right_open"], abs=1e-3)
    # Slightly narrowed eyes (a smile's squint) still show fully open.
    o = run(m, [face(t + 2 + i / FPS, eyeBlinkLeft=0.14, eyeBlinkRight=0.14)
                for i in range(10)])[-1]
    assert o["eye_left_open"] > 0.99
    # Head turned far to the image's right: the far (left) eye reads closing; copy the near.
    o = run(m, [face(t + 3 + i / FPS, yaw=38.0, eyeBlinkLeft=0.35, eyeBlinkRight=OPEN)
                for i in range(10)])[-1]
    assert o["eye_left_open"] > 0.95 and o["eye_right_open"] > 0.95


def test_face_loss_fades_to_idle_and_back_without_a_jump():
    cfg = MapperConfig(fade_time=0.6)
    m, t = settled(cfg, yaw=20.0, jawOpen=0.4)
    lost = [FaceState.lost(t + i / FPS) for i in range(int(6 * FPS))]
    back = [face(t + 6 + i / FPS, yaw=20.0, jawOpen=0.4) for i in range(int(2 * FPS))]
    outs = run(m, [face(t - 1 / FPS, yaw=20.0, jawOpen=0.4)] + lost + back)
    yaw = np.array([o["head_yaw"] for o in outs])
    mouth = np.array([o["mouth_open"] for o in outs])
    # No jump: the largest frame-to-frame step stays near the fade's own pace
    # (23.1 deg over 0.6 s with an eased curve peaks at ~1.9 deg per frame).
    assert np.abs(np.diff(yaw)).max() < 2.5
    assert np.abs(np.diff(mouth)).max() < 0.1
    # Fully idle after fade_time: the idle layer's pose, never frozen.
    k = 1 + int(0.7 * FPS)
    idle = np.array([m.idle.pose(t + i / FPS)["head_yaw"] for i in range(k - 1, len(lost))])
    assert yaw[k:1 + len(lost)] == pytest.approx(idle, abs=1e-9)
    assert np.ptp(yaw[k:1 + len(lost)]) > 1.0  # it sways
    assert mouth[1 + len(lost) - 1] == pytest.approx(0.0)
    breathing = [o["breathing"] for o in outs[1:1 + len(lost)]]
    assert np.ptp(breathing) > 0.5
    eyes = [o["eye_left_open"] for o in outs[1:1 + len(lost)]]
    assert min(eyes) < 0.2  # auto-blink while lost
    # Back on the face: following it again after the fade.
    assert outs[-1]["head_yaw"] == pytest.approx((20 - 0.5) * 1.25, abs=0.2)
    assert outs[-1]["mouth_open"] == pytest.approx((0.4 - 0.03) * 1.8, abs=0.02)


def test_low_confidence_counts_as_lost():
    m, t = settled(MapperConfig(fade_time=0.2), jawOpen=0.4)
    o = run(m, [face(t + i / FPS, jawOpen=0.4, confidence=0.3) for i in range(15)])[-1]
    assert o["mouth_open"] == pytest.approx(0.0) and m.tracking_weight == 0.0


def test_auto_blink_only_when_lost_or_always():
    faces = [face(i / FPS) for i in range(int(12 * FPS))]
    when_lost = run(Mapper(DEFAULT_POSE_SPEC), faces)
    always = run(Mapper(DEFAULT_POSE_SPEC, MapperConfig(auto_blink="always")), faces)
    assert min(o["eye_left_open"] for o in when_lost[30:]) > 0.99
    assert min(o["eye_left_open"] for o in always[30:]) < 0.2
    never = Mapper(DEFAULT_POSE_SPEC, MapperConfig(auto_blink="never"))
    lost = run(never, [FaceState.lost(i / FPS) for i in range(int(12 * FPS))])
    assert min(o["eye_left_open"] for o in lost) == 1.0


def test_pins_hold_and_release_smoothly():
    m, t = settled(jawOpen=0.4)
    m.pin("mouth_open", 0.1)
    m.pin("head_yaw", 99.0)  # clipped to the range
    assert m.pinned == {"mouth_open": 0.1, "head_yaw": 30.0}
    outs = run(m, [face(t + i / FPS, jawOpen=0.4) for i in range(5)])
    assert all(o["mouth_open"] == 0.1 and o["head_yaw"] == 30.0 for o in outs)
    m.unpin("mouth_open")
    assert "mouth_open" not in m.pinned
    outs = run(m, [face(t + (5 + i) / FPS, jawOpen=0.4) for i in range(20)])
    mouth = [0.1] + [o["mouth_open"] for o in outs]
    assert np.abs(np.diff(mouth)).max() < 0.15  # glides, no snap
    assert mouth[-1] == pytest.approx((0.4 - 0.03) * 1.8, abs=0.01)
    with pytest.raises(KeyError, match="unknown pose parameter 'mouth_wide'"):
        m.pin("mouth_wide", 1.0)


def test_expressions_map_in_the_right_direction():
    m, t = settled()
    o = run(m, [face(t + i / FPS, mouthSmileLeft=0.8, mouthSmileRight=0.8, browInnerUp=0.5,
                     browOuterUpLeft=0.3, browOuterUpRight=0.3, eyeLookOutLeft=0.5,
                     eyeLookInRight=0.5, eyeLookUpLeft=0.4, eyeLookUpRight=0.4)
                for i in range(15)])[-1]
    assert o["mouth_form"] > 0.8 and o["brow_left"] > 0.8 and o["brow_right"] > 0.8
    assert o["iris_x"] > 0.5 and o["iris_y"] > 0.4  # gaze to the image's right, up
    o = run(m, [face(t + 1 + i / FPS, mouthFrownLeft=0.5, mouthFrownRight=0.5,
                     browDownLeft=0.4, browDownRight=0.4, eyeLookInLeft=0.5,
                     eyeLookOutRight=0.5, yaw=-15, roll=10) for i in range(15)])[-1]
    assert o["mouth_form"] < -0.4 and o["brow_left"] < -0.5 and o["iris_x"] < -0.5
    assert o["head_yaw"] < -15 and o["head_roll"] > 8 and o["body_yaw"] < -0.1


def test_a_dropped_frame_does_not_twitch():
    # One lost frame, then a noisy sample 1.5 degrees off: still smoothed, not taken raw.
    yaws = [10.0] * 90
    yaws[61] = 11.5
    faces = [face(i / FPS, yaw=y) if i != 60 else FaceState.lost(i / FPS)
             for i, y in enumerate(yaws)]
    out = np.array([o["head_yaw"] for o in run(Mapper(DEFAULT_POSE_SPEC), faces)])
    rest = (10.0 - 0.5) * 1.25
    assert out[59] == pytest.approx(rest, abs=0.01)
    assert abs(out[60] - rest) < 0.2  # the lost frame: barely any fade
    assert out[61] - rest < 0.5 * (1.5 * 1.25)


def test_new_settings_apply_without_a_jump():
    m, t = settled(yaw=12.0)
    before = m.update(face(t, yaw=12.0), t)["head_yaw"]
    m.set_config(MapperConfig(beta=1.0))
    after = m.update(face(t + 1 / FPS, yaw=12.0), t + 1 / FPS)["head_yaw"]
    assert m.config.beta == 1.0 and after == pytest.approx(before, abs=0.05)


def test_laughing_eyes_and_brow_angles_map_to_the_expression_parameters():
    m, t = settled()
    rest = run(m, [face(t + i / FPS) for i in range(5)])[-1]
    assert rest["eye_left_smile"] == 0.0 and rest["brow_left_angle"] == pytest.approx(0.0, abs=1e-6)
    # A laugh: mouth corners up, cheeks squinting, the eyes closing.
    o = run(m, [face(t + i / FPS, mouthSmileLeft=0.8, mouthSmileRight=0.8, cheekSquintLeft=0.6,
                     cheekSquintRight=0.6, eyeBlinkLeft=0.7, eyeBlinkRight=0.7) for i in range(20)])[-1]
    assert o["eye_left_smile"] > 0.8 and o["eye_right_smile"] > 0.8
    assert o["eye_left_open"] < 0.5
    # Troubled: the inner ends of the brows raised alone; angry: both brows drawn down.
    o = run(m, [face(t + 1 + i / FPS, browInnerUp=0.6) for i in range(20)])[-1]
    assert o["brow_left_angle"] > 0.6 and o["brow_right_angle"] > 0.6
    o = run(m, [face(t + 2 + i / FPS, browDownLeft=0.6, browDownRight=0.6) for i in range(20)])[-1]
    assert o["brow_left_angle"] < -0.6 and o["brow_right_angle"] < -0.6 and o["brow_left"] < -0.5
    # Weights made before these parameters existed get a pose without them.
    from engines.posespec import stage_prefix

    old = Mapper(stage_prefix(DEFAULT_POSE_SPEC, 8, 5))
    assert "eye_left_smile" not in old.update(face(0.0, cheekSquintLeft=0.6), 0.0)


def test_head_motion_scales_the_head_turns_and_the_body_that_follows():
    kw = dict(yaw=20.0, pitch=-10.0, roll=8.0, jawOpen=0.5)
    base, _ = settled(**kw)
    half, _ = settled(MapperConfig(head_motion=0.5), **kw)
    a, b = base._last_out, half._last_out
    for name in ("head_yaw", "head_pitch", "head_roll", "body_yaw"):
        assert abs(a[name]) > 1e-3 and b[name] == pytest.approx(0.5 * a[name], rel=1e-6), name
    for name in ("mouth_open", "eye_left_open", "iris_x", "brow_left"):  # the face is not scaled
        assert b[name] == pytest.approx(a[name], abs=1e-9), name
    still, _ = settled(MapperConfig(head_motion=0.0), **kw)
    assert all(still._last_out[n] == 0.0 for n in ("head_yaw", "head_pitch", "head_roll", "body_yaw"))
