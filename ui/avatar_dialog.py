"""File > Avatar from photo: the photo beside the anime character fitted to it, with its hair,
skin and eye colours editable; "Save and use" writes NAME.avatar.png and NAME.avatar.json
beside the photo and hands the PNG to the window. The fitting (MediaPipe and the generator)
runs in app.intake.avatar, on a worker thread so the window stays responsive."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import (QColorDialog, QDialog, QDialogButtonBox, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout)

from app.intake import avatar as avatar_mod

VIEW = 360  # px of the photo and of the avatar preview
COLOURS = (("Hair", "hair_color"), ("Skin", "skin"), ("Eyes", "iris_color"))


def _pixmap(rgb_or_rgba: np.ndarray) -> QPixmap:
    a = np.ascontiguousarray(rgb_or_rgba)
    h, w, c = a.shape
    fmt = QImage.Format.Format_RGBA8888 if c == 4 else QImage.Format.Format_RGB888
    img = QImage(a.data, w, h, c * w, fmt).copy()
    return QPixmap.fromImage(img).scaled(VIEW, VIEW, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)


class AvatarDialog(QDialog):
    """Reads the photo at `photo_path` in a worker; `avatar` is set when done, `error` (a
    message) when the photo cannot be used. After accept(), `saved` is the PNG written."""

    _ready = Signal(object)
    _failed = Signal(str)

    def __init__(self, photo_path: str | Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Avatar from photo")
        self.photo_path = Path(photo_path)
        self.avatar: avatar_mod.Avatar | None = None
        self.error: str | None = None
        self.saved: Path | None = None
        self.photo_view, self.avatar_view = QLabel(), QLabel("Reading the face…")
        for v in (self.photo_view, self.avatar_view):
            v.setFixedSize(VIEW, VIEW)
            v.setAlignment(Qt.AlignmentFlag.AlignCenter)
        views = QHBoxLayout()
        views.addWidget(self.photo_view)
        views.addWidget(self.avatar_view)
        self.colour_buttons = {}
        colours = QHBoxLayout()
        for label, field in COLOURS:
            b = QPushButton(label)
            b.setEnabled(False)
            b.clicked.connect(lambda _=False, f=field: self._pick_colour(f))
            self.colour_buttons[field] = b
            colours.addWidget(b)
        colours.addStretch(1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("Save and use",
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(views)
        lay.addLayout(colours)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)
        self._ready.connect(self._show_avatar)
        self._failed.connect(self._show_error)
        self._start()

    def _start(self) -> None:
        path = self.photo_path

        def work() -> None:
            try:
                rgb = avatar_mod.load_photo(path)
                done = avatar_mod.avatar_from_rgb(rgb)
            except (avatar_mod.AvatarError, OSError, RuntimeError) as exc:
                result, args = self._failed, (f"{path.name}: {exc}",)
            else:
                self._photo_rgb = rgb
                result, args = self._ready, (done,)
            try:
                result.emit(*args)
            except RuntimeError:  # the dialog was closed meanwhile
                pass

        self._worker = threading.Thread(target=work, name="avatar-fit", daemon=True)
        self._worker.start()

    def _show_avatar(self, avatar) -> None:
        self.photo_view.setPixmap(_pixmap(self._photo_rgb))
        self.set_avatar(avatar)
        notes = avatar.reading.notes if avatar.reading else []
        self.status.setText(" ".join(notes) or
                            f"Saved as {avatar_mod.avatar_path_beside(self.photo_path).name} "
                            "with its parameters (.json) beside the photo.")
        for b in self.colour_buttons.values():
            b.setEnabled(True)
        self.save_button.setEnabled(True)

    def _show_error(self, message: str) -> None:
        self.error = message
        self.avatar_view.setText("No avatar")
        self.status.setStyleSheet("color: #b00020;")
        self.status.setText(message)

    def set_avatar(self, avatar) -> None:
        self.avatar = avatar
        self.avatar_view.setPixmap(_pixmap(avatar.rgba))
        for field, b in self.colour_buttons.items():
            b.setStyleSheet(f"border-left: 14px solid {getattr(avatar.identity, field)};")

    def set_colour(self, field: str, hex_colour: str) -> None:
        """Redraw with one colour changed ("#rrggbb")."""
        self.set_avatar(avatar_mod.redraw(self.avatar, **{field: hex_colour}))

    def _pick_colour(self, field: str) -> None:
        c = QColorDialog.getColor(QColor(getattr(self.avatar.identity, field)), self)
        if c.isValid():
            self.set_colour(field, c.name())

    def accept(self) -> None:
        if self.avatar is None:
            return
        out = avatar_mod.avatar_path_beside(self.photo_path)
        try:
            self.saved, _ = avatar_mod.save_avatar(self.avatar, out, source=str(self.photo_path))
        except OSError as exc:
            self._show_error(f"Cannot save {out}: {exc}")
            return
        super().accept()
