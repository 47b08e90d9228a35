"""Distil the rotator's mirror ensemble into one lighter decoder pass.

    python -m engines.neural.distill --data cache/data/l2dflow=1 --data cache/data/procturn=1 \
        --teacher weights/training_checkpoint.pt --minutes 60 --run runs/distill

Per frame the engine runs the rotator decoder twice (the character and its mirror image, the
maps averaged: the mirror ensemble), and that is most of a frame's time. The student is a
rotator decoder (by default the teacher's own, from its weights; `--top` thins its 128-px
level) that learns to give the ensemble's averaged maps (grid offset, colour change, blend
mask) in one pass, from the teacher's cached encoder features: the encoder is shared and
stays fixed, so no ground truth is needed and every rest image of the shards, in any pose, is a lesson. Rest
images are varied as in training (flips, smooth shape warps) and poses drawn across the whole
range of the turns.

The checkpoint (RUN/ckpt.pt, compact: the teacher's morpher, the student rotator, and
"mirror_distilled": true) exports with `python -m engines.neural.export --rotator-from`; the
manifest then says the decoder already averages the mirror pass, and the runtime skips it.
Resumes from RUN/state.pt.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from engines.datagen.dataset import ShardSampler
from engines.neural.compose import stage_vectors
from engines.neural.flip_rows import flip_batch
from engines.neural.model import Rotator, RotatorDecoder, apply_rotation, load_networks
from engines.neural.shape_warp import FULL_KEYS, warp_batch
from engines.neural.train import atomic_save, changed_weight, decayed_lr, parse_data, to_tensor
from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec

TURNS = ("head_yaw", "head_pitch", "head_roll", "body_yaw", "breathing")
FLOW_PX = 64.0  # grid units -> pixels of the 128 grid (the grid spans -1..1)


def random_poses(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, P) raw poses: each turn uniform over its range, or at rest one time in five (the
    student must keep still characters still)."""
    spec = DEFAULT_POSE_SPEC
    poses = np.tile(spec.to_vector({}), (n, 1)).astype(np.float32)
    for name in TURNS:
        i = spec.names.index(name)
        p = spec.params[i]
        vals = rng.uniform(p.lo, p.hi, n).astype(np.float32)
        poses[:, i] = np.where(rng.random(n) < 0.2, p.default, vals)
    return poses


def flip_maps(flow: torch.Tensor, color: torch.Tensor, mask: torch.Tensor):
    """Maps of the mirrored character back to the character's side: x offsets change sign."""
    flow = torch.flip(flow, [3]) * torch.tensor([-1.0, 1.0]).view(1, 2, 1, 1)
    return flow, torch.flip(color, [3]), torch.flip(mask, [3])


@torch.no_grad()
def ensemble_maps(teacher: Rotator, small: torch.Tensor, poses: np.ndarray, spec: PoseSpec = DEFAULT_POSE_SPEC):
    """The runtime's mirror ensemble in PyTorch: (flow, colour, mask), each the mean of the
    direct pass and the flipped-back pass on the mirrored character in the mirrored pose
    (`poses` in `spec` order)."""
    _, pr = stage_vectors(spec, poses)
    _, pr_m = stage_vectors(spec, spec.mirrored_vectors(poses))
    direct = teacher(small, torch.from_numpy(pr))
    mirrored = flip_maps(*teacher(torch.flip(small, [3]), torch.from_numpy(pr_m)))
    return tuple(0.5 * (a + b) for a, b in zip(direct, mirrored))


def distill_loss(student: RotatorDecoder, feats, small: torch.Tensor, poses: np.ndarray, target) -> tuple:
    """L1 of the maps (the grid offset in pixels) and of the picture they make of the rest
    image, against the ensemble's. Most of a canvas stands still, so the grid's error counts
    more where the ensemble moves a pixel (up to 5x at 4 px and beyond) and the picture's
    where it changes (train.changed_weight): there the eval's figures are made."""
    _, pr = stage_vectors(DEFAULT_POSE_SPEC, poses)
    flow, color, mask = student(small, *feats, torch.from_numpy(pr))
    t_flow, t_color, t_mask = target
    moving = 1.0 + (FLOW_PX * t_flow.norm(dim=1, keepdim=True)).clamp(max=4.0)
    maps = (FLOW_PX * (moving * (flow - t_flow).abs()).mean() / moving.mean()
            + (color - t_color).abs().mean() + (mask - t_mask).abs().mean())
    out, want = apply_rotation(small, flow, color, mask), apply_rotation(small, t_flow, t_color, t_mask)
    w = changed_weight(small, want, 4.0)
    image = (w * (out - want).abs()).mean()
    flow_px = FLOW_PX * (flow - t_flow).norm(dim=1).mean()
    return maps + 16.0 * image, {"flow_px": float(flow_px), "image": float((out - want).abs().mean())}


