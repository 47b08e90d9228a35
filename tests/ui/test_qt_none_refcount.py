"""The installed Qt binding must not take references from None.

PySide6(-Essentials) 6.12.0 on Python 3.10/3.11 drops one reference to None on every call
of a Qt method that returns nothing; the window makes dozens of such calls a frame, so
Python aborts with "Fatal Python error: none_dealloc" within a minute. pyproject.toml keeps
those releases off those Pythons; this test checks whatever binding is actually installed.

It needs only PySide6, pytest and pytest-qt, so a throwaway environment can run it alone:
    python -m pytest -p no:cacheprovider --noconftest tests/ui/test_qt_none_refcount.py
"""
from __future__ import annotations

import ctypes
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

CALLS = 200  # per method; a broken binding loses exactly this many references to None


def _repay_none(n: int) -> None:
    """Give None back `n` references that are never released, so that a broken binding
    (which keeps taking them in teardown and at exit) lets pytest report the failure
    instead of aborting in the garbage collector."""
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    for _ in range(n):
        incref(None)


@pytest.mark.skipif(
    sys.version_info >= (3, 12),
    reason="None is immortal on Python >= 3.12 (PEP 683): its reference count never "
           "changes, so a binding cannot free it and this check has nothing to measure")
def test_void_qt_calls_keep_none_alive_only_where_none_is_mortal_python_below_3_12(qtbot):
    import PySide6
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import (QCheckBox, QComboBox, QLabel, QMainWindow, QProgressBar,
                                   QSlider)

    win = QMainWindow()
    qtbot.addWidget(win)
    label, slider, box = QLabel(), QSlider(Qt.Orientation.Horizontal), QCheckBox("pin")
    combo, bar, timer = QComboBox(), QProgressBar(), QTimer()
    combo.addItems(["a", "b", "c"])
    win.setCentralWidget(label)
    win.statusBar().addPermanentWidget(bar)
    slider.setRange(0, 1000)
    win.show()
    # The methods the window calls every frame or every stats tick, all returning nothing.
    texts = [f"{i} fps" for i in range(CALLS)]  # built first: only the Qt call is measured
    calls = {
        "QLabel.setText": lambda i: label.setText(texts[i]),
        "QSlider.setValue": lambda i: slider.setValue(i),
        "QCheckBox.setChecked": lambda i: box.setChecked(i % 2 == 0),
        "QComboBox.setCurrentIndex": lambda i: combo.setCurrentIndex(i % 3),
        "QProgressBar.setValue": lambda i: bar.setValue(i % 100),
        "QWidget.update": lambda i: label.update(),
        "QTimer.start": lambda i: timer.start(1000),
        "QStatusBar.showMessage": lambda i: win.statusBar().showMessage(texts[i], 1000),
    }
    lost = {}
    for name, call in calls.items():
        call(0)  # first calls may create caches that hold None
        before = sys.getrefcount(None)
        for i in range(CALLS):
            call(i)
        lost[name] = before - sys.getrefcount(None)
        if lost[name] > CALLS // 4:
            _repay_none(100 * CALLS)
    timer.stop()
    # Unrelated objects may come and go meanwhile; a broken binding loses one per call.
    broken = {n: k for n, k in lost.items() if k > CALLS // 4}
    assert not broken, (
        f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} takes a reference "
        f"from None on calls returning nothing (references lost per {CALLS} calls: {broken}); "
        "the window would abort with 'Fatal Python error: none_dealloc'. Install the "
        "PySide6-Essentials range from pyproject.toml (pip install -e .).")
