"""Score the shipped engine against true renders, next to the identity baseline.

    omokage eval --live2d MODEL.model.json [MODEL2 ...] --json OUT.json [--sheet OUT.png]
    omokage eval --live2d-val --json OUT.json          (the validation Live2D characters)
    omokage eval --procedural-val 4 --json OUT.json    (unseen procedural characters)

Each character is rendered by the project's own generator at rest and at a fixed set of
poses per category; the engine animates the rest image, and both it and the rest image
(identity baseline) are scored against the true render. Metrics (RGB over mid grey, so
alpha errors count): PSNR and SSIM over the head region x 128-384, y 0-256, and PSNR over
the changed region (pixels differing between rest and target, dilated 3 px).

Pixels reward a blurred hedge; motion does not. So the engine is also scored on how things
move: dense optical flow (OpenCV DIS, preset MEDIUM) over the head region from the rest image
to the truth and to the engine's output; where the truth moves more than 0.5 px, the relative
motion error is mean |flow_out - flow_truth| / mean |flow_truth| (0 exact, 1 no better than
standing still) and the amplitude ratio sum |flow_out| / sum |flow_truth| (< 1 under-turns).
Where the true correspondence is known (Live2D characters: their meshes say where every
posed pixel was), the rotator's own sampling grid is also scored against it for the turn
categories: grid_error is the same relative error computed on the grid (at 128 over the
head region, where the true flow is visible and moves more than 0.5 canvas px), free of the
optical-flow estimate's own error, and grid_amplitude its amplitude ratio. How far a head
turns at a given angle is each artist's choice (the validation rigs' heads move half as far
in yaw and pitch as four training rigs': `motion_checks shape`), so the shape of the motion is also scored apart from its size:
grid_shape_error is the grid error after scaling the grid by the one factor that fits the
true flow best (least squares, not below 0, grid_scale; 0 exact, 1 no better than
standing still, which is also what a turn the wrong way scores), i.e.
whether the right parts move the right way in the right proportions.
For the face morpher's categories, leak is the share (%) of head-region pixels outside the
truth's changed region (dilated 3 px) that the engine changes by more than 8 of 255 levels,
a change anyone can see: closing an eye must not tint the hair ornament beside it.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Callable, Collection, Mapping

import cv2
import numpy as np

from engines.convention import EVAL_HEAD_REGION
from engines.neural.compose import over_grey
from engines.posespec import EXPRESSIONS

CATEGORIES: dict[str, list[dict[str, float]]] = {
    "eyes": [{"eye_left_open": 0.0, "eye_right_open": 0.0}, {"eye_left_open": 0.0},
             {"eye_right_open": 0.0}, {"eye_left_open": 0.5, "eye_right_open": 0.5}],
    "mouth": [{"mouth_open": 1.0}, {"mouth_open": 0.5}, {"mouth_form": 1.0}, {"mouth_form": -1.0},
              {"mouth_open": 0.6, "mouth_form": 1.0}],
    "brows": [{"brow_left": 1.0, "brow_right": 1.0}, {"brow_left": -1.0, "brow_right": -1.0}],
    "iris": [{"iris_x": 1.0}, {"iris_x": -1.0}, {"iris_y": 1.0}, {"iris_y": -1.0}],
    "head_yaw": [{"head_yaw": 15.0}, {"head_yaw": -15.0}, {"head_yaw": 30.0}, {"head_yaw": -30.0}],
    "head_pitch": [{"head_pitch": 15.0}, {"head_pitch": -15.0}, {"head_pitch": 30.0}, {"head_pitch": -30.0}],
    "head_roll": [{"head_roll": 15.0}, {"head_roll": -15.0}, {"head_roll": 30.0}, {"head_roll": -30.0}],
    "body": [{"body_yaw": 1.0}, {"body_yaw": -1.0}, {"breathing": 1.0}],
    "combo": [
        {"eye_left_open": 0.2, "eye_right_open": 0.2, "mouth_open": 0.7, "head_yaw": 12.0, "head_roll": -8.0},
        {"brow_left": 0.8, "brow_right": 0.8, "mouth_form": 1.0, "head_pitch": 10.0, "iris_x": 0.6},
        {"eye_left_open": 0.0, "mouth_open": 0.4, "head_yaw": -20.0, "body_yaw": -0.5},
        {"mouth_open": 1.0, "head_pitch": -12.0, "head_roll": 12.0, "iris_y": -0.7, "breathing": 0.8},
    ],
}

# The expression parameters, scored apart from the categories above so the headline mean
# stays comparable across releases, and only on the characters `expressive` names: the
# Live2D rigs whose controls show them and the procedural validation characters (the
# generator draws every expression). An engine whose weights do not read a parameter renders
# the pose without it (happy eyes as plain closed eyes), which is what its gain here is then
# worth.
EXPRESSION_CATEGORIES: dict[str, list[dict[str, float]]] = {
    "happy_eyes": [{"eye_left_open": 0.0, "eye_right_open": 0.0, "eye_left_smile": 1.0, "eye_right_smile": 1.0},
                   {"eye_left_open": 0.0, "eye_right_open": 0.0, "eye_left_smile": 0.5, "eye_right_smile": 0.5},
                   {"eye_left_open": 0.3, "eye_right_open": 0.3, "eye_left_smile": 1.0, "eye_right_smile": 1.0}],
    "brow_angle": [{"brow_left_angle": -1.0, "brow_right_angle": -1.0},
                   {"brow_left_angle": 1.0, "brow_right_angle": 1.0}],
}


def _psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    d = (a - b) ** 2
    if mask is not None:
        if mask.sum() == 0:
            return float("nan")
        mse = float(d[mask].mean())
    else:
        mse = float(d.mean())
    return 10.0 * math.log10(1.0 / max(mse, 1e-10))


MORPH_CATEGORIES = ("eyes", "mouth", "brows", "iris")
MOVING_PX = 0.5  # truth flow above this counts as motion
LEAK_LEVELS = 8.0 / 255.0  # a visible change of colour


def _grey_u8(im: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = EVAL_HEAD_REGION
    rgb = (over_grey(im)[y0:y1, x0:x1] * 255.0 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def motion(rest: np.ndarray, out: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Relative motion error and amplitude ratio of out against truth (see the docstring)."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    g_rest = _grey_u8(rest)
    f_truth = dis.calc(g_rest, _grey_u8(truth), None)
    f_out = dis.calc(g_rest, _grey_u8(out), None)
    mag = np.linalg.norm(f_truth, axis=-1)
    moving = mag > MOVING_PX
    if not moving.any():
        return {"motion_error": float("nan"), "amplitude": float("nan")}
    err = np.linalg.norm(f_out - f_truth, axis=-1)[moving].mean() / mag[moving].mean()
    amp = np.linalg.norm(f_out, axis=-1)[moving].sum() / mag[moving].sum()
    return {"motion_error": float(err), "amplitude": float(amp)}


def leak(rest: np.ndarray, out: np.ndarray, changed: np.ndarray) -> float:
    """% of head-region pixels outside `changed` that out visibly changes from rest."""
    x0, y0, x1, y1 = EVAL_HEAD_REGION
    d = np.abs(over_grey(out) - over_grey(rest)).max(-1)[y0:y1, x0:x1]
    outside = ~changed[y0:y1, x0:x1]
    return float(100.0 * (d[outside] > LEAK_LEVELS).mean()) if outside.any() else 0.0


TURN_CATEGORIES = ("head_yaw", "head_pitch", "head_roll", "body")
FlowFn = Callable[[dict], tuple[np.ndarray, np.ndarray]]


def grid_motion(grid: np.ndarray, flow: np.ndarray, known: np.ndarray) -> dict[str, float]:
    """Relative error and amplitude of a (128,128,2) grid offset against the true flow
    (same layout; grid units) over the head region, where the flow is known and moves."""
    x0, y0, x1, y1 = (v * grid.shape[0] // 512 for v in EVAL_HEAD_REGION)
    px = grid.shape[0] / 2.0  # grid units -> pixels of the 128 grid
    g, f = grid[y0:y1, x0:x1] * px, flow[y0:y1, x0:x1] * px
    mag = np.linalg.norm(f, axis=-1)
    sel = (known[y0:y1, x0:x1] > 0) & (mag > MOVING_PX * grid.shape[0] / 512)
    if not sel.any():
        return {"grid_error": float("nan"), "grid_amplitude": float("nan"),
                "grid_shape_error": float("nan"), "grid_scale": float("nan")}
    gs, fs = g[sel], f[sel]
    # Least squares, not below 0: a head turned the wrong way scores as standing still.
    scale = max(0.0, float((gs * fs).sum() / max(float((gs * gs).sum()), 1e-12)))
    return {"grid_error": float(np.linalg.norm(gs - fs, axis=-1).mean() / mag[sel].mean()),
            "grid_amplitude": float(np.linalg.norm(gs, axis=-1).sum() / mag[sel].sum()),
            "grid_shape_error": float(np.linalg.norm(scale * gs - fs, axis=-1).mean() / mag[sel].mean()),
            "grid_scale": scale}


def changed_region(rest_grey: np.ndarray, truth_grey: np.ndarray) -> np.ndarray:
    """Where the pose changes the picture (over_grey images differing by more than 2.5 of 255
    levels), dilated 3 px: the pixels psnr_changed scores."""
    changed = (np.abs(truth_grey - rest_grey).max(-1) > 2.5 / 255).astype(np.uint8)
    return cv2.dilate(changed, np.ones((7, 7), np.uint8)).astype(bool)


def psnr_changed(out_grey: np.ndarray, truth_grey: np.ndarray, changed: np.ndarray) -> float:
    """PSNR (dB) of over_grey images over the changed region; NaN when nothing changed."""
    return _psnr(out_grey, truth_grey, changed)


def detail(out_grey: np.ndarray, truth_grey: np.ndarray, changed: np.ndarray) -> float:
    """How much line and edge the engine draws where the truth changes, against the truth:
    summed gradient magnitude of out over that of truth in the changed region (1 as crisp as
    the truth, below 1 washed out). PSNR and SSIM reward a blur over a line drawn a few
    pixels off (the blur is wrong once, the misplaced line twice), so a hedging engine can
    gain there while drawing nothing; this says when that is how it gained."""
    def edges(im: np.ndarray) -> np.ndarray:
        g = cv2.cvtColor(np.ascontiguousarray(im, np.float32), cv2.COLOR_RGB2GRAY)
        return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    want = float(edges(truth_grey)[changed].sum())
    return float(edges(out_grey)[changed].sum()) / want if want > 0 else float("nan")


def score(rest: np.ndarray, out: np.ndarray, truth: np.ndarray, with_motion: bool = False) -> dict[str, float]:
    from skimage.metrics import structural_similarity

    x0, y0, x1, y1 = EVAL_HEAD_REGION
    g_out, g_truth = over_grey(out), over_grey(truth)
    o, t = g_out[y0:y1, x0:x1], g_truth[y0:y1, x0:x1]
    changed = changed_region(over_grey(rest), g_truth)
    s = {
        "psnr_head": _psnr(o, t),
        "ssim_head": float(structural_similarity(o, t, channel_axis=-1, data_range=1.0)),
        "psnr_changed": psnr_changed(g_out, g_truth, changed),
    }
    if with_motion:
        s.update(motion(rest, out, truth))
        s["leak_pct"] = leak(rest, out, changed)
        s["detail"] = detail(g_out, g_truth, changed)
    return s


def procedural_truth(cid: str) -> Callable[[dict], np.ndarray]:
    """The true renders of a generated character, its head turned in rig degrees (the engine's
    unit: training relabels procedural turns the same way), so that scoring asks a generated
    head to move as far as the engine was taught, not the generator's wider turn."""
    from engines.datagen.procedural import draw_character, identity_for
    from engines.datagen.procedural.geometry import in_rig_degrees

    ident = identity_for(cid)
    return lambda pose: draw_character(ident, in_rig_degrees(pose))