def student_from(teacher: Rotator, top: int) -> Rotator:
    """A rotator with a `top`-wide 128-px level: the teacher's encoder (fixed) and every
    decoder layer whose shape matches, so it starts close to the teacher."""
    student = Rotator(top=top)
    own = student.state_dict()
    for k, v in teacher.state_dict().items():
        if k in own and own[k].shape == v.shape:
            own[k] = v.clone()
    student.load_state_dict(own)
    student.encoder.requires_grad_(False)
    return student


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.neural.distill", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", action="append", required=True, help="shard dir[=weight]; repeatable")
    ap.add_argument("--val-data", default=None, help="dir with val/ shards (default: the first --data)")
    ap.add_argument("--teacher", type=Path, required=True, help="compact checkpoint whose rotator is distilled")
    ap.add_argument("--top", type=int, default=16, help="width of the student's 128-px level (teacher: 16)")
    ap.add_argument("--run", type=Path, default=Path("runs/distill"))
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--max-steps", type=int, default=None, help="stop at this step even with time left")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--lr-end", type=float, default=1e-5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--val-every", type=int, default=500)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    morpher, teacher, _ = load_networks(args.teacher)
    teacher.requires_grad_(False)
    student = student_from(teacher, args.top)
    opt = torch.optim.AdamW(student.decoder.parameters(), lr=args.lr, betas=(0.5, 0.999))
    args.run.mkdir(parents=True, exist_ok=True)
    state_path, step = args.run / "state.pt", 0
    if state_path.exists():
        st = torch.load(state_path, map_location="cpu")
        student.load_state_dict(st["rotator"])
        opt.load_state_dict(st["opt"])
        step = st["step"]
        print(f"resumed from {state_path} at step {step}")

    train = ShardSampler(parse_data(args.data), "train", seed=step)
    val_root = args.val_data or next(iter(parse_data(args.data)))
    val = ShardSampler({val_root: 1.0}, "val", seed=1234).batch(32)
    rng = np.random.default_rng([step, 3])
    val_small = F.avg_pool2d(to_tensor(val["rest"]), val["rest"].shape[1] // 128)
    val_poses = random_poses(np.random.default_rng(99), len(val_small))
    val_target = ensemble_maps(teacher, val_small, val_poses)

    def save() -> None:
        compact = {"morpher": morpher.state_dict(), "rotator": student.state_dict(), "step": step,
                   "mirror_distilled": True, "teacher": str(args.teacher), "top": args.top}
        atomic_save({**compact, "opt": opt.state_dict()}, state_path)
        atomic_save(compact, args.run / "ckpt.pt")

    @torch.no_grad()
    def validate() -> None:
        student.eval()
        feats = student.encoder(val_small)
        loss, parts = distill_loss(student.decoder, feats, val_small, val_poses, val_target)
        student.train()
        rec = {"step": step, "val_loss": float(loss), **{f"val_{k}": v for k, v in parts.items()}, "time": time.time()}
        with open(args.run / "log.jsonl", "a") as f:
            f.write(json.dumps(rec) + "\n")
        tqdm.write("VAL " + json.dumps(rec))

    t_end, t0, n0 = time.time() + args.minutes * 60, time.time(), step
    bar = tqdm(total=round(args.minutes * 60), unit="s", desc="distil", mininterval=5.0,
               bar_format="{desc} {percentage:3.0f}%|{bar:20}| {elapsed}<{remaining}{postfix}")
    ema: dict[str, float] = {}
    if step == 0:
        validate()  # where the student starts
    while time.time() < t_end and (args.max_steps is None or step < args.max_steps):
        frac = 1.0 - (t_end - time.time()) / (args.minutes * 60)
        for g in opt.param_groups:
            g["lr"] = decayed_lr(args.lr, args.lr_end, frac)
        b = train.batch(args.batch)
        b = flip_batch(warp_batch(b, rng, 0.3, FULL_KEYS, 8.0), rng, 0.5, FULL_KEYS)
        small = F.avg_pool2d(to_tensor(b["rest"]), b["rest"].shape[1] // 128)
        poses = random_poses(rng, len(small))
        target = ensemble_maps(teacher, small, poses)
        with torch.no_grad():
            feats = student.encoder(small)
        loss, parts = distill_loss(student.decoder, feats, small, poses, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        for k, v in {"loss": float(loss), **parts}.items():
            ema[k] = v if k not in ema else 0.98 * ema[k] + 0.02 * v
        rate = (step - n0) / max(time.time() - t0, 1e-6)
        bar.set_postfix_str(f"step {step} " + " ".join(f"{k}={v:.4f}" for k, v in ema.items()) + f" {rate:.1f} steps/s",
                            refresh=False)
        bar.update(min(round(time.time() - t0), bar.total) - bar.n)
        if step % 200 == 0:
            train.refresh()
        if step % args.save_every == 0:
            save()
        if step % args.val_every == 0:
            validate()
    bar.close()
    save()
    validate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
