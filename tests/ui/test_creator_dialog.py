"""File > New character, offscreen on real Qt: Randomise, an edit, Save (PNG + JSON read back
by Pillow and json), the saved identity reopened pixel for pixel, and "Save and use" making
the saved PNG the window's character on the real engine."""
from __future__ import annotations

import json
import shutil

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QDialog

from ui.creator_dialog import CreatorDialog
from ui.head_box_dialog import HeadBoxDialog


def _pixels(path):
    with Image.open(path) as im:
        assert im.mode == "RGBA" and im.size == (512, 512)
        return np.asarray(im).copy()


def test_randomise_edit_save_and_reopen(qtbot, tmp_path):
    dlg = CreatorDialog(seed=11)
    qtbot.addWidget(dlg)
    dlg.show()
    first = dlg.creation.rgba.copy()
    assert dlg.seed_label.text() == "seed 11" and not dlg.view.pixmap().isNull()
    dlg.randomise_button.click()
    assert dlg.creation.seed != 11 and not np.array_equal(first, dlg.creation.rgba)
    shown = dlg.view.pixmap().toImage()
    dlg.set_value("hair_color", "#2040c0")
    box = dlg.combos["clothing"]
    box.setCurrentIndex(box.findData("hoodie"))
    box.activated.emit(box.currentIndex())
    ident = dlg.creation.identity
    assert ident.hair_color == "#2040c0" and ident.clothing == "hoodie"
    assert dlg.view.pixmap().toImage() != shown  # the preview follows
    png = dlg.save(tmp_path / "mine.png")
    assert png == tmp_path / "mine.png" and dlg.error is None
    assert np.array_equal(_pixels(png), dlg.creation.rgba)
    doc = json.loads((tmp_path / "mine.json").read_text())
    assert doc["identity"]["hair_color"] == "#2040c0" and doc["seed"] == dlg.creation.seed
    # reopening the identity in a new creator gives the same picture, pixel for pixel
    again = CreatorDialog()
    qtbot.addWidget(again)
    assert again.open_params(tmp_path / "mine.json")
    assert np.array_equal(again.creation.rgba, _pixels(png))
    assert again.combos["clothing"].currentData() == "hoodie"
    # ... and saving it back over the file it was opened from is refused
    before = (tmp_path / "mine.json").read_bytes()
    assert again.save(tmp_path / "mine.png") is None
    assert "being read" in again.status.text() and again.error
    assert (tmp_path / "mine.json").read_bytes() == before


def test_a_bad_identity_file_is_explained(qtbot, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    dlg = CreatorDialog(seed=1)
    qtbot.addWidget(dlg)
    shown = dlg.creation.rgba.copy()
    assert not dlg.open_params(bad)
    assert "bad.json" in dlg.status.text() and "JSON" in dlg.status.text()
    assert np.array_equal(dlg.creation.rgba, shown)  # what was shown stays


def test_window_uses_the_created_character(window, qtbot, tmp_path, monkeypatch):
    menu = window.menuBar().actions()[0].menu()
    assert any(a.text() == "New character…" for a in menu.actions())
    window.creator_dialog()
    dlg = window.creator_dlg
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    dlg.randomise(11)  # a fixed character: its face is within the convention's tolerance
    out = tmp_path / "made.png"
    dlg.save_and_use(out)
    assert dlg.result() == QDialog.DialogCode.Accepted and dlg.saved == out
    qtbot.waitUntil(lambda: window.controller.character.path == out, timeout=20000)
    assert np.array_equal(window.controller.character.rgba, _pixels(out))
    assert (tmp_path / "made.json").exists()
    frames = window.preview.frames_shown
    qtbot.waitUntil(lambda: window.preview.frames_shown > frames + 3, timeout=20000)
    # the saved PNG reopens as the character through File > Open character, directly: it
    # follows the convention, so the head-box editor does not appear
    shown = []
    monkeypatch.setattr(HeadBoxDialog, "exec", lambda self: shown.append(self) or 0)
    copy = tmp_path / "copy.png"
    shutil.copy(out, copy)
    window.open_character(copy)
    qtbot.waitUntil(lambda: window.controller.character.path == copy, timeout=20000)
    assert shown == [] and np.array_equal(window.controller.character.rgba, _pixels(out))


def test_face_accessories_and_drawing_style_are_edited_and_saved(qtbot, tmp_path):
    """Every tab changes the drawing and the saved identity, and reopening shows the values."""
    dlg = CreatorDialog(seed=5)
    qtbot.addWidget(dlg)
    dlg.show()
    assert [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())] == [
        "Hair and clothes", "Face", "Accessories", "Drawing style"]
    before = dlg.creation.rgba.copy()
    spin = dlg.shapes["eye_w"]
    spin.setValue(spin.minimum())  # the smallest eyes the generator draws
    assert dlg.creation.identity.eye_w == spin.minimum()
    assert not np.array_equal(before, dlg.creation.rgba)
    box = dlg.combos["mouth"]
    box.setCurrentIndex(box.findData("cat"))
    box.activated.emit(box.currentIndex())
    worn = "glasses" if "glasses" not in dlg.creation.identity.accessories else "bow"
    shown = dlg.creation.rgba.copy()
    dlg.accessory_boxes[worn].click()
    assert worn in dlg.creation.identity.accessories and dlg.accessory_boxes[worn].isChecked()
    assert not np.array_equal(shown, dlg.creation.rgba)
    shown = dlg.creation.rgba.copy()
    dlg.set_drawing_style(1234)
    styled = dlg.creation.identity
    dlg.plain_style_button.click()
    assert dlg.creation.identity.look != styled.look and dlg.error is None
    dlg.set_drawing_style(1234)  # the same seed draws the same style again
    assert dlg.creation.identity.look == styled.look
    assert dlg.creation.identity.accessories == styled.accessories  # the character stays
    png = dlg.save(tmp_path / "styled.png")
    again = CreatorDialog()
    qtbot.addWidget(again)
    assert again.open_params(tmp_path / "styled.json")
    assert np.array_equal(again.creation.rgba, _pixels(png))
    assert again.shapes["eye_w"].value() == spin.minimum()
    assert again.combos["mouth"].currentData() == "cat" and again.accessory_boxes[worn].isChecked()