def evaluate(renderers: dict[str, Callable[[dict], np.ndarray]], engine, sheet: Path | None = None,
             flows: dict[str, FlowFn] | None = None, generated: Collection[str] = (),
             expressive: Mapping[str, Collection[str]] | None = None) -> dict:
    """renderers: character name -> function(pose) -> true 512x512 RGBA; flows (optional):
    character name -> function(pose) -> true backward flow from that pose to rest, and where
    it is known (engines.datagen.live2d.flow); generated: the names drawn by the procedural
    generator (prepared as such, as the app prepares the creator's characters); expressive:
    character name -> the expression parameters its truth shows (EXPRESSION_CATEGORIES are
    scored on those characters only)."""
    flows, expressive = flows or {}, expressive or {}
    from tqdm import tqdm

    known = set(engine.pose_spec.names)
    acc: dict[str, dict[str, list[dict]]] = {c: {"engine": [], "identity": []} for c in CATEGORIES}
    expr_acc: dict[str, dict[str, list[dict]]] = {c: {"engine": [], "identity": []} for c in EXPRESSION_CATEGORIES}
    sheet_rows = []
    for name, render in tqdm(renderers.items(), desc="characters"):
        rest = render({})
        prepared = engine.prepare(rest, generated=name in generated)
        row = []
        for cat, poses in CATEGORIES.items():
            for k, pose in enumerate(poses):
                truth = render(pose)
                out = engine.render(prepared, pose)
                s = score(rest, out, truth, with_motion=True)
                if name in flows and cat in TURN_CATEGORIES:
                    s.update(grid_motion(engine.rotation_grid(prepared, pose), *flows[name](pose)))
                acc[cat]["engine"].append(s)
                acc[cat]["identity"].append(score(rest, rest, truth))
                if k == 0:
                    row.append((out, truth))
        for cat, poses in EXPRESSION_CATEGORIES.items():
            if not all(n in expressive.get(name, ()) for pose in poses for n in pose if n in EXPRESSIONS):
                continue
            for pose in poses:
                truth = render(pose)
                out = engine.render(prepared, {k: v for k, v in pose.items() if k in known})
                expr_acc[cat]["engine"].append(score(rest, out, truth, with_motion=True))
                expr_acc[cat]["identity"].append(score(rest, rest, truth))
        sheet_rows.append(row)
    result = {"characters": list(renderers), "categories": {}}
    for cat, d in acc.items():
        entry = {"n": len(d["engine"])}
        for who in ("engine", "identity"):
            entry[who] = {m: float(np.nanmean([s[m] for s in d[who]])) for m in ("psnr_head", "ssim_head", "psnr_changed")}
        for m in ("motion_error", "amplitude", "leak_pct", "detail", "grid_error", "grid_amplitude",
                  "grid_shape_error", "grid_scale"):
            vals = [s[m] for s in d["engine"] if not math.isnan(s.get(m, math.nan))]
            entry["engine"][m] = float(np.mean(vals)) if vals else float("nan")
        result["categories"][cat] = entry
    gains = [v["engine"]["psnr_changed"] - v["identity"]["psnr_changed"] for v in result["categories"].values()]
    result["mean_psnr_changed_gain_db"] = float(np.mean(gains))
    result["expressions"] = {}
    for cat, d in expr_acc.items():
        if not d["engine"]:
            continue
        entry = {"n": len(d["engine"]), "engine_reads": all(n in known for pose in EXPRESSION_CATEGORIES[cat] for n in pose)}
        for who in ("engine", "identity"):
            entry[who] = {m: float(np.nanmean([s[m] for s in d[who]])) for m in ("psnr_head", "ssim_head", "psnr_changed")}
        for m in ("leak_pct", "detail"):
            entry["engine"][m] = float(np.nanmean([s.get(m, math.nan) for s in d["engine"]]))
        entry["gain_db"] = entry["engine"]["psnr_changed"] - entry["identity"]["psnr_changed"]
        result["expressions"][cat] = entry
    if sheet is not None:
        write_sheet(sheet, sheet_rows)
    return result


