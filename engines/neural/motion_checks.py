"""Motion measurements that need the Live2D rigs' true correspondence.

    python -m engines.neural.motion_checks floor [--rigs koharu haruto]
    python -m engines.neural.motion_checks grid CHECKPOINT [CHECKPOINT ...] --data cache/data/l2dflow
    python -m engines.neural.motion_checks shape [--rigs koharu haruto] [--weights DIR]

floor: the optical-flow motion error (as `omokage eval` reports it) of a perfect warp: the
rest render warped by the rig's true flow. No warp engine can score below it on that
measure, so it tells which targets the measure can express.
grid: the rotator's sampling grid against the true flow stored in shards (head region,
moving pixels), with the changed-region gain, on the val and train splits: how much of a
checkpoint's correspondence carries over from its training rigs to unseen ones.
shape: per turn category at the eval's poses, how far the rigs' heads truly move (mean true
flow over the eval head region, px at 512), the engine grid's shape error and best scale
(`omokage eval`), and the shape error of the best rigid shift of the head region (the mean
true flow there: an oracle no engine has), which says how far from a plain shift a rig turns.
"""
from __future__ import annotations

import argparse
import json

import cv2
import numpy as np


def warp_by_flow(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample `image` at identity + flow (grid units at any resolution), as the rotator does."""
    size = image.shape[0]
    f = cv2.resize(flow, (size, size), interpolation=cv2.INTER_LINEAR)
    c = (np.arange(size, dtype=np.float32) + 0.5) * 2.0 / size - 1.0
    gx, gy = np.meshgrid(c, c)
    mx = (gx + f[..., 0] + 1.0) * size / 2.0 - 0.5
    my = (gy + f[..., 1] + 1.0) * size / 2.0 - 0.5
    return cv2.remap(image, mx.astype(np.float32), my.astype(np.float32), cv2.INTER_LINEAR)


def floor(rigs: list[str], categories: tuple[str, ...] | None = None) -> dict[str, float]:
    """Mean DIS motion error of the true-flow warp per turn category over `rigs`."""
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.flow import flow_to_rest
    from engines.datagen.live2d.models import fetch_model
    from engines.neural import evaluate as ev

    cats = categories or ev.TURN_CATEGORIES
    errors: dict[str, list[float]] = {c: [] for c in cats}
    for name in rigs:
        ch = Live2DCharacter(fetch_model(name))
        rest = ch.render({})
        for cat in cats:
            for pose in ev.CATEGORIES[cat]:
                flow, _ = flow_to_rest(ch, pose)
                errors[cat].append(ev.motion(rest, warp_by_flow(rest, flow), ch.render(pose))["motion_error"])
    return {c: float(np.nanmean(v)) for c, v in errors.items()}


def grid_check(checkpoint: str, data: str, rows: int = 128, seed: int = 4321) -> dict[str, dict[str, float]]:
    """Head-region grid error, amplitude and changed-region gain of a rotator checkpoint (plain
    or with a head view) on stored rows of the val and train splits (raw poses, no
    turn_scale); the grid error also per dominant turn (the row's largest of yaw, pitch,
    roll and body turn, relative to its range)."""
    import torch

    from engines.datagen.dataset import ShardSampler
    from engines.neural.compose import stage_vectors
    from engines.neural.head_view import load_rotator, run_rotator
    from engines.neural.train import apply_rotation, psnr_changed, to_tensor
    from engines.posespec import DEFAULT_POSE_SPEC

    rotator = load_rotator(checkpoint)
    out = {}
    for split in ("val", "train"):
        b = ShardSampler({data: 1.0}, split, seed=seed).batch(rows)
        with torch.no_grad():
            _, pr = stage_vectors(DEFAULT_POSE_SPEC, b["pose"])
            fine, color, mask, grid = run_rotator(rotator, to_tensor(b["rest"]), torch.from_numpy(pr))
            img = apply_rotation(to_tensor(b["expr"]), fine, color, mask)
            gain = np.subtract(*psnr_changed(img, to_tensor(b["posed"]), to_tensor(b["expr"])))
        true = torch.from_numpy(b["flow"].astype(np.float32)).permute(0, 3, 1, 2)
        px = grid.shape[-1] / 2.0
        mag, err = true.norm(dim=1) * px, (grid - true).norm(dim=1) * px
        sel = torch.zeros_like(mag, dtype=torch.bool)
        sel[:, 0:64, 32:96] = True  # the eval head region at 128
        sel &= torch.from_numpy(b["flow_mask"] > 0) & (mag > 0.125)
        out[split] = {"grid_error": float(err[sel].mean() / mag[sel].mean()),
                      "grid_amplitude": float((grid.norm(dim=1) * px)[sel].sum() / mag[sel].sum()),
                      "gain_db": float(gain)}
        dominant = np.abs(pr[:, :4]).argmax(1)
        for i, turn in enumerate(("yaw", "pitch", "roll", "body")):
            rows_i = torch.from_numpy(dominant == i)
            s_i = sel & rows_i[:, None, None]
            if s_i.any():
                out[split][f"grid_error_{turn}"] = float(err[s_i].mean() / mag[s_i].mean())
                out[split][f"rows_{turn}"] = int(rows_i.sum())
    return out


def shape(rigs: list[str], weights: str | None = None) -> dict[str, dict[str, float]]:
    """Per turn category, means over `rigs` and the eval's poses (see the docstring)."""
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.flow import flow_to_rest
    from engines.datagen.live2d.models import fetch_model
    from engines.neural import evaluate as ev
    from engines.neural.runtime import NeuralEngine

    engine = NeuralEngine.load(weights, threads=1)
    x0, y0, x1, y1 = (v * 128 // 512 for v in ev.EVAL_HEAD_REGION)
    rows: dict[str, list[dict[str, float]]] = {c: [] for c in ev.TURN_CATEGORIES}
    for name in rigs:
        ch = Live2DCharacter(fetch_model(name))
        prepared = engine.prepare(ch.render({}))
        for cat in ev.TURN_CATEGORIES:
            for pose in ev.CATEGORIES[cat]:
                flow, known = flow_to_rest(ch, pose)
                sel = known[y0:y1, x0:x1] > 0
                if not sel.any():
                    continue
                head = flow[y0:y1, x0:x1][sel]
                shift = np.broadcast_to(head.mean(0), flow.shape).copy()
                m = ev.grid_motion(engine.rotation_grid(prepared, pose), flow, known)
                rows[cat].append({"true_px": float(np.linalg.norm(head, axis=-1).mean() * 256.0),
                                  "shape_error": m["grid_shape_error"], "scale": m["grid_scale"],
                                  "shift_shape_error": ev.grid_motion(shift, flow, known)["grid_shape_error"]})
    return {c: {k: float(np.nanmean([r[k] for r in v])) for k in v[0]} for c, v in rows.items() if v}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.neural.motion_checks", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("floor", help="DIS motion error of a perfect (true-flow) warp")
    f.add_argument("--rigs", nargs="+", default=["koharu", "haruto"])
    g = sub.add_parser("grid", help="rotator checkpoints' grid against stored true flow")
    g.add_argument("checkpoints", nargs="+")
    g.add_argument("--data", required=True, help="shard dir with flow (val/ and train/)")
    g.add_argument("--rows", type=int, default=128)
    s = sub.add_parser("shape", help="how far the rigs turn, and the engine's motion pattern")
    s.add_argument("--rigs", nargs="+", default=["koharu", "haruto"])
    s.add_argument("--weights", default=None, help="engine weights folder (default: the shipped ones)")
    args = ap.parse_args(argv)
    if args.cmd == "floor":
        print(json.dumps(floor(args.rigs), indent=1))
    elif args.cmd == "shape":
        print(f"{'category':<11} {'true px':>8} {'shape err':>9} {'scale':>6} {'shift shape err':>15}")
        for cat, r in shape(args.rigs, args.weights).items():
            print(f"{cat:<11} {r['true_px']:>8.1f} {r['shape_error']:>9.2f} {r['scale']:>6.2f} "
                  f"{r['shift_shape_error']:>15.2f}")
    else:
        for ck in args.checkpoints:
            print(ck, json.dumps(grid_check(ck, args.data, args.rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
