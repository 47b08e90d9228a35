"""The neural engine at run time: onnxruntime only (no torch).

prepare() runs both encoders once per character and caches everything that does not depend
on the pose; render() runs the two small decoders and applies the rotator's 128x128 grid,
colour and mask to the 512x512 image with OpenCV.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import cv2
import numpy as np

from engines.base import EngineError
from engines.convention import CANVAS, MORPH_BOX
from engines.neural.compose import premultiply, stage_vectors
from engines.neural.manifest import MORPHER_OUTPUTS, check_sessions, damaged, read_manifest
from engines.neural.pose_tables import PoseTables, TableSpec, bake
from engines.posespec import PoseSpec, change_steps
from engines.resources import restore_hint, weights_dir as shipped_weights_dir

# The installed package's weights, or the repository's weights/ in a source checkout.
WEIGHTS_DIR = shipped_weights_dir()
# int8 decoders (python -m engines.neural.quantize) when they exist and were made from the
# float networks in the manifest; see engines/neural/quantize.py and the README's figures.
DEFAULT_INT8 = False
PREFERRED_PROVIDERS = (
    "CUDAExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
    "CPUExecutionProvider",
)


@dataclass
class PreparedCharacter:
    rest: np.ndarray  # 512x512x4 uint8 premultiplied (uint8 keeps the 512 work at ~5 ms)
    rest_u8: np.ndarray  # the original straight-alpha image
    crop: np.ndarray  # (1,4,128,128) morpher input
    crop_hwc: np.ndarray  # the same crop (128,128,4), which the morpher's maps warp and blend
    morph_feats: list[np.ndarray]
    small: np.ndarray  # (1,4,128,128) rotator input (whole image at 1/4)
    rot_feats: list[np.ndarray]
    # The rotator's input flipped left-right, for the mirror ensemble.
    small_m: np.ndarray
    rot_feats_m: list[np.ndarray]
    # Drawn by the procedural generator (the creator, an avatar, the default character):
    # posed in the engine's own unit, without the turn_scale meant for others' art.
    generated: bool = False
    _last: tuple[bytes, np.ndarray] | None = field(default=None, repr=False)
    # With stage reuse: the last morpher inputs and the 512 premultiplied image they gave,
    # and the last rotator inputs (with the ensemble setting) and the maps they gave.
    _morphed: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _maps: tuple[np.ndarray, bool, list[np.ndarray]] | None = field(default=None, repr=False)
    # The rotator's and the morpher's maps baked over their parameters when the engine's
    # pose_tables is set (pose_tables.py): a frame looks them up instead of running decoders.
    rotate_tables: PoseTables | None = field(default=None, repr=False)
    morph_tables: PoseTables | None = field(default=None, repr=False)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(weights_dir: Path, manifest: dict) -> None:
    """Replace weights_dir/manifest.json atomically: a reader sees the old or the new one."""
    path = Path(weights_dir) / "manifest.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, path)


def choose_providers(requested: Sequence[str] | None = None) -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise EngineError(f"onnxruntime provider(s) {missing} not available here; available: {available}")
        return list(requested)
    return [p for p in PREFERRED_PROVIDERS if p in available] or ["CPUExecutionProvider"]


def _nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


class NeuralEngine:
    name = "neural"

    def __init__(self, weights_dir: Path, manifest: dict, sessions: dict, providers: list[str], threads: int,
                 mirror_ensemble: bool = True) -> None:
        self.weights_dir = weights_dir
        self.manifest = manifest
        self.pose_spec = PoseSpec.from_json(manifest["pose_spec"])
        self._s = sessions
        self.providers = providers
        self.threads = threads
        self.timings_ms: dict[str, float] = {}
        self.turn_scale = manifest.get("turn_scale", {})
        # The rest pose's network inputs: a stage whose inputs equal these is skipped.
        self._rest_morph, self._rest_rotate = stage_vectors(self.pose_spec, self.pose_spec.to_vector({})[None])
        # Mirror ensemble: the rotator also runs on the flipped character in the mirrored
        # pose, and its flipped-back maps are averaged with the direct ones. The two passes
        # err differently on an unseen character, so the average is closer to the truth, for
        # one more decoder run. The morpher runs once: a flipped pass would meet faces lit
        # from the other side, unlike its training data, and put ghost irises on them.
        self.mirror_ensemble = mirror_ensemble
        # A rotator decoder distilled from the ensemble (engines/neural/distill.py) gives the
        # averaged maps in its one pass: there is no second pass to run or to drop.
        self.mirror_distilled = bool(manifest.get("mirror_distilled", False))
        self.precision: dict[str, str] = {k: "float" for k in self._s}  # load() says which run int8
        # The morpher decoder gives its maps (the runtime warps and blends them), or, if it
        # does its own warp, the morphed crop (manifest.check_sessions accepts both).
        self._morph_maps = len(sessions["morpher_decoder"].get_outputs()) == len(MORPHER_OUTPUTS)
        # Stage reuse (off: every render is exact, as eval and the engine benchmark need).
        # On, a stage whose inputs moved less than posespec.change_steps since it last ran
        # keeps its result: a still head while the eyes move skips the rotator, and iris noise
        # or a breath runs a stage again only once it has moved about an eighth of a pixel.
        # The app turns it on for live and recorded rendering (app.engine.load_engine).
        self.stage_reuse = False
        # Pose tables (on by default): prepare() bakes the decoders' maps over their
        # parameters once and render() interpolates them (pose_tables.py), so a frame runs no
        # network. None: every frame runs the decoders (the rotator's with its mirror pass).
        self.pose_tables: TableSpec | None = TableSpec()
        self.reuse_counts = {"morpher": 0, "rotator": 0}
        stages = np.array([p.stage for p in self.pose_spec.params])
        steps = 2.0 * change_steps(self.pose_spec)  # in the networks' -1..1 inputs
        self._step_morph, self._step_rotate = steps[stages == "morph"], steps[stages == "rotate"]

    @property
    def turn_scale(self) -> dict[str, float]:
        """How far to turn the head of art the engine has never seen, per turn
        (turn_calibration.py); generated characters are not scaled."""
        return dict(self._turn_scale)

    @turn_scale.setter
    def turn_scale(self, factors: Mapping[str, float]) -> None:
        self._turn_scale = dict(factors)
        # Per-parameter gains on the pose vector, so render() multiplies once.
        self._pose_gain = np.array([float(factors.get(n, 1.0)) for n in self.pose_spec.names], np.float32)

    def _gain(self, prepared: PreparedCharacter) -> np.ndarray | float:
        # The generator's characters were in training, relabelled into the engine's unit; the
        # factors are chosen for art the engine has never seen.
        return 1.0 if prepared.generated else self._pose_gain

    @classmethod
    def load(
        cls,
        weights_dir: str | Path | None = None,
        providers: Sequence[str] | None = None,
        threads: int | None = None,
        mirror_ensemble: bool = True,
        int8: bool | None = None,
    ) -> "NeuralEngine":
        """Load and verify the shipped weights. Raises EngineError naming the bad file.

        mirror_ensemble: average the rotator with its mirrored pass (better on unseen
        characters, one more decoder run per frame); False for the fastest render.
        int8: run the decoders' int8 copies where they are current (None: DEFAULT_INT8);
        `engine.precision` says what each network runs as, and why when float."""
        import onnxruntime as ort

        wd = Path(weights_dir) if weights_dir else WEIGHTS_DIR
        manifest, spec, paths = read_manifest(wd)  # structure and pose spec, before any file
        precision = {k: "float" for k in paths}
        if DEFAULT_INT8 if int8 is None else int8:
            paths, precision = _int8_paths(wd, manifest, paths)
        chosen = choose_providers(providers)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or 0
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sessions = {}
        for key, path in paths.items():
            if path.is_dir():
                raise damaged(path, "it is a folder, not an ONNX file", wd)
            if not path.is_file():
                raise EngineError(f"engine weights file {path} is missing; {restore_hint(wd)}")
            if precision[key] != "int8" and sha256_file(path) != manifest["files"][key]["sha256"].lower():
                raise damaged(path, "checksum mismatch (changed since it was exported)", wd)
            try:
                sessions[key] = ort.InferenceSession(str(path), sess_options=opts, providers=chosen)
            except Exception as e:  # onnxruntime raises its own exception types
                raise damaged(path, f"onnxruntime cannot load it ({e})", wd) from None
        check_sessions(sessions, spec, paths)  # names and shapes as render() uses them
        engine = cls(wd, manifest, sessions, chosen, threads or 0, mirror_ensemble)
        engine.precision = precision
        return engine

    @property
    def int8(self) -> bool:
        """True when at least one decoder runs its int8 copy."""
        return any(v == "int8" for v in self.precision.values())

    def prepare(self, character_rgba: np.ndarray, generated: bool = False) -> PreparedCharacter:
        img = np.asarray(character_rgba)
        if img.shape != (CANVAS, CANVAS, 4) or img.dtype != np.uint8:
            raise EngineError(
                f"character image must be {CANVAS}x{CANVAS} RGBA uint8 (got shape {img.shape}, {img.dtype}); "
                "prepare it to the input convention first"
            )
        rest = premultiply(img)
        rest8 = (rest * 255.0 + 0.5).astype(np.uint8)
        x0, y0, x1, y1 = MORPH_BOX
        crop_hwc = np.ascontiguousarray(rest[y0:y1, x0:x1])
        crop = _nchw(crop_hwc)
        small = _nchw(cv2.resize(rest, (128, 128), interpolation=cv2.INTER_AREA))
        small_m = _flip(small)
        mf = self._s["morpher_encoder"].run(None, {"image": crop})
        rf = self._s["rotator_encoder"].run(None, {"image": small})
        rf_m = self._s["rotator_encoder"].run(None, {"image": small_m})
        prepared = PreparedCharacter(rest8, img.copy(), crop, crop_hwc, mf, small, rf, small_m, rf_m, generated)
        if self.pose_tables is not None:
            self._bake(prepared, ("rotate", "morph"))
        return prepared

    def _bake(self, prepared: PreparedCharacter, stages: tuple[str, ...]) -> None:
        where = self.pose_tables
        gain = np.broadcast_to(np.asarray(self._gain(prepared), np.float32), (len(self.pose_spec.names),))
        # The same weights, picture and settings always bake the same tables: the last
        # character's are kept (_TABLES_LAST), so loading it again (a re-opened picture, a
        # settings change that prepares it anew) costs no bake.
        same = (tuple(f["sha256"] for f in self.manifest["files"].values()), tuple(sorted(self.precision.items())),
                hashlib.sha256(prepared.rest_u8.tobytes()).hexdigest(), where)
        stage_of = np.array([p.stage for p in self.pose_spec.params])
        if "rotate" in stages and "rotate" in where.stages:
            def rotate(scaled: np.ndarray) -> list[np.ndarray]:
                return self._rotation_maps(prepared, scaled, stage_vectors(self.pose_spec, scaled)[1])

            key = ("rotate", self._ensemble, gain[stage_of == "rotate"].tobytes(), *same)
            prepared.rotate_tables = _kept(key, lambda: bake(self.pose_spec, rotate, gain, "rotate",
                                                             where.rotate_pairs, where, self._ensemble))
        if "morph" in stages and "morph" in where.stages and self._morph_maps:
            def morph(scaled: np.ndarray) -> list[np.ndarray]:
                return [o[0] for o in self._morph(prepared, stage_vectors(self.pose_spec, scaled)[0])]

            key = ("morph", gain[stage_of == "morph"].tobytes(), *same)
            prepared.morph_tables = _kept(key, lambda: bake(self.pose_spec, morph, gain, "morph", where.morph_pairs,
                                                            where))

    def _tables(self, prepared: PreparedCharacter) -> PoseTables | None:
        """The character's rotator tables for the engine's current settings, or None when the
        engine runs its rotator decoder. Tables baked with the other mirror setting are baked
        again (a setting the user changes, once)."""
        if self.pose_tables is None or "rotate" not in self.pose_tables.stages:
            return None
        if prepared.rotate_tables is None or prepared.rotate_tables.mirror_ensemble != self._ensemble:
            self._bake(prepared, ("rotate",))
        return prepared.rotate_tables

    def _morph(self, prepared: PreparedCharacter, pm: np.ndarray) -> list[np.ndarray]:
        feeds = {"image": prepared.crop, "pose": pm, **{f"f{i+1}": f for i, f in enumerate(prepared.morph_feats)}}
        return self._s["morpher_decoder"].run(None, feeds)

    @property
    def _ensemble(self) -> bool:
        """Whether the rotator's maps are the average of a direct and a mirrored pass."""
        return self.mirror_ensemble and not self.mirror_distilled

    def _rotate(self, image: np.ndarray, feats: list[np.ndarray], pr: np.ndarray) -> list[np.ndarray]:
        feeds = {"image": image, "pose": pr, **{f"f{i+1}": f for i, f in enumerate(feats)}}
        return [o[0] for o in self._s["rotator_decoder"].run(None, feeds)]

    def _rotation_maps(self, prepared: PreparedCharacter, scaled: np.ndarray, pr: np.ndarray) -> list[np.ndarray]:
        flow, color, mask = self._rotate(prepared.small, prepared.rot_feats, pr)
        if self._ensemble:
            # Average the maps, not two warped images: one warp, so no double edges.
            _, pr_m = stage_vectors(self.pose_spec, self.pose_spec.mirrored_vectors(scaled))
            flow_m, color_m, mask_m = (_flip(m) for m in self._rotate(prepared.small_m, prepared.rot_feats_m, pr_m))
            flow = 0.5 * (flow + flow_m * np.array([-1.0, 1.0], np.float32)[:, None, None])
            color, mask = 0.5 * (color + color_m), 0.5 * (mask + mask_m)
        return [flow, color, mask]

    def rotation_grid(self, prepared: PreparedCharacter, pose: Mapping[str, float]) -> np.ndarray:
        """The rotator's sampling-grid offset for `pose` as render() applies it: (128, 128, 2)
        in grid units (the canvas spans -1..1), for scoring motion against a true flow."""
        scaled = (self.pose_spec.to_vector(pose) * self._gain(prepared))[None]
        tables = self._tables(prepared)
        if tables is not None:
            return tables.maps(scaled[0])[0].transpose(1, 2, 0)
        _, pr = stage_vectors(self.pose_spec, scaled)
        return self._rotation_maps(prepared, scaled, pr)[0].transpose(1, 2, 0)

    def render(self, prepared: PreparedCharacter, pose: Mapping[str, float]) -> np.ndarray:
        vec = self.pose_spec.to_vector(pose)
        scaled = (vec * self._gain(prepared))[None]
        key = scaled.tobytes()  # what the networks see: a new turn_scale is a new frame
        if prepared._last is not None and prepared._last[0] == key:
            self.timings_ms = {"morpher_ms": 0.0, "rotator_ms": 0.0, "cached": 1.0}
            return prepared._last[1]
        pm, pr = stage_vectors(self.pose_spec, scaled)
        t0 = time.perf_counter()
        image = prepared.rest
        if not np.allclose(pm, self._rest_morph):
            if self._reusable(prepared._morphed, pm, self._step_morph):
                image = prepared._morphed[1]
                self.reuse_counts["morpher"] += 1
            else:
                if self.pose_tables is not None and prepared.morph_tables is not None:
                    morphed = apply_morph(prepared.crop_hwc, *prepared.morph_tables.maps(scaled[0]))
                elif self._morph_maps:
                    morphed = apply_morph(prepared.crop_hwc, *(o[0] for o in self._morph(prepared, pm)))
                else:
                    morphed = self._morph(prepared, pm)[0][0].transpose(1, 2, 0)
                image = prepared.rest.copy()
                x0, y0, x1, y1 = MORPH_BOX
                image[y0:y1, x0:x1] = np.clip(morphed * 255.0 + 0.5, 0, 255).astype(np.uint8)
                prepared._morphed = (pm, image)
        t1 = time.perf_counter()
        if not np.allclose(pr, self._rest_rotate):
            ensemble = self._ensemble
            cached = prepared._maps
            tables = self._tables(prepared)
            if cached is not None and cached[1] == ensemble and self._reusable(cached, pr, self._step_rotate):
                maps = cached[2]
                self.reuse_counts["rotator"] += 1
            elif tables is not None:
                maps = tables.maps(scaled[0])
                prepared._maps = (pr, ensemble, maps)
            else:
                maps = self._rotation_maps(prepared, scaled, pr)
                prepared._maps = (pr, ensemble, maps)
            image = apply_rotation(image, *maps)
        t2 = time.perf_counter()
        # The rest pose is the character itself, exactly.
        out = prepared.rest_u8 if image is prepared.rest else unpremultiply_u8(image)
        t3 = time.perf_counter()
        self.timings_ms = {"morpher_ms": (t1 - t0) * 1e3, "rotator_ms": (t2 - t1) * 1e3,
                           "compose_ms": (t3 - t2) * 1e3}
        prepared._last = (key, out)
        return out

    def _reusable(self, cached: tuple | None, inputs: np.ndarray, steps: np.ndarray) -> bool:
        """With stage reuse on: whether a stage last run on cached[0] may stand for `inputs`.
        Compared with the inputs it ran on, not the last frame's, so slow drift still runs it."""
        return (self.stage_reuse and cached is not None
                and bool(np.all(np.abs(inputs - cached[0]) <= steps)))


