"""The message log and each stage's state, shown in a dock of the main window.

Everything here comes from the one message channel (app/messages.py) as the window receives
it through the Bridge: the log lists every message the channel passed on, with its time,
severity, stage and text, newest last; the stage table shows for each stage whether it has
a problem now (the channel's own record: an error stays until that stage reports success or
info), its latest message and its timing from the pipeline's stats. The view keeps no state
of its own beyond what it shows, so it cannot disagree with the banner.
"""
from __future__ import annotations

import time

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

MAX_ROWS = 2000  # a long session's log stays bounded; the oldest rows go first
# The stages always listed (others appear when they first report), and which of the
# pipeline's per-stage medians is each one's timing.
STAGES = ("source", "tracking", "mapping", "engine", "character", "output")
TIMINGS = {"tracking": ("track_ms", "still_ms"), "mapping": ("map_ms",),
           "engine": ("render_ms",), "output": ("outputs_ms",)}
COLOURS = {"error": QColor("#b00020"), "warning": QColor("#8a5a00")}
LOG_COLUMNS = ("Time", "Severity", "Stage", "Message")
STAGE_COLUMNS = ("Stage", "State", "Timing", "Latest message")


def _table(columns: tuple[str, ...], name: str) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(columns)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setWordWrap(False)
    header = t.horizontalHeader()
    for i in range(len(columns) - 1):
        header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return t


def _item(text: str, severity: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    if severity in COLOURS:
        item.setForeground(COLOURS[severity])
    return item


class LogView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.stage_table = _table(STAGE_COLUMNS, "stage_table")
        self.log_table = _table(LOG_COLUMNS, "log_table")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("Stages"))
        layout.addWidget(self.stage_table)
        layout.addWidget(QLabel("Messages (newest last)"))
        layout.addWidget(self.log_table, 1)
        self.messages: list = []  # what the log shows, oldest first
        self._latest: dict[str, object] = {}  # stage -> its latest message
        self._seeded: list = []  # the channel's history shown at start (not shown twice)
        self._rows: dict[str, int] = {}
        for stage in STAGES:
            self._stage_row(stage)

    # ---- the log -----------------------------------------------------------------------
    def seed(self, history: list) -> None:
        """Show the messages the channel kept from before the window listened."""
        self._seeded = list(history)
        for m in self._seeded:
            self._append(m)

    def add(self, message) -> None:
        """One message from the channel, as it arrives (GUI thread)."""
        if any(message is m for m in self._seeded):  # already shown from the history
            return
        self._append(message)

    def _append(self, m) -> None:
        t = self.log_table
        bar = t.verticalScrollBar()
        at_end = bar.value() >= bar.maximum()  # follow the newest unless the user scrolled up
        if t.rowCount() >= MAX_ROWS:
            t.removeRow(0)
            del self.messages[0]
        row = t.rowCount()
        t.insertRow(row)
        stamp = time.strftime("%H:%M:%S", time.localtime(m.time))
        for col, text in enumerate((stamp, m.severity, m.stage, m.text)):
            t.setItem(row, col, _item(text, m.severity))
        self.messages.append(m)
        self._latest[m.stage] = m
        cell = self._stage_row(m.stage)
        self.stage_table.setItem(cell, 3, _item(m.text, m.severity))
        if at_end:
            t.scrollToBottom()

    # ---- each stage's state ------------------------------------------------------------
    def _stage_row(self, stage: str) -> int:
        if stage not in self._rows:
            row = self.stage_table.rowCount()
            self.stage_table.insertRow(row)
            for col, text in enumerate((stage, "ok", "", "")):
                self.stage_table.setItem(row, col, _item(text))
            self._rows[stage] = row
        return self._rows[stage]

    def show_problems(self, problems: dict) -> None:
        """Each stage's state from the channel's current problems: a stage absent from
        them works (or has not reported), whatever it said before."""
        for stage in problems:
            self._stage_row(stage)
        for stage, row in self._rows.items():
            m = problems.get(stage)
            self.stage_table.setItem(row, 1, _item(m.severity if m else "ok",
                                                   m.severity if m else ""))

    def stage_text(self, stage: str, column: str = "State") -> str:
        """What the stage table shows for `stage` in `column` (State is "ok", "warning" or
        "error")."""
        return self.stage_table.item(self._stage_row(stage), STAGE_COLUMNS.index(column)).text()

    def show_timing(self, stats) -> None:
        """Each stage's timing from the pipeline's stats (medians over recent frames)."""
        source = f"{stats.source_fps:.1f} fps" if stats.source else "idle (no camera)"
        self.stage_table.setItem(self._stage_row("source"), 2, _item(source))
        for stage, keys in TIMINGS.items():
            ms = next((stats.stage_ms[k] for k in keys if k in stats.stage_ms), None)
            self.stage_table.setItem(self._stage_row(stage), 2,
                                     _item("" if ms is None else f"{ms:.1f} ms"))
