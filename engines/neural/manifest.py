"""The weights manifest (manifest.json beside the ONNX files), checked before any frame.

Everything the runtime will rely on later is checked when the engine loads: the manifest's
structure, a sane PoseSpec, all four networks listed with a checksum, and each ONNX file's
input and output names and shapes against what render() feeds and reads. A bad manifest or
a wrong network then fails at load time with one "engine weights file ... is damaged"
message that names the file and says what to do, never with a traceback in the middle of a render.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from engines.base import EngineError
from engines.posespec import PoseParam, PoseSpec
from engines.resources import restore_hint

NETWORKS = ("morpher_encoder", "morpher_decoder", "rotator_encoder", "rotator_decoder")
IMAGE = (1, 4, 128, 128)  # every network's image input: a 128x128 premultiplied RGBA crop
ROTATOR_OUTPUTS = {"flow": 2, "color": 4, "mask": 1}  # read by position: order matters
# The morpher decoder's maps (blend mask, colour change, warp), also read by position;
# a morpher decoder that does its own warp gives the morphed crop as one output instead.
MORPHER_OUTPUTS = {"alpha": 1, "color": 4, "flow": 2}
MAX_MANIFEST_BYTES = 4 << 20  # the real one is ~11 KB; anything huge is not a manifest
STAGES = ("morph", "rotate")
# Pose ranges are degrees or 0..1 amounts; the runtime normalises them in float32, where
# absurd ranges overflow into NaN poses.
MAX_RANGE = 1000.0
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")  # hex digits in either case, as sha256sum tools print them


def damaged(path: Path, what: str, weights: Path | None = None) -> EngineError:
    """The one message for any fault in the weights: which file, what is wrong, what to do."""
    hint = restore_hint(weights if weights is not None else Path(path).parent)
    return EngineError(f"engine weights file {path} is damaged: {what}; {hint}")


def read_manifest(weights: Path) -> tuple[dict, PoseSpec, dict[str, Path]]:
    """(manifest, pose spec, network name -> ONNX path) or EngineError naming the file."""
    mpath = Path(weights) / "manifest.json"
    if mpath.is_dir():
        raise damaged(mpath, "it is a folder, not the manifest file")
    if not mpath.is_file():
        raise EngineError(f"engine weights not found: {mpath} is missing; {restore_hint(weights)}")
    if mpath.stat().st_size > MAX_MANIFEST_BYTES:
        raise damaged(mpath, f"{mpath.stat().st_size >> 20} MB is far too large for a manifest")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))  # NaN is named by its field below
    except RecursionError:
        raise damaged(mpath, "nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise damaged(mpath, f"not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise damaged(mpath, f"expected a JSON object, found {type(manifest).__name__}")
    try:
        spec = check_pose_spec(manifest.get("pose_spec"))
        files = check_files(manifest.get("files"), Path(weights))
        check_turn_scale(manifest.get("turn_scale", {}), spec)
        if not isinstance(manifest.get("mirror_distilled", False), bool):
            raise ValueError("mirror_distilled must be true or false")
    except ValueError as exc:
        raise damaged(mpath, str(exc)) from None
    return manifest, spec, files


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a number, found {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{where} is {value!r}, not a finite number")
    return float(value)


def check_pose_spec(items: Any) -> PoseSpec:
    """A PoseSpec whose every range, default, pair and sign the runtime can use."""
    if not isinstance(items, list) or not items:
        raise ValueError("pose_spec must be a non-empty list of parameters")
    fields = set(PoseParam.__dataclass_fields__)
    params = []
    for i, d in enumerate(items):
        if not isinstance(d, dict):
            raise ValueError(f"pose_spec[{i}] must be an object")
        name = d.get("name")
        where = f"pose_spec[{i}] ({name})" if isinstance(name, str) else f"pose_spec[{i}]"
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{where}: name must be an identifier, found {name!r}")
        unknown = set(d) - fields
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        missing = {"name", "group", "lo", "hi", "default"} - set(d)
        if missing:
            raise ValueError(f"{where}: missing {sorted(missing)}")
        lo, hi = _number(d["lo"], f"{where}.lo"), _number(d["hi"], f"{where}.hi")
        default = _number(d["default"], f"{where}.default")
        if not lo < hi:
            raise ValueError(f"{where}: lo {lo:g} must be below hi {hi:g}")
        if max(abs(lo), abs(hi)) > MAX_RANGE:
            raise ValueError(f"{where}: the range {lo:g}..{hi:g} must lie within "
                             f"-{MAX_RANGE:g}..{MAX_RANGE:g} (degrees or amounts)")
        if not lo <= default <= hi:
            raise ValueError(f"{where}: default {default:g} is outside {lo:g}..{hi:g}")
        sign = _number(d.get("mirror_sign", 1.0), f"{where}.mirror_sign")
        if sign not in (1.0, -1.0):
            raise ValueError(f"{where}: mirror_sign must be 1 or -1, found {sign:g}")
        if d.get("stage", "morph") not in STAGES:
            raise ValueError(f"{where}: stage must be one of {STAGES}, found {d.get('stage')!r}")
        for key in ("group", "unit"):
            if not isinstance(d.get(key, ""), str):
                raise ValueError(f"{where}: {key} must be text")
        if not isinstance(d.get("centred", False), bool):
            raise ValueError(f"{where}: centred must be true or false")
        params.append(PoseParam(**{**d, "lo": lo, "hi": hi, "default": default,
                                   "mirror_sign": sign}))
    names = [p.name for p in params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"pose_spec names {dupes} appear more than once")
    by_name = {p.name: p for p in params}
    for p in params:
        if p.pair is None:
            continue
        partner = by_name.get(p.pair) if isinstance(p.pair, str) else None
        if partner is None or partner is p or partner.pair != p.name:
            raise ValueError(f"pose_spec ({p.name}): pair {p.pair!r} must name another "
                             "parameter that names it back")
    for stage in STAGES:
        if not any(p.stage == stage for p in params):
            raise ValueError(f"pose_spec has no {stage!r} parameter; both networks need a pose")
    return PoseSpec(tuple(params))


def check_files(files: Any, weights: Path) -> dict[str, Path]:
    """Every network listed once, as a file inside the weights folder with a sha256."""
    if not isinstance(files, dict):
        kind = "a list" if isinstance(files, list) else repr(files) if files is None else \
            type(files).__name__
        raise ValueError(f"files must be an object naming each network, found {kind}")
    missing = [n for n in NETWORKS if n not in files]
    if missing:
        raise ValueError(f"files lacks the network(s) {', '.join(missing)}")
    out = {}
    for name in NETWORKS:
        info = files[name]
        if not isinstance(info, dict):
            raise ValueError(f"files.{name} must be an object with path and sha256")
        rel = info.get("path")
        if (not isinstance(rel, str) or not Path(rel).parts or Path(rel).is_absolute()
                or ".." in Path(rel).parts):
            raise ValueError(f"files.{name}.path must be a file name inside the weights "
                             f"folder, found {rel!r}")
        sha = info.get("sha256")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise ValueError(f"files.{name} has no valid sha256 (64 hex digits), found {sha!r}")
        out[name] = weights / rel
    paths = [p.resolve() for p in out.values()]
    if len(set(paths)) != len(paths):
        raise ValueError("files lists the same ONNX file for two networks")
    return out


def check_turn_scale(factors: Any, spec: PoseSpec) -> None:
    if not isinstance(factors, dict):
        raise ValueError("turn_scale must be an object of parameter: factor")
    for name, f in factors.items():
        if name not in spec.names:
            raise ValueError(f"turn_scale {name}: not a pose parameter")
        if not 0.0 < _number(f, f"turn_scale {name}") <= 2.0:
            raise ValueError(f"turn_scale {name}={f} is outside 0..2")


# ---- ONNX signatures -------------------------------------------------------------------
def _shape(arg) -> tuple:
    # A dimension may be symbolic (a name) or unknown (None): it matches anything.
    return tuple(d if isinstance(d, int) else None for d in (arg.shape or ()))


def _same(shape: tuple, want: Sequence[int | None]) -> bool:
    return len(shape) == len(want) and all(a is None or b is None or a == b
                                           for a, b in zip(shape, want))


def _fmt(args) -> str:
    return ", ".join(f"{a.name} {list(_shape(a))}" for a in args)


def check_sessions(sessions: Mapping[str, Any], spec: PoseSpec, paths: Mapping[str, Path]) -> None:
    """Each network's inputs and outputs as render() uses them; EngineError naming the
    ONNX file otherwise (e.g. two files swapped, or weights exported for another spec)."""
    widths = {s: len(spec.stage_names(s)) for s in STAGES}
    for enc, dec, stage in (("morpher_encoder", "morpher_decoder", "morph"),
                            ("rotator_encoder", "rotator_decoder", "rotate")):
        e, d = sessions[enc], sessions[dec]
        ins, outs = e.get_inputs(), e.get_outputs()
        feats = [o.name for o in outs]
        if ([i.name for i in ins] != ["image"] or not _same(_shape(ins[0]), IMAGE)
                or not feats or feats != [f"f{i + 1}" for i in range(len(feats))]):
            raise _wrong(paths[enc], enc, f"image {list(IMAGE)} -> f1..fN", ins, outs)
        want = {"image": IMAGE, "pose": (1, widths[stage]),
                **{o.name: _shape(o) for o in outs}}
        got = {i.name: _shape(i) for i in d.get_inputs()}
        if set(got) != set(want) or not all(_same(got[k], want[k]) for k in want):
            raise _wrong(paths[dec], dec,
                         f"image, pose [1, {widths[stage]}] and {enc}'s features",
                         d.get_inputs(), d.get_outputs())
        douts = d.get_outputs()
        if stage == "morph":
            ok = (len(douts) == 1 and _same(_shape(douts[0]), IMAGE)) or _maps_ok(douts, MORPHER_OUTPUTS, (128, 128))
            expect = "outputs alpha [1, 1, 128, 128], color [1, 4, 128, 128], flow [1, 2, 128, 128]"
        else:
            ok = _maps_ok(douts, ROTATOR_OUTPUTS)
            expect = "outputs flow [1, 2, h, w], color [1, 4, h, w], mask [1, 1, h, w]"
        if not ok:
            raise _wrong(paths[dec], dec, expect, d.get_inputs(), douts)


def _maps_ok(outs, want: Mapping[str, int], size: tuple[int, int] | None = None) -> bool:
    """Outputs named and ordered as `want`, each (1, channels, h, w) (h, w = size if given)."""
    return [o.name for o in outs] == list(want) and all(
        len(_shape(o)) == 4 and _same(_shape(o), (1, want[o.name], *(size or _shape(o)[2:])))
        for o in outs)


def _wrong(path: Path, network: str, expect: str, ins, outs) -> EngineError:
    return damaged(path, f"this is not the {network} the runtime expects ({expect}); "
                         f"it takes {_fmt(ins)} and gives {_fmt(outs)} (swapped or foreign "
                         "ONNX file?)")
