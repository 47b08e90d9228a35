"""Sliders generated from the engine's PoseSpec, grouped, each pinnable over tracking.

Moving a slider pins its parameter at that value; unticking "pin" hands it back to tracking.
Unpinned sliders follow the live pose without echoing back (signals blocked while set).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QGroupBox, QLabel, QScrollArea, QSlider,
                               QVBoxLayout, QWidget)

GROUP_ORDER = ("brows", "eyes", "iris", "mouth", "head", "body")
STEPS = 1000


class ParamRow:
    def __init__(self, param, grid: QGridLayout, row: int, panel: "PosePanel") -> None:
        self.param = param
        self.label = QLabel(param.name.replace("_", " "))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"slider_{param.name}")
        self.slider.setRange(0, STEPS)
        self.slider.setValue(self.to_steps(param.default))
        self.slider.setAccessibleName(param.name)
        self.value = QLabel()
        self.value.setMinimumWidth(48)
        self.pin = QCheckBox("pin")
        self.pin.setObjectName(f"pin_{param.name}")
        self.pin.setToolTip("Hold this value over face tracking")
        grid.addWidget(self.label, row, 0)
        grid.addWidget(self.slider, row, 1)
        grid.addWidget(self.value, row, 2)
        grid.addWidget(self.pin, row, 3)
        self.slider.valueChanged.connect(lambda _v: panel._slider_moved(self))
        self.pin.toggled.connect(lambda on: panel._pin_toggled(self, on))
        self.show_value(param.default)

    def to_steps(self, v: float) -> int:
        p = self.param
        return int(round((v - p.lo) / (p.hi - p.lo) * STEPS))

    def from_steps(self, s: int) -> float:
        p = self.param
        return p.lo + (p.hi - p.lo) * s / STEPS

    def show_value(self, v: float) -> None:
        unit = "°" if self.param.unit == "deg" else ""
        self.value.setText(f"{v:+.2f}{unit}" if self.param.lo < 0 else f"{v:.2f}{unit}")

    def set_live(self, v: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self.to_steps(v))
        self.slider.blockSignals(False)
        self.show_value(v)


class PosePanel(QScrollArea):
    pinned = Signal(str, float)
    unpinned = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.rows: dict[str, ParamRow] = {}
        self.groups: dict[str, QGroupBox] = {}
        self.setWidget(QWidget())

    def build(self, spec, pins: dict[str, float]) -> None:
        """(Re)create the sliders for `spec`, ticking the pinned ones."""
        body = QWidget()
        layout = QVBoxLayout(body)
        self.rows.clear()
        self.groups.clear()
        groups = sorted({p.group for p in spec.params},
                        key=lambda g: GROUP_ORDER.index(g) if g in GROUP_ORDER else 99)
        for g in groups:
            box = QGroupBox(g.capitalize())
            box.setObjectName(f"group_{g}")
            grid = QGridLayout(box)
            for i, p in enumerate(q for q in spec.params if q.group == g):
                self.rows[p.name] = ParamRow(p, grid, i, self)
            layout.addWidget(box)
            self.groups[g] = box
        layout.addStretch(1)
        self.setWidget(body)
        for name, v in pins.items():
            if name in self.rows:
                row = self.rows[name]
                row.set_live(v)
                row.pin.blockSignals(True)
                row.pin.setChecked(True)
                row.pin.blockSignals(False)

    def _slider_moved(self, row: ParamRow) -> None:
        v = row.from_steps(row.slider.value())
        row.show_value(v)
        if not row.pin.isChecked():
            row.pin.blockSignals(True)
            row.pin.setChecked(True)
            row.pin.blockSignals(False)
        self.pinned.emit(row.param.name, v)

    def _pin_toggled(self, row: ParamRow, on: bool) -> None:
        if on:
            self.pinned.emit(row.param.name, row.from_steps(row.slider.value()))
        else:
            self.unpinned.emit(row.param.name)

    def show_pose(self, pose: dict[str, float]) -> None:
        """Unpinned sliders follow the live pose."""
        for name, row in self.rows.items():
            if not row.pin.isChecked() and name in pose and not row.slider.isSliderDown():
                row.set_live(pose[name])

    def unpin_all(self) -> None:
        for row in self.rows.values():
            if row.pin.isChecked():
                row.pin.setChecked(False)
