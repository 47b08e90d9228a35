"""Expression presets: named values for a subset of the pose parameters.

A preset is saved from the current pose (all parameters or a chosen few), kept in a JSON
file written atomically, triggered live from a hotkey (PresetPlayer fades it in over the
tracked pose and out again), and strung into scripted clips (script_poses: "blink, smile,
nod" without real time).
"""
from __future__ import annotations

import json
import math
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from app.frames import now
from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec

SCHEMA_VERSION = 1
MAX_NAME = 40
MODES = ("toggle", "hold")  # hotkey turns the preset on/off, or shows it while held


class PresetError(ValueError):
    """A preset or presets file problem; str() is the message for the user."""


@dataclass(frozen=True)
class Preset:
    name: str
    values: dict[str, float]  # parameter name -> value, a subset of the PoseSpec
    fade_in: float = 0.15  # seconds
    fade_out: float = 0.25
    hold: float = 0.3  # seconds fully in when tapped or scripted
    hotkey: Optional[str] = None  # e.g. "Ctrl+1"; the window binds it
    mode: str = "toggle"  # one of MODES

    def validate(self, spec: PoseSpec = DEFAULT_POSE_SPEC) -> "Preset":
        name = self.name.strip() if isinstance(self.name, str) else ""
        if not name or len(name) > MAX_NAME:
            raise PresetError(f"a preset needs a name of 1 to {MAX_NAME} characters, got {self.name!r}")
        if not self.values:
            raise PresetError(f"preset {name!r} sets no parameters; choose at least one")
        for k, v in self.values.items():
            if k not in spec.names:
                raise PresetError(f"preset {name!r}: unknown pose parameter {k!r}; "
                                  f"known: {', '.join(spec.names)}")
            p = spec[k]
            if not isinstance(v, (int, float)) or not math.isfinite(v) or not p.lo <= v <= p.hi:
                raise PresetError(f"preset {name!r}: {k} = {v!r} is outside {p.lo:g}..{p.hi:g}")
        if self.mode not in MODES:
            raise PresetError(f"preset {name!r}: mode {self.mode!r} is not one of {', '.join(MODES)}")
        for what, t in (("fade-in", self.fade_in), ("fade-out", self.fade_out), ("hold", self.hold)):
            if not 0 <= t <= 10:
                raise PresetError(f"preset {name!r}: {what} {t} s must be from 0 to 10 s")
        return self

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "values": dict(self.values),
                             "fade_in": self.fade_in, "fade_out": self.fade_out, "hold": self.hold}
        if self.hotkey:
            d["hotkey"] = self.hotkey
        if self.mode != "toggle":
            d["mode"] = self.mode
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], spec: PoseSpec = DEFAULT_POSE_SPEC) -> "Preset":
        try:
            p = cls(name=str(d["name"]), values={str(k): float(v) for k, v in d["values"].items()},
                    fade_in=float(d.get("fade_in", 0.15)), fade_out=float(d.get("fade_out", 0.25)),
                    hold=float(d.get("hold", 0.3)),
                    hotkey=d.get("hotkey") or None, mode=str(d.get("mode", "toggle")))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise PresetError(f"a preset entry is malformed ({e}): {dict(d)!r}") from None
        return p.validate(spec)


def preset_from_pose(name: str, pose: Mapping[str, float], params: Iterable[str] | None = None,
                     spec: PoseSpec = DEFAULT_POSE_SPEC, **kw: Any) -> Preset:
    """A preset holding `params` (default: every parameter) at their values in `pose`."""
    full = spec.clamp(pose)
    names = list(params) if params is not None else spec.names
    unknown = [n for n in names if n not in spec.names]
    if unknown:
        raise PresetError(f"unknown pose parameter(s) {', '.join(unknown)}; known: {', '.join(spec.names)}")
    return Preset(name.strip(), {n: full[n] for n in names}, **kw).validate(spec)


# Ready-made expressions; also the vocabulary of scripted clips. "left" is the character's own.
BUILTIN_PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("blink", {"eye_left_open": 0.0, "eye_right_open": 0.0}, fade_in=0.06, fade_out=0.1,
           hold=0.05),
    Preset("wink", {"eye_left_open": 0.0, "mouth_form": 0.5}, fade_in=0.08, fade_out=0.15),
    Preset("smile", {"mouth_form": 1.0, "mouth_open": 0.2, "eye_left_open": 0.7,
                     "eye_right_open": 0.7}),
    Preset("nod", {"head_pitch": -12.0}, fade_in=0.15, fade_out=0.2, hold=0.1),
    Preset("surprised", {"brow_left": 1.0, "brow_right": 1.0, "mouth_open": 0.8,
                         "mouth_form": 0.0}, fade_in=0.1),
    Preset("angry", {"brow_left": -1.0, "brow_right": -1.0, "mouth_form": -0.7}),
    Preset("tilt", {"head_roll": 12.0, "iris_x": 0.3}),
)}


