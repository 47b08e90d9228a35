"""Mapper settings and calibration survive a settings file; mistakes are named."""
from __future__ import annotations

import json

import pytest

from app.mapping import Calibration, ChannelConfig, MapperConfig
from app.tracking import FaceState


def test_config_round_trips_through_json():
    c = MapperConfig(beta=3.0, auto_blink="always", fade_time=1.2)
    c.channels["head_yaw"] = ChannelConfig(gain=1.5, deadzone=1.0, curve=1.3, beta=2.0)
    c.idle.blink_interval = (1.0, 2.0)
    c.eyes.link = False
    back = MapperConfig.from_dict(json.loads(json.dumps(c.to_dict())))
    assert back == c
    assert MapperConfig.from_dict({}) == MapperConfig()


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="unknown mapper settings key.*fade_tme"):
        MapperConfig.from_dict({"fade_tme": 1.0})
    with pytest.raises(ValueError, match="mapper channel 'head_yaw'.*gian"):
        MapperConfig.from_dict({"channels": {"head_yaw": {"gian": 2}}})
    with pytest.raises(ValueError, match="auto_blink must be one of"):
        MapperConfig(auto_blink="sometimes")
    with pytest.raises(ValueError, match="schema 7"):
        MapperConfig.from_dict({"schema": 7})
    for bad in (-0.1, 3.5, float("nan")):
        with pytest.raises(ValueError, match="head_motion must be between 0 and 3"):
            MapperConfig.from_dict({"head_motion": bad})
    assert MapperConfig.from_dict({"head_motion": 0.5}).head_motion == 0.5


def test_calibration_round_trips_and_needs_a_face():
    face = FaceState(blendshapes={"jawOpen": 0.1, "eyeBlinkLeft": 0.2}, yaw=3.0, pitch=9.0,
                     roll=-1.0, confidence=1.0, capture_ts=0.0, tracked=True)
    cal = Calibration.capture(face)
    assert (cal.yaw, cal.pitch, cal.base("jawOpen"), cal.base("mouthPucker")) == (3.0, 9.0, 0.1, 0.0)
    assert Calibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal
    with pytest.raises(ValueError, match="no face is tracked"):
        Calibration.capture(FaceState.lost(0.0))
    with pytest.raises(ValueError, match="unknown calibration key"):
        Calibration.from_dict({"yaww": 1})


def test_calibration_follows_a_mirror_switch():
    face = FaceState(blendshapes={"eyeBlinkLeft": 0.2, "eyeBlinkRight": 0.05}, yaw=4.0,
                     pitch=9.0, roll=-2.0, confidence=1.0, capture_ts=0.0, tracked=True)
    direct = Calibration.capture(face).mirrored()
    assert direct == Calibration.capture(face.mirrored(640))
    assert (direct.yaw, direct.pitch, direct.roll) == (-4.0, 9.0, 2.0)
    assert direct.base("eyeBlinkRight") == 0.2


def test_the_mapping_core_does_not_load_mediapipe_or_qt():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, app.mapping, app.tracking; "
            "print([m for m in ('mediapipe', 'PySide6', 'cv2', 'torch') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[3])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
