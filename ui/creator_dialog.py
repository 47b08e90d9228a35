"""File > New character: the character creator. A random original character from the
project's generator, redrawn on every change: Randomise; hair and clothes (styles, lengths,
colours); face (shape, eyes, brows, nose, mouth); accessories; drawing style (shading model,
a new random style or the plain one). Save writes NAME.png with its identity NAME.json
beside it, Open parameters reads such a JSON back for later edits, and "Save and use" also
makes it the character. The drawing and the files are app.intake.creator's; this module
only shows them."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QComboBox, QDialog, QDialogButtonBox,
                               QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout,
                               QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget)

from app.intake import creator
from ui.avatar_dialog import COLOURS, VIEW, _pixmap

JSON_FILTER = "Character parameters (*.json);;All files (*)"
# The list fields by tab, with their labels (the values come from the generator).
LISTS = {
    "Hair and clothes": (("back_hair", "Back hair"), ("bangs", "Fringe"), ("side_locks", "Side locks"),
                         ("clothing", "Clothes")),
    "Face": (("pupil", "Pupils"), ("iris_style", "Irises"), ("lash_style", "Lashes"),
             ("brow_style", "Brows"), ("nose", "Nose"), ("mouth", "Mouth"), ("blush_style", "Blush")),
    "Drawing style": (("style", "Shading"),),
}
SHAPE_TABS = {"Hair and clothes": ("hair_len", "bang_len"),
              "Face": ("face_width", "jaw", "eye_spacing", "eye_w", "eye_h")}
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
        self.combos: dict[str, QComboBox] = {}
        self.shapes: dict[str, QDoubleSpinBox] = {}
        self.tabs = QTabWidget()
        forms: dict[str, QFormLayout] = {}
        values = creator.choices()
        for tab, rows in LISTS.items():
            page = QWidget()
            forms[tab] = QFormLayout(page)
            self.tabs.addTab(page, tab)
            for field, label in rows:
                box = QComboBox()
                for v in values[field]:
                    box.addItem(v.replace("_", " "), v)
                box.activated.connect(lambda _i, f=field, b=box: self.set_value(f, b.currentData()))
                self.combos[field] = box
                forms[tab].addRow(label, box)
        for tab, fields in SHAPE_TABS.items():
            for field in fields:
                label, lo, hi = creator.SHAPES[field]
                spin = QDoubleSpinBox()
                spin.setRange(lo, hi)
                spin.setDecimals(2)
                spin.setSingleStep((hi - lo) / 20)
                spin.setKeyboardTracking(False)  # redraw when a value is entered, not per key
                spin.valueChanged.connect(lambda v, f=field: self.set_shape(f, v))
                self.shapes[field] = spin
                forms[tab].addRow(label, spin)
        page = QWidget()
        grid = QGridLayout(page)
        self.accessory_boxes: dict[str, QCheckBox] = {}
        for i, name in enumerate(creator.accessories()):
            box = QCheckBox(name.replace("_", " "))
            box.clicked.connect(lambda on, n=name: self.set_accessory(n, on))
            self.accessory_boxes[name] = box
            grid.addWidget(box, i // 2, i % 2)
        self.tabs.insertTab(2, page, "Accessories")
        self.new_style_button = QPushButton("New drawing style")
        self.new_style_button.clicked.connect(lambda: self.set_drawing_style(creator.new_seed()))
        self.plain_style_button = QPushButton("Plain style")
        self.plain_style_button.clicked.connect(lambda: self.set_drawing_style(None))
        forms["Drawing style"].addRow(self.new_style_button)
        forms["Drawing style"].addRow(self.plain_style_button)
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
        side.addWidget(self.tabs)
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
        for field, spin in self.shapes.items():
            spin.blockSignals(True)  # showing a value is not editing it
            spin.setValue(float(getattr(ident, field)))
            spin.blockSignals(False)
        for name, box in self.accessory_boxes.items():
            box.setChecked(name in ident.accessories)
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
        self._apply(lambda c: creator.edited(c, **{field: value}))

    def _apply(self, make) -> None:
        """Show the creation `make(current)` returns, or say why it could not be made."""
        if self.creation is None:
            return
        try:
            self.set_creation(make(self.creation))
        except creator.CreatorError as exc:
            self._problem(str(exc))

    def set_shape(self, field: str, value: float) -> None:
        self._apply(lambda c: creator.with_shape(c, field, value))

    def set_accessory(self, name: str, worn: bool) -> None:
        self._apply(lambda c: creator.with_accessory(c, name, worn))

    def set_drawing_style(self, seed: int | None) -> None:
        """A new random drawing style (seed) or the plain one (None)."""
        self._apply(lambda c: creator.with_drawing_style(c, seed))

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
