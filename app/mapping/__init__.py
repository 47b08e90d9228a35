"""FaceState -> engine pose: calibration, shaping, smoothing, eye stabiliser, idle layer,
manual pins. Plain Python; no Qt, no camera, no tracker needed."""
from __future__ import annotations

from app.mapping.calibration import Calibration
from app.mapping.config import ChannelConfig, EyeConfig, IdleConfig, MapperConfig
from app.mapping.idle import IdleLayer
from app.mapping.mapper import Mapper
from app.mapping.measure import jitter_factor, smoothing_lag_frames, step_settle_frames
from app.mapping.one_euro import OneEuroFilter

__all__ = ["Calibration", "ChannelConfig", "EyeConfig", "IdleConfig", "IdleLayer", "Mapper",
           "MapperConfig", "OneEuroFilter", "jitter_factor", "smoothing_lag_frames",
           "step_settle_frames"]
