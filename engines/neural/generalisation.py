"""How much better each network does on its training characters than on unseen ones.

    python -m engines.neural.generalisation [--checkpoint weights/training_checkpoint.pt] \
        [--data cache/data/live2d --data cache/data/procedural] [--rows 128] [--json OUT]

For every data directory and split (train, val) it draws rows from the stored shards and
prints the mean changed-region PSNR gain over identity (dB) of the morpher on the face crop
and of the rotator on the whole image, with the same region as training's validation. A wide
train-val gap on Live2D means the network stores its few training rigs instead of learning
what an unseen rig does; this measures that without rendering the evaluation characters.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from engines.datagen.dataset import ShardSampler
from engines.neural.train import (COMPACT_CHECKPOINT, morph_loss, parse_turn_scale, psnr_changed,
                                  relabel_turns, rotate_loss, to_tensor)
from engines.neural.model import Morpher, Rotator, load_networks


def row_gains(out: torch.Tensor, target: torch.Tensor, rest: torch.Tensor) -> list[float]:
    """Per-row changed-region PSNR gain over identity (rows with no change are skipped)."""
    gains = []
    for i in range(len(out)):
        e, ident = psnr_changed(out[i:i + 1], target[i:i + 1], rest[i:i + 1])
        if np.isfinite(e) and np.isfinite(ident):
            gains.append(e - ident)
    return gains


@torch.no_grad()
def measure(morpher: Morpher, rotator: Rotator, root: str, split: str, rows: int,
            turn_scale: dict[str, np.ndarray], batch: int = 16) -> dict[str, float]:
    sampler = ShardSampler({root: 1.0}, split, seed=7)
    gm: list[float] = []
    gr: list[float] = []
    while len(gm) < rows:
        b = sampler.batch(batch)
        _, om = morph_loss(morpher, b, "cpu")
        gm += row_gains(om, to_tensor(b["expr_crop"]), to_tensor(b["rest_crop"]))
        rb = relabel_turns(sampler.batch(3 * batch), turn_scale, batch) if turn_scale else b
        _, orr = rotate_loss(rotator, rb, "cpu")
        gr += row_gains(orr, to_tensor(rb["posed"]), to_tensor(rb["expr"]))
    return {"morpher_gain_db": float(np.mean(gm[:rows])), "rotator_gain_db": float(np.mean(gr[:rows])),
            "rows": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.neural.generalisation",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, default=COMPACT_CHECKPOINT)
    ap.add_argument("--data", action="append", default=None,
                    help="shard directory with train/ and val/ (repeatable; default: both caches)")
    ap.add_argument("--rows", type=int, default=128)
    ap.add_argument("--turn-scale", action="append", default=["proc-=1.45,2.5,2.5"],
                    help="as in training: PREFIX=YAW,PITCH,ROLL relabelling of head turns")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    if not args.checkpoint.exists():
        raise SystemExit(f"{args.checkpoint} not found; train first or pass --checkpoint")
    morpher, rotator, st = load_networks(args.checkpoint)
    roots = args.data or ["cache/data/live2d", "cache/data/procedural"]
    turn_scale = parse_turn_scale(args.turn_scale)
    result: dict = {"checkpoint": str(args.checkpoint), "steps": st.get("steps", st.get("step"))}
    for root in roots:
        for split in ("train", "val"):
            try:
                result[f"{Path(root).name}/{split}"] = measure(morpher, rotator, root, split,
                                                               args.rows, turn_scale)
            except FileNotFoundError as exc:
                raise SystemExit(f"{exc}; build the data with the README's Training commands") from None
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
