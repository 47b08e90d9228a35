"""The character preview over a checkerboard or a colour, and the camera view with landmarks."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


def _to_qimage(arr: np.ndarray, fmt: QImage.Format, channels: int) -> QImage:
    # Copy into a QImage that owns its memory: QImage(buffer, ...) constructors keep a
    # borrowed pointer and have mishandled Python reference counts in some PySide6 builds.
    h, w = arr.shape[:2]
    img = QImage(w, h, fmt)
    row = img.bytesPerLine()
    view = np.frombuffer(img.bits(), np.uint8, count=h * row).reshape(h, row)
    view[:, : w * channels] = arr.reshape(h, w * channels)
    return img


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    return _to_qimage(rgba, QImage.Format.Format_RGBA8888, 4)


def bgr_to_qimage(bgr: np.ndarray) -> QImage:
    return _to_qimage(bgr, QImage.Format.Format_BGR888, 3)


def checker_pixmap(cell: int = 16) -> QPixmap:
    pm = QPixmap(2 * cell, 2 * cell)
    pm.fill(QColor(204, 204, 204))
    p = QPainter(pm)
    p.fillRect(0, 0, cell, cell, QColor(153, 153, 153))
    p.fillRect(cell, cell, cell, cell, QColor(153, 153, 153))
    p.end()
    return pm


class PreviewWidget(QWidget):
    """Paints the latest RGBA frame, scaled to fit, over the chosen background."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(256, 256)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._background = "checker"
        self._checker = QBrush(checker_pixmap())
        self.frames_shown = 0
        self.last_rgba: np.ndarray | None = None

    def sizeHint(self) -> QSize:
        return QSize(512, 512)

    def set_background(self, background: str) -> None:
        """"checker" or a colour name / "#rrggbb"."""
        if background != "checker" and not QColor(background).isValid():
            raise ValueError(f"not a colour: {background!r}")
        self._background = background
        self.update()

    @property
    def background(self) -> str:
        return self._background

    def show_rgba(self, rgba: np.ndarray) -> None:
        self.last_rgba = rgba
        self._image = rgba_to_qimage(rgba)
        self.frames_shown += 1
        self.update()

    def target_rect(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        if self._background == "checker":
            p.fillRect(self.rect(), self._checker)
        else:
            p.fillRect(self.rect(), QColor(self._background))
        if self._image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(self.target_rect(), self._image)
        p.end()


class CameraView(QWidget):
    """The source frame with the tracker's landmarks drawn over it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 120)
        self._image: QImage | None = None
        self._size = (1, 1)
        self._points: np.ndarray | None = None
        self.show_landmarks = True
        self.mirror = False  # the tracker mirrors landmarks too when this is on

    def sizeHint(self) -> QSize:
        return QSize(320, 240)

    def show_frame(self, bgr: np.ndarray | None, landmarks: np.ndarray | None) -> None:
        if bgr is None:
            self._image = None
        else:
            self._image = bgr_to_qimage(bgr[:, ::-1] if self.mirror else bgr)
            self._size = (bgr.shape[1], bgr.shape[0])
        self._points = landmarks
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(32, 32, 32))
        if self._image is None:
            p.setPen(QColor(200, 200, 200))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no camera picture")
            p.end()
            return
        w, h = self._size
        s = min(self.width() / w, self.height() / h)
        x0, y0 = (self.width() - w * s) / 2, (self.height() - h * s) / 2
        p.drawImage(QRectF(x0, y0, w * s, h * s), self._image)
        if self.show_landmarks and self._points is not None and len(self._points):
            p.setPen(QPen(QColor(0, 255, 128), 1.5))
            # Every other point is enough to show the mesh follows the face, at half the cost.
            # Plain Python floats: numpy scalars handed to Qt have upset reference counts.
            pts = (np.asarray(self._points, np.float64)[::2, :2] * s + (x0, y0)).tolist()
            p.drawPoints([QPointF(x, y) for x, y in pts])
        p.end()
