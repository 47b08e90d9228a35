"""How far a character's head moves at the ends of the turn ranges, measured on its renders.

    python -m engines.datagen.turn_amplitude [--live2d NAME ...] [--procedural N]

Prints, per character, the 90th percentile of the optical-flow displacement (pixels at 512)
inside the head box between the rest render and the render at yaw, pitch and roll of +30
degrees. The ratio of the procedural to the Live2D medians is what `train --turn-scale` uses:
the same nominal angle moves different rigs by different amounts.
"""
from __future__ import annotations

import argparse
from typing import Callable

import cv2
import numpy as np

from engines.convention import HEAD_BOX
from engines.neural.compose import over_grey
from engines.posespec import HEAD_TURNS

def _grey(rgba: np.ndarray) -> np.ndarray:
    return cv2.cvtColor((over_grey(rgba) * 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def turn_amplitudes(render: Callable[[dict], np.ndarray], angle: float = 30.0) -> dict[str, float]:
    """render(pose) -> 512x512 RGBA; returns {turn: p90 displacement in px in the head box}."""
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    rest = _grey(render({}))
    x0, y0, x1, y1 = HEAD_BOX
    out = {}
    for name in HEAD_TURNS:
        f = flow.calc(_grey(render({name: angle})), rest, None)
        out[name] = float(np.percentile(np.abs(f[y0:y1, x0:x1]).max(-1), 90))
    return out


def main(argv: list[str] | None = None) -> int:
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.models import HUMAN_TRAIN, fetch_model
    from engines.datagen.procedural import ProceduralSource, draw_character, identity_for

    ap = argparse.ArgumentParser(prog="python -m engines.datagen.turn_amplitude", description=__doc__.split("\n\n")[0])
    ap.add_argument("--live2d", nargs="*", default=list(HUMAN_TRAIN), help="Live2D model names")
    ap.add_argument("--procedural", type=int, default=3, help="number of procedural val characters")
    args = ap.parse_args(argv)
    rows: dict[str, list[dict[str, float]]] = {"live2d": [], "procedural": []}
    for name in args.live2d:
        amp = turn_amplitudes(Live2DCharacter(fetch_model(name)).render)
        rows["live2d"].append(amp)
        print(f"{name:14s} " + " ".join(f"{t}={v:5.1f}" for t, v in amp.items()))
    for cid in ProceduralSource().characters("val")[: args.procedural]:
        ident = identity_for(cid)
        amp = turn_amplitudes(lambda pose, ident=ident: draw_character(ident, pose))
        rows["procedural"].append(amp)
        print(f"{cid:14s} " + " ".join(f"{t}={v:5.1f}" for t, v in amp.items()))
    if rows["live2d"] and rows["procedural"]:
        med = {k: {t: float(np.median([r[t] for r in v])) for t in HEAD_TURNS} for k, v in rows.items()}
        ratio = ",".join(f"{med['procedural'][t] / med['live2d'][t]:.2f}" for t in HEAD_TURNS)
        print(f"median procedural / Live2D (yaw,pitch,roll): {ratio}  ->  --turn-scale proc-={ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
