"""The head box editor, offscreen on real Qt: dragging and scaling the box moves the framed
result, and accepting gives a face box that frames the character to the convention; the erase
and restore brushes (with undo) edit the picture that is accepted."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QDialog

from app.intake import evaluate, scenes
from app.intake.frame import TARGET_CX, TARGET_CY, TARGET_W, framing_for
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
    f = dlg.face()  # the locator's box on the picture: the convention face box its eyes and
    # mouth give
    conv = evaluate.convention_box(evaluate.test_features(0) * 2.0 + np.array([100, 40] * 2))
    c = (conv[:2] + conv[2:]) / 2
    assert abs(f.cx - c[0]) < 0.1 * f.w and abs(f.w / (conv[2] - conv[0]) - 1) < 0.15
    dlg.accept()
    out = tmp_path / "art.prepared.png"
    qtbot.waitUntil(lambda: window.controller.character.path == out, timeout=20000)
    rgba = np.asarray(Image.open(out))
    assert rgba.shape == (512, 512, 4) and rgba[0, 0, 3] == 0
    # the head fills the head box as the default character's does, framed by the same rule
    own = (evaluate.default_by_rule()[64:192, 192:320, 3] > 0).mean()
    assert abs((rgba[64:192, 192:320, 3] > 0).mean() - own) < 0.03
    assert Image.open(src).size == (1200, 1000)  # the picture itself is untouched


def stroke(qtbot, canvas, points) -> None:
    """A mouse drag through `points` (picture px) on the editor's picture."""
    s, o = canvas._scale(), canvas._offset()
    pos = [QPointF(o.x() + (x + 0.5) * s, o.y() + (y + 0.5) * s).toPoint() for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pos[0])
    for p in pos[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pos[-1])


def _segment_distance(shape, a, b):
    """Distance of every pixel centre to the segment a-b (picture px)."""
    ys, xs = np.mgrid[:shape[0], :shape[1]].astype(float)
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / max(d @ d, 1e-9), 0, 1)
    return np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))


def test_erase_and_restore_brushes_with_undo_carry_into_the_accepted_picture(qtbot):
    from tests.ui.conftest import grab
    from ui.head_box_dialog import ERASE, RESTORE

    pic, true = _picture()
    c = (true[:2] + true[2:]) / 2
    face = FaceBox(c[0], c[1], true[2] - true[0], true[3] - true[1])
    dlg = HeadBoxDialog(pic, face)
    qtbot.addWidget(dlg)
    dlg.show()
    canvas = dlg.canvas
    qtbot.mouseClick(dlg.tool_buttons[ERASE], Qt.MouseButton.LeftButton)
    assert canvas.tool == ERASE
    dlg.brush_size.setValue(20)  # px of the view
    r = canvas.brush_radius()
    assert abs(r - 10 / canvas._scale()) < 1e-6
    a, b = (c[0] - 60, c[1]), (c[0] + 60, c[1])  # across the face, through its centre
    dist = _segment_distance(pic.shape, a, b)
    inside, outside = dist < r - 2, dist > r + 2
    assert (pic[..., 3][inside] == 255).all()  # opaque character under the stroke
    s, o = canvas._scale(), canvas._offset()
    centre_px = (int(o.y() + (c[1] + 0.5) * s), int(o.x() + (c[0] + 0.5) * s))
    before_view = grab(canvas)[centre_px][:3].astype(int)
    stroke(qtbot, canvas, [a, (c[0] - 20, c[1]), (c[0] + 20, c[1]), b])
    edited = dlg.picture()
    assert (edited[..., 3][inside] == 0).all(), "the stroke did not erase"
    assert np.array_equal(edited[outside], pic[outside]), "the brush touched pixels outside"
    # drawn on the preview: the checkerboard shows through where the face was
    after_view = grab(canvas)[centre_px][:3].astype(int)
    assert np.abs(after_view - before_view).max() > 30
    assert after_view[0] == after_view[1] == after_view[2] and after_view[0] in (153, 204)
    # the framed view follows once the stroke ends
    fx, fy = (int(round(v)) for v in framing_for(face).apply(*c))
    assert dlg.framed.framed[fy, fx, 3] == 0
    # Undo takes the whole stroke back
    assert dlg.undo_button.isEnabled()
    qtbot.mouseClick(dlg.undo_button, Qt.MouseButton.LeftButton)
    assert np.array_equal(dlg.picture(), pic) and not dlg.undo_button.isEnabled()
    assert dlg.framed.framed[fy, fx, 3] > 0
    # erase again, then restore the left half of the stroke
    stroke(qtbot, canvas, [a, b])
    qtbot.mouseClick(dlg.tool_buttons[RESTORE], Qt.MouseButton.LeftButton)
    stroke(qtbot, canvas, [a, (c[0] - 30, c[1])])
    edited = dlg.picture()
    back = _segment_distance(pic.shape, a, (c[0] - 30, c[1])) < r - 2
    still = inside & (_segment_distance(pic.shape, a, (c[0] - 30, c[1])) > r + 2)
    assert back.sum() > 1000 and still.sum() > 1000
    assert np.array_equal(edited[back], pic[back]), "restore did not bring the pixels back"
    assert (edited[..., 3][still] == 0).all()
    # Ctrl+Z undoes the restore stroke; the erase before it stays
    with qtbot.waitActive(dlg):  # a window shortcut needs the active window
        dlg.activateWindow()
    qtbot.keyClick(dlg, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert (dlg.picture()[..., 3][inside] == 0).all()
    stroke(qtbot, canvas, [a, (c[0] - 30, c[1])])
    dlg.accept()
    assert dlg.result() == QDialog.DialogCode.Accepted
    # the accepted picture, prepared: erased pixels are transparent, restored ones are not
    done = prepare_image(dlg.picture(), face=dlg.face())
    fr = done.framing
    ex, ey = (int(round(v)) for v in fr.apply(c[0] + 40, c[1]))
    rx, ry = (int(round(v)) for v in fr.apply(c[0] - 50, c[1]))
    assert done.rgba[ey, ex, 3] == 0 and done.rgba[ry, rx, 3] == 255


def test_restore_brings_back_what_background_removal_took(qtbot):
    from ui.head_box_dialog import RESTORE

    pic, true = _picture()
    white = scenes.composite(pic, np.full(pic.shape[:2] + (3,), 255, np.uint8))
    original = np.dstack([white, np.full(pic.shape[:2], 255, np.uint8)])
    c = (true[:2] + true[2:]) / 2
    dlg = HeadBoxDialog(pic, FaceBox(c[0], c[1], true[2] - true[0], true[3] - true[1]),
                        original=original)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.mouseClick(dlg.tool_buttons[RESTORE], Qt.MouseButton.LeftButton)
    stroke(qtbot, dlg.canvas, [(40, 40), (160, 40)])  # background, top left
    got = dlg.picture()
    assert pic[40, 100, 3] == 0 and (got[40, 60:140] == 255).all()  # opaque white again
