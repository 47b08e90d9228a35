"""Mapper settings as plain dataclasses that round-trip through dicts (settings files).

Default gains come from measurements with the packaged MediaPipe model (see the tests):
- head: a 3D mesh warp of real photos by a known angle read back as 0.65-0.78x the yaw and
  0.75-0.95x the pitch; an in-plane rotation read back within 1 degree (roll gain 1); the
  still "head turned about 45 degrees" read as 34 degrees.
- eyes: eyeBlink read 0.02-0.15 open and 0.45-0.75 closed (cap13 frames 98-115); a real
  wink reads only 0.22-0.27 on the closed eye (MediaPipe couples the eyes).
- mouth: jawOpen read 0.52-0.67 for a wide-open mouth, 0.15-0.35 while talking.
- smile: mouthSmile read 0.78-0.90 for a big smile.
- brows: browInnerUp+browOuterUp read 0.6-0.85 in surprise, browDown 0.4 in anger.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

AUTO_BLINK_MODES = ("when_lost", "always", "never")
HEAD_MOTION_MAX = 3.0  # beyond this a few degrees of yours would reach the engine's full turn


@dataclass
class ChannelConfig:
    """Shaping of one pose parameter: |x| loses `deadzone` (in the parameter's units), is
    multiplied by `gain`, then bent by `curve` (an exponent on the value relative to the
    parameter's full scale: > 1 calmer near rest, < 1 livelier). min_cutoff/beta override
    the mapper's One-Euro settings for this parameter."""
    gain: float = 1.0
    deadzone: float = 0.0
    curve: float = 1.0
    min_cutoff: float | None = None
    beta: float | None = None


@dataclass
class EyeConfig:
    open_level: float = 0.08  # eyeBlink of an open eye until calibrated (measured 0.02-0.15)
    closed_level: float = 0.5  # eyeBlink read as fully closed (measured 0.45-0.75)
    snap_open: float = 0.25  # closure below this shows fully open
    snap_closed: float = 0.7  # closure above this shows fully closed
    link: bool = True  # both eyes move together unless one is clearly winking
    wink_threshold: float = 0.3  # closure difference that counts as a wink
    wink_closed_level: float = 0.45  # a winking eye's closure at which it shows closed
    copy_yaw: float = 25.0  # head yaw (deg) beyond which the far eye copies the near one


@dataclass
class IdleConfig:
    blink_interval: tuple[float, float] = (2.0, 6.0)  # seconds between auto-blinks
    blink_duration: float = 0.2
    breathing_period: float = 4.0  # seconds per breath
    breathing_depth: float = 1.0  # 0..1 of the breathing range
    sway_deg: float = 2.0  # idle head sway amplitude
    sway_period: float = 7.0
    seed: int = 0


def default_channels() -> dict[str, ChannelConfig]:
    return {
        "head_yaw": ChannelConfig(gain=1.25, deadzone=0.5),
        "head_pitch": ChannelConfig(gain=1.1, deadzone=0.5),
        "head_roll": ChannelConfig(gain=1.0, deadzone=0.5),
        "eye_left_open": ChannelConfig(),
        "eye_right_open": ChannelConfig(),
        "iris_x": ChannelConfig(gain=1.5, deadzone=0.03),
        "iris_y": ChannelConfig(gain=1.5, deadzone=0.03),
        "brow_left": ChannelConfig(gain=1.25, deadzone=0.05),
        "brow_right": ChannelConfig(gain=1.25, deadzone=0.05),
        "mouth_open": ChannelConfig(gain=1.8, deadzone=0.03),
        "mouth_form": ChannelConfig(gain=1.2, deadzone=0.05),
        "body_yaw": ChannelConfig(),
        "eye_left_smile": ChannelConfig(gain=1.6, deadzone=0.1),
        "eye_right_smile": ChannelConfig(gain=1.6, deadzone=0.1),
        "brow_left_angle": ChannelConfig(gain=1.5, deadzone=0.05),
        "brow_right_angle": ChannelConfig(gain=1.5, deadzone=0.05),
    }


@dataclass
class MapperConfig:
    channels: dict[str, ChannelConfig] = field(default_factory=default_channels)
    min_cutoff: float = 1.0  # One-Euro, on values scaled to each parameter's range
    beta: float = 5.0
    d_cutoff: float = 1.0
    eyes: EyeConfig = field(default_factory=EyeConfig)
    idle: IdleConfig = field(default_factory=IdleConfig)
    brow_link: float = 0.6  # 0 = brows independent, 1 = both at their mean
    body_follow: float = 0.35  # body_yaw per full head-yaw range
    fade_time: float = 0.6  # seconds to fade to idle when the face is lost, and back
    min_confidence: float = 0.5  # below this a tracked face counts as lost
    auto_blink: str = "when_lost"  # "when_lost" | "always" | "never"
    release_time: float = 0.3  # seconds to glide back after a parameter is unpinned
    # How far the character's head (and the body following it) turns per degree of yours,
    # on top of the channel gains. Saved per character like the rest of these settings,
    # because how far a head turns at a given angle is the artist's choice, which no picture
    # tells (the eval's "best scale": the same rigged angle moves one rig's head twice as far
    # as another's; README, *The engine*): the user sees it and sets it.
    head_motion: float = 1.0
    schema: int = 1

    def __post_init__(self) -> None:
        if self.auto_blink not in AUTO_BLINK_MODES:
            raise ValueError(f"auto_blink must be one of {AUTO_BLINK_MODES}, got {self.auto_blink!r}")
        if self.fade_time < 0 or self.release_time < 0:
            raise ValueError("fade_time and release_time must be >= 0 seconds")
        if not 0.0 <= self.head_motion <= HEAD_MOTION_MAX:
            raise ValueError(f"head_motion must be between 0 and {HEAD_MOTION_MAX:g} "
                             f"(1 = as tracked), got {self.head_motion!r}")

    def channel(self, name: str) -> ChannelConfig:
        return self.channels.get(name) or ChannelConfig()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["idle"]["blink_interval"] = list(self.idle.blink_interval)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MapperConfig":
        """Inverse of to_dict. Missing keys take defaults; unknown keys are an error that
        names them (a typo in a settings file should not be silently ignored)."""
        d = dict(d)
        schema = d.get("schema", 1)
        if schema != 1:
            raise ValueError(f"mapper settings schema {schema} is not supported (this version "
                             "reads schema 1); reset the mapping settings")
        _check_keys(cls, d, "mapper settings")
        kw: dict[str, Any] = {k: v for k, v in d.items() if k not in ("channels", "eyes", "idle")}
        if "channels" in d:
            chans = default_channels()
            for name, c in d["channels"].items():
                _check_keys(ChannelConfig, c, f"mapper channel {name!r}")
                chans[name] = ChannelConfig(**c)
            kw["channels"] = chans
        if "eyes" in d:
            _check_keys(EyeConfig, d["eyes"], "mapper eyes")
            kw["eyes"] = EyeConfig(**d["eyes"])
        if "idle" in d:
            _check_keys(IdleConfig, d["idle"], "mapper idle")
            idle = dict(d["idle"])
            if "blink_interval" in idle:
                idle["blink_interval"] = tuple(idle["blink_interval"])
            kw["idle"] = IdleConfig(**idle)
        return cls(**kw)


def _check_keys(cls: type, d: dict[str, Any], what: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"unknown {what} key(s): {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(known))}")
