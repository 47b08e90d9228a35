"""One Live2D character rendered headlessly at PoseSpec poses, framed to the input convention."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np

from engines.convention import CANVAS
from engines.datagen.fetch import cache_dir
from engines.datagen.live2d import framing as fr
from engines.datagen.live2d.mapping import PoseMapping
from engines.datagen.live2d.rig import LoadedModel, ModelError, canvas_matrix
from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec

Color = tuple[float, float, float]
# A control counts as working when its extreme changes this many pixels by this much at 512.
ACTIVE_PIXELS = 20
ACTIVE_DIFF = 24
# A control whose effect shows only in another pose is probed from that pose: a rig's eye
# smile curves closing lids and does nothing to an open eye.
PROBE_FROM: dict[str, dict[str, float]] = {"eye_left_smile": {"eye_left_open": 0.0},
                                           "eye_right_smile": {"eye_right_open": 0.0}}


def shrink(rgba: np.ndarray, size: int) -> np.ndarray:
    """Area-averaged to size x size in premultiplied form, so transparent pixels do not
    darken the edges."""
    pm = cv2.cvtColor(rgba, cv2.COLOR_RGBA2mRGBA)
    return cv2.cvtColor(cv2.resize(pm, (size, size), interpolation=cv2.INTER_AREA),
                        cv2.COLOR_mRGBA2RGBA)


class Live2DCharacter:
    """A Cubism 2 model (any .model.json path) as a posable 512x512 RGBA image source.

    render(pose) sets every parameter explicitly: the PoseSpec values mapped onto the model's
    ranges, everything else at the model's default (or at `params`, for augmentation).
    """

    def __init__(self, model_json: str | Path, spec: PoseSpec = DEFAULT_POSE_SPEC,
                 framing: fr.Framing | None = None) -> None:
        self.path = Path(model_json)
        self.spec = spec
        self.model = LoadedModel(model_json)
        self.name = self.path.name.removesuffix(".model.json")
        eye_open = self.model.idle_mode("PARAM_EYE_L_OPEN")
        self.mapping = PoseMapping(self.model.params, eye_open=eye_open, spec=spec)
        self.framing = framing or self._auto_framing()
        self.active = self._active_controls()

    # -- facts ---------------------------------------------------------------------------
    @property
    def params(self):
        """Live2D parameter id -> ParamInfo(id, lo, hi, default), read from the model."""
        return self.model.params

    @property
    def part_ids(self) -> list[str]:
        return self.model.part_ids

    def supports(self, spec_name: str) -> bool:
        """True when the model has the control and moving it visibly changes the render."""
        return spec_name in self.active

    # -- rendering -----------------------------------------------------------------------
    def render(self, pose: Mapping[str, float] | None = None, *, params: Mapping[str, float] | None = None,
               part_colors: Mapping[int, tuple[Color, Color]] | None = None,
               framing: fr.Framing | None = None, turn_gains: Sequence[float] | None = None,
               size: int = CANVAS, supersample: int = 1) -> np.ndarray:
        """RGBA uint8 (size x size, straight alpha) of `pose` (PoseSpec names; missing = rest).

        params: extra Live2D parameter values (ids as in the model) applied before the pose,
        e.g. random hair or arm positions; part_colors: part index -> (multiply, screen) rgb;
        turn_gains: per part, how much of the head/body turn that part follows (1: as rigged);
        supersample: draw at that many times the size and shrink by area averaging, as art
        drawn large and scaled down looks (textures filtered, edges smooth), unlike the
        renderer's own pixels at the size.
        """
        f = framing or self.framing
        big = size * supersample
        k = big / CANVAS
        img = self._draw(pose or {}, params or {}, part_colors or {}, f.scale * k, f.tx * k, f.ty * k, big,
                         turn_gains)
        return img if supersample == 1 else shrink(img, size)

    def render_with_meshes(self, pose: Mapping[str, float] | None = None, *,
                           params: Mapping[str, float] | None = None,
                           part_colors: Mapping[int, tuple[Color, Color]] | None = None,
                           framing: fr.Framing | None = None, turn_gains: Sequence[float] | None = None,
                           ) -> tuple[np.ndarray, list, np.ndarray, tuple[float, float, float, int]]:
        """render() at 512, plus what flow.backward_flow needs: the meshes as drawn, the
        canvas->clip matrix and the framing (scale, tx, ty, size) in pixels."""
        f = framing or self.framing
        self._set(pose or {}, params or {}, part_colors or {}, turn_gains)
        matrix = canvas_matrix(f.scale, f.tx, f.ty, CANVAS)
        img, meshes = self.model.draw_with_meshes(matrix, CANVAS)
        return img, meshes, matrix, (f.scale, f.tx, f.ty, CANVAS)

    def _set(self, pose, params, part_colors, turn_gains) -> None:
        values = dict(params)
        values.update(self.mapping.to_params(pose))
        self.model.set_params(values)
        self.model.set_part_colors(part_colors)
        self.model.set_turn_gains(turn_gains)

    def _draw(self, pose, params, part_colors, scale, tx, ty, size, turn_gains=None) -> np.ndarray:
        self._set(pose, params, part_colors, turn_gains)
        return self.model.draw(canvas_matrix(scale, tx, ty, size), size)

    # -- measured once per model, cached --------------------------------------------------
    def _cache_path(self, what: str) -> Path:
        return cache_dir("live2d", what) / f"{self.name}-{fr.cache_key(self.path)}.json"

    def _active_controls(self) -> set[str]:
        """PoseSpec controls that visibly change the render (some rigs have dead parameters,
        e.g. the dot-eyed figures' PARAM_ANGLE_X); a dead one would teach wrong labels."""
        path = self._cache_path("active")
        try:
            cached = json.loads(path.read_text())
            if isinstance(cached, dict) and cached.get("spec") == self.spec.names:
                return set(cached["active"])
        except (OSError, ValueError):
            pass
        active, rests = [], {}
        for p in self.spec.params:
            if not self.mapping.supports(p.name):
                continue
            base = PROBE_FROM.get(p.name, {})
            key = tuple(sorted(base.items()))
            if key not in rests:
                rests[key] = self.render(base).astype(np.int16)
            rest = rests[key]
            ends = [v for v in (p.lo, p.hi) if v != p.default]
            n = max(int((np.abs(self.render({**base, p.name: v}).astype(np.int16) - rest).max(axis=-1)
                         > ACTIVE_DIFF).sum()) for v in ends)
            if n >= ACTIVE_PIXELS:
                active.append(p.name)
        # L/R pairs go together: a brow under the hair still moves with its partner.
        for p in self.spec.params:
            if p.pair and p.pair in active and p.name not in active and self.mapping.supports(p.name):
                active.append(p.name)
        path.write_text(json.dumps({"spec": self.spec.names, "active": active}))
        return set(active)

    def _auto_framing(self) -> fr.Framing:
        path = self._cache_path("framing")
        cached = fr.load_cached(path)
        if cached is not None:
            return cached
        eyes, mouth, head = fr.measure(lambda pose, s, tx, ty: self._draw(pose, {}, {}, s, tx, ty, CANVAS),
                                       self.model.canvas)
        framing = fr.framing_from_landmarks(eyes, mouth, head, name=str(self.path))
        fr.save_cached(path, framing)
        return framing


__all__ = ["Live2DCharacter", "ModelError"]
