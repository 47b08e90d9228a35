"""The Presets menu and the virtual camera controls, offscreen, on the real engine and the
default character: a preset hotkey fades an expression in over tracking and out again."""
from __future__ import annotations

import json

import numpy as np

from app.presets import BUILTIN_PRESETS, PresetStore
from engines.convention import HEAD_BOX
from tests.ui.conftest import grab, hold_still


def _head(window) -> np.ndarray:
    img = grab(window.preview)
    r = window.preview.target_rect()
    s = r.width() / 512
    x0, y0, x1, y1 = HEAD_BOX
    return img[int(r.y() + y0 * s):int(r.y() + y1 * s),
               int(r.x() + x0 * s):int(r.x() + x1 * s), :3].astype(int)


def test_preset_hotkey_fades_the_expression_in_and_out(window, qtbot):
    menu = window.presets_menu
    keys = [menu.actions_by_name[n].shortcut().toString() for n in BUILTIN_PRESETS]
    assert len(set(keys)) == len(keys) and all(k.startswith("Ctrl+") for k in keys)
    hold_still(window, qtbot)
    before = _head(window)
    smile = menu.actions_by_name["smile"]
    smile.trigger()  # what its hotkey does
    assert smile.isChecked()
    pipe = window.controller.pipeline
    qtbot.waitUntil(lambda: abs(pipe.last_pose["mouth_form"] - 1.0) < 0.05, timeout=10000)
    qtbot.waitUntil(lambda: np.abs(_head(window) - before).mean() > 1.0, timeout=10000)
    on = np.abs(_head(window) - before).mean()
    smile.trigger()  # pressed again: fades back to the tracked pose
    assert not smile.isChecked()
    qtbot.waitUntil(lambda: not pipe.presets.active, timeout=10000)
    qtbot.wait(500)  # the last frames reach the preview
    off = np.abs(_head(window) - before).mean()
    assert off < on / 4, (on, off)
    assert abs(pipe.last_pose["mouth_form"] - BUILTIN_PRESETS["smile"].values["mouth_form"]) > 0.5


def test_hold_mode_preset_shows_only_while_its_key_is_down(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QKeySequence

    menu, pipe = window.presets_menu, window.controller.pipeline
    key = menu.actions_by_name["smile"].shortcut().toString()
    [entry] = [a for a in menu.hold_menu.actions() if a.text() == "smile"]
    entry.trigger()  # the user ticks "smile" under "Show only while the hotkey is held"
    qtbot.waitUntil(lambda: menu.hold_keys.keys.get(key) == "smile", timeout=5000)
    assert PresetStore(window.controller.store.dir / "presets.json").get("smile").mode == "hold"
    assert menu.actions_by_name["smile"].shortcut().isEmpty()
    assert f"hold {key}" in menu.actions_by_name["smile"].text()
    hold_still(window, qtbot)
    combo = QKeySequence(key)[0]
    target = window.preview
    qtbot.keyPress(target, combo.key(), combo.keyboardModifiers())
    qtbot.waitUntil(lambda: abs(pipe.last_pose["mouth_form"] - 1.0) < 0.05, timeout=10000)
    assert pipe.presets.active == ["smile"] and menu.actions_by_name["smile"].isChecked()
    qtbot.keyPress(target, combo.key(), combo.keyboardModifiers())  # a repeat while held
    assert pipe.presets.active == ["smile"]
    qtbot.keyRelease(target, combo.key(), Qt.KeyboardModifier.NoModifier)  # Ctrl let go first
    qtbot.waitUntil(lambda: not pipe.presets.active, timeout=10000)
    assert not menu.actions_by_name["smile"].isChecked()


def test_save_current_pose_as_preset_writes_a_file_that_loads_back(window, qtbot):
    c = window.controller
    hold_still(window, qtbot)
    pose = dict(c.pipeline.last_pose)
    assert window.presets_menu.save("my face")
    path = c.store.dir / "presets.json"
    assert json.loads(path.read_text())["presets"][0]["name"] == "my face"
    loaded = PresetStore(path).load()["my face"]
    assert set(loaded.values) == set(c.pose_spec.names)
    assert all(abs(loaded.values[k] - pose[k]) < 1e-6 for k in pose)
    action = window.presets_menu.actions_by_name["my face"]
    assert action.shortcut().toString() == f"Ctrl+{len(BUILTIN_PRESETS) + 1}"
    assert "my face" in [a.text() for a in window.presets_menu.actions()]


def test_outputs_tab_shows_and_changes_the_saved_virtual_camera_choices(window, qtbot):
    panel, out = window.outputs_panel, window.controller.settings.outputs
    assert panel.vcam_size.currentData() == f"{out.vcam_width}x{out.vcam_height}"
    assert panel.vcam_fps.value() == out.vcam_fps
    i = panel.vcam_size.findData("640x360")
    panel.vcam_size.setCurrentIndex(i)
    panel.vcam_size.activated.emit(i)
    panel.vcam_background.setCurrentIndex(panel.vcam_background.findData("magenta"))
    panel.vcam_background.activated.emit(panel.vcam_background.currentIndex())
    panel.vcam_mirror.setChecked(True)
    assert (out.vcam_width, out.vcam_height, out.vcam_background, out.vcam_mirror) == (
        640, 360, "magenta", True)
    names = [panel.vcam_backend.itemData(i) for i in range(panel.vcam_backend.count())]
    assert names == ["", *window.controller.virtual_camera_backends()]
    i = panel.vcam_backend.count() - 1
    panel.vcam_backend.setCurrentIndex(i)
    panel.vcam_backend.activated.emit(i)
    panel.vcam_device.setText(" /dev/video7 ")
    panel.vcam_device.editingFinished.emit()
    assert (out.vcam_backend, out.vcam_device) == (names[-1], "/dev/video7")


def test_deleting_a_hold_preset_while_its_key_is_down_releases_it(window, qtbot):
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QKeySequence
    from PySide6.QtWidgets import QApplication, QMessageBox

    menu, pipe = window.presets_menu, window.controller.pipeline
    hold_still(window, qtbot)
    assert menu.save("big grin")
    [entry] = [a for a in menu.hold_menu.actions() if a.text() == "big grin"]
    entry.trigger()
    qtbot.waitUntil(lambda: "big grin" in menu.hold_keys.keys.values(), timeout=5000)
    [key] = [k for k, n in menu.hold_keys.keys.items() if n == "big grin"]
    assert [a.text() for a in menu.delete_menu.actions()] == ["big grin…"]
    combo = QKeySequence(key)[0]
    qtbot.keyPress(window.preview, combo.key(), combo.keyboardModifiers())
    assert pipe.presets.active == ["big grin"]
    assert menu.delete("big grin")
    qtbot.waitUntil(lambda: not pipe.presets.active, timeout=10000)
    qtbot.waitUntil(lambda: "big grin" not in menu.actions_by_name, timeout=5000)
    qtbot.keyRelease(window.preview, combo.key(), Qt.KeyboardModifier.NoModifier)  # no entry left
    assert not menu.hold_keys.held and "big grin" not in window.controller.presets()
    assert not menu.delete_menu.isEnabled() and not menu.delete_menu.actions()

    shown = []

    def dismiss():  # the warning is modal: read it and press its OK button
        box = QApplication.activeModalWidget()
        shown.append(box.text())
        box.button(QMessageBox.StandardButton.Ok).click()

    QTimer.singleShot(100, dismiss)
    assert not menu.delete("big grin")  # nothing saved under that name any more
    assert shown == ["no preset named 'big grin' to delete"]
