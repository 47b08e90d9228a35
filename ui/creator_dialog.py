"""File > New character: the character creator. A random original character from the
project's generator, redrawn on every change: Randomise, hair/skin/eye colours, back hair,
fringe and clothes; Save writes NAME.png with its identity NAME.json beside it, Open
parameters reads such a JSON back for later edits, and "Save and use" also makes it the
character. The drawing and the files are app.intake.creator's; this module only shows them."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QColorDialog, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout)

from app.intake import creator
from ui.avatar_dialog import COLOURS, VIEW, _pixmap

JSON_FILTER = "Character parameters (*.json);;All files (*)"
PNG_FILTER = "PNG image (*.png)"


class CreatorDialog(QDialog):
    """`creation` is what is shown; after accept() ("Save and use"), `saved` is the PNG
    written. `error` holds the last problem shown (None when the last action worked)."""

    def __init__(self, seed: int | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New character")
        self.creation: creator.Creation | None = None
        self.saved: Path | None = None
        self.error: str | None = None
        self._inputs: tuple[Path, ...] = ()  # the identity file being edited: never written
        self.view = QLabel()
        self.view.setFixedSize(VIEW, VIEW)
        self.view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.randomise_button = QPushButton("Randomise")
        self.randomise_button.clicked.connect(lambda: self.randomise())
        self.open_button = QPushButton("Open parameters…")
        self.open_button.clicked.connect(self._open_dialog)
        self.seed_label = QLabel()
        form = QFormLayout()
        self.combos: dict[str, QComboBox] = {}
        for field, values in creator.choices().items():
            box = QComboBox()
            for v in values:
                box.addItem(v.replace("_", " "), v)
            box.activated.connect(lambda _i, f=field, b=box: self.set_value(f, b.currentData()))
            self.combos[field] = box
            form.addRow({"back_hair": "Back hair", "bangs": "Fringe",
                         "clothing": "Clothes"}.get(field, field), box)
        self.colour_buttons = {}
        colours = QHBoxLayout()
        for label, field in COLOURS:
            b = QPushButton(label)
            b.clicked.connect(lambda _=False, f=field: self._pick_colour(f))
            self.colour_buttons[field] = b
            colours.addWidget(b)
        side = QVBoxLayout()
        side.addWidget(self.randomise_button)
        side.addWidget(self.seed_label)
        side.addLayout(form)
        side.addLayout(colours)
        side.addWidget(self.open_button)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.view)
        top.addLayout(side)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.addButton("Save…", QDialogButtonBox.ButtonRole.ActionRole)
        self.use_button = self.buttons.addButton("Save and use",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.clicked.connect(lambda: self.save())
        self.buttons.accepted.connect(lambda: self.save_and_use())
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addWidget(self.buttons)
        self.randomise(seed)

    # ---- what is shown -----------------------------------------------------------------
    def set_creation(self, creation: creator.Creation) -> None:
        self.creation = creation
        self.view.setPixmap(_pixmap(creation.rgba))
        ident = creation.identity
        self.seed_label.setText(f"seed {creation.seed}" if creation.seed is not None else "")
        for field, box in self.combos.items():
            box.setCurrentIndex(max(box.findData(getattr(ident, field)), 0))
        for field, b in self.colour_buttons.items():
            b.setStyleSheet(f"border-left: 14px solid {getattr(ident, field)};")

    def _problem(self, message: str) -> None:
        self.error = message
        self.status.setStyleSheet("color: #b00020;")
        self.status.setText(message)

    def _info(self, message: str) -> None:
        self.error = None
        self.status.setStyleSheet("")
        self.status.setText(message)

    # ---- edits ---------------------------------------------------------------------------
    def randomise(self, seed: int | None = None) -> None:
        """A new random character; what it started from is no longer being edited."""
        try:
            self.set_creation(creator.random_creation(seed))
        except creator.CreatorError as exc:
            self._problem(str(exc))
            return
        self._inputs = ()
        self._info("")

    def set_value(self, field: str, value) -> None:
        """Redraw with one identity field changed (a colour is "#rrggbb")."""
        if self.creation is None:
            return
        try:
            self.set_creation(creator.edited(self.creation, **{field: value}))
        except creator.CreatorError as exc:
            self._problem(str(exc))

    def _pick_colour(self, field: str) -> None:
        if self.creation is None:
            return
        c = QColorDialog.getColor(QColor(getattr(self.creation.identity, field)), self)
        if c.isValid():
            self.set_value(field, c.name())

    def open_params(self, path: str | Path) -> bool:
        """Show the character an identity JSON describes, for further edits."""
        try:
            self.set_creation(creator.load_creation(path))
        except creator.CreatorError as exc:
            self._problem(str(exc))
            return False
        self._inputs = (Path(path),)
        self._info(f"Opened {Path(path).name}. Save under another name to keep both.")
        return True

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open character parameters", "",
                                              JSON_FILTER)
        if path:
            self.open_params(path)

    # ---- saving --------------------------------------------------------------------------
    def _ask_path(self) -> Path | None:
        folder = Path(QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.PicturesLocation) or Path.home())
        seed = self.creation.seed if self.creation and self.creation.seed is not None else 0
        path, _ = QFileDialog.getSaveFileName(self, "Save character",
                                              str(folder / f"character-{seed}.png"), PNG_FILTER)
        if not path:
            return None
        path = Path(path)
        return path if path.suffix.lower() == ".png" else path.with_name(path.name + ".png")

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write PATH (asked for when None) and its .json; the PNG written, or None."""
        if self.creation is None:
            return None
        path = self._ask_path() if path is None else Path(path)
        if path is None:
            return None
        try:
            png, js = creator.save_creation(self.creation, path, inputs=self._inputs)
        except (creator.CreatorError, OSError) as exc:
            self._problem(f"Not saved: {exc}")
            return None
        self._info(f"Saved {png.name} and {js.name} in {png.parent}.")
        return png

    def save_and_use(self, path: str | Path | None = None) -> None:
        png = self.save(path)
        if png is not None:
            self.saved = png
            super().accept()

    def accept(self) -> None:  # Enter in the dialog: the same as "Save and use"
        self.save_and_use()
