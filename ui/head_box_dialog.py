"""The head box editor: the picture with the face box the locator found (or a guess), which
the user drags to move and scales with the mouse wheel or the corner handle; beside it, the
character framed to the convention from that box, with the convention's head box drawn.
Two brushes clean up the background first: Erase makes pixels transparent, Restore brings
back the original pixels (also what the automatic background removal took); Undo takes back
the last stroke. Accept gives the face box in picture pixels and the edited picture;
app.intake.prepare_image does the framing."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from app.intake.edits import ERASE, RESTORE, PictureEdits
from app.intake.frame import framing_for, warp
from app.intake.locate import FaceBox
from engines.convention import HEAD_BOX

VIEW = 420  # px of each of the two views
HANDLE = 10  # px of the corner handle
BOX = "box"  # the canvas tool that moves and scales the face box; ERASE, RESTORE: brushes
BRUSH_PX = 24  # default brush diameter, in px of the view (what the user sees)


def _qimage(rgba: np.ndarray) -> QImage:
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class _Checker:
    @staticmethod
    def paint(p: QPainter, rect: QRectF) -> None:
        p.fillRect(rect, QColor(204, 204, 204))
        s = 12
        for y in range(int(rect.top()), int(rect.bottom()), s):
            for x in range(int(rect.left()) + ((y - int(rect.top())) // s % 2) * s,
                           int(rect.right()), 2 * s):
                p.fillRect(QRectF(x, y, s, s).intersected(rect), QColor(153, 153, 153))


class BoxCanvas(QWidget):
    """The picture with a movable, scalable face box, and the erase/restore brushes."""

    changed = Signal()  # the face box moved or a stroke ended: the framed view follows
    edited = Signal()  # a stroke ended or was undone

    def __init__(self, rgba: np.ndarray, face: FaceBox, parent=None,
                 original: np.ndarray | None = None) -> None:
        super().__init__(parent)
        self.edits = PictureEdits(rgba, original)
        self.image = _qimage(self.edits.rgba)
        self.pic_w, self.pic_h = rgba.shape[1], rgba.shape[0]
        self.face = face
        self.tool = BOX
        self.brush_px = BRUSH_PX
        self._drag: tuple[str, QPointF, FaceBox] | None = None
        self._stroking = False
        self._cursor: QPointF | None = None
        self.setFixedSize(VIEW, VIEW)
        self.setMouseTracking(True)

    # picture px <-> widget px
    def _scale(self) -> float:
        return VIEW / max(self.pic_w, self.pic_h)

    def _offset(self) -> QPointF:
        s = self._scale()
        return QPointF((VIEW - self.pic_w * s) / 2, (VIEW - self.pic_h * s) / 2)

    def to_picture(self, pos: QPointF) -> tuple[float, float]:
        """Widget px -> picture px (pixel i spans i..i+1, so its centre is i + 0.5)."""
        s, o = self._scale(), self._offset()
        return (pos.x() - o.x()) / s - 0.5, (pos.y() - o.y()) / s - 0.5

    def box_rect(self) -> QRectF:
        s, o = self._scale(), self._offset()
        x0, y0, x1, y1 = self.face.box
        return QRectF(o.x() + x0 * s, o.y() + y0 * s, (x1 - x0) * s, (y1 - y0) * s)

    def handle_rect(self) -> QRectF:
        r = self.box_rect()
        return QRectF(r.right() - HANDLE / 2, r.bottom() - HANDLE / 2, HANDLE, HANDLE)

    def set_face(self, face: FaceBox) -> None:
        w = float(np.clip(face.w, 8, 4 * max(self.pic_w, self.pic_h)))
        self.face = face.moved_to(face.cx, face.cy, w)  # what the locator saw follows
        self.update()
        self.changed.emit()

    def scale_by(self, factor: float) -> None:
        f = self.face
        self.set_face(f.moved_to(f.cx, f.cy, f.w * factor))

    def set_tool(self, tool: str) -> None:
        self.tool = tool
        self.setCursor(Qt.CursorShape.ArrowCursor if tool == BOX else Qt.CursorShape.CrossCursor)
        self.update()

    def brush_radius(self) -> float:
        """The brush radius in picture px (its size is set in px of the view)."""
        return self.brush_px / 2 / self._scale()

    def undo(self) -> None:
        box = self.edits.undo()
        if box is not None:
            self._show_pixels(box)
            self.edited.emit()
            self.changed.emit()

    def _show_pixels(self, box) -> None:
        """Copy the edited pixels of `box` into the image on screen."""
        x0, y0, x1, y1 = box
        p = QPainter(self.image)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        p.drawImage(x0, y0, _qimage(self.edits.rgba[y0:y1, x0:x1]))
        p.end()
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        s, o = self._scale(), self._offset()
        target = QRectF(o.x(), o.y(), self.pic_w * s, self.pic_h * s)
        _Checker.paint(p, target)
        p.drawImage(target, self.image)
        p.setPen(QPen(QColor(255, 40, 90), 2))
        p.drawRect(self.box_rect())
        p.fillRect(self.handle_rect(), QColor(255, 40, 90))
        if self.tool != BOX and self._cursor is not None:  # the brush outline
            p.setPen(QPen(QColor(255, 255, 255), 1.5))
            p.drawEllipse(self._cursor, self.brush_px / 2, self.brush_px / 2)
            p.setPen(QPen(QColor(0, 0, 0), 1, Qt.PenStyle.DotLine))
            p.drawEllipse(self._cursor, self.brush_px / 2, self.brush_px / 2)
        p.end()

    def mousePressEvent(self, e) -> None:
        pos = e.position()
        if self.tool != BOX:
            if e.button() == Qt.MouseButton.LeftButton:
                self._stroking = True
                box = self.edits.begin(self.tool, *self.to_picture(pos), self.brush_radius())
                if box is not None:
                    self._show_pixels(box)
            return
        kind = "scale" if self.handle_rect().contains(pos) else \
            "move" if self.box_rect().contains(pos) else None
        self._drag = (kind, pos, self.face) if kind else None

    def mouseMoveEvent(self, e) -> None:
        self._cursor = e.position()
        if self.tool != BOX:
            if self._stroking:
                box = self.edits.move(*self.to_picture(e.position()))
                if box is not None:
                    self._show_pixels(box)
            self.update()
            return
        if not self._drag:
            return
        kind, start, f0 = self._drag
        d = (e.position() - start) / self._scale()
        if kind == "move":
            self.set_face(f0.moved_to(f0.cx + d.x(), f0.cy + d.y(), f0.w))
        else:  # the corner handle scales about the centre, keeping the box's shape
            grow = max(d.x() * 2 / f0.w, d.y() * 2 / f0.h)
            k = max(0.05, 1 + grow)
            self.set_face(f0.moved_to(f0.cx, f0.cy, f0.w * k))

    def mouseReleaseEvent(self, _e) -> None:
        self._drag = None
        if self._stroking:
            self._stroking = False
            self.edits.end()
            self.edited.emit()
            self.changed.emit()  # the framed view is redrawn once per stroke, not per dab

    def leaveEvent(self, _e) -> None:
        self._cursor = None
        self.update()

    def wheelEvent(self, e) -> None:
        self.scale_by(1.05 ** (e.angleDelta().y() / 120))


class FramedView(QLabel):
    """The character framed from the current box, with the convention's head box."""

    def __init__(self, rgba: np.ndarray, parent=None) -> None:
        super().__init__(parent)
        self.rgba = rgba
        self.framed: np.ndarray | None = None
        self.setFixedSize(VIEW, VIEW)

    def show_face(self, face: FaceBox) -> None:
        self.framed = warp(self.rgba, framing_for(face))
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        _Checker.paint(p, QRectF(0, 0, VIEW, VIEW))
        if self.framed is not None:
            p.drawImage(QRectF(0, 0, VIEW, VIEW), _qimage(self.framed))
        s = VIEW / 512
        x0, y0, x1, y1 = HEAD_BOX
        p.setPen(QPen(QColor(40, 160, 255), 2, Qt.PenStyle.DashLine))
        p.drawRect(QRectF(x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s))
        p.end()


