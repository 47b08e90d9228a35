"""Mapper: FaceState -> full engine pose, every frame, whatever the tracker says.

Per update: targets from the face (calibrated, shaped, eyes stabilised) -> One-Euro per
parameter on range-scaled values -> blend with the idle layer by a weight that fades to idle
when the face is lost and back when it returns -> auto-blink / breathing -> pins -> clamp.
"""
from __future__ import annotations

from engines.posespec import PoseSpec

from app.mapping.calibration import Calibration
from app.mapping.config import MapperConfig
from app.mapping.idle import IdleLayer
from app.mapping.one_euro import OneEuroFilter
from app.mapping.targets import face_targets
from app.tracking.face_state import FaceState

EYES = ("eye_left_open", "eye_right_open")


def _smooth01(u: float) -> float:
    u = 0.0 if u < 0.0 else 1.0 if u > 1.0 else u
    return u * u * (3.0 - 2.0 * u)


class Mapper:
    def __init__(self, spec: PoseSpec, config: MapperConfig | None = None,
                 calibration: Calibration | None = None) -> None:
        self.spec = spec
        self.config = config or MapperConfig()
        self.calibration = calibration or Calibration()
        self.idle = IdleLayer(self.config.idle)
        self._filters = {p.name: self._make_filter(p.name) for p in spec.params}
        self._live: dict[str, float] = spec.defaults()  # last smoothed tracked pose
        self._weight = 0.0  # 0 = idle, 1 = following the face
        self._last_now: float | None = None
        self._last_face_ts: float | None = None
        self._last_face: FaceState | None = None  # last tracked raw face (for recenter)
        self._was_tracked = False
        self._pins: dict[str, float] = {}
        self._releasing: dict[str, tuple[float, float]] = {}  # name -> (value, start time)
        self._last_out: dict[str, float] = spec.defaults()
        # The last output without breathing and sway (see update); rest until then.
        self.driven_pose: dict[str, float] = spec.defaults()

    # -- settings -----------------------------------------------------------------------
    def _make_filter(self, name: str) -> OneEuroFilter:
        ch, c = self.config.channel(name), self.config
        return OneEuroFilter(ch.min_cutoff if ch.min_cutoff is not None else c.min_cutoff,
                             ch.beta if ch.beta is not None else c.beta, c.d_cutoff)

    def set_config(self, config: MapperConfig) -> None:
        """New settings take effect on the next update, without a jump."""
        self.config = config
        self.idle = IdleLayer(config.idle)
        for name, f in self._filters.items():
            nf = self._make_filter(name)
            nf.reset(f.value, f.last_t)
            self._filters[name] = nf

    def calibrate(self, face: FaceState) -> Calibration:
        """Take `face` (a neutral face looking at the camera) as rest. Returns the new
        Calibration, which the caller stores per user (Calibration.to_dict)."""
        self.calibration = Calibration.capture(face)
        return self.calibration

    def recenter(self) -> bool:
        """Take the current head angles as straight ahead (keeps the face baselines).
        False when no face has been tracked yet."""
        f = self._last_face
        if f is None:
            return False
        c = self.calibration
        self.calibration = Calibration(yaw=f.yaw, pitch=f.pitch, roll=f.roll,
                                       baselines=dict(c.baselines))
        return True

    # -- manual overrides ---------------------------------------------------------------
    def pin(self, name: str, value: float) -> None:
        """Hold parameter `name` at `value` (clipped to its range) until unpin."""
        p = self.spec[name]  # KeyError naming the known parameters
        self._pins[name] = float(min(max(float(value), p.lo), p.hi))
        self._releasing.pop(name, None)

    def unpin(self, name: str) -> None:
        """Release a pin; the parameter glides back to the live value over release_time."""
        if name in self._pins:
            self._releasing[name] = (self._pins.pop(name), self._last_now or 0.0)

    @property
    def pinned(self) -> dict[str, float]:
        return dict(self._pins)

    @property
    def tracking_weight(self) -> float:
        """0 = showing idle motion, 1 = following the face."""
        return self._weight

    # -- per frame ----------------------------------------------------------------------
    def update(self, face: FaceState, now: float) -> dict[str, float]:
        cfg = self.config
        dt = 0.0 if self._last_now is None else min(max(now - self._last_now, 0.0), 0.5)
        self._last_now = now
        tracked = face.tracked and face.confidence >= cfg.min_confidence
        if tracked:
            self._follow(face)
        self._was_tracked = tracked
        # Fade weight: linear in time, eased when applied (no kink at either end).
        step = 1.0 if cfg.fade_time <= 0 else dt / cfg.fade_time
        goal = 1.0 if tracked else 0.0
        if self._weight < goal:
            self._weight = min(goal, self._weight + step)
        else:
            self._weight = max(goal, self._weight - step)
        w = _smooth01(self._weight)
        idle = self.idle.pose(now)
        if cfg.auto_blink != "when_lost":  # "always" blinks on top of everything below
            idle.update({n: 1.0 for n in EYES})
        shut = self.idle.blink_closure(now) if cfg.auto_blink == "always" else 0.0
        out = self._blend(w, idle, shut)
        # The same pose without the idle layer's slow motion (breathing and sway): what the
        # face, the fade, the pins and the auto-blinks make of it. The pipeline renders
        # changes of this one at full rate, and changes only breathing and sway make at a
        # lower rate (app.pipeline.IDLE_RENDER_FPS); a blink is over in 0.2 s and needs
        # every frame to be seen shut.
        blinks = {n: idle[n] for n in EYES if n in idle}
        driven = self._blend(w, blinks, shut)
        self._apply_pins(out, now)
        self._apply_pins(driven, now)
        self._last_out = self.spec.clamp(out)
        self.driven_pose = self.spec.clamp(driven)
        return dict(self._last_out)

    def _blend(self, w: float, idle: dict[str, float], shut: float) -> dict[str, float]:
        """The followed face at weight w over the idle pose (missing names: rest), with
        auto-blink closure `shut` on the eyes."""
        out: dict[str, float] = {}
        for p in self.spec.params:
            n = p.name
            idle_v = idle.get(n, p.default)
            if n == "breathing":
                out[n] = idle_v  # no tracker measures breathing
            else:
                out[n] = w * self._live.get(n, p.default) + (1.0 - w) * idle_v
        if shut:
            for n in EYES:
                if n in out:
                    out[n] *= 1.0 - shut
        return out

    def _follow(self, face: FaceState) -> None:
        """Smooth the face's targets into self._live (once per new capture timestamp)."""
        if face.capture_ts == self._last_face_ts:
            return
        self._last_face_ts = face.capture_ts
        self._last_face = face
        targets = face_targets(face, self.calibration, self.config)
        # Back after a real loss: start the filters from the new face (the fade-in hides the
        # change). After a dropped frame or two keep filtering, so nothing twitches.
        reacquired = not self._was_tracked and self._weight < 0.5
        for p in self.spec.params:
            if p.name not in targets:
                continue
            scale = p.hi - p.lo
            f = self._filters[p.name]
            if reacquired:  # start from the new face; the fade-in hides the change
                f.reset()
            self._live[p.name] = f(targets[p.name] / scale, face.capture_ts) * scale

    def _apply_pins(self, out: dict[str, float], now: float) -> None:
        for n, v in self._pins.items():
            out[n] = v
        rt = self.config.release_time
        for n, (v, t0) in list(self._releasing.items()):
            u = 1.0 if rt <= 0 else (now - t0) / rt
            if u >= 1.0:
                del self._releasing[n]
                continue
            out[n] = v + _smooth01(u) * (out[n] - v)
