"""The head box editor, offscreen on real Qt: dragging and scaling the box moves the framed
result, and accepting gives a face box that frames the character to the convention."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QDialog

from app.intake import evaluate, scenes
from app.intake.frame import TARGET_CX, TARGET_CY, TARGET_W
from app.intake.locate import FaceBox
from app.intake.prepare import prepare_image
from ui.head_box_dialog import HeadBoxDialog


def _picture():
    rgba, box, _ = evaluate.test_character(0)
    k = 2.0
    m = np.array([[k, 0, 100.0], [0, k, 40.0]])
    pic = scenes.place(scenes.extend_body(rgba), m, 1200, 1000)
    true = box * k + np.array([100, 40, 100, 40])
    return pic, true


def test_drag_and_scale_the_box_then_accept(qtbot):
    pic, true = _picture()
    tw = true[2] - true[0]
    c = (true[:2] + true[2:]) / 2
    wrong = FaceBox(c[0] - 150, c[1] + 80, tw * 0.8, tw * 1.0)  # off and too small
    dlg = HeadBoxDialog(pic, wrong)
    qtbot.addWidget(dlg)
    dlg.show()
    canvas = dlg.canvas
    before = dlg.framed.framed.copy()
    s = canvas._scale()
    start = canvas.box_rect().center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start.toPoint())
    end = start + QPointF(150 * s, -80 * s)
    qtbot.mouseMove(canvas, end.toPoint())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end.toPoint())
    f = dlg.face()
    assert abs(f.cx - c[0]) < 2 / s and abs(f.cy - c[1]) < 2 / s
    # two wheel notches up: 1.05^2 larger, close to the true width
    ev = QWheelEvent(QPointF(start), canvas.mapToGlobal(QPointF(start)), QPoint(0, 0),
                     QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(ev)
    assert abs(dlg.face().w - tw * 0.8 * 1.05 ** 2) < 0.5
    # the corner handle scales about the centre
    h = canvas.handle_rect().center()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=h.toPoint())
    grow = (tw - dlg.face().w) / 2 * s
    qtbot.mouseMove(canvas, (h + QPointF(grow, grow)).toPoint())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=(h + QPointF(grow, grow)).toPoint())
    assert abs(dlg.face().w / tw - 1) < 0.03
    assert not np.array_equal(before, dlg.framed.framed)  # the preview followed the box
    dlg.accept()
    assert dlg.result() == QDialog.DialogCode.Accepted
    done = prepare_image(pic, face=dlg.face())
    fr = done.framing
    cx, cy = fr.apply(*c)
    assert abs(cx - TARGET_CX) < 6 and abs(cy - TARGET_CY) < 6
    assert abs(tw * fr.scale / TARGET_W - 1) < 0.05
    assert done.rgba.shape == (512, 512, 4) and done.rgba[0, 0, 3] == 0


def test_window_places_the_head_of_an_opened_picture(window, qtbot, tmp_path):
    from PIL import Image

    pic, true = _picture()
    src = tmp_path / "art.png"
    Image.fromarray(pic).save(src)
    window.load_character(src)
    qtbot.waitUntil(lambda: window.controller.character.path == src, timeout=20000)
    window.place_head_dialog()
    dlg = window.head_dialog
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    f = dlg.face()  # the locator's box on the picture
    c = (true[:2] + true[2:]) / 2
    assert abs(f.cx - c[0]) < 0.1 * f.w and abs(f.w / (true[2] - true[0]) - 1) < 0.15
    dlg.accept()
    out = tmp_path / "art.prepared.png"
    qtbot.waitUntil(lambda: window.controller.character.path == out, timeout=20000)
    rgba = np.asarray(Image.open(out))
    assert rgba.shape == (512, 512, 4) and rgba[0, 0, 3] == 0
    assert (rgba[64:192, 192:320, 3] > 0).mean() > 0.8  # the head fills the head box
    assert Image.open(src).size == (1200, 1000)  # the picture itself is untouched
