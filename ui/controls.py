"""Smaller panels: tracking (calibrate, smoothing) and outputs (virtual camera, OBS, record)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QComboBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from app.mapping.config import HEAD_MOTION_MAX

# Top-level mapper settings (MapperConfig) the Tracking tab edits, saved per character:
# (key, label, minimum, maximum, step, tooltip).
TRACKING_FIELDS = (
    ("min_cutoff", "Steadiness cutoff (Hz)", 0.05, 10.0, 0.05,
     "Lower values smooth more when the face is still (less jitter, a little more lag)."),
    ("beta", "Responsiveness", 0.0, 200.0, 1.0,
     "Higher values follow fast movements with less lag."),
    ("fade_time", "Fade to idle (s)", 0.0, 5.0, 0.1,
     "How long the character takes to settle when your face leaves the camera."),
    ("head_motion", "Head movement (x)", 0.0, HEAD_MOTION_MAX, 0.05,
     "How far this character's head and body turn for each degree of yours (1 = as tracked). "
     "Artists draw turns differently: lower it when the head turns too far or smears, raise it "
     "when it barely moves. Saved with the character."),
)


# Modes most webcams offer; tracking works at 640x480, more pixels cost time, not accuracy.
CAMERA_MODES = ((640, 480, 30), (640, 480, 60), (1280, 720, 30), (320, 240, 30))


class TrackingPanel(QWidget):
    calibrate = Signal()
    recenter = Signal()
    unpin_all = Signal()
    option_changed = Signal(str, object)
    mirror_changed = Signal(bool)
    camera_mode_changed = Signal(int, int, int)

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
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("Camera mode:"))
        self.camera_mode = QComboBox()
        self.camera_mode.setObjectName("camera_mode")
        for mode in CAMERA_MODES:
            self.add_camera_mode(*mode)
        self.camera_mode.activated.connect(
            lambda i: self.camera_mode_changed.emit(
                *(int(v) for v in self.camera_mode.itemData(i).split(","))))
        mode_row.addWidget(self.camera_mode, 1)
        layout.addLayout(mode_row)
        self.calibrate_button.clicked.connect(self.calibrate)
        self.recenter_button.clicked.connect(self.recenter)
        self.release_button.clicked.connect(self.unpin_all)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        layout.addStretch(1)
        self.spins: dict[str, QDoubleSpinBox] = {}
        self.auto_blink = QComboBox()

    def add_camera_mode(self, w: int, h: int, fps: int) -> int:
        """Index of the mode in the picker, added if missing (data "w,h,fps")."""
        key = f"{w},{h},{fps}"
        i = self.camera_mode.findData(key)
        if i < 0:
            self.camera_mode.addItem(f"{w}x{h} at {fps} fps", key)
            i = self.camera_mode.count() - 1
        return i

    def build(self, options: dict) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.spins = {}
        for key, label, lo, hi, step, tip in TRACKING_FIELDS:
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
            for label, mode in AUTO_BLINK_LABELS:  # words for the user, the mode as data
                self.auto_blink.addItem(label, mode)
            self.auto_blink.setCurrentIndex(max(0, self.auto_blink.findData(
                str(options["auto_blink"]))))
            self.auto_blink.currentIndexChanged.connect(
                lambda i: self.option_changed.emit("auto_blink", self.auto_blink.itemData(i)))
            self.form.addRow("Auto-blink", self.auto_blink)


AUTO_BLINK_LABELS = (("When the face is lost", "when_lost"), ("Always", "always"),
                     ("Never", "never"))
VCAM_SIZES = ((640, 360), (640, 480), (1280, 720), (1920, 1080))
VCAM_BACKGROUNDS = (("Green (key)", "green"), ("Magenta (key)", "magenta"),
                    ("Solid colour", "color"), ("Image", "image"))


RECORD_SIZES = (("Automatic (GIF 320, others 512)", 0), ("256 px", 256), ("320 px", 320),
                ("512 px", 512), ("1024 px", 1024))
RECORD_FPS = (15, 24, 25, 30)
RECORD_BACKGROUNDS = (("Transparent (MP4: white)", "transparent"), ("White", "#ffffff"),
                      ("Green (key)", "#00ff00"), ("Black", "#000000"), ("Other colour…", "pick"))
RECORD_LIMITS = (10, 20, 30, 60, 120, 300)  # seconds


class OutputsPanel(QWidget):
    toggled = Signal(str, bool)
    vcam_options = Signal(dict)  # Controller.set_virtual_camera_options(**options)
    record_format_changed = Signal(str)  # Controller.set_record_format(fmt)
    record_options = Signal(dict)  # Controller.set_record_options(**options)

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
        self.record_info.setObjectName("record_info")
        self.record_info.setWordWrap(True)
        self.record_format = QComboBox()
        self.record_format.setObjectName("record_format")
        self.record_format.activated.connect(
            lambda i: self.record_format_changed.emit(self.record_format.itemData(i)))
        self.open_folder = QPushButton("Open folder")
        self.open_folder.setEnabled(False)
        self.open_folder.clicked.connect(self._open_clip_folder)
        self.saved_clip: Path | None = None
        row = QHBoxLayout()
        row.addWidget(self.url)
        row.addWidget(self.copy)
        layout.addWidget(self.vcam)
        layout.addLayout(self._vcam_form())
        layout.addWidget(self.obs)
        layout.addLayout(row)
        record_row = QHBoxLayout()
        record_row.addWidget(QLabel("Clip format:"))
        record_row.addWidget(self.record_format, 1)
        record_row.addWidget(self.record)
        layout.addLayout(record_row)
        layout.addLayout(self._record_form())
        info_row = QHBoxLayout()
        info_row.addWidget(self.record_info, 1)
        info_row.addWidget(self.open_folder)
        layout.addLayout(info_row)
        layout.addStretch(1)
        self.vcam.toggled.connect(lambda on: self.toggled.emit("virtual_camera", on))
        self.obs.toggled.connect(lambda on: self.toggled.emit("obs_source", on))
        self.record.toggled.connect(lambda on: self.toggled.emit("clip_recorder", on))

    def _vcam_form(self) -> QFormLayout:
        form = QFormLayout()
        self.vcam_size = QComboBox()
        self.vcam_size.setObjectName("vcam_size")
        for w, h in VCAM_SIZES:
            self.vcam_size.addItem(f"{w}\u00d7{h}", f"{w}x{h}")
        self.vcam_fps = QSpinBox()
        self.vcam_fps.setObjectName("vcam_fps")
        self.vcam_fps.setRange(1, 120)
        self.vcam_background = QComboBox()
        self.vcam_background.setObjectName("vcam_background")
        for label, value in VCAM_BACKGROUNDS:
            self.vcam_background.addItem(label, value)
        self.vcam_mirror = QCheckBox("Mirror")
        self.vcam_backend = QComboBox()
        self.vcam_backend.setObjectName("vcam_backend")
        self.vcam_backend.addItem("Automatic", "")
        self.vcam_device = QLineEdit()
        self.vcam_device.setObjectName("vcam_device")
        self.vcam_device.setPlaceholderText("default (e.g. /dev/video10 on Linux)")
        self.vcam_color = "#00ff00"
        self.vcam_image = ""
        form.addRow("Size", self.vcam_size)
        form.addRow("Frame rate", self.vcam_fps)
        form.addRow("Background", self.vcam_background)
        form.addRow("", self.vcam_mirror)
        form.addRow("Backend", self.vcam_backend)
        form.addRow("Device", self.vcam_device)
        self.vcam_size.activated.connect(lambda i: self._emit_vcam(dict(zip(
            ("width", "height"), map(int, self.vcam_size.itemData(i).split("x"))))))
        self.vcam_fps.editingFinished.connect(
            lambda: self._emit_vcam({"fps": self.vcam_fps.value()}))
        self.vcam_background.activated.connect(self._background_chosen)
        self.vcam_mirror.toggled.connect(lambda on: self._emit_vcam({"mirror": on}))
        self.vcam_backend.activated.connect(
            lambda i: self._emit_vcam({"backend": self.vcam_backend.itemData(i)}))
        self.vcam_device.editingFinished.connect(
            lambda: self._emit_vcam({"device": self.vcam_device.text().strip()}))
        return form

    def _record_form(self) -> QFormLayout:
        """Size, frame rate, background and length limit of the next recording."""
        form = QFormLayout()

        def combo(name: str, items) -> QComboBox:
            box = QComboBox()
            box.setObjectName(name)
            for label, value in items:
                box.addItem(label, value)
            return box
        self.record_size = combo("record_size", RECORD_SIZES)
        self.record_fps = combo("record_fps", [(f"{f} fps", f) for f in RECORD_FPS])
        self.record_background = combo("record_background", RECORD_BACKGROUNDS)
        self.record_background.setToolTip(
            "Transparent keeps the alpha of GIF, APNG, WebM, MOV and PNG frames; a colour is "
            "put behind the character in every format (MP4 always needs one).")
        self.record_limit = combo("record_limit", [(f"{s} s", s) for s in RECORD_LIMITS])
        self.record_limit.setToolTip("A recording stops by itself after this long. GIF and "
                                     "APNG keep frames in memory, so they stop at 60 s.")
        self.record_colour = "#ffffff"
        form.addRow("Clip size", self.record_size)
        form.addRow("Clip frame rate", self.record_fps)
        form.addRow("Clip background", self.record_background)
        form.addRow("Stop after", self.record_limit)
        for box, key in ((self.record_size, "size"), (self.record_fps, "fps"),
                         (self.record_limit, "max_seconds")):
            box.activated.connect(lambda i, b=box, k=key: self.record_options.emit({k: b.itemData(i)}))
        self.record_background.activated.connect(self._record_background_chosen)
        return form

    def _record_background_chosen(self, index: int) -> None:
        value = self.record_background.itemData(index)
        if value == "pick":
            colour = QColorDialog.getColor(QColor(self.record_colour), self, "Clip background")
            if not colour.isValid():
                return
            value = colour.name()
            self._select(self.record_background, value, value)
        self.record_colour = value if value != "transparent" else self.record_colour
        self.record_options.emit({"background": value})

    @staticmethod
    def _select(box: QComboBox, value, label: str) -> None:
        """Select the entry holding `value`, adding it (before "Other…") if missing."""
        i = box.findData(value)
        if i < 0:
            at = box.findData("pick")
            at = box.count() if at < 0 else at
            box.insertItem(at, label, value)
            i = at
        box.setCurrentIndex(i)

    def show_record_options(self, out) -> None:
        """Show the saved recorder choices (app.settings.OutputSettings) without emitting."""
        boxes = (self.record_size, self.record_fps, self.record_background, self.record_limit)
        for b in boxes:
            b.blockSignals(True)
        self._select(self.record_size, int(out.record_size), f"{out.record_size} px")
        self._select(self.record_fps, int(out.record_fps), f"{out.record_fps} fps")
        self._select(self.record_background, out.record_background, out.record_background)
        self._select(self.record_limit, int(out.record_max_seconds), f"{out.record_max_seconds} s")
        if out.record_background != "transparent":
            self.record_colour = out.record_background
        for b in boxes:
            b.blockSignals(False)

    def show_vcam(self, out, backends: list[str] = ()) -> None:
        """Show the saved choices (app.settings.OutputSettings) without emitting;
        backends: the virtual camera backends this system offers."""
        widgets = (self.vcam_size, self.vcam_fps, self.vcam_background, self.vcam_mirror,
                   self.vcam_backend, self.vcam_device)
        for w in widgets:
            w.blockSignals(True)
        size = f"{out.vcam_width}x{out.vcam_height}"
        i = self.vcam_size.findData(size)
        if i < 0:
            self.vcam_size.addItem(f"{out.vcam_width}\u00d7{out.vcam_height}", size)
            i = self.vcam_size.count() - 1
        self.vcam_size.setCurrentIndex(i)
        self.vcam_fps.setValue(int(out.vcam_fps))
        self.vcam_background.setCurrentIndex(max(0, self.vcam_background.findData(
            out.vcam_background)))
        self.vcam_mirror.setChecked(bool(out.vcam_mirror))
        self.vcam_color, self.vcam_image = out.vcam_color, out.vcam_image
        for name in [*backends, out.vcam_backend]:
            if name and self.vcam_backend.findData(name) < 0:
                self.vcam_backend.addItem(name, name)
        self.vcam_backend.setCurrentIndex(max(0, self.vcam_backend.findData(out.vcam_backend)))
        self.vcam_device.setText(out.vcam_device)
        for w in widgets:
            w.blockSignals(False)

    def _background_chosen(self, index: int) -> None:
        kind = self.vcam_background.itemData(index)
        options: dict = {"background": kind}
        if kind == "color":
            colour = QColorDialog.getColor(QColor(self.vcam_color), self, "Background colour")
            if not colour.isValid():
                return
            options["color"] = self.vcam_color = colour.name()
        elif kind == "image":
            path, _ = QFileDialog.getOpenFileName(
                self, "Background image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp)")
            if not path:
                return
            options["image"] = self.vcam_image = path
        self._emit_vcam(options)

    def _emit_vcam(self, options: dict) -> None:
        self.vcam_options.emit(options)

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
        if rec:
            self.record_info.setText(f"Recording to {rec}")
        elif self.record_info.text().startswith("Recording to"):
            self.record_info.setText("Saving…")
        for w in (self.record_format, self.record_size, self.record_fps,
                  self.record_background, self.record_limit):  # no change mid-clip
            w.setEnabled(not state.get("clip_recorder"))

    def show_record_formats(self, formats: list[tuple[str, str]], current: str) -> None:
        """formats: (key, label) pairs; current: the saved choice. Does not emit."""
        self.record_format.blockSignals(True)
        self.record_format.clear()
        for key, label in formats:
            self.record_format.addItem(label, key)
        self.record_format.setCurrentIndex(max(0, self.record_format.findData(current)))
        self.record_format.blockSignals(False)

    def show_saved(self, path: str) -> None:
        """A clip was saved: say where, and offer its folder."""
        self.saved_clip = Path(path)
        self.record_info.setText(f"Saved to {path}")
        self.open_folder.setEnabled(True)

    def _open_clip_folder(self) -> None:
        if self.saved_clip is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.saved_clip.parent)))
