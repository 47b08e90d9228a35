"""The main window: preview, camera picker, pose sliders, tracking and output controls.

All work happens in the controller's threads; this module only shows results that the
Bridge delivers on the GUI thread, and caps how often the preview repaints.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QComboBox, QDialog, QDockWidget,
                               QFileDialog, QHBoxLayout, QLabel, QMainWindow, QPushButton,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from ui.bridge import Bridge
from ui.controls import OutputsPanel, TrackingPanel
from ui.log_view import LogView
from ui.pose_panel import PosePanel
from ui.presets_menu import PresetsMenu
from ui.preview import CameraView, PreviewWidget
from ui.recommend_panel import RecommendPanel

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"
VIDEO_FILTER = "Videos (*.mp4 *.mkv *.mov *.avi *.webm);;All files (*)"
AUTOSAVE_MS = 1000  # how often changed settings are written


class MainWindow(QMainWindow):
    stickers_done = Signal(str)  # the sticker export's result, from the controller's worker
    picture_inspected = Signal(object)  # (path, app.intake.opening.Opening or None), from a worker

    def __init__(self, controller) -> None:
        super().__init__()
        self.controller = controller
        self.bridge = Bridge(controller, self)
        self.setWindowTitle("Omokage")
        self.setAcceptDrops(True)
        self.notices: list = []  # every notice shown, newest last
        self._showing_problems = False  # the banner lists the stages' current problems
        self._last_paint = 0.0
        self._paint_timer = QTimer(self, singleShot=True)
        self._paint_timer.timeout.connect(self._paint_latest)
        self._build()
        self._actions()
        self.stickers_done.connect(self._stickers_done)
        self.picture_inspected.connect(self._picture_inspected)
        b = self.bridge
        b.frame_ready.connect(self._frame_ready)
        b.notice.connect(self._show_notice)
        b.character.connect(self._character_changed)
        b.ready.connect(self._ready)
        b.outputs.connect(self._outputs_changed)
        b.cameras.connect(self._fill_cameras)
        self._stats_timer = QTimer(self)
        self._stats_timer.timeout.connect(self._show_stats)
        self._stats_timer.start(500)
        # Whatever the user changed reaches the disk within a second, so a crash or a kill
        # does not lose it; the controller writes only when something changed, off this thread.
        self._autosave_timer = QTimer(self)
        self._autosave_timer.timeout.connect(self.controller.autosave)
        self._autosave_timer.start(AUTOSAVE_MS)
        self.banner.setText("Loading the engine and the face tracker…")

    # ---- layout ----------------------------------------------------------------------
    def _build(self) -> None:
        s = self.controller.settings
        central = QWidget()
        outer = QVBoxLayout(central)
        top = QHBoxLayout()
        self.open_button = QPushButton("Open character… (Ctrl+O)")
        self.open_button.clicked.connect(self.open_character_dialog)
        self.camera_combo = QComboBox()
        self.camera_combo.setObjectName("camera_combo")
        self.camera_combo.setMinimumWidth(220)
        self.camera_combo.addItem("No camera (idle animation)", "none")
        self.camera_combo.activated.connect(self._camera_chosen)
        self.refresh_cameras = QPushButton("↻")
        self.refresh_cameras.setToolTip("Look for cameras again")
        self.refresh_cameras.setFixedWidth(32)
        self.refresh_cameras.clicked.connect(self.list_cameras)
        self.show_camera = QCheckBox("Camera view")
        self.show_camera.setChecked(s.show_camera)
        self.show_landmarks = QCheckBox("Landmarks")
        self.show_landmarks.setChecked(s.show_landmarks)
        self.background_combo = QComboBox()
        self.background_combo.setObjectName("background_combo")
        for label, value in (("Checkerboard", "checker"), ("Green", "#00ff00"),
                             ("White", "#ffffff"), ("Black", "#000000"),
                             ("Other colour…", "pick")):
            self.background_combo.addItem(label, value)
        self.background_combo.activated.connect(self._background_chosen)
        for w in (self.open_button, QLabel("Camera:"), self.camera_combo,
                  self.refresh_cameras, self.show_camera, self.show_landmarks,
                  QLabel("Background:"), self.background_combo):
            top.addWidget(w)
        top.addStretch(1)
        outer.addLayout(top)
        self.banner = QLabel()
        self.banner.setObjectName("notice_banner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.banner)
        # Recommend settings: offered once on the first start, Help menu any time.
        self.recommend_panel = RecommendPanel(self.controller)
        outer.addWidget(self.recommend_panel)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.preview = PreviewWidget()
        self.preview.set_background(s.background if _valid_bg(s.background) else "checker")
        self.camera_view = CameraView()
        self.camera_view.mirror = s.mirror
        self.camera_view.show_landmarks = s.show_landmarks
        self.camera_view.setVisible(s.show_camera)
        split.addWidget(self.camera_view)
        split.addWidget(self.preview)
        self.tabs = QTabWidget()
        self.pose_panel = PosePanel()
        self.tracking_panel = TrackingPanel()
        self.outputs_panel = OutputsPanel()
        self.tabs.addTab(self.pose_panel, "Pose")
        self.tabs.addTab(self.tracking_panel, "Tracking")
        self.tabs.addTab(self.outputs_panel, "Outputs")
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 2)
        outer.addWidget(split, 1)
        self.setCentralWidget(central)
        # Every message of the channel and each stage's state, in a dock (View > Messages);
        # the channel's history fills it, so what came before the window listened shows too.
        self.log_view = LogView()
        self.log_view.seed(self.controller.messages.history())
        self.log_view.show_problems(self.controller.problems())
        self.log_dock = QDockWidget("Messages", self)
        self.log_dock.setObjectName("log_dock")
        self.log_dock.setWidget(self.log_view)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()
        self.status = QLabel("starting…")
        self.status.setObjectName("status_label")
        self.statusBar().addPermanentWidget(self.status, 1)

        c = self.controller
        self.pose_panel.pinned.connect(c.pin)
        self.pose_panel.unpinned.connect(c.unpin)
        self.tracking_panel.calibrate.connect(self.calibrate)
        self.tracking_panel.recenter.connect(c.recenter)
        self.tracking_panel.unpin_all.connect(self.pose_panel.unpin_all)
        self.tracking_panel.option_changed.connect(c.set_mapper_option)
        self.tracking_panel.mirror.setChecked(s.mirror)
        self.tracking_panel.mirror_changed.connect(self._toggle_mirror)
        self.tracking_panel.camera_mode.setCurrentIndex(self.tracking_panel.add_camera_mode(
            s.camera_width, s.camera_height, s.camera_fps))
        self.tracking_panel.camera_mode_changed.connect(c.set_camera_mode)
        self.outputs_panel.toggled.connect(c.set_output)
        self.outputs_panel.show_record_formats(c.record_formats(), s.outputs.record_format)
        self.outputs_panel.record_format_changed.connect(c.set_record_format)
        self.outputs_panel.show_record_options(s.outputs)
        self.outputs_panel.record_options.connect(self._set_record_options)
        self.outputs_panel.show_vcam(s.outputs, c.virtual_camera_backends())
        self.outputs_panel.vcam_options.connect(lambda o: c.set_virtual_camera_options(**o))
        self.show_camera.toggled.connect(self._toggle_camera_view)
        self.show_landmarks.toggled.connect(self._toggle_landmarks)

    def _actions(self) -> None:
        def act(text, shortcut, slot, checkable=False):
            a = QAction(text, self)
            a.setShortcut(QKeySequence(shortcut))
            a.setCheckable(checkable)
            a.triggered.connect(slot)
            self.addAction(a)
            return a

        menu = self.menuBar()
        f = menu.addMenu("&File")
        f.addAction(act("Open character…", "Ctrl+O", self.open_character_dialog))
        f.addAction(act("Place the head…", "Ctrl+Shift+H", self.place_head_dialog))
        f.addAction(act("Avatar from photo…", "Ctrl+Shift+A", self.avatar_dialog))
        f.addAction(act("New character…", "Ctrl+Shift+N", self.creator_dialog))
        f.addAction(act("Drive from a video file…", "Ctrl+Shift+O", self.open_video_dialog))
        self.stickers_action = act("Export stickers…", "Ctrl+Shift+E", self.export_stickers_dialog)
        f.addAction(self.stickers_action)
        f.addAction(act("Quit", "Ctrl+Q", self.close))
        t = menu.addMenu("&Tracking")
        self.calibrate_action = act("Calibrate", "Ctrl+K", self.calibrate)
        t.addAction(self.calibrate_action)
        t.addAction(act("Recenter", "Ctrl+E", self.controller.recenter))
        t.addAction(act("Release all sliders", "Ctrl+U", self.pose_panel.unpin_all))
        o = menu.addMenu("&Output")
        self.record_action = act("Record clip", "Ctrl+R", lambda: self._toggle_output(
            "clip_recorder"))
        o.addAction(act("Virtual camera", "Ctrl+Shift+V",
                        lambda: self._toggle_output("virtual_camera")))
        o.addAction(act("OBS browser source", "Ctrl+Shift+B",
                        lambda: self._toggle_output("obs_source")))
        o.addAction(self.record_action)
        self.presets_menu = PresetsMenu(self.controller, self)
        menu.addMenu(self.presets_menu)
        v = menu.addMenu("&View")
        v.addAction(act("Camera view", "Ctrl+L", lambda: self.show_camera.toggle()))
        self.log_action = self.log_dock.toggleViewAction()
        self.log_action.setText("Messages and stages")
        self.log_action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        v.addAction(self.log_action)
        h = menu.addMenu("&Help")
        self.recommend_action = act("Recommend settings…", "", self.recommend_panel.run)
        h.addAction(self.recommend_action)

    # ---- user actions ----------------------------------------------------------------
    def open_character_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open character", "", IMAGE_FILTER)
        if path:
            self.open_character(path)

    def open_character(self, path: str | Path) -> None:
        """A picture the user chose (menu or drop): a convention image loads as it is; any
        other opens the head-box editor on its automatic framing first. The picture is read
        and its face found in a worker, so the window keeps animating meanwhile."""
        from app.character import CharacterError
        from app.intake.opening import inspect_picture

        path = Path(path)
        self._say(f"Opening {path.name}…")

        def work() -> None:
            try:
                opening = inspect_picture(path)
            except (CharacterError, OSError, RuntimeError, ValueError):
                opening = None  # unusable: the normal load explains what is wrong
            try:
                self.picture_inspected.emit((path, opening))
            except RuntimeError:  # the window was closed meanwhile
                pass
        threading.Thread(target=work, name="omokage-inspect-picture", daemon=True).start()

    def _picture_inspected(self, item) -> None:
        path, opening = item
        if opening is None or opening.convention:
            self.load_character(path)
            return
        self._place_head_of(path, opening)

    def _place_head_of(self, path: Path, opening) -> None:
        """The head-box editor on a picture that does not follow the convention: OK writes
        NAME.prepared.png beside it (never over it) and loads that; Cancel keeps the
        character on screen."""
        from ui.head_box_dialog import HeadBoxDialog
        from app.character import CharacterError, save_prepared_beside
        from app.intake.prepare import PrepareError

        if opening.face is None:
            message = (f"No anime face was found in {path.name}. Drag the red box onto the "
                       "face (cheeks to chin, not the hair) and scale it with the wheel or "
                       "the corner handle; right: the result with the convention's head box.")
        else:
            message = (f"{path.name} does not follow the input convention, so it was framed "
                       "from the face found (red box). Check the result on the right (the "
                       "head inside the blue box); drag or scale the red box to correct it.")
        self.head_dialog = dlg = HeadBoxDialog(opening.rgba, opening.face, message, parent=self,
                                               original=opening.original)
        dlg.setWindowTitle(f"Place the head: {path.name}")
        if dlg.exec() != QDialog.DialogCode.Accepted:
            current = self.controller.character
            self._say(f"{path.name} was not opened" +
                      (f"; {current.name} stays." if current is not None else "."))
            return
        try:
            out, _ = save_prepared_beside(path, dlg.face(), dlg.picture())
        except (PrepareError, CharacterError, OSError) as exc:
            self._say(f"Cannot use {path.name}: {exc}", "error")
            return
        self.load_character(out)

    def place_head_dialog(self) -> None:
        """Show the current character's picture with its face box; the user moves/scales
        it, and the picture framed from that box is saved beside it and loaded."""
        from ui.head_box_dialog import HeadBoxDialog
        from app.character import CharacterError, decode_image, save_prepared_beside
        from app.intake.locate import MIN_SCORE
        from app.intake.prepare import PrepareError, find_face

        ch = self.controller.character
        if ch is None or ch.path is None:
            return
        try:
            rgba, _ = decode_image(ch.path.read_bytes(), ch.path.name)
            face = find_face(rgba)
        except (CharacterError, OSError, RuntimeError) as exc:
            self.banner.setText(f"Cannot place the head: {exc}")
            return
        self.head_dialog = dlg = HeadBoxDialog(rgba, face if face.score >= MIN_SCORE else None,
                                               parent=self)

        def accepted() -> None:
            try:
                out, _ = save_prepared_beside(ch.path, dlg.face(), dlg.picture())
            except (PrepareError, CharacterError, OSError) as exc:
                self.banner.setText(f"Cannot place the head: {exc}")
                return
            self.load_character(out)

        dlg.accepted.connect(accepted)
        dlg.open()

    def avatar_dialog(self, photo: str | Path | None = None) -> None:
        """Ask for a photo of a person; the dialog fits an anime character to it, and the
        one the user saves (beside the photo) becomes the character."""
        from ui.avatar_dialog import AvatarDialog

        if photo is None:
            photo, _ = QFileDialog.getOpenFileName(self, "Avatar from photo", "", IMAGE_FILTER)
            if not photo:
                return
        self.avatar_dlg = dlg = AvatarDialog(photo, parent=self)
        dlg.accepted.connect(lambda: self.load_character(dlg.saved))
        dlg.open()

    def creator_dialog(self) -> None:
        """The character creator; the character saved with "Save and use" is loaded."""
        from ui.creator_dialog import CreatorDialog

        self.creator_dlg = dlg = CreatorDialog(parent=self)
        dlg.accepted.connect(lambda: self.load_character(dlg.saved))
        dlg.open()

    def export_stickers_dialog(self) -> None:
        """Ask for a folder and write the sticker pack there (in the controller's worker);
        the result is reported in the banner."""
        folder = QFileDialog.getExistingDirectory(self, "Export stickers to a folder")
        if not folder:
            return
        self.stickers_action.setEnabled(False)
        self.banner.setStyleSheet("")
        self.banner.setText("Exporting stickers…")
        self.controller.export_stickers(folder, done=lambda msg, _path: self.stickers_done.emit(msg))

    def _stickers_done(self, message: str) -> None:
        self.stickers_action.setEnabled(True)
        self.banner.setStyleSheet("" if message.startswith("Saved") else "color: #b00020;")
        self.banner.setText(message)

    def _set_record_options(self, options: dict) -> None:
        try:
            self.controller.set_record_options(**options)
        except ValueError as exc:
            self.banner.setText(f"Recorder: {exc}")
            self.outputs_panel.show_record_options(self.controller.settings.outputs)

    def open_video_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Drive from a video", "", VIDEO_FILTER)
        if path:
            self.use_video(path)

    def use_video(self, path: str | Path) -> None:
        """Drive the character from a video file (looped), shown in the camera picker."""
        data = f"video:{path}"
        if self.camera_combo.findData(data) < 0:
            self.camera_combo.insertItem(self.camera_combo.count() - 1,
                                         f"Video: {Path(path).name}", data)
        self.camera_combo.setCurrentIndex(self.camera_combo.findData(data))
        self.controller.set_source(data)

    def load_character(self, path: str | Path) -> None:
        self._showing_problems = False
        self._say(f"Loading {Path(path).name}…")
        self.controller.load_character(path, self.bridge.character_done.emit)

    def calibrate(self) -> None:
        if self.controller.calibrate():
            self._say("Calibrated: this face is now the neutral pose.", "success")

    def list_cameras(self) -> None:
        """Probe cameras in a worker (opening devices can take seconds)."""
        def work():
            try:
                cams = self.controller.cameras()
            except Exception:
                cams = []
            self.bridge.cameras.emit(cams)
        threading.Thread(target=work, name="omokage-cameras", daemon=True).start()

    def _fill_cameras(self, cams) -> None:
        current = self.controller.source_spec  # what is really open, not what was saved
        videos = [(self.camera_combo.itemText(i), self.camera_combo.itemData(i))
                  for i in range(self.camera_combo.count())
                  if str(self.camera_combo.itemData(i)).startswith("video:")]
        self.camera_combo.clear()
        self.camera_combo.addItem("No camera (idle animation)", "none")
        for c in cams:
            self.camera_combo.addItem(c.label(), str(c.index))
        for label, data in videos:
            self.camera_combo.addItem(label, data)
        self.camera_combo.addItem("Video file…", "video")
        i = self.camera_combo.findData(current)
        self.camera_combo.setCurrentIndex(max(i, 0))

    def _camera_chosen(self, index: int) -> None:
        data = self.camera_combo.itemData(index)
        if data == "video":
            self.open_video_dialog()
        elif data.startswith("video:"):
            self.use_video(data[6:])
        else:
            self.controller.set_source(data)

    def _background_chosen(self, index: int) -> None:
        value = self.background_combo.itemData(index)
        if value == "pick":
            colour = QColorDialog.getColor(QColor("#00ff00"), self, "Background colour")
            if not colour.isValid():
                return
            value = colour.name()
        self.preview.set_background(value)
        self.controller.settings.background = value

    def _toggle_output(self, name: str) -> None:
        # "active" counts an output still opening as on, so a second press turns it off.
        self.controller.set_output(name, not self.controller.output_status(name).active)

    def _toggle_camera_view(self, on: bool) -> None:
        self.camera_view.setVisible(on)
        self.controller.settings.show_camera = on

    def _toggle_mirror(self, on: bool) -> None:
        self.controller.set_mirror(on)
        self.camera_view.mirror = on

    def _toggle_landmarks(self, on: bool) -> None:
        self.camera_view.show_landmarks = on
        self.controller.settings.show_landmarks = on

    # ---- drag and drop ---------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            self.open_character(files[0])
            event.acceptProposedAction()

    # ---- results from the controller (GUI thread) ------------------------------------
    def _ready(self) -> None:
        spec = self.controller.pose_spec
        self.pose_panel.build(spec, self.controller.pins)
        self.tracking_panel.build(self.controller.mapper_options())
        if self.banner.text().startswith("Loading the engine"):
            self.banner.setText("")
        if self.controller.camera_list is not None:  # probed at start: the same list
            self._fill_cameras(self.controller.camera_list)
        else:
            self.list_cameras()

    def _character_changed(self, ch) -> None:
        self.setWindowTitle(f"Omokage: {ch.name}")
        if self.controller.pose_spec is not None and self.pose_panel.rows:
            self.pose_panel.build(self.controller.pose_spec, self.controller.pins)
            # The Tracking tab's values are this character's (smoothing, head movement).
            self.tracking_panel.build(self.controller.mapper_options())
        if self.banner.text().startswith("Loading "):
            self._showing_problems = False
            self._say(f"{ch.name} loaded." + (
                " " + "; ".join(ch.notes) if ch.notes else ""))

    def _say(self, text: str, severity: str = "info") -> None:
        """The banner, coloured by what it says: only problems are red or amber."""
        self.banner.setStyleSheet(BANNER_STYLES.get(severity, ""))
        self.banner.setText(text)

    def _show_notice(self, notice) -> None:
        self.notices.append(notice)
        self.log_view.add(notice)
        if notice.stage == "output" and notice.message.startswith("Clip saved to "):
            self.outputs_panel.show_saved(notice.message[len("Clip saved to "):])
        if not notice.problem:
            self.statusBar().showMessage(f"{notice.stage}: {notice.message}", 6000)
        self._show_problems()

    def _show_problems(self) -> None:
        """One line per stage that has a problem now; a stage that recovered (its next
        message was info or success) drops out, and with none left the banner clears."""
        problems = self.controller.problems()
        self.log_view.show_problems(problems)
        if problems:
            worst = "error" if any(m.severity == "error" for m in problems.values()) else "warning"
            self._say("\n".join(f"{m.stage}: {m.text}" for m in problems.values()), worst)
            self._showing_problems = True
        elif self._showing_problems:
            self._say("")
            self._showing_problems = False

    def _outputs_changed(self, state) -> None:
        info = {n: self.controller.output_info(n) for n in state}
        self.outputs_panel.show_state(state, info)

    def _frame_ready(self) -> None:
        cap = max(1, int(self.controller.settings.preview_fps_cap))
        wait = self._last_paint + 1.0 / cap - time.perf_counter()
        if wait > 0:  # over the cap: paint when the time comes (the newest frame then)
            if not self._paint_timer.isActive():
                self._paint_timer.start(int(wait * 1000) + 1)
            return
        self._paint_latest()

    def _paint_latest(self) -> None:
        out = self.bridge.take_frame()
        if out is None:
            return
        self._last_paint = time.perf_counter()
        self.preview.show_rgba(out.frame.rgba)
        self.pose_panel.show_pose(out.pose)
        if self.camera_view.isVisible():
            self.camera_view.show_frame(out.camera_bgr, out.landmarks)

    def _show_stats(self) -> None:
        st = self.controller.stats()
        if self.log_dock.isVisible():
            self.log_view.show_timing(st)
        order = ["track_ms", "still_ms", "map_ms", "render_ms", "outputs_ms"]
        keys = sorted(st.stage_ms, key=lambda k: order.index(k) if k in order else 99)
        stages = " ".join(f"{k[:-3]} {st.stage_ms[k]:.1f}" for k in keys)
        face = "face ✓" if st.face_found else "no face"
        quality = f" · quality: {st.quality}" if st.quality else ""  # the governor's level
        # Idle clock ticks are not a camera: say so instead of showing their rate.
        source = f"input {st.source_fps:4.1f} fps" if st.source else "no camera (idling)"
        self.status.setText(
            f"{st.fps:4.1f} fps out · {source} · latency "
            f"{st.latency_ms:.0f} ms (p95 {st.latency_p95_ms:.0f}) · {stages} ms · {face}{quality}")

    def closeEvent(self, event) -> None:
        self._stats_timer.stop()
        self._autosave_timer.stop()
        self.controller.shutdown()
        super().closeEvent(event)


BANNER_STYLES = {"error": "color: #b00020;", "warning": "color: #8a5a00;"}


def _valid_bg(value: str) -> bool:
    return value == "checker" or QColor(value).isValid()