class PresetStore:
    """Named presets in one JSON file, rewritten atomically (temp file + rename)."""

    def __init__(self, path: str | Path, spec: PoseSpec = DEFAULT_POSE_SPEC) -> None:
        self.path = Path(path)
        self.spec = spec

    def load(self) -> dict[str, Preset]:
        if not self.path.exists():
            return {}
        from app.settings_schema import MAX_FILE_BYTES

        try:
            size = self.path.stat().st_size
            if size > MAX_FILE_BYTES:  # reading a huge file would stall the window
                raise ValueError(f"it is {size / 2**20:.0f} MB; a presets file is a few KB")
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except RecursionError:
                raise ValueError("it is nested too deeply to be presets") from None
            if not isinstance(data, dict) or not isinstance(data.get("presets"), list):
                raise ValueError("expected {\"schema\": 1, \"presets\": [...]}")
            if int(data.get("schema", SCHEMA_VERSION)) > SCHEMA_VERSION:
                raise ValueError(f"written by a newer Omokage (schema {data['schema']})")
            presets = [Preset.from_dict(d, self.spec) for d in data["presets"]]
        except (OSError, ValueError) as e:
            raise PresetError(f"The presets file {self.path} cannot be read ({e}). It was left "
                              "as it is; fix it or move it away to start afresh.") from None
        return {p.name: p for p in presets}

    def names(self) -> list[str]:
        return sorted(self.load())

    def get(self, name: str) -> Preset:
        presets = self.load()
        if name not in presets:
            raise PresetError(f"no preset named {name!r}; saved: {', '.join(sorted(presets)) or 'none'}")
        return presets[name]

    def save(self, preset: Preset, overwrite: bool = True) -> None:
        preset.validate(self.spec)
        presets = self.load()  # a damaged file raises here instead of being replaced
        if not overwrite and preset.name in presets:
            raise PresetError(f"a preset named {preset.name!r} exists already; choose another name")
        presets[preset.name] = preset
        self._write(presets)

    def delete(self, name: str) -> None:
        presets = self.load()
        if presets.pop(name, None) is None:
            raise PresetError(f"no preset named {name!r} to delete")
        self._write(presets)

    def _write(self, presets: Mapping[str, Preset]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"schema": SCHEMA_VERSION,
                           "presets": [presets[n].to_dict() for n in sorted(presets)]},
                          indent=2, ensure_ascii=False)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "x", encoding="utf-8") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)  # readers see the old file or the new one, never half
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass
class _Layer:
    preset: Preset
    start: float
    from_weight: float  # weight when (re)triggered, so a retrigger never jumps
    release_at: Optional[float] = None
    release_weight: float = 1.0

    def weight(self, t: float) -> float:
        p = self.preset
        if self.release_at is not None and t >= self.release_at:
            if p.fade_out <= 0:
                return 0.0
            return self.release_weight * (1.0 - _smooth((t - self.release_at) / p.fade_out))
        if p.fade_in <= 0:
            return 1.0
        return self.from_weight + (1.0 - self.from_weight) * _smooth((t - self.start) / p.fade_in)

    def done(self, t: float) -> bool:
        return self.release_at is not None and t >= self.release_at + self.preset.fade_out


