"""Face tracking: camera frame -> FaceState. MediaPipe is imported only when a
MediaPipeTracker is created, so FaceState users do not pay for it."""
from __future__ import annotations

from app.tracking.face_state import FaceState, swap_side
from app.tracking.model_file import ModelFileError, find_face_model

__all__ = ["FaceState", "MediaPipeTracker", "ModelFileError", "find_face_model", "swap_side"]


def __getattr__(name: str):
    if name == "MediaPipeTracker":
        from app.tracking.mediapipe_tracker import MediaPipeTracker

        return MediaPipeTracker
    raise AttributeError(f"module 'app.tracking' has no attribute {name!r}")
