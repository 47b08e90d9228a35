"""The Engine protocol used by the app. Engines know nothing of cameras or windows."""
from __future__ import annotations

from typing import Any, Mapping, Protocol

import numpy as np

from engines.posespec import PoseSpec


class EngineError(RuntimeError):
    """A problem the user can act on (missing or damaged weights, a bad character image)."""


class Engine(Protocol):
    name: str
    pose_spec: PoseSpec

    def prepare(self, character_rgba: np.ndarray, generated: bool = False) -> Any:
        """All per-character work (validation, cached features). Input: HxWx4 uint8 512x512.
        generated: drawn by the procedural generator (the creator, an avatar, the default
        character), which the engine may pose differently from others' art."""

    def render(self, prepared: Any, pose: Mapping[str, float]) -> np.ndarray:
        """The character in `pose` as a 512x512x4 uint8 straight-alpha RGBA array."""
