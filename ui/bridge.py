"""Moves the controller's callbacks (worker threads) onto the GUI thread with Qt signals.

Frames are coalesced: while the GUI has not yet taken the last frame, newer ones replace
it instead of queueing, so a slow repaint never builds a backlog of events.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal


class Bridge(QObject):
    frame_ready = Signal()  # take the frame with take_frame()
    notice = Signal(object)  # app.pipeline.Notice
    character = Signal(object)  # app.character.Character
    ready = Signal()
    outputs = Signal(object)  # dict name -> bool
    cameras = Signal(object)  # list[CameraInfo]
    character_done = Signal(object)  # Character or None, after a load request

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._frame = None
        self._pending = False
        controller.on_frame.append(self._on_frame)
        controller.on_notice.append(self.notice.emit)
        controller.on_character.append(self.character.emit)
        controller.on_ready.append(self.ready.emit)
        controller.on_outputs.append(self.outputs.emit)

    def _on_frame(self, out) -> None:
        with self._lock:
            self._frame = out
            if self._pending:
                return
            self._pending = True
        self.frame_ready.emit()

    def take_frame(self):
        with self._lock:
            out, self._frame, self._pending = self._frame, None, False
        return out
