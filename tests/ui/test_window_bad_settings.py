"""The window starts on damaged settings files: they are repaired and kept as
*.damaged-TIME, the character shows, and the user is told which file was repaired."""
from __future__ import annotations

from app.controller import Controller, ControllerOptions
from app.settings import SettingsStore
from tests.app.pipeline_fixtures import default_character


def test_window_starts_on_damaged_settings(qtbot, tmp_path, engine):
    from ui.main_window import MainWindow

    cfg = tmp_path / "config"
    cfg.mkdir()
    store = SettingsStore(cfg)
    store.user_path.write_text('{"schema_version": 1, "camera_fps": NaN, "preview_fps_cap": '
                               'Infinity, "background": "%s"}' % ("x" * 100_000))
    char = store.character_path(default_character())
    char.parent.mkdir()
    char.write_text('{"schema_version": 1, "pins": {"head_yaw": "abc", "mouth_open": 1}}')
    notices = []
    controller = Controller(ControllerOptions(character=default_character(), source="none",
                                              settings_dir=cfg, engine=engine))
    controller.on_notice.append(notices.append)
    w = MainWindow(controller)
    qtbot.addWidget(w)
    w.show()
    controller.start()
    try:
        qtbot.waitUntil(lambda: w.preview.frames_shown > 0 and bool(w.pose_panel.rows),
                        timeout=30000)
        assert controller.pins == {"mouth_open": 1.0}
        assert len(list(cfg.glob("settings.json.damaged-*"))) == 1
        assert len(list(char.parent.glob(char.name + ".damaged-*"))) == 1
        said = " ".join(n.message for n in notices)
        assert "settings.json" in said and "camera_fps" in said and "head_yaw" in said
        assert controller.settings.camera_fps == 30 and controller.settings.background == "checker"
    finally:
        w.close()
