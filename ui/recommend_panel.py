"""Recommend settings in the window: a bar under the banner that measures this computer in
the controller's worker (app/recommend.py), shows the figures and the recommendation, and
applies them when the user presses Apply. On the first start it offers itself once; it
never opens a modal dialog, so nothing waits on the user.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

OFFER = ("New here? Omokage can measure this computer for a few seconds and recommend "
         "settings (mirror ensemble, tracker size, camera frame rate) that keep your "
         "character smooth. Help > Recommend settings does it any time.")
MEASURING = "Measuring this computer (a few seconds; the preview pauses meanwhile)…"


class RecommendPanel(QWidget):
    finished = Signal(object)  # (costs, recommendation, error) from the controller's worker

    def __init__(self, controller, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("recommend_panel")
        self.controller = controller
        self.costs = self.recommendation = None
        self.running = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(OFFER)
        self.label.setObjectName("recommend_text")
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        row = QHBoxLayout()
        self.measure_button = QPushButton("Measure and recommend")
        self.apply_button = QPushButton("Apply")
        self.close_button = QPushButton("Not now")
        for b in (self.measure_button, self.apply_button, self.close_button):
            row.addWidget(b)
        row.addStretch(1)
        layout.addLayout(row)
        self.measure_button.clicked.connect(self.run)
        self.apply_button.clicked.connect(self.apply)
        self.close_button.clicked.connect(self.hide)
        self.finished.connect(self._finished)
        self.apply_button.hide()
        self.setVisible(bool(getattr(controller, "first_start", False)))

    def run(self) -> None:
        """Measure and decide in the controller's worker; the result comes back in the bar."""
        if self.running:
            return
        self.running = True
        self.show()
        self.label.setStyleSheet("")
        self.label.setText(MEASURING)
        self.measure_button.setEnabled(False)
        self.apply_button.hide()
        self.close_button.hide()
        self.controller.recommend_settings(self._done)

    def _done(self, costs, rec, error) -> None:  # on the worker thread
        try:
            self.finished.emit((costs, rec, error))
        except RuntimeError:  # the window was closed meanwhile
            pass

    def _finished(self, item) -> None:
        from app.recommend import report

        costs, rec, error = item
        self.running = False
        self.measure_button.setEnabled(True)
        self.close_button.setText("Not now")
        self.close_button.show()
        if error:
            self.label.setStyleSheet("color: #b00020;")
            self.label.setText(error)
            self.measure_button.setText("Try again")
            return
        self.costs, self.recommendation = costs, rec
        self.label.setText(report(costs, rec))
        self.measure_button.setText("Measure again")
        self.apply_button.show()

    def apply(self) -> None:
        rec = self.recommendation
        if rec is None:
            return
        self.controller.apply_recommendation(rec)
        self.label.setText(f"Applied and saved: {rec.summary()}.")
        self.apply_button.hide()
        self.close_button.setText("Close")
