"""Loading a Cubism 2 model with live2d-py's pure-Python runtime and drawing it explicitly.

The runtime's Update() (auto-blink, breathing, physics, motions) is never called: every
parameter is set explicitly from the model's own defaults, then the model's pose file picks
the visible part variants, so a render depends on the parameters alone.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np

from engines.datagen.live2d.gl import context


class ModelError(RuntimeError):
    pass


# Head and body turn parameters (rest value 0) whose effect can be scaled per part.
TURN_PARAMS = ("PARAM_ANGLE_X", "PARAM_ANGLE_Y", "PARAM_ANGLE_Z", "PARAM_BODY_ANGLE_X", "PARAM_BODY_X")


class _ScaledTurns:
    """A model context whose turn parameters read as value x gain (for one pivot manager)."""

    def __init__(self, mc, gains: dict[int, float]) -> None:
        self._mc = mc
        self._gains = gains

    def getParamFloat(self, index):
        value = self._mc.getParamFloat(index)
        gain = self._gains.get(index)
        if gain is None:
            return value
        # Within the parameter's range: past its last keyform a mesh is not drawn at all.
        return min(max(value * gain, self._mc.getParamMin(index)), self._mc.getParamMax(index))

    def __getattr__(self, name):
        return getattr(self._mc, name)


def _install_turn_gains() -> None:
    """Let each pivot manager carry its own turn gains (`_omokage_gains`, param index -> gain).

    A Live2D rig is a tree of deformers and meshes, each interpolating between keyforms at
    pivot values of the parameters; scaling what one part's pivots see makes that part (hair,
    face, eyes, hat) turn more or less than the rest, which is how rigs differ from each other.
    """
    from live2d.v2.core.param.pivot_manager import PivotManager

    if getattr(PivotManager, "_omokage_gains_installed", False):
        return
    original = PivotManager.calcPivotValues

    def calc_pivot_values(self, model_context, ret):
        gains = getattr(self, "_omokage_gains", None)
        return original(self, _ScaledTurns(model_context, gains) if gains else model_context, ret)

    PivotManager.calcPivotValues = calc_pivot_values
    PivotManager._omokage_gains_installed = True


def _import_v2():
    # live2d-py prints a banner on import and a deprecation notice per process: keep stdout clean.
    with contextlib.redirect_stdout(io.StringIO()):
        import live2d.v2 as l2d
    return l2d


@dataclass(frozen=True)
class ParamInfo:
    id: str
    lo: float
    hi: float
    default: float


def _bleed_transparent(rgba: np.ndarray) -> np.ndarray:
    """Give fully transparent texels the colour of their nearest opaque texel.

    Linear filtering mixes neighbouring texels; with black transparent texels that shows as
    dark seams along part edges.
    """
    alpha = rgba[..., 3]
    empty = alpha == 0
    if not empty.any() or empty.all():
        return rgba
    _, labels = cv2.distanceTransformWithLabels(
        empty.astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    # labels number the zero pixels (the opaque texels) in scan order.
    ys, xs = np.nonzero(~empty)
    lut = np.zeros((labels.max() + 1, 3), np.uint8)
    lut[labels[ys, xs]] = rgba[ys, xs, :3]
    out = rgba.copy()
    out[empty, :3] = lut[labels[empty]]
    return out


def _motion_track(path: Path, param: str) -> list[float] | None:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    m = re.search(rf"^{re.escape(param)}=([^\n]*)$", text, flags=re.M)
    if not m:
        return None
    try:
        return [float(v) for v in m.group(1).split(",") if v.strip()]
    except ValueError:
        return None


class LoadedModel:
    """A Cubism 2 model loaded into the process's GL context."""

    def __init__(self, model_json: str | Path) -> None:
        self.path = Path(model_json).resolve()
        if not self.path.is_file():
            raise ModelError(f"{self.path}: no such model file; pass the path of a Cubism 2 .model.json")
        try:
            self.setting = json.loads(self.path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as e:
            raise ModelError(f"{self.path}: not a readable model JSON ({e})") from None
        moc = self.setting.get("model", "")
        if not str(moc).endswith(".moc"):
            raise ModelError(
                f"{self.path}: model file {moc!r} is not a Cubism 2 .moc; only Cubism 2 models are supported"
            )
        if not (self.path.parent / moc).is_file():
            raise ModelError(f"{self.path}: model file {moc} is missing; re-fetch the model")
        for tex in self.setting.get("textures", []):
            if not (self.path.parent / tex).is_file():
                raise ModelError(f"{self.path}: texture {tex} is missing; re-fetch the model")
        self.ctx = context()
        l2d = _import_v2()
        l2d.Model._deprecated_warned = True
        l2d.init()
        _install_turn_gains()
        model = _build_model_class(l2d)()
        try:
            model.LoadModelJson(str(self.path))
        except Exception as e:  # the runtime raises bare errors on broken files
            raise ModelError(f"{self.path}: the Live2D runtime could not load it: {type(e).__name__}: {e}") from e
        self.ctx.begin()  # loading binds framebuffer 0
        self.model = model
        self.core = model.live2DModel
        mc = self.core.getModelContext()
        self.mc = mc
        self.canvas = (self.core.getCanvasWidth(), self.core.getCanvasHeight())
        self.param_ids = [str(p) for p in mc.paramIdList]
        self.params = {}
        defaults = list(mc.savedParamValues)
        for i, pid in enumerate(self.param_ids):
            self.params[pid] = ParamInfo(pid, float(mc.paramMinValues[i]), float(mc.paramMaxValues[i]), float(defaults[i]))
        self.defaults = np.array(defaults, dtype=np.float64)
        self.part_ids = model.GetPartIds()
        self._base_opacity = [mc.getPartsOpacity(i) for i in range(len(self.part_ids))]
        self._colored: set[int] = set()
        self._turn_indices = [mc.getParamIndex(p) for p in TURN_PARAMS if p in self.params]
        self._turn_pivots = self._pivots_by_part()
        self._gained = False

    def _pivots_by_part(self) -> list[list]:
        """Per part: the pivot managers of its deformers and meshes that key a turn parameter."""
        turn_index = set(self._turn_indices)
        out = []
        for part in self.core.getModelImpl().getPartsDataList():
            managers = [getattr(d, "pivotManager", None) or getattr(d, "pivotMgr", None)
                        for d in list(part.getDeformer() or []) + list(part.getDrawData() or [])]
            out.append([m for m in managers if m is not None
                        and any(self.mc.getParamIndex(pp.getParamID()) in turn_index for pp in m.paramPivotTable)])
        return out

    @property
    def part_count(self) -> int:
        return len(self._turn_pivots)

    def set_turn_gains(self, gains: Sequence[float] | None) -> None:
        """One gain per part (in part order) on the turn parameters; None: the rig as drawn."""
        if gains is not None and len(gains) != len(self._turn_pivots):
            raise ModelError(f"{self.path.name}: {len(gains)} turn gains for {len(self._turn_pivots)} parts")
        if gains is None and not self._gained:
            return
        for i, managers in enumerate(self._turn_pivots):
            g = None if gains is None or gains[i] == 1.0 else {idx: float(gains[i]) for idx in self._turn_indices}
            for m in managers:
                m._omokage_gains = g
        self._gained = gains is not None
        self.mc.needSetup = True  # deformers cache their result until a parameter changes

    # -- model facts -------------------------------------------------------------------
    def idle_mode(self, param: str) -> float | None:
        """The most common value of `param` in the idle motion (eyes are open most of the time)."""
        idle = (self.setting.get("motions") or {}).get("idle") or []
        for entry in idle:
            track = _motion_track(self.path.parent / entry.get("file", ""), param)
            if track:
                vals, counts = np.unique(np.round(track, 3), return_counts=True)
                return float(vals[int(np.argmax(counts))])
        return None

    # -- drawing -----------------------------------------------------------------------
    def set_params(self, values: Mapping[str, float]) -> None:
        """Reset every parameter to its default, then set `values` (clipped by the runtime)."""
        mc = self.mc
        for i, v in enumerate(self.defaults):
            mc.paramValues[i] = v
        for pid, v in values.items():
            if pid not in self.params:
                raise ModelError(f"{self.path.name}: no parameter {pid!r}")
            self.core.setParamFloat(pid, float(v))
        for i, op in enumerate(self._base_opacity):
            mc.setPartsOpacity(i, op)
        pose = self.model.pose
        if pose is not None:
            # One part variant per group (the first whose switch is on), at once, without the
            # runtime's timed fade; shizuku's defaults switch on both arm variants.
            pose.initParam(self.core)
            core = self.core
            for group in pose.partsGroups:
                usable = [pp for pp in group if pp.partsIndex >= 0]
                on = [pp for pp in usable if core.getParamFloat(pp.paramIndex) != 0]
                chosen = (on or usable or [None])[0]
                for pp in usable:
                    core.setPartsOpacity(pp.partsIndex, 1.0 if pp is chosen else 0.0)
                pose.copyOpacityOtherParts(core, group)

    def set_part_colors(self, colors: Mapping[int, tuple[tuple[float, float, float], tuple[float, float, float]]]) -> None:
        """Per part index: (multiply rgb, screen rgb). Parts not given are reset to neutral."""
        mc = self.mc
        for i in self._colored - set(colors):
            mc.setPartMultiplyColor(i, 1.0, 1.0, 1.0, 1.0)
            mc.setPartScreenColor(i, 0.0, 0.0, 0.0, 1.0)
        for i, (mul, scr) in colors.items():
            mc.setPartMultiplyColor(i, *mul, 1.0)
            mc.setPartScreenColor(i, *scr, 1.0)
        self._colored = set(colors)

    def draw(self, matrix: np.ndarray, size: int) -> np.ndarray:
        """Render with a 4x4 column-major canvas->clip matrix into a size x size RGBA image."""
        ctx = context(size)
        self.core.update()
        self.core.setMatrix([float(v) for v in matrix])
        ctx.begin()
        self.core.draw()
        err = ctx.gl.glGetError()
        if err:
            raise ModelError(f"{self.path.name}: OpenGL error {err} while drawing")
        return ctx.read_rgba()

    def draw_with_meshes(self, matrix: np.ndarray, size: int) -> tuple[np.ndarray, list]:
        """draw(), plus the meshes as drawn (engines.datagen.live2d.flow.MeshDraw list)."""
        from engines.datagen.live2d.flow import capture_meshes

        with capture_meshes(self.core.drawParamGL) as meshes:
            img = self.draw(matrix, size)
        return img, meshes


def canvas_matrix(scale: float, tx: float, ty: float, size: int) -> np.ndarray:
    """Canvas units (y down) -> pixel (scale*u + tx, scale*v + ty) of a size x size image."""
    h = size / 2.0
    m = np.eye(4)
    m[0, 0] = scale / h
    m[1, 1] = -scale / h
    m[0, 3] = tx / h - 1.0
    m[1, 3] = 1.0 - ty / h
    return m.T.reshape(-1)  # column-major for glUniformMatrix4fv(transpose=False)


_MODEL_CLASS = None
_REPORTED: set[str] = set()


def _build_model_class(l2d):
    """The runtime's Model with two fixes: seam-free textures and tolerance of missing expressions."""
    global _MODEL_CLASS
    if _MODEL_CLASS is not None:
        return _MODEL_CLASS

    class _Model(l2d.Model):
        def _uploadTexture(self, no, path):
            from PIL import Image

            img = np.asarray(Image.open(path).convert("RGBA"))
            img = np.ascontiguousarray(_bleed_transparent(img))
            self.live2DModel.setTextureData(no, img.shape[1], img.shape[0], img.tobytes())

        def loadExpression(self, name, path):
            # Some packages list expression files they do not ship (tsumiki's f01.exp.json).
            if not Path(path).is_file():
                folder = str(Path(path).parent)
                if folder not in _REPORTED:
                    _REPORTED.add(folder)
                    print(f"live2d: expression files missing under {folder}; expressions skipped "
                          "(they are not used: every parameter is set explicitly)", file=sys.stderr)
                return None
            return super().loadExpression(name, path)

    _MODEL_CLASS = _Model
    return _Model
