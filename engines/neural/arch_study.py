"""Would happy eyes come out better as the engine's closed eyes bent into an arch?

    python -m engines.neural.arch_study [--k 0 0.25 0.5 0.75 1] [--weights DIR]

The morpher draws closed lids crisply but smears a smiling lid (README, *Expression
parameters*). This asks whether a geometric bend would do instead of a learned one: each
eye's box is where the shipped engine's closed eyes differ from the rest image, and a
smiling lid is the closed-eye render with the middle of the box moved up by k x smile x
(1 - openness) x the box's height, tapering off towards its corners. Scored like `omokage
eval`'s happy_eyes (changed-region gain over identity and detail) on the validation rigs
that draw a smile and on the procedural validation characters; k = 0 is the engine's own
closed eyes. A study, not part of the app.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from engines.convention import MORPH_BOX
from engines.neural.evaluate import EXPRESSION_CATEGORIES, procedural_truth, score
from engines.neural.runtime import NeuralEngine


def eye_boxes(rest: np.ndarray, closed: np.ndarray) -> list[tuple[float, float, float, float] | None]:
    """(x0, x1, y0, y1) on the canvas of what closing changes, image-left eye first."""
    x0, y0, x1, y1 = MORPH_BOX
    d = np.abs(closed[y0:y1, x0:x1].astype(int) - rest[y0:y1, x0:x1].astype(int)).max(-1) > 24
    half = (x1 - x0) // 2
    boxes = []
    for lo, hi in ((0, half), (half, x1 - x0)):
        ys, xs = np.nonzero(d[:, lo:hi])
        if len(xs) < 10:
            boxes.append(None)
            continue
        xa, xb = np.percentile(xs, [2, 98]) + lo
        ya, yb = np.percentile(ys, [2, 98])
        boxes.append((xa + x0, xb + x0, ya + y0, yb + y0))
    return boxes


def bend(img: np.ndarray, boxes, amounts, k: float) -> np.ndarray:
    """Move the middle of each box up by k * amount * its height (a parabola across the
    eye, fading out above and below)."""
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dy = np.zeros((h, w), np.float32)
    for box, a in zip(boxes, amounts):
        if box is None or a <= 0:
            continue
        xa, xb, ya, yb = box
        u = np.clip((xs - 0.5 * (xa + xb)) / (0.5 * (xb - xa) + 2), -1, 1)
        v = np.clip(np.abs(ys - 0.5 * (ya + yb)) / (yb - ya + 12), 0, 1)
        dy += k * a * (yb - ya) * (1 - u ** 2) * (1 - v ** 2) ** 2
    return cv2.remap(img, xs, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.neural.arch_study", description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--procedural", type=int, default=4, help="procedural validation characters")
    args = ap.parse_args(argv)

    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.models import HUMAN_VAL, fetch_model
    from engines.datagen.procedural import ProceduralSource

    engine = NeuralEngine.load(args.weights, threads=1)
    chars = {}
    for name in HUMAN_VAL:
        ch = Live2DCharacter(fetch_model(name))
        if ch.supports("eye_left_smile"):
            chars[f"live2d:{name}"] = (ch.render, False)
    for cid in ProceduralSource().characters("val")[: args.procedural]:
        chars[cid] = (procedural_truth(cid), True)
    gains = {kind: {k: [] for k in args.k} for kind in ("live2d", "procedural")}
    detail = {kind: {k: [] for k in args.k} for kind in ("live2d", "procedural")}
    for name, (render, generated) in chars.items():
        kind = "procedural" if generated else "live2d"
        rest = render({})
        prepared = engine.prepare(rest, generated=generated)
        boxes = eye_boxes(prepared.rest_u8, engine.render(prepared, {"eye_left_open": 0.0, "eye_right_open": 0.0}))
        for pose in EXPRESSION_CATEGORIES["happy_eyes"]:
            truth = render(pose)
            closed = engine.render(prepared, {n: v for n, v in pose.items() if "smile" not in n})
            # The character's right eye is on the image's left.
            amounts = [pose[f"eye_{s}_smile"] * (1 - pose[f"eye_{s}_open"]) for s in ("right", "left")]
            base = score(rest, rest, truth)["psnr_changed"]
            for k in args.k:
                s = score(rest, bend(closed, boxes, amounts, k), truth, with_motion=True)
                gains[kind][k].append(s["psnr_changed"] - base)
                detail[kind][k].append(s["detail"])
    print(f"{engine.weights_dir}; characters: {', '.join(chars)}")
    for kind in gains:
        for k in args.k:
            if gains[kind][k]:
                print(f"{kind:<10} k={k:<5} happy eyes gain {np.mean(gains[kind][k]):+.2f} dB, "
                      f"detail {np.nanmean(detail[kind][k]):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