class HeadBoxDialog(QDialog):
    """Ask the user to confirm or adjust the face box and clean up the background; after
    exec() == Accepted, .face() is the box and .picture() the edited picture to prepare.
    `original`: the picture before its background was removed automatically (what Restore
    brings back); by default the picture given."""

    def __init__(self, rgba: np.ndarray, face: FaceBox | None, message: str = "",
                 parent=None, original: np.ndarray | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Place the head")
        if face is None:  # no face found: start from a guess near the top centre
            h, w = rgba.shape[:2]
            fw = min(w, h) / 4
            face = FaceBox(w / 2, fw, fw, fw * 1.25, 0.0)
        self.canvas = BoxCanvas(rgba, face, self, original)
        self.framed = FramedView(self.canvas.edits.rgba, self)
        self.canvas.changed.connect(lambda: self.framed.show_face(self.canvas.face))
        self.framed.show_face(face)
        text = QLabel(message or "Drag the red box onto the face (cheeks to chin, not the "
                      "hair); the wheel or the corner handle scales it. Erase and Restore paint "
                      "background away or back. Right: the result, with the head box of the "
                      "input convention (blue).")
        text.setWordWrap(True)
        views = QHBoxLayout()
        views.addWidget(self.canvas)
        views.addWidget(self.framed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(text)
        lay.addLayout(self._tools())
        lay.addLayout(views)
        lay.addWidget(buttons)

    def _tools(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.tool_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for tool, label, tip in (
                (BOX, "Move box", "Drag the red box; the wheel or the corner handle scales it"),
                (ERASE, "Erase", "Paint over background to make it transparent"),
                (RESTORE, "Restore", "Paint to bring back the original pixels, including "
                 "what the automatic background removal took")):
            b = QPushButton(label, self)
            b.setCheckable(True)
            b.setToolTip(tip)
            b.setChecked(tool == BOX)
            b.toggled.connect(lambda on, t=tool: on and self.canvas.set_tool(t))
            group.addButton(b)
            row.addWidget(b)
            self.tool_buttons[tool] = b
        row.addWidget(QLabel("Brush", self))
        self.brush_size = QSpinBox(self)
        self.brush_size.setRange(2, 200)
        self.brush_size.setSuffix(" px")
        self.brush_size.setValue(self.canvas.brush_px)
        self.brush_size.setToolTip("Brush diameter, in pixels of the view")
        self.brush_size.valueChanged.connect(self._set_brush)
        row.addWidget(self.brush_size)
        self.undo_button = QPushButton("Undo stroke", self)
        self.undo_button.setToolTip("Take back the last erase or restore stroke (Ctrl+Z)")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(self.canvas.undo)
        QShortcut(QKeySequence.StandardKey.Undo, self, activated=self.canvas.undo)
        self.canvas.edited.connect(
            lambda: self.undo_button.setEnabled(self.canvas.edits.can_undo))
        row.addWidget(self.undo_button)
        row.addStretch(1)
        return row

    def _set_brush(self, px: int) -> None:
        self.canvas.brush_px = px
        self.canvas.update()

    def face(self) -> FaceBox:
        return self.canvas.face

    def picture(self) -> np.ndarray:
        """The picture with the user's erase/restore edits (RGBA, the size it came in)."""
        return self.canvas.edits.rgba
