"""Damaged settings files: each is named, kept as *.damaged-TIME, repaired (only the bad
values reset when the rest is readable), and the app still starts on the repaired file."""
from __future__ import annotations

import json

import pytest

from app.controller import Controller, ControllerOptions
from app.settings import SettingsStore, UserSettings
from tests.app.bad_settings import (CHARACTER_CASES, USER_CASES, huge_settings_text,
                                    user_value)
from tests.app.pipeline_fixtures import default_character, engine, wait_for  # noqa: F401


def _check_backup_and_repair(path, original: bytes, msg: str) -> None:
    backups = list(path.parent.glob(path.name + ".damaged-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert str(backups[0]) in msg  # the message says where the original went
    repaired = json.loads(path.read_text())  # the file left behind is valid settings
    assert repaired["schema_version"] == 1


@pytest.mark.parametrize("case", sorted(USER_CASES))
def test_damaged_user_settings_are_named_kept_and_repaired(tmp_path, case):
    text, expected, words = USER_CASES[case]
    store = SettingsStore(tmp_path)
    store.user_path.write_text(text)
    settings, msg = store.load_user()
    assert msg is not None and str(store.user_path) in msg
    for w in words:
        assert w in msg, (w, msg)
    for dotted, value in expected.items():
        assert user_value(settings, dotted) == value, dotted
    _check_backup_and_repair(store.user_path, text.encode(), msg)
    again, msg2 = SettingsStore(tmp_path).load_user()  # the next launch is quiet
    assert msg2 is None and again == settings


def test_a_60_mb_settings_file_is_refused_without_reading_it(tmp_path):
    store = SettingsStore(tmp_path)
    data = huge_settings_text(60)
    store.user_path.write_bytes(data)
    settings, msg = store.load_user()
    assert settings == UserSettings()
    assert "damaged" in msg and "60 MB" in msg and str(store.user_path) in msg
    backups = list(tmp_path.glob("settings.json.damaged-*"))
    assert len(backups) == 1 and backups[0].stat().st_size == len(data)


@pytest.mark.parametrize("case", sorted(CHARACTER_CASES))
def test_damaged_character_settings_keep_the_good_pins(tmp_path, case):
    text, pins, words = CHARACTER_CASES[case]
    store = SettingsStore(tmp_path / "cfg")
    image = tmp_path / "c.png"
    image.write_bytes(b"some character")
    path = store.character_path(image)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    got, msg = store.load_character(image)
    assert msg is not None and str(path) in msg
    for w in words:
        assert w in msg, (w, msg)
    assert got.pins == pins
    _check_backup_and_repair(path, text.encode(), msg)


def test_a_read_only_folder_still_gives_the_repaired_settings(tmp_path):
    store = SettingsStore(tmp_path)
    store.user_path.write_text('{"schema_version": 1, "camera_fps": NaN, "mirror": false}')
    tmp_path.chmod(0o500)
    try:
        settings, msg = store.load_user()
    finally:
        tmp_path.chmod(0o700)
    assert settings.camera_fps == 30 and settings.mirror is False
    assert "camera_fps" in msg


def test_the_app_starts_on_damaged_settings(tmp_path, engine):  # noqa: F811
    """The launch the issue describes: NaN fps, a nested calibration, pins like "abc".
    The pipeline starts fully (engine, character, pins), and the user is told which files
    were repaired."""
    cfg = tmp_path / "config"
    store = SettingsStore(cfg)
    cfg.mkdir()
    store.user_path.write_text('{"schema_version": 1, "camera_fps": NaN, "threads": 1, '
                               '"calibration": %s}' % ("[" * 100 + "]" * 100))
    char_path = store.character_path(default_character())
    char_path.parent.mkdir(parents=True)
    char_path.write_text('{"schema_version": 1, "pins": {"head_yaw": "abc", "mouth_open": 0.7}}')
    c = Controller(ControllerOptions(character=default_character(), source="none",
                                     settings_dir=cfg, engine=engine))
    notices, frames = [], []
    c.on_notice.append(notices.append)
    c.on_frame.append(frames.append)
    c.start(wait=True)
    try:
        assert c.pipeline is not None
        assert wait_for(lambda: len(frames) > 0), "the pipeline renders no frame"
        assert c.pins == {"mouth_open": 0.7}
        assert c.pipeline.with_mapper(lambda m: m.pinned) == {"mouth_open": 0.7}
        texts = [n.message for n in notices if n.level != "info"]
        assert any(str(store.user_path) in t and "camera_fps" in t for t in texts), texts
        assert any(str(char_path) in t and "head_yaw" in t for t in texts), texts
        assert not any("could not start" in t for t in texts), texts
    finally:
        c.shutdown()
    assert c.settings.camera_fps == 30


def test_two_damaged_files_in_one_second_keep_both_originals(tmp_path):
    store = SettingsStore(tmp_path)
    texts = ['{"schema_version": 1, "camera_fps": NaN}', "{ not json", "[1]"]
    for text in texts:
        store.user_path.write_text(text)
        assert store.load_user()[1]
    kept = sorted(p.read_text() for p in tmp_path.glob("settings.json.damaged-*"))
    assert kept == sorted(texts)


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    """Windows Notepad starts UTF-8 files with a BOM: the settings are the user's, not damage."""
    store = SettingsStore(tmp_path)
    store.user_path.write_bytes(b"\xef\xbb\xbf" + b'{"schema_version": 1, "camera_fps": 24}')
    settings, msg = store.load_user()
    assert msg is None and settings.camera_fps == 24


@pytest.mark.parametrize("data", [b'{"schema_version": 1, "camera": "Cam\xe9ra"}',
                                  '{"schema_version": 1}'.encode("utf-16")])
def test_a_file_in_another_encoding_is_named_kept_and_replaced(tmp_path, data):
    store = SettingsStore(tmp_path)
    store.user_path.write_bytes(data)
    settings, msg = store.load_user()
    assert settings == UserSettings() and "not UTF-8 text" in msg
    _check_backup_and_repair(store.user_path, data, msg)
