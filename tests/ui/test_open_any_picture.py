"""Opening a picture in the real window (offscreen Qt, real engine, real face locator): one
that does not follow the input convention brings up the head-box editor on its automatic
framing; OK loads a convention copy that animates, Cancel keeps the character on screen, and a
convention image loads directly without the editor; what the editor's brushes erase and
restore is in the loaded character."""
from __future__ import annotations

import shutil

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.intake import evaluate
from app.intake.frame import TARGET_CX, TARGET_CY, TARGET_W, framing_for
from app.intake.prepare import find_face
from engines.convention import HEAD_BOX
from tests.app.pipeline_fixtures import default_character
from tests.ui.conftest import grab, hold_still
from ui.head_box_dialog import HeadBoxDialog


def _art_on_white(tmp_path):
    """The default character at 2x on an 800x1000 white canvas, as a JPEG: a typical
    head-and-shoulders picture (face outline about 190 px wide at (400, 234)), no
    transparency."""
    char = Image.open(default_character()).convert("RGBA")
    big = char.resize((1024, 1024), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (800, 1000), "white")
    canvas.paste(big, (-112, -20), big)
    path = tmp_path / "art.jpg"
    canvas.save(path, quality=92)
    return path


def _preview_region(window, box):
    """Pixels of the preview inside a box given in 512x512 character coordinates."""
    img = grab(window.preview).astype(int)
    r = window.preview.target_rect()
    s = r.width() / 512
    x0, y0, x1, y1 = box
    return img[int(r.y() + y0 * s):int(r.y() + y1 * s), int(r.x() + x0 * s):int(r.x() + x1 * s)]


def _dialogs(monkeypatch, answer):
    shown = []

    def fake_exec(self):
        shown.append(self)
        self.setResult(answer)
        return answer
    monkeypatch.setattr(HeadBoxDialog, "exec", fake_exec)
    return shown


def test_a_picture_off_the_convention_opens_the_head_box_editor(window, qtbot, tmp_path,
                                                                 monkeypatch):
    src = _art_on_white(tmp_path)
    before = src.read_bytes()
    shown = _dialogs(monkeypatch, QDialog.DialogCode.Accepted)
    window.open_character(src)
    out = tmp_path / "art.prepared.png"
    qtbot.waitUntil(lambda: window.controller.character.path == out, timeout=30000)
    assert len(shown) == 1
    dlg = shown[0]
    f = dlg.face()  # the locator's box, in picture pixels: the convention face box its
    # eyes and mouth give, twice that of the default character's own picture
    x0, y0, x1, y1 = evaluate.convention_box(evaluate.test_features(0)) * 2 + np.array(
        [-111.5, -19.5, -111.5, -19.5])
    assert abs(f.cx - (x0 + x1) / 2) < 15 and abs(f.cy - (y0 + y1) / 2) < 20
    assert abs(f.w / (x1 - x0) - 1) < 0.15
    assert dlg.canvas.image.hasAlphaChannel()
    assert dlg.framed.framed[0, 0, 3] == 0  # the editor shows the white background removed
    ch = window.controller.character
    assert ch.rgba.shape == (512, 512, 4) and ch.rgba[0, 0, 3] == 0
    with Image.open(out) as im:  # the file, read back by Pillow
        assert im.mode == "RGBA" and im.size == (512, 512)
    face = find_face(ch.rgba)
    assert abs(face.cx - TARGET_CX) < 6 and abs(face.cy - TARGET_CY) < 6
    assert abs(face.w / TARGET_W - 1) < 0.1
    x0, y0, x1, y1 = HEAD_BOX
    # the head fills the head box as the default character's does, framed by the same rule
    own = (evaluate.default_by_rule()[y0:y1, x0:x1, 3] > 0).mean()
    assert abs((ch.rgba[y0:y1, x0:x1, 3] > 0).mean() - own) < 0.03
    assert src.read_bytes() == before  # the picture itself is untouched
    # It animates: on screen, a turned head with an open mouth differs from the rest pose.
    hold_still(window, qtbot)
    rest = _preview_region(window, HEAD_BOX)
    window.controller.pin("head_yaw", 15.0)
    window.controller.pin("mouth_open", 1.0)
    qtbot.waitUntil(lambda: np.abs(_preview_region(window, HEAD_BOX) - rest).mean() > 3.0,
                    timeout=10000)

def test_cancel_keeps_the_character(window, qtbot, tmp_path, monkeypatch):
    src = _art_on_white(tmp_path)
    original = window.controller.character
    shown = _dialogs(monkeypatch, QDialog.DialogCode.Rejected)
    window.open_character(src)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=30000)
    qtbot.waitUntil(lambda: "was not opened" in window.banner.text(), timeout=5000)
    qtbot.wait(500)
    assert window.controller.character is original
    assert not (tmp_path / "art.prepared.png").exists()


def test_a_convention_image_loads_without_the_editor(window, qtbot, tmp_path, monkeypatch):
    shown = _dialogs(monkeypatch, QDialog.DialogCode.Rejected)
    copy = tmp_path / "mine.png"
    shutil.copy(default_character(), copy)
    window.open_character(copy)
    qtbot.waitUntil(lambda: window.controller.character.path == copy, timeout=30000)
    assert shown == []


def test_background_edits_in_the_editor_carry_into_the_loaded_character(window, qtbot,
                                                                        tmp_path, monkeypatch):
    from tests.ui.test_head_box_dialog import stroke
    from ui.head_box_dialog import ERASE, RESTORE

    src = _art_on_white(tmp_path)  # face about 190 px wide at (400, 234), white background
    shown = []

    def edit_then_accept(dlg):
        shown.append(dlg)
        dlg.show()
        dlg.brush_size.setValue(16)
        qtbot.mouseClick(dlg.tool_buttons[ERASE], Qt.MouseButton.LeftButton)
        stroke(qtbot, dlg.canvas, [(340, 234), (460, 234)])  # across the face
        qtbot.mouseClick(dlg.tool_buttons[RESTORE], Qt.MouseButton.LeftButton)
        stroke(qtbot, dlg.canvas, [(60, 60), (200, 60)])  # white background, top left
        dlg.setResult(QDialog.DialogCode.Accepted)
        return QDialog.DialogCode.Accepted
    monkeypatch.setattr(HeadBoxDialog, "exec", edit_then_accept)
    window.open_character(src)
    out = tmp_path / "art.prepared.png"
    qtbot.waitUntil(lambda: window.controller.character.path == out, timeout=30000)
    assert len(shown) == 1
    dlg = shown[0]
    fr = framing_for(dlg.face())
    rgba = np.asarray(Image.open(out))  # the file, read back by Pillow
    x, y = (int(round(v)) for v in fr.apply(400, 234))
    assert rgba[y, x, 3] == 0, "the erased face is not transparent"
    x, y = (int(round(v)) for v in fr.apply(130, 60))
    assert rgba[y, x, 3] == 255 and (rgba[y, x, :3] > 240).all(), "the restored white is gone"
    x, y = (int(round(v)) for v in fr.apply(130, 140))
    assert rgba[y, x, 3] == 0  # background beside the stroke: still removed
    assert np.array_equal(window.controller.character.rgba, rgba)
