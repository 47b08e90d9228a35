"""FaceState and the head angles taken from a transformation matrix."""
from __future__ import annotations

import math

import numpy as np
import pytest

from app.tracking import FaceState, swap_side
from app.tracking.head_pose import ypr_from_matrix


def test_lost_state_is_clean():
    s = FaceState.lost(3.5)
    assert not s.tracked and s.capture_ts == 3.5 and s.blendshapes == {}
    assert s.landmarks is None and s.confidence == 0.0 and s.bs("jawOpen") == 0.0


def test_mirrored_swaps_sides_and_negates_yaw_and_roll():
    s = FaceState(blendshapes={"eyeBlinkLeft": 0.9, "eyeBlinkRight": 0.1, "jawOpen": 0.4},
                  yaw=12.0, pitch=5.0, roll=-7.0, confidence=1.0, capture_ts=1.0,
                  tracked=True, landmarks=np.array([[10.0, 20.0], [90.0, 30.0]]))
    m = s.mirrored(100)
    assert m.bs("eyeBlinkRight") == 0.9 and m.bs("eyeBlinkLeft") == 0.1 and m.bs("jawOpen") == 0.4
    assert (m.yaw, m.pitch, m.roll) == (-12.0, 5.0, 7.0)
    assert m.landmarks.tolist() == [[90.0, 20.0], [10.0, 30.0]]
    assert s.landmarks.tolist() == [[10.0, 20.0], [90.0, 30.0]]  # original untouched
    assert swap_side("mouthSmileLeft") == "mouthSmileRight" and swap_side("jawOpen") == "jawOpen"
    with pytest.raises(ValueError, match="width"):
        s.mirrored()


def _rot(yaw, pitch, roll):
    """Camera frame x right, y up, z toward the viewer; yaw then pitch then roll."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    # roll > 0 tips the up axis toward +x (clockwise as seen)
    rz = np.array([[math.cos(r), math.sin(r), 0], [-math.sin(r), math.cos(r), 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = ry @ rx @ rz
    return m


@pytest.mark.parametrize("ypr", [(0, 0, 0), (25, 0, 0), (0, -15, 0), (0, 0, 12),
                                 (20, 10, -8), (-28, -20, 15)])
def test_angles_round_trip_through_the_matrix(ypr):
    m = _rot(*ypr)
    m[:3, :3] *= 1.7  # a scaled matrix still gives the same angles
    assert ypr_from_matrix(m) == pytest.approx(ypr, abs=1e-6)


def test_signs_follow_the_nose():
    # yaw > 0: the face's forward axis (+z) swings toward +x (image right)
    assert _rot(30, 0, 0)[:3, :3] @ [0, 0, 1] == pytest.approx([0.5, 0, math.sqrt(3) / 2])
    # pitch > 0: it swings up (+y, chin up)
    assert (_rot(0, 30, 0)[:3, :3] @ [0, 0, 1])[1] > 0.49
    # roll > 0: the head's up axis tips toward +x (clockwise)
    assert (_rot(0, 0, 30)[:3, :3] @ [0, 1, 0])[0] > 0.49
