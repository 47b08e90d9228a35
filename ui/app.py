"""Start the window: `omokage` with no subcommand lands here."""
from __future__ import annotations

import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.controller import Controller, ControllerOptions
from ui.main_window import MainWindow


def create_window(options: ControllerOptions | None = None) -> MainWindow:
    """A window on a started controller (the engine loads in the background)."""
    controller = Controller(options)
    window = MainWindow(controller)
    window.resize(1200, 760)
    controller.start()
    return window


def run(character: Path | None = None, weights: Path | None = None,
        threads: int | None = None, source: str | None = None, single_pass: bool = False) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Omokage")
    window = create_window(ControllerOptions(character=character, weights=weights,
                                             threads=threads or None, source=source,
                                             single_pass=single_pass))
    window.show()
    # Ctrl+C / SIGTERM close the window properly (settings saved, devices released). Qt's
    # event loop does not run Python signal handlers, so a timer lets Python look now and then.
    previous = {sig: signal.signal(sig, lambda *_: app.quit())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    try:
        return int(app.exec())
    finally:
        wake.stop()
        window.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
