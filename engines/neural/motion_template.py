"""A motion template: how a pixel of the input convention moves with the pose, whatever the
character.

Every character shares the input convention (the head in the same box), so the true
backward flow of the training rigs, averaged per pixel and per pose direction, is a prior
that does not depend on who is drawn. Live2D deforms between keyforms linearly, so each
pixel's flow is fitted as a piecewise-linear function of the rotate pose (one slope per
sign of each turn):

    flow(p, pose) = W(p) @ features(pose)      (model.template_features / template_flow)

    python -m engines.neural.motion_template fit --data cache/data/l2dflow --out runs/template.npz
    python -m engines.neural.motion_template score runs/template.npz --data cache/data/l2dflow [--checkpoint CKPT]

score prints the head-region grid error of the template (and of a rotator checkpoint, on
the very same rows) on the val and train splits, as `motion_checks grid` measures it.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engines.neural.model import GRID_SIZE as SIZE
from engines.neural.model import TEMPLATE_FEATURES as N_FEATURES


def features(rot: np.ndarray) -> np.ndarray:
    """(N, 5) normalised rotate pose -> (N, 9) the rotator's template features."""
    import torch

    from engines.neural.model import template_features

    return template_features(torch.from_numpy(np.asarray(rot, np.float32))).numpy()


def _rows(data: str, split: str, limit: int | None = None):
    from engines.neural.compose import stage_vectors
    from engines.posespec import DEFAULT_POSE_SPEC

    files = sorted((Path(data) / split).glob("shard_*[0-9].npz"))
    if not files:
        raise FileNotFoundError(f"no {split} shards under {data}")
    seen = 0
    for path in files:
        with np.load(path) as z:
            flow, mask, pose = z["flow"].astype(np.float32), z["flow_mask"], z["pose"]
            alpha = z["rest"][..., 3]
        _, rot = stage_vectors(DEFAULT_POSE_SPEC, pose)
        yield flow, mask, rot, alpha
        seen += len(pose)
        if limit and seen >= limit:
            return


def fit(data: str, ridge: float = 5.0) -> np.ndarray:
    """Per-pixel least squares over the train split -> the template (18, 128, 128) in the
    rotator's layout (feature-major, then dx/dy). The ridge is a few pseudo-rows of no
    motion: pixels that few rigs cover (far hair, the canvas edges) stay near still
    instead of extrapolating a handful of samples."""
    xtx = np.zeros((SIZE * SIZE, N_FEATURES, N_FEATURES), np.float64)
    xty = np.zeros((SIZE * SIZE, N_FEATURES, 2), np.float64)
    for flow, mask, rot, _ in _rows(data, "train"):
        x = features(rot)  # (n, 9)
        m = mask.reshape(len(x), -1).astype(np.float64)  # (n, P)
        f = flow.reshape(len(x), -1, 2).astype(np.float64)
        xx = x[:, :, None] * x[:, None, :]  # (n, 9, 9)
        xtx += np.einsum("np,nij->pij", m, xx)
        xty += np.einsum("np,ni,npc->pic", m, x, f)
    eye = np.eye(N_FEATURES)[None] * ridge
    w = np.linalg.solve(xtx + eye, xty).reshape(SIZE, SIZE, N_FEATURES, 2)
    return np.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(N_FEATURES * 2, SIZE, SIZE), np.float32)


def predict(template: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Template flow (N, 128, 128, 2) for normalised rotate poses (N, 5), as the rotator
    computes it."""
    import torch

    from engines.neural.model import template_flow

    out = template_flow(torch.from_numpy(template), torch.from_numpy(np.asarray(rot, np.float32)))
    return out.permute(0, 2, 3, 1).numpy()


def head_selection(flow: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Pixels the grid error counts: the eval head region, visible, truly moving."""
    px = SIZE / 2.0
    sel = np.zeros(mask.shape, bool)
    sel[:, 0:64, 32:96] = True
    return sel & (mask > 0) & (np.linalg.norm(flow, axis=-1) * px > 0.125)


def grid_error(pred: np.ndarray, flow: np.ndarray, sel: np.ndarray) -> tuple[float, float]:
    mag = np.linalg.norm(flow, axis=-1)[sel]
    err = np.linalg.norm(pred - flow, axis=-1)[sel]
    amp = np.linalg.norm(pred, axis=-1)[sel].sum() / mag.sum()
    return float(err.mean() / mag.mean()), float(amp)


def _rotator_grid(checkpoint: str, data: str, split: str, limit: int) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    from engines.neural.compose import stage_vectors
    from engines.neural.model import load_networks
    from engines.neural.train import to_tensor
    from engines.posespec import DEFAULT_POSE_SPEC

    _, rotator, _ = load_networks(checkpoint)
    out = []
    files = sorted((Path(data) / split).glob("shard_*[0-9].npz"))
    seen = 0
    for path in files:
        with np.load(path) as z:
            rest, pose = z["rest"], z["pose"]
        _, pr = stage_vectors(DEFAULT_POSE_SPEC, pose)
        with torch.no_grad():
            grid, _, _ = rotator(F.avg_pool2d(to_tensor(rest), 2), torch.from_numpy(pr))
        out.append(grid.permute(0, 2, 3, 1).numpy())
        seen += len(pose)
        if seen >= limit:
            break
    return np.concatenate(out)[:limit]


def score(template: str, data: str, checkpoint: str | None = None, limit: int = 512) -> dict:
    w = np.load(template)["template"]
    out = {}
    for split in ("val", "train"):
        parts = list(_rows(data, split, limit))
        flow = np.concatenate([p[0] for p in parts])[:limit]
        mask = np.concatenate([p[1] for p in parts])[:limit]
        rot = np.concatenate([p[2] for p in parts])[:limit]
        alpha = np.concatenate([p[3] for p in parts])[:limit]
        sel = head_selection(flow, mask)
        pred = predict(w, rot)
        res = {"rows": len(rot), "template": grid_error(pred, flow, sel)}
        # The template cut to the character's silhouette at rest (what a character adds).
        a = alpha[:, ::2, ::2][..., None] > 0
        res["template_in_silhouette"] = grid_error(pred * a, flow, sel)
        res["standing_still"] = grid_error(np.zeros_like(flow), flow, sel)
        if checkpoint:
            g = _rotator_grid(checkpoint, data, split, limit)
            res["rotator"] = grid_error(g, flow, sel)
        out[split] = res
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.neural.motion_template", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit")
    f.add_argument("--data", required=True)
    f.add_argument("--out", required=True, type=Path)
    s = sub.add_parser("score")
    s.add_argument("template")
    s.add_argument("--data", required=True)
    s.add_argument("--checkpoint")
    s.add_argument("--rows", type=int, default=512)
    args = ap.parse_args(argv)
    if args.cmd == "fit":
        w = fit(args.data)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.out.with_name(args.out.name + ".tmp.npz")
        np.savez_compressed(tmp, template=w)
        tmp.replace(args.out)
        print(f"wrote {args.out}")
    else:
        print(json.dumps(score(args.template, args.data, args.checkpoint, args.rows), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
