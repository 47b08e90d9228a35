"""Settings: round trip, per-character files, atomic writes, damaged files."""
from __future__ import annotations

import json

from app.settings import CharacterSettings, SettingsStore, UserSettings


def test_user_settings_round_trip(tmp_path):
    store = SettingsStore(tmp_path)
    s, msg = store.load_user()
    assert msg is None and s == UserSettings()
    s.camera = "Integrated Webcam"
    s.outputs.obs_source = True
    s.camera_fps = 60
    store.save_user(s)
    again, msg = SettingsStore(tmp_path).load_user()
    assert msg is None and again == s
    assert json.loads(store.user_path.read_text())["schema_version"] == 1
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed away


def test_character_settings_follow_the_image_content(tmp_path):
    store = SettingsStore(tmp_path / "cfg")
    a = tmp_path / "a.png"
    a.write_bytes(b"image one")
    b = tmp_path / "b.png"
    b.write_bytes(b"image two")
    store.save_character(a, CharacterSettings(pins={"mouth_open": 0.5}, mapper={"gain": 2}))
    moved = tmp_path / "moved.png"
    a.rename(moved)
    got, msg = store.load_character(moved)
    assert msg is None and got.pins == {"mouth_open": 0.5} and got.mapper == {"gain": 2}
    other, _ = store.load_character(b)
    assert other == CharacterSettings()


def test_damaged_file_is_backed_up_and_replaced(tmp_path):
    store = SettingsStore(tmp_path)
    store.user_path.write_text("{ not json")
    s, msg = store.load_user()
    assert s == UserSettings()
    assert msg and "damaged" in msg
    backups = list(tmp_path.glob("settings.json.damaged-*"))
    assert len(backups) == 1 and backups[0].read_text() == "{ not json"
    assert json.loads(store.user_path.read_text())["camera"] == "0"


def test_wrong_types_count_as_damage_and_unknown_keys_are_ignored(tmp_path):
    store = SettingsStore(tmp_path)
    store.user_path.write_text(json.dumps({"schema_version": 1, "camera_fps": "fast"}))
    s, msg = store.load_user()
    assert msg and "camera_fps" in msg and s.camera_fps == 30
    store.user_path.write_text(json.dumps({"schema_version": 1, "future_key": 1, "mirror": False}))
    s, msg = store.load_user()
    assert msg is None and s.mirror is False


def test_newer_schema_is_not_misread(tmp_path):
    store = SettingsStore(tmp_path)
    store.user_path.write_text(json.dumps({"schema_version": 99}))
    s, msg = store.load_user()
    assert msg and "newer" in msg and s == UserSettings()


def test_virtual_camera_choices_round_trip_and_old_files_still_load(tmp_path):
    from app.sinks.virtual_camera import VirtualCameraConfig

    store = SettingsStore(tmp_path)
    s = UserSettings()
    out = s.outputs
    out.vcam_width, out.vcam_height, out.vcam_fps = 640, 360, 24
    out.vcam_background, out.vcam_color, out.vcam_mirror = "color", "#102030", True
    store.save_user(s)
    again, msg = SettingsStore(tmp_path).load_user()
    assert msg is None and again.outputs == out
    cfg = VirtualCameraConfig.from_dict(again.outputs.virtual_camera_dict())
    assert (cfg.width, cfg.height, cfg.fps, cfg.mirror) == (640, 360, 24.0, True)
    assert cfg.background == "color" and cfg.color == (0x10, 0x20, 0x30)

    # A file written before these fields existed loads with the defaults and no complaint.
    old = {"schema_version": 1, "camera": "1",
           "outputs": {"virtual_camera": True, "obs_source": False, "obs_port": 9000,
                       "record_dir": ""}}
    store.user_path.write_text(json.dumps(old))
    loaded, msg = store.load_user()
    assert msg is None
    assert loaded.outputs.virtual_camera is True and loaded.outputs.obs_port == 9000
    assert (loaded.outputs.vcam_width, loaded.outputs.vcam_height) == (1280, 720)
    assert loaded.outputs.vcam_background == "green" and not loaded.outputs.vcam_mirror


def test_saver_writes_changes_and_never_lets_an_older_snapshot_win(tmp_path):
    from app.settings import SettingsSaver

    store = SettingsStore(tmp_path)
    image = tmp_path / "character.png"
    image.write_bytes(b"an image")
    saver = SettingsSaver(store)
    user, char = UserSettings(), CharacterSettings()
    assert saver.changed(user, image, char)  # nothing written yet
    assert saver.write(saver.take(user, image, char))
    assert not saver.changed(user, image, char)

    user.camera = "1"
    char.pins["mouth_open"] = 0.25
    assert saver.changed(user, image, char)
    older = saver.take(user, image, char)
    user.camera = "2"
    char.pins["mouth_open"] = 0.75
    newer = saver.take(user, image, char)  # copies: later edits do not leak into `older`
    assert older.user.camera == "1" and older.character.pins == {"mouth_open": 0.25}
    assert saver.write(newer)
    assert not saver.write(older)  # a slow earlier save finishing late changes nothing
    again, msg = store.load_user()
    assert msg is None and again.camera == "2"
    got, msg = store.load_character(image)
    assert msg is None and got.pins == {"mouth_open": 0.75}
    assert not list(tmp_path.rglob("*.tmp"))