def write_sheet(path: Path, rows: list[list[tuple[np.ndarray, np.ndarray]]], cell: int = 160) -> None:
    """Rows: characters; columns: categories; each cell engine output | truth (head region)."""
    x0, y0, x1, y1 = EVAL_HEAD_REGION

    def crop(im):
        rgb = (over_grey(im)[y0:y1, x0:x1] * 255).astype(np.uint8)
        return cv2.resize(rgb, (cell, cell), interpolation=cv2.INTER_AREA)

    lines = [np.concatenate([np.concatenate([crop(o), crop(t)], 1) for o, t in r], 1) for r in rows]
    img = np.concatenate(lines, 0)
    header = np.full((24, img.shape[1], 3), 255, np.uint8)
    for i, cat in enumerate(CATEGORIES):
        cv2.putText(header, f"{cat}: engine | truth", (i * 2 * cell + 4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate([header, img], 0), cv2.COLOR_RGB2BGR))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="omokage eval", description="Score the engine against true renders.")
    ap.add_argument("--live2d", nargs="*", default=[], help="Cubism 2 .model.json paths")
    ap.add_argument("--live2d-val", action="store_true", help="the validation Live2D characters")
    ap.add_argument("--live2d-heldout", action="store_true",
                    help="the held-out Live2D character: score it once per release, never to choose")
    ap.add_argument("--procedural-val", type=int, default=0, help="N unseen procedural characters")
    ap.add_argument("--supersample", type=int, default=1, metavar="K",
                    help="draw the Live2D characters (rest and truths) at K times the canvas and "
                         "shrink them, as art from elsewhere arrives: scaled down, its textures "
                         "filtered (default 1: the renderer's own 512 px pixels)")
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--sheet", type=Path, default=None)
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--single-pass", action="store_true", help="score the engine without its mirror ensemble")
    ap.add_argument("--decoders", action="store_true",
                    help="run the decoders every frame instead of the pose tables the app renders with")
    prec = ap.add_mutually_exclusive_group()
    prec.add_argument("--int8", dest="int8", action="store_const", const=True, default=None,
                      help="score the int8 decoders (python -m engines.neural.quantize)")
    prec.add_argument("--float", dest="int8", action="store_const", const=False, help="score the float decoders")
    args = ap.parse_args(argv)
    if not 1 <= args.supersample <= 8:
        ap.error("--supersample: give a whole factor from 1 to 8")

    from engines.neural.runtime import NeuralEngine

    renderers: dict[str, Callable] = {}
    expressive: dict[str, list[str]] = {}
    generated: list[str] = []
    flows: dict[str, FlowFn] = {}
    paths = [Path(p) for p in args.live2d]
    if args.live2d_val:
        from engines.datagen.live2d.models import HUMAN_VAL, fetch_model

        paths += [fetch_model(n) for n in HUMAN_VAL]
    if args.live2d_heldout:
        from engines.datagen.live2d.models import HUMAN_HELDOUT, fetch_model

        paths += [fetch_model(n) for n in HUMAN_HELDOUT]
    for p in paths:
        if not p.exists():
            ap.error(f"{p} does not exist (give the path of a Cubism 2 .model.json)")
        from engines.datagen.live2d import Live2DCharacter

        from engines.datagen.live2d.flow import flow_to_rest

        ch = Live2DCharacter(p)
        renderers[f"live2d:{p.name}"] = lambda pose, ch=ch: ch.render(pose, supersample=args.supersample)
        expressive[f"live2d:{p.name}"] = [n for n in EXPRESSIONS if ch.supports(n)]
        flows[f"live2d:{p.name}"] = lambda pose, ch=ch: flow_to_rest(ch, pose)
    if args.procedural_val:
        from engines.datagen.procedural import ProceduralSource

        generated = ProceduralSource().characters("val")[: args.procedural_val]
        renderers.update({cid: procedural_truth(cid) for cid in generated})
        expressive.update({cid: list(EXPRESSIONS) for cid in generated})
    if not renderers:
        ap.error("nothing to evaluate: give --live2d paths, --live2d-val, --live2d-heldout or --procedural-val N")
    engine = NeuralEngine.load(args.weights, threads=args.threads, mirror_ensemble=not args.single_pass,
                               int8=args.int8)
    if args.decoders:
        engine.pose_tables = None
    if args.int8 and not engine.int8:
        ap.error(f"--int8: no current int8 decoders ({engine.precision}); run python -m engines.neural.quantize")
    result = evaluate(renderers, engine, args.sheet, flows, generated, expressive)
    result["precision"] = engine.precision
    result["pose_tables"] = engine.pose_tables is not None
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    print(f"{'category':<11} {'gain dB':>8} {'motion err':>10} {'amplitude':>9} {'leak %':>7} {'detail':>6} "
          f"{'grid err':>8} {'grid amp':>8} {'shape err':>9} {'scale':>6}")
    for k, v in result["categories"].items():
        e = v["engine"]
        print(f"{k:<11} {e['psnr_changed'] - v['identity']['psnr_changed']:>+8.2f} {e['motion_error']:>10.2f} "
              f"{e['amplitude']:>9.2f} {e['leak_pct']:>7.2f} {e['detail']:>6.2f} {e['grid_error']:>8.2f} "
              f"{e['grid_amplitude']:>8.2f} {e['grid_shape_error']:>9.2f} {e['grid_scale']:>6.2f}")
    print(f"mean changed-region gain over identity: {result['mean_psnr_changed_gain_db']:+.2f} dB")
    for k, v in result["expressions"].items():
        reads = "" if v["engine_reads"] else " (these weights do not read it: drawn without)"
        print(f"expression {k:<11} {v['gain_db']:>+6.2f} dB, leak {v['engine']['leak_pct']:.2f}%, "
              f"detail {v['engine']['detail']:.2f}{reads}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
