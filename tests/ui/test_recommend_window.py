"""Recommend settings in the real window (Qt offscreen): offered on the first start only,
Help > Recommend settings measures this machine with the real engine and tracker in a
worker (a short run: 5 frames per measurement), shows the figures, and Apply puts the
recommendation into the running pipeline and the settings file."""
from __future__ import annotations

import json

from app.controller import Controller, ControllerOptions
from app.recommend import FPS_CHOICES
from app.settings import SettingsStore, UserSettings
from tests.app.pipeline_fixtures import default_character
from tests.ui.conftest import open_window


def _window(qtbot, settings_dir, engine):
    return open_window(qtbot, Controller(ControllerOptions(
        character=default_character(), source="none", settings_dir=settings_dir, engine=engine)))


def test_offered_on_the_first_start_only(qtbot, tmp_path, engine):
    w = _window(qtbot, tmp_path / "config", engine)
    panel = w.recommend_panel
    assert w.controller.first_start and panel.isVisible()
    assert "measure this computer" in panel.label.text()
    panel.close_button.click()  # "Not now"
    assert not panel.isVisible()
    w.close()  # saves the settings: the next start is not the first
    assert (tmp_path / "config" / "settings.json").exists()
    w2 = _window(qtbot, tmp_path / "config", engine)
    assert not w2.controller.first_start and not w2.recommend_panel.isVisible()
    w2.close()


def test_help_action_measures_shows_and_applies(qtbot, tmp_path, engine, monkeypatch):
    from app import recommend

    real_measure = recommend.measure
    monkeypatch.setattr(recommend, "measure",
                        lambda frames=30, *args, **kw: real_measure(5, *args, **kw))
    config = tmp_path / "config"
    SettingsStore(config).save_user(UserSettings(camera_fps=7, tracker_size=480))
    w = _window(qtbot, config, engine)
    c, panel = w.controller, w.recommend_panel
    assert not panel.isVisible()  # not the first start
    w.recommend_action.trigger()
    assert panel.isVisible() and "Measuring" in panel.label.text()
    assert not panel.measure_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=120000)
    assert panel.apply_button.isVisible(), panel.label.text()
    rec = panel.recommendation
    text = panel.label.text()
    assert "render with mirror ensemble" in text and "Recommended:" in text
    assert panel.costs.cpu_model in text
    frames = w.preview.frames_shown
    qtbot.waitUntil(lambda: w.preview.frames_shown > frames, timeout=10000)  # unpaused

    panel.apply_button.click()
    assert "Applied" in panel.label.text() and not panel.apply_button.isVisible()
    s = c.settings
    assert (s.single_pass, s.tracker_size, s.camera_fps) == (
        rec.single_pass, rec.tracker_size, rec.camera_fps)
    assert rec.camera_fps in FPS_CHOICES and rec.tracker_size in (0, 320)
    pipe = c.pipeline  # the running pipeline took the choice (the governor works within it)
    assert pipe._user_mirror == (not rec.single_pass)
    assert pipe._user_track_size == (rec.tracker_size or None)
    path = config / "settings.json"

    def saved():
        data = json.loads(path.read_text(encoding="utf-8"))
        return (data["single_pass"], data["tracker_size"], data["camera_fps"]) == (
            rec.single_pass, rec.tracker_size, rec.camera_fps)
    qtbot.waitUntil(saved, timeout=5000)  # written by the controller's save worker
    w.close()
