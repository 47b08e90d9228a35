"""Train the anime face locator on procedural renders and export it to ONNX (build time only;
the app runs the exported file with onnxruntime and never imports torch).

    python -m app.intake.train_locator --out /tmp/loc/face_locator.onnx --minutes 22
    python -m app.intake.train_locator --out app/intake/face_locator.onnx --minutes 24 \
        --resume /tmp/loc/face_locator.pt --seed 1 --refine-share 0.6

Two small CNNs, the classic find-then-refine cascade:
  find   : the whole picture letterboxed to 128x128 -> face centre, width, height, presence
  refine : a 64x64 crop around an estimate (side = 2 face widths) -> the correction, and
           whether a face really sits there (the confidence the app reports)
Both go into one ONNX file (one graph, two inputs, two outputs), so there is one file to
ship and verify.

Training characters use seeds from TRAIN_SEED0 + seed * characters on; measurements use
seeds from 5,000,000 (app/intake/evaluate.py), so no measured character was ever seen here.
Each net trains for a wall-clock budget on one torch thread: 1,500 characters, batch 32.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from app.intake import scenes

TRAIN_SEED0 = 1_000_000
FIND, REFINE = 128, 64
CROP_FACES = 2.0  # refine crop side in face widths


def _net(size: int):
    import torch.nn as nn

    def block(i, o, s):
        return [nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

    layers = block(3, 16, 2) + block(16, 32, 2) + block(32, 32, 1) + block(32, 64, 2) \
        + block(64, 64, 1) + block(64, 96, 2) + block(96, 128, 2)
    cells = (size // 32) ** 2 * 128
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(cells, 128), nn.ReLU(inplace=True),
                         nn.Linear(128, 5))


class Bank:
    """Pre-drawn characters (drawing is the slow part: ~25 ms each)."""

    def __init__(self, n: int, seed0: int = TRAIN_SEED0):
        self.items = []
        for i in range(n):
            rgba, box = scenes.character(seed0 + i)
            self.items.append((scenes.pyramid(rgba), box, rgba.shape[1]))

    def pick(self, rng):
        return self.items[int(rng.integers(len(self.items)))]


def _augment(rng, rgb: np.ndarray) -> np.ndarray:
    x = rgb.astype(np.float32)
    x = (x - 128) * rng.uniform(0.75, 1.25) + 128 + rng.uniform(-25, 25)
    if rng.random() < 0.08:
        x = np.repeat(x.mean(axis=2, keepdims=True), 3, axis=2)
    if rng.random() < 0.25:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, 1.2))
    x = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        x = scenes.jpeg(x, int(rng.integers(35, 95)))
    return x


def _pick(rng, bank: Bank):
    """(pyramid, face box, 3x3 source transform): half the characters mirrored."""
    pyr, box, w = bank.pick(rng)
    if rng.random() < 0.5:
        return pyr, np.array([w - 1 - box[2], box[1], w - 1 - box[0], box[3]]), \
            np.array([[-1.0, 0, w - 1], [0, 1, 0], [0, 0, 1]])
    return pyr, box, np.eye(3)


def find_sample(rng, bank: Bank):
    """(128x128 RGB, target [cx, cy, log w, log h] in frame units, presence)."""
    pyr, box, flip = _pick(rng, bank)
    bw, bh = box[2] - box[0], box[3] - box[1]
    aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1.7))))  # scene h / w
    sw, sh = (FIND, int(FIND * aspect)) if aspect < 1 else (int(FIND / aspect), FIND)
    fw = float(np.exp(rng.uniform(np.log(0.06), np.log(0.65)))) * min(sw, sh)
    k = fw / bw
    present = rng.random() > 0.1
    cx = rng.uniform(fw / 2, sw - fw / 2)
    cy = rng.uniform(bh * k / 2, max(bh * k / 2 + 1, sh - bh * k / 2))
    if not present:  # the face is out of the picture: only the body, or nothing at all
        cy = -bh * k * rng.uniform(0.6, 3.0)
    m = np.array([[k, 0, cx - k * (box[0] + box[2]) / 2], [0, k, cy - k * (box[1] + box[3]) / 2]])
    scene = scenes.composite(scenes.place(pyr, m @ flip, sw, sh), scenes.background(rng, sh, sw))
    frame = np.full((FIND, FIND, 3), 128, np.uint8)
    ox, oy = (FIND - sw) // 2, (FIND - sh) // 2
    frame[oy:oy + sh, ox:ox + sw] = scene
    t = np.array([(cx + ox) / FIND, (cy + oy) / FIND, np.log(fw / FIND), np.log(bh * k / FIND)])
    return _augment(rng, frame), t, float(present)


def refine_sample(rng, bank: Bank):
    """(64x64 RGB crop around a noisy estimate, target correction, presence)."""
    pyr, box, flip = _pick(rng, bank)
    bw, bh = box[2] - box[0], box[3] - box[1]
    c = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
    present = rng.random() > 0.15
    if present:
        west = bw * float(np.exp(rng.normal(0, 0.15)))
        cest = c + rng.normal(0, 0.12, 2) * bw
    else:  # somewhere else: body, hair, background, or a face far too small / too big
        west = bw * float(np.exp(rng.choice([rng.uniform(-2.5, -0.9), rng.uniform(0.9, 2.0)])))
        cest = c + rng.uniform(-2.5, 2.5, 2) * bw
        if rng.random() < 0.6:
            cest = c + np.array([rng.uniform(-1.5, 1.5), rng.uniform(1.3, 4.0)]) * bw
            west = bw * float(np.exp(rng.uniform(-0.4, 0.6)))
    side = CROP_FACES * west
    k = REFINE / side
    m = np.array([[k, 0, REFINE / 2 - k * cest[0]], [0, k, REFINE / 2 - k * cest[1]]])
    crop = scenes.composite(scenes.place(pyr, m @ flip, REFINE, REFINE),
                            scenes.background(rng, REFINE, REFINE))
    t = np.array([(c[0] - cest[0]) / side, (c[1] - cest[1]) / side,
                  np.log(bw / side), np.log(bh / side)])
    return _augment(rng, crop), t, float(present)


def _batch(fn, rng, bank, n):
    xs, ts, ps = zip(*(fn(rng, bank) for _ in range(n)))
    import torch

    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float() / 255.0
    return x, torch.tensor(np.stack(ts), dtype=torch.float32), torch.tensor(ps)


def train_one(net, fn, bank, seconds: float, seed: int, label: str, lr: float = 2e-3):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    t0, step, ema = time.time(), 0, None
    while time.time() - t0 < seconds:
        frac = (time.time() - t0) / seconds
        for g in opt.param_groups:
            g["lr"] = lr * (0.5 * (1 + np.cos(np.pi * frac))) + 2e-5
        x, t, p = _batch(fn, rng, bank, 32)
        out = net(x)
        pos = p > 0.5
        reg = F.smooth_l1_loss(out[pos, :4] * 8, t[pos] * 8) if pos.any() else out.sum() * 0
        loss = reg + 0.3 * F.binary_cross_entropy_with_logits(out[:, 4], p)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        step += 1
        if step % 200 == 0:
            print(f"{label} step {step} {time.time() - t0:.0f}s loss {ema:.4f}", flush=True)
    return net


def export(find, refine, out: Path) -> None:
    import torch

    class Both(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.find, self.refine = find, refine

        def forward(self, frame, crops):
            return self.find(frame), self.refine(crops)

    m = Both().eval()
    tmp = out.with_suffix(".tmp.onnx")
    torch.onnx.export(m, (torch.zeros(1, 3, FIND, FIND), torch.zeros(1, 3, REFINE, REFINE)),
                      str(tmp), input_names=["frame", "crops"], output_names=["find", "refine"],
                      dynamic_axes={"frame": {0: "n"}, "crops": {0: "m"}, "find": {0: "n"},
                                    "refine": {0: "m"}}, opset_version=17, dynamo=False)
    tmp.replace(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("face_locator.onnx"))
    ap.add_argument("--characters", type=int, default=1500)
    ap.add_argument("--minutes", type=float, default=20.0, help="training time, both nets")
    ap.add_argument("--resume", type=Path, default=None,
                    help="continue from a .pt written by an earlier run (lower learning rate)")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed (use another to resume)")
    ap.add_argument("--refine-share", type=float, default=0.5,
                    help="share of the time given to the refine net")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    t = time.time()
    bank = Bank(args.characters, TRAIN_SEED0 + args.seed * args.characters)
    print(f"drew {args.characters} characters in {time.time() - t:.0f}s", flush=True)
    find, refine, lr = _net(FIND), _net(REFINE), 2e-3
    if args.resume:
        state = torch.load(args.resume)
        find.load_state_dict(state["find"])
        refine.load_state_dict(state["refine"])
        lr = 7e-4
    secs = args.minutes * 60
    find = train_one(find, find_sample, bank, secs * (1 - args.refine_share), 1 + 10 * args.seed,
                     "find", lr).eval()
    refine = train_one(refine, refine_sample, bank, secs * args.refine_share, 2 + 10 * args.seed,
                       "refine", lr).eval()
    torch.save({"find": find.state_dict(), "refine": refine.state_dict()},
               args.out.with_suffix(".pt"))
    export(find, refine, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
