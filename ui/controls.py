"""Smaller panels: tracking (calibrate, smoothing) and outputs (virtual camera, OBS, record)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

# (MapperConfig key, label, minimum, maximum, step, tooltip)
SMOOTHING_FIELDS = (
    ("min_cutoff", "Steadiness cutoff (Hz)", 0.05, 10.0, 0.05,
     "Lower values smooth more when the face is still (less jitter, a little more lag)."),
    ("beta", "Responsiveness", 0.0, 200.0, 1.0,
     "Higher values follow fast movements with less lag."),
    ("fade_time", "Fade to idle (s)", 0.0, 5.0, 0.1,
     "How long the character takes to settle when your face leaves the camera."),
)


class TrackingPanel(QWidget):
    calibrate = Signal()
    recenter = Signal()
    unpin_all = Signal()
    option_changed = Signal(str, object)
    mirror_changed = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        buttons = QHBoxLayout()
        self.calibrate_button = QPushButton("Calibrate (Ctrl+K)")
        self.calibrate_button.setToolTip("Look at the camera with a relaxed face, then click")
        self.recenter_button = QPushButton("Recenter (Ctrl+E)")
        self.release_button = QPushButton("Release all sliders")
        for b in (self.calibrate_button, self.recenter_button, self.release_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.mirror = QCheckBox("Mirror the camera (move like your reflection)")
        self.mirror.setObjectName("mirror")
        self.mirror.toggled.connect(self.mirror_changed)
        layout.addWidget(self.mirror)
        self.calibrate_button.clicked.connect(self.calibrate)
        self.recenter_button.clicked.connect(self.recenter)
        self.release_button.clicked.connect(self.unpin_all)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        layout.addStretch(1)
        self.spins: dict[str, QDoubleSpinBox] = {}
        self.auto_blink = QComboBox()

    def build(self, options: dict) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.spins = {}
        for key, label, lo, hi, step, tip in SMOOTHING_FIELDS:
            if key not in options:
                continue
            spin = QDoubleSpinBox()
            spin.setObjectName(f"option_{key}")
            spin.setRange(lo, hi)
            spin.setSingleStep(step)
            spin.setDecimals(2)
            spin.setValue(float(options[key]))
            spin.setToolTip(tip)
            spin.valueChanged.connect(lambda v, k=key: self.option_changed.emit(k, float(v)))
            self.form.addRow(label, spin)
            self.spins[key] = spin
        if "auto_blink" in options:
            self.auto_blink = QComboBox()
            self.auto_blink.setObjectName("option_auto_blink")
            self.auto_blink.addItems(["when_lost", "always", "never"])
            self.auto_blink.setCurrentText(str(options["auto_blink"]))
            self.auto_blink.currentTextChanged.connect(
                lambda t: self.option_changed.emit("auto_blink", t))
            self.form.addRow("Auto-blink", self.auto_blink)


class OutputsPanel(QWidget):
    toggled = Signal(str, bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.vcam = QCheckBox("Virtual camera (Ctrl+Shift+V)")
        self.obs = QCheckBox("OBS browser source, transparent (Ctrl+Shift+B)")
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.url.setPlaceholderText("turn the OBS source on to get its URL")
        self.copy = QPushButton("Copy URL")
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.url.text()))
        self.record = QPushButton("Record clip (Ctrl+R)")
        self.record.setCheckable(True)
        self.record_info = QLabel()
        self.record_info.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.url)
        row.addWidget(self.copy)
        for w in (self.vcam, self.obs):
            layout.addWidget(w)
        layout.addLayout(row)
        layout.addWidget(self.record)
        layout.addWidget(self.record_info)
        layout.addStretch(1)
        self.vcam.toggled.connect(lambda on: self.toggled.emit("virtual_camera", on))
        self.obs.toggled.connect(lambda on: self.toggled.emit("obs_source", on))
        self.record.toggled.connect(lambda on: self.toggled.emit("clip_recorder", on))

    def show_state(self, state: dict[str, bool], info: dict[str, str]) -> None:
        for name, w in (("virtual_camera", self.vcam), ("obs_source", self.obs),
                        ("clip_recorder", self.record)):
            w.blockSignals(True)
            w.setChecked(bool(state.get(name)))
            w.blockSignals(False)
        self.url.setText(info.get("obs_source", ""))
        self.record.setText("Stop recording (Ctrl+R)" if state.get("clip_recorder")
                            else "Record clip (Ctrl+R)")
        rec = info.get("clip_recorder", "")
        self.record_info.setText(f"Recording to {rec}" if rec else "")
