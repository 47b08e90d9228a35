"""File > Avatar from photo, offscreen on real Qt with real MediaPipe on a real photo."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QDialog

from app.intake import avatar as A
from tests.media import astronaut_bgr
from ui.avatar_dialog import AvatarDialog


def test_fit_edit_a_colour_and_save(qtbot, tmp_path):
    photo = tmp_path / "me.jpg"
    Image.fromarray(np.ascontiguousarray(astronaut_bgr()[:, :, ::-1])).save(photo)
    before = photo.read_bytes()
    dlg = AvatarDialog(photo)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.save_button.isEnabled()  # nothing to save while the face is read
    qtbot.waitUntil(lambda: dlg.avatar is not None or dlg.error is not None, timeout=60_000)
    assert dlg.error is None and dlg.save_button.isEnabled()
    assert not dlg.avatar_view.pixmap().isNull()
    first = dlg.avatar.rgba.copy()
    dlg.set_colour("hair_color", "#2040c0")
    assert not np.array_equal(first, dlg.avatar.rgba)
    dlg.save_button.click()
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert dlg.saved == tmp_path / "me.avatar.png"
    with Image.open(dlg.saved) as im:
        assert im.mode == "RGBA" and im.size == (512, 512)
        assert np.array_equal(np.asarray(im), dlg.avatar.rgba)
    params = json.loads((tmp_path / "me.avatar.json").read_text())
    assert params["identity"]["hair_color"] == "#2040c0"
    assert photo.read_bytes() == before
    # the saved parameters redraw the saved picture
    assert np.array_equal(A.avatar_from_params(tmp_path / "me.avatar.json").rgba, dlg.avatar.rgba)


def test_no_face_is_explained_and_nothing_saved(qtbot, tmp_path):
    from skimage import data

    photo = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()).save(photo)
    dlg = AvatarDialog(photo)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.avatar is not None or dlg.error is not None, timeout=60_000)
    assert dlg.avatar is None and "no face was found" in dlg.status.text()
    assert "coffee.png" in dlg.status.text()
    assert not dlg.save_button.isEnabled()
    dlg.accept()
    assert dlg.saved is None and not (tmp_path / "coffee.avatar.png").exists()


def test_window_uses_the_saved_avatar_as_its_character(window, qtbot, tmp_path):
    photo = tmp_path / "selfie.jpg"
    Image.fromarray(np.ascontiguousarray(astronaut_bgr()[:, :, ::-1])).save(photo)
    assert any(a.text() == "Avatar from photo…" for a in window.menuBar().actions()[0].menu().actions())
    window.avatar_dialog(photo)
    dlg = window.avatar_dlg
    qtbot.waitUntil(lambda: dlg.avatar is not None or dlg.error is not None, timeout=60_000)
    dlg.save_button.click()
    out = tmp_path / "selfie.avatar.png"
    qtbot.waitUntil(lambda: window.controller.character.path == out, timeout=20_000)
    frames = window.preview.frames_shown
    qtbot.waitUntil(lambda: window.preview.frames_shown > frames + 3, timeout=20_000)
