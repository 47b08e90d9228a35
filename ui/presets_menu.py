"""The Presets menu: one checkable action per expression preset (built-in and saved), each
with a hotkey that fades the preset in over tracking and, pressed again, out; plus
"Save current pose as preset…"."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox

MAX_NUMBERED = 9  # Ctrl+1 .. Ctrl+9 for presets without a hotkey of their own


class PresetsMenu(QMenu):
    def __init__(self, controller, window) -> None:
        super().__init__("&Presets", window)
        self.controller = controller
        self.window_ = window
        self.actions_by_name: dict[str, QAction] = {}
        self.save_action = QAction("Save current pose as preset…", self)
        self.save_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.save_action.triggered.connect(self.save_dialog)
        self.release_action = QAction("Release all presets", self)
        self.release_action.setShortcut(QKeySequence("Ctrl+0"))
        self.release_action.triggered.connect(self.release_all)
        self.rebuild()

    def rebuild(self) -> None:
        """List the presets again (after one was saved)."""
        for a in self.actions_by_name.values():
            self.window_.removeAction(a)
            a.deleteLater()
        self.actions_by_name.clear()
        self.clear()
        presets = self.controller.presets()
        taken = {p.hotkey for p in presets.values() if p.hotkey}
        numbers = (f"Ctrl+{i}" for i in range(1, MAX_NUMBERED + 1))
        for name, preset in presets.items():
            key = preset.hotkey
            if not key:
                key = next((k for k in numbers if k not in taken), None)
            a = QAction(name, self)
            a.setCheckable(True)
            if key:
                a.setShortcut(QKeySequence(key))
            a.triggered.connect(lambda _=False, n=name: self.toggle(n))
            self.window_.addAction(a)  # hotkeys work while the menu is closed
            self.addAction(a)
            self.actions_by_name[name] = a
        self.addSeparator()
        for a in (self.release_action, self.save_action):
            self.window_.addAction(a)
            self.addAction(a)

    def toggle(self, name: str) -> None:
        on = self.controller.toggle_preset(name)
        self.actions_by_name[name].setChecked(on)

    def release_all(self) -> None:
        self.controller.release_preset(None)
        for a in self.actions_by_name.values():
            a.setChecked(False)

    def save_dialog(self) -> None:
        name, ok = QInputDialog.getText(self.window_, "Save preset",
                                        "Name for the current pose:")
        if ok and name.strip():
            self.save(name)

    def save(self, name: str) -> bool:
        """Save the pose on screen as `name`; a problem is shown to the user."""
        from app.presets import PresetError

        try:
            preset = self.controller.save_preset(name)
        except (PresetError, OSError) as exc:
            QMessageBox.warning(self.window_, "Preset not saved", str(exc))
            return False
        self.rebuild()
        self.window_.statusBar().showMessage(
            f"Preset {preset.name!r} saved to {self.controller.preset_store.path}", 6000)
        return True
