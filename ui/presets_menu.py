"""The Presets menu: one checkable action per expression preset (built-in and saved), each
with a hotkey that fades the preset in over tracking and, pressed again, out, or, for a
preset in hold mode, shows it only while the key is held; plus "Save current pose as
preset…" and "Delete saved preset"."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QMessageBox, QWidget

from app.presets import PresetError

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
        self.hold_menu = QMenu("Show only while the hotkey is held", self)
        self.delete_menu = QMenu("Delete saved preset", self)
        self.hold_keys = HoldKeys(self)
        QApplication.instance().installEventFilter(self.hold_keys)
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
        self.hold_menu.clear()
        self.hold_keys.keys.clear()
        for name, preset in presets.items():
            key = preset.hotkey
            if not key:
                key = next((k for k in numbers if k not in taken), None)
            a = QAction(name, self)
            a.setCheckable(True)
            if key and preset.mode == "hold":
                # No shortcut: it would swallow the key press, and a hold needs press and release.
                a.setText(f"{name}\t(hold {QKeySequence(key).toString()})")
                self.hold_keys.keys[QKeySequence(key).toString()] = name
            elif key:
                a.setShortcut(QKeySequence(key))
            a.triggered.connect(lambda _=False, n=name: self.toggle(n))
            self.window_.addAction(a)  # hotkeys work while the menu is closed
            self.addAction(a)
            self.actions_by_name[name] = a
            h = self.hold_menu.addAction(name)
            h.setCheckable(True)
            h.setChecked(preset.mode == "hold")
            h.toggled.connect(lambda on, n=name: self.set_hold(n, on))
        self.delete_menu.clear()
        try:
            saved = self.controller.saved_preset_names()
        except PresetError:
            saved = []  # the controller has told the user why the file cannot be read
        for name in saved:
            d = self.delete_menu.addAction(f"{name}…")
            d.triggered.connect(lambda _=False, n=name: self.confirm_delete(n))
        self.delete_menu.setEnabled(bool(saved))
        self.addSeparator()
        self.addMenu(self.hold_menu)
        self.addMenu(self.delete_menu)
        for a in (self.release_action, self.save_action):
            self.window_.addAction(a)
            self.addAction(a)

    def toggle(self, name: str) -> None:
        on = self.controller.toggle_preset(name)
        self.actions_by_name[name].setChecked(on)

    def set_hold(self, name: str, on: bool) -> None:
        """Switch `name` between toggle and hold mode (saved in the user's presets file)."""
        try:
            self.controller.set_preset_mode(name, "hold" if on else "toggle")
        except (PresetError, OSError) as exc:
            QMessageBox.warning(self.window_, "Preset mode not saved", str(exc))
        # Later, not now: rebuilding deletes the menu entry whose signal is running.
        QTimer.singleShot(0, self.rebuild)

    def press(self, name: str) -> None:
        self.controller.trigger_preset(name)  # stays until release
        self.actions_by_name[name].setChecked(True)

    def release(self, name: str) -> None:
        self.controller.release_preset(name)
        self.actions_by_name[name].setChecked(False)

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
        try:
            preset = self.controller.save_preset(name)
        except (PresetError, OSError) as exc:
            QMessageBox.warning(self.window_, "Preset not saved", str(exc))
            return False
        self.rebuild()
        self.window_.statusBar().showMessage(
            f"Preset {preset.name!r} saved to {self.controller.preset_store.path}", 6000)
        return True

    def confirm_delete(self, name: str) -> None:
        answer = QMessageBox.question(self.window_, "Delete preset",
                                      f"Delete the saved preset {name!r}? This cannot be undone.")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(name)

    def delete(self, name: str) -> bool:
        """Delete the saved preset `name` (fading it out if it shows); a problem is shown."""
        try:
            builtin = self.controller.delete_preset(name)
        except (PresetError, OSError) as exc:
            QMessageBox.warning(self.window_, "Preset not deleted", str(exc))
            return False
        self.hold_keys.forget(name)
        # Later, not now: rebuilding deletes the menu entry whose signal is running.
        QTimer.singleShot(0, self.rebuild)
        back = " (the built-in one is back)" if builtin else ""
        self.window_.statusBar().showMessage(f"Preset {name!r} deleted{back}", 6000)
        return True


class HoldKeys(QObject):
    """Application event filter for hold-mode presets: the preset fades in on the key press
    in the window and out on the key's release (auto-repeats ignored), or when the window
    loses focus, so a preset never sticks after the key went up elsewhere."""

    def __init__(self, menu: PresetsMenu) -> None:
        super().__init__(menu)
        self.menu = menu
        self.keys: dict[str, str] = {}  # key sequence text -> preset name
        self.held: dict[int, str] = {}  # Qt key code -> preset name

    def forget(self, name: str) -> None:
        """Stop following a held key of `name` (deleted): its release must not reach it."""
        self.held = {k: n for k, n in self.held.items() if n != name}

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        t = ev.type()
        if t == QEvent.Type.WindowDeactivate and obj is self.menu.window_:
            for name in self.held.values():
                self.menu.release(name)
            self.held.clear()
            return False
        if t not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not self.keys:
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self.menu.window_:
            return False
        if t == QEvent.Type.KeyPress:
            if ev.key() in self.held:
                return True  # auto-repeat, or the same press seen again on its way up
            name = self.keys.get(QKeySequence(ev.keyCombination()).toString())
            if name is None or ev.isAutoRepeat():
                return False
            self.held[ev.key()] = name
            self.menu.press(name)
            return True
        # Release by key alone: the modifier may already be up.
        if ev.isAutoRepeat() or ev.key() not in self.held:
            return False
        self.menu.release(self.held.pop(ev.key()))
        return True