class PresetPlayer:
    """Blends triggered presets over the tracked pose with smooth fades. Hotkeys call
    trigger()/release(); the pipeline calls apply() on every pose. Times default to the
    pipeline clock; pass `t` for scripted (non-real-time) use. Thread-safe: hotkeys may
    call in from the UI thread while the pipeline applies."""

    def __init__(self, spec: PoseSpec = DEFAULT_POSE_SPEC, clock: Callable[[], float] = now) -> None:
        self.spec = spec
        self.clock = clock
        self._layers: list[_Layer] = []
        self._lock = threading.RLock()

    @property
    def active(self) -> list[str]:
        return [layer.preset.name for layer in self._layers]

    def trigger(self, preset: Preset, hold: float | None = None, t: float | None = None) -> None:
        """Fade `preset` in. hold=None keeps it until release(); otherwise it fades out by
        itself `hold` seconds after it is fully in (a tap: pass preset.hold)."""
        preset.validate(self.spec)
        t = self.clock() if t is None else t
        with self._lock:
            self._trigger(preset, hold, t)

    def _trigger(self, preset: Preset, hold: float | None, t: float) -> None:
        w = 0.0
        for layer in [la for la in self._layers if la.preset.name == preset.name]:
            w = layer.weight(t)
            self._layers.remove(layer)
        layer = _Layer(preset, t, w)
        if hold is not None:
            layer.release_at = t + preset.fade_in + max(0.0, hold)  # fully in by then
        self._layers.append(layer)

    def release(self, name: str | None = None, t: float | None = None) -> None:
        """Start fading out `name` (or every preset)."""
        t = self.clock() if t is None else t
        with self._lock:
            self._release(name, t)

    def _release(self, name: str | None, t: float) -> None:
        for layer in self._layers:
            if (name is None or layer.preset.name == name) and (
                    layer.release_at is None or layer.release_at > t):
                layer.release_weight = layer.weight(t)
                layer.release_at = t

    def toggle(self, preset: Preset, t: float | None = None) -> bool:
        """Hotkey as a switch: on if off (or fading out), off if on. Returns the new state."""
        preset.validate(self.spec)
        t = self.clock() if t is None else t
        with self._lock:
            on = any(la.preset.name == preset.name and (la.release_at is None or la.release_at > t)
                     for la in self._layers)
            if on:
                self._release(preset.name, t)
            else:
                self._trigger(preset, None, t)
        return not on

    def apply(self, pose: Mapping[str, float], t: float | None = None) -> dict[str, float]:
        """The tracked `pose` with active presets blended in (later triggers on top)."""
        t = self.clock() if t is None else t
        out = self.spec.clamp(pose)
        with self._lock:
            self._layers = [la for la in self._layers if not la.done(t)]
            for layer in self._layers:
                w = layer.weight(t)
                for k, v in layer.preset.values.items():
                    out[k] = out[k] + w * (v - out[k])
        return out


@dataclass
class ScriptStep:
    preset: str
    hold: Optional[float] = None  # seconds fully in; None: the preset's own
    fade_in: Optional[float] = None  # None: the preset's own
    fade_out: Optional[float] = None


def parse_script(text: str) -> list[ScriptStep]:
    """"blink, smile:0.8, nod" -> steps (an optional ":seconds" sets the hold)."""
    steps = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, hold = part.partition(":")
        try:
            steps.append(ScriptStep(name.strip(), float(hold)) if hold else ScriptStep(name.strip()))
        except ValueError:
            raise PresetError(f"{part!r}: the hold after ':' must be seconds, e.g. smile:0.8") from None
    if not steps:
        raise PresetError("the expression script is empty; write e.g. 'blink, smile, nod'")
    return steps


def script_poses(steps: Sequence[ScriptStep | str], fps: int,
                 presets: Mapping[str, Preset] | None = None,
                 base: Mapping[str, float] | None = None,
                 spec: PoseSpec = DEFAULT_POSE_SPEC, lead: float = 0.2,
                 tail: float = 0.3) -> list[dict[str, float]]:
    """One pose per frame at `fps` for a scripted expression: each step fades in over
    `base` (default: the neutral pose), holds, and fades out while the next fades in."""
    library = dict(BUILTIN_PRESETS)
    library.update(presets or {})
    player = PresetPlayer(spec)
    timeline: list[tuple[float, Preset, float]] = []
    t = lead
    for step in steps:
        step = ScriptStep(step) if isinstance(step, str) else step
        if step.preset not in library:
            raise PresetError(f"no preset named {step.preset!r}; available: {', '.join(sorted(library))}")
        p = library[step.preset]
        p = Preset(p.name, p.values,
                   p.fade_in if step.fade_in is None else step.fade_in,
                   p.fade_out if step.fade_out is None else step.fade_out,
                   p.hold if step.hold is None else step.hold).validate(spec)
        timeline.append((t, p, p.hold))
        t += p.fade_in + p.hold
    end = t + max((p.fade_out for _, p, _ in timeline), default=0.0) + tail
    base = spec.clamp(base or {})
    poses = []
    pending = list(timeline)
    for i in range(int(math.ceil(end * fps))):
        now_t = i / fps
        while pending and pending[0][0] <= now_t:
            start, p, hold = pending.pop(0)
            player.trigger(p, hold=hold, t=start)
        poses.append(player.apply(base, t=now_t))
    return poses
