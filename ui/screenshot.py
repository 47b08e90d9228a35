"""Take the README screenshot: the real window, offscreen, driven by a real face video.

    QT_QPA_PLATFORM=offscreen python -m ui.screenshot docs/screenshot.png
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ui.screenshot")
    ap.add_argument("out", type=Path)
    ap.add_argument("--seconds", type=float, default=8.0, help="run this long before the shot")
    ap.add_argument("--frame", type=int, default=0, help="start the driving video here")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.bench import default_driver
    from app.controller import Controller, ControllerOptions
    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as cfg:  # the user's own settings stay untouched
        controller = Controller(ControllerOptions(settings_dir=Path(cfg), source="none"))
        window = MainWindow(controller)
        window.resize(1280, 760)
        window.show()
        controller.start()
        window.show_camera.setChecked(True)
        end = time.monotonic() + 60
        while controller.pipeline is None and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        window.use_video(default_driver())
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(args.out))
        window.close()
    print(f"wrote {args.out}" if ok else f"could not write {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
