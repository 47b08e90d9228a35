"""The recorder's options (size, fps, background, length limit): saved in the user's
settings, checked like every settings value, and turned into the clip writer's config."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.controller import IN_MEMORY_MAX_SECONDS, Controller, ControllerOptions, record_config
from app.settings import OutputSettings, SettingsStore, UserSettings
from app.sinks.clips import render_clip


def test_options_round_trip_and_old_files_get_defaults(tmp_path):
    store = SettingsStore(tmp_path)
    s = UserSettings()
    s.outputs.record_size, s.outputs.record_fps = 256, 15
    s.outputs.record_background, s.outputs.record_max_seconds = "#00ff00", 60
    store.save_user(s)
    loaded, msg = store.load_user()
    assert msg is None and loaded.outputs == s.outputs
    data = json.loads(store.user_path.read_text())
    for key in ("record_size", "record_fps", "record_background", "record_max_seconds"):
        del data["outputs"][key]  # a file from before these options
    store.user_path.write_text(json.dumps(data))
    loaded, msg = store.load_user()
    assert msg is None and loaded.outputs == OutputSettings(**{
        **vars(s.outputs), "record_size": 0, "record_fps": 25,
        "record_background": "transparent", "record_max_seconds": 20})


@pytest.mark.parametrize("key,bad", [("record_size", 8), ("record_size", 5000),
                                     ("record_size", "big"), ("record_fps", 0),
                                     ("record_fps", 12.5), ("record_background", "blue"),
                                     ("record_max_seconds", 3600), ("record_max_seconds", None)])
def test_a_bad_value_in_the_file_is_reset_and_named(tmp_path, key, bad):
    store = SettingsStore(tmp_path)
    store.save_user(UserSettings())
    data = json.loads(store.user_path.read_text())
    data["outputs"][key] = bad
    data["outputs"]["record_fps"] = data["outputs"]["record_fps"] if key == "record_fps" else 30
    store.user_path.write_text(json.dumps(data))
    loaded, msg = store.load_user()
    assert getattr(loaded.outputs, key) == getattr(OutputSettings(), key)
    assert f"outputs.{key}" in msg
    if key != "record_fps":
        assert loaded.outputs.record_fps == 30  # the rest of the file is kept


def test_controller_checks_and_saves_the_options(tmp_path):
    c = Controller(ControllerOptions(settings_dir=tmp_path, source="none"))
    try:
        c.set_record_options(size=256, fps=15, background="#112233", max_seconds=30)
        out = c.settings.outputs
        assert (out.record_size, out.record_fps, out.record_background,
                out.record_max_seconds) == (256, 15, "#112233", 30)
        for bad in (dict(size=10), dict(fps=500), dict(background="red"), dict(colour="#fff")):
            with pytest.raises(ValueError):
                c.set_record_options(**bad)
        assert (out.record_size, out.record_fps, out.record_background) == (256, 15, "#112233")
        c.save_settings()
        assert SettingsStore(tmp_path).load_user()[0].outputs.record_size == 256
    finally:
        c.shutdown()


def test_record_config_follows_the_settings():
    out = OutputSettings(record_format="webm", record_size=256, record_fps=15,
                         record_background="#00ff00", record_max_seconds=300)
    cfg = record_config(out)
    assert (cfg.size, cfg.fps, cfg.background, cfg.flatten, cfg.max_seconds) == (
        256, 15, (0, 255, 0), True, 300)
    out.record_format, out.record_background = "gif", "transparent"
    cfg = record_config(out)
    assert cfg.max_seconds == IN_MEMORY_MAX_SECONDS and not cfg.flatten  # frames in memory
    out.record_size = 0
    assert record_config(out).output_size(512, 512) == (320, 320)  # automatic


def test_a_colour_background_makes_every_format_opaque(tmp_path):
    from tests.app.sinks.test_clips import decode

    frame = np.zeros((64, 64, 4), np.uint8)
    frame[16:48, 16:48] = (200, 40, 40, 255)
    out = OutputSettings(record_format="apng", record_background="#0000ff", record_size=32)
    path = render_clip([frame, frame[::-1].copy()], tmp_path / "c.apng", record_config(out))
    got = decode(path)[0]
    assert got.shape == (32, 32, 4) and (got[..., 3] == 255).all()
    assert tuple(got[0, 0, :3]) == (0, 0, 255) and tuple(got[16, 16, :3]) == (200, 40, 40)