# The tables of the last character baked, per stage: (key, PoseTables). Tables are read
# only once baked, so characters prepared from the same picture share them.
_TABLES_LAST: dict[str, tuple[tuple, PoseTables]] = {}
_TABLES_LOCK = threading.Lock()


def _kept(key: tuple, make) -> PoseTables:
    with _TABLES_LOCK:
        last = _TABLES_LAST.get(key[0])
        if last is not None and last[0] == key:
            return last[1]
    tables = make()
    with _TABLES_LOCK:
        _TABLES_LAST[key[0]] = (key, tables)
    return tables


def _int8_paths(wd: Path, manifest: dict, paths: dict[str, Path]) -> tuple[dict[str, Path], dict[str, str]]:
    """Swap in the int8 decoders listed in wd/int8.json that were made from the manifest's
    float networks and are intact; the others stay float, with the reason in `precision`."""
    paths, precision = dict(paths), {k: "float" for k in paths}
    try:
        record = json.loads((wd / "int8.json").read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return paths, {k: "float (no int8.json: run python -m engines.neural.quantize)" if k.endswith("decoder")
                       else "float" for k in paths}
    for key in paths:
        entry = record.get(key) if isinstance(record, dict) else None
        if not isinstance(entry, dict):
            continue
        path = wd / Path(str(entry.get("path", ""))).name
        if str(entry.get("source_sha256", "")).lower() != manifest["files"][key]["sha256"].lower():
            precision[key] = "float (int8 copy made from other weights: run python -m engines.neural.quantize)"
        elif not path.is_file() or sha256_file(path) != str(entry.get("sha256", "")).lower():
            precision[key] = f"float ({path.name} missing or changed: run python -m engines.neural.quantize)"
        else:
            paths[key], precision[key] = path, "int8"
    return paths, precision


def _flip(x: np.ndarray) -> np.ndarray:
    """Left-right flip of a channels-first array (the last axis is x)."""
    return np.ascontiguousarray(x[..., ::-1])


_GRID_CACHE: dict[int, np.ndarray] = {}


def _pixel_grid(size: int) -> np.ndarray:
    """(size, size, 2) float32 pixel positions (x, y), cached per size."""
    if size not in _GRID_CACHE:
        base = np.arange(size, dtype=np.float32)
        _GRID_CACHE[size] = np.dstack(np.meshgrid(base, base))
    return _GRID_CACHE[size]


def apply_morph(crop: np.ndarray, alpha: np.ndarray, color: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """The morpher's maps applied to its (h,w,4) float premultiplied crop: (1,h,w) blend
    mask, (4,h,w) colour change, (2,h,w) grid offset. Same maths as model.MorpherDecoder
    (grid_sample, bilinear, border padding, align_corners=False), in float at the crop's size."""
    size = crop.shape[0]
    xy = cv2.scaleAdd(np.ascontiguousarray(flow.transpose(1, 2, 0)), size / 2.0, _pixel_grid(size))
    warped = cv2.remap(crop, xy, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    a = alpha[0]
    return cv2.blendLinear(warped, np.ascontiguousarray(color.transpose(1, 2, 0)), a, 1.0 - a)


def apply_rotation(image: np.ndarray, flow: np.ndarray, color: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Apply (2,h,w) flow, (4,h,w) colour and (1,h,w) mask to a uint8 premultiplied image
    at its own resolution. Same maths as model.apply_rotation (grid_sample with
    align_corners=False and zero padding), in uint8 because at 512x512 float work costs
    ~20 ms and uint8 ~3 ms."""
    size = image.shape[0]
    f = cv2.resize(np.ascontiguousarray(flow.transpose(1, 2, 0)), (size, size), interpolation=cv2.INTER_LINEAR)
    # normalised offset -> pixels: x_pix = ((g + 1) * W - 1) / 2, so d_pix = d_g * W / 2;
    # one (x, y) map, so remap reads one contiguous array.
    xy = cv2.scaleAdd(f, size / 2.0, _pixel_grid(size))
    warped = cv2.remap(image, xy, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    m = cv2.resize(mask[0], (size, size), interpolation=cv2.INTER_LINEAR)
    c8 = np.clip(color.transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    c = cv2.resize(c8, (size, size), interpolation=cv2.INTER_LINEAR)
    return cv2.blendLinear(warped, c, m, 1.0 - m)


def unpremultiply_u8(pm: np.ndarray) -> np.ndarray:
    """uint8 premultiplied -> uint8 straight alpha: rgb * 255 / a, rounded and saturated, 0
    where alpha is 0. OpenCV's own conversion: ~0.3 ms at 512x512, where divide + merge
    took ~3 ms."""
    return cv2.cvtColor(pm, cv2.COLOR_mRGBA2RGBA)
