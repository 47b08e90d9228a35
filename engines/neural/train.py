"""Train the face morpher and face rotator on dataset shards (PyTorch, CPU or GPU).

    python -m engines.neural.train --data DIR[=WEIGHT] [--data DIR2=WEIGHT] --run runs/main \
        [--minutes 60] [--threads 1] [--only morpher|rotator]

On a 2-core CPU run two processes, `--only morpher --run runs/morpher` and `--only rotator
--run runs/rotator`, one thread each: together they train ~3x faster than one process.

Shows a progress bar over the time budget (step, losses, learning rate, samples/s).
Resumes automatically: the full state (weights + optimiser + step) lives in RUN/state.pt,
written every --save-every steps; the weights-only checkpoint weights/training_checkpoint.pt
(the file committed to git) is updated at the same time, each process replacing only its own
network. With no RUN/state.pt, training starts from that checkpoint when it exists (a fresh
machine), else from scratch. Validation images go to RUN/val_STEP.png, metrics to
RUN/log.jsonl.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from engines.datagen.dataset import ShardSampler
from engines.neural.colour_jitter import jitter_batch
from engines.neural.compose import stage_vectors
from engines.neural.flip_rows import flip_batch
from engines.neural.head_view import HeadViewRotator, load_rotator_state, run_rotator
from engines.neural.model import (MORPH_POSE_DIM, POSE_INPUT_LAYERS, Morpher, Rotator, apply_rotation,
                                  grow_pose_inputs, pose_dim_of)
from engines.neural.shape_warp import CROP_KEYS, FULL_KEYS, warp_batch
from engines.posespec import DEFAULT_POSE_SPEC, HEAD_TURNS

REPO = Path(__file__).resolve().parents[2]
COMPACT_CHECKPOINT = REPO / "weights" / "training_checkpoint.pt"


def to_tensor(batch_u8: np.ndarray) -> torch.Tensor:
    """(N,H,W,4) uint8 straight alpha -> (N,4,H,W) float premultiplied."""
    x = torch.from_numpy(batch_u8).float().permute(0, 3, 1, 2) / 255.0
    return torch.cat([x[:, :3] * x[:, 3:4], x[:, 3:4]], 1)


def changed_weight(a: torch.Tensor, b: torch.Tensor, gain: float, dilate: int = 3) -> torch.Tensor:
    """1 everywhere plus `gain` where a and b differ (dilated): the small regions that move
    (eyes, mouth) must not drown in the unchanged rest of the image."""
    diff = (a - b).abs().amax(1, keepdim=True)
    m = (diff > 0.03).float()
    m = F.max_pool2d(m, 2 * dilate + 1, 1, dilate)
    return 1.0 + gain * m


def grad_l1(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """L1 between image gradients: punishes blur at edges that plain L1 tolerates."""
    dx = lambda t: t[..., :, 1:] - t[..., :, :-1]
    dy = lambda t: t[..., 1:, :] - t[..., :-1, :]
    return (w[..., :, 1:] * (dx(x) - dx(y)).abs()).mean() + (w[..., 1:, :] * (dy(x) - dy(y)).abs()).mean()


def committed_edges(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, reach: int = 2) -> torch.Tensor:
    """Edges of the target the output does not draw within `reach` px, plus edges the output
    draws with none of the target's that near (edge magnitudes of the premultiplied colour).
    A pixel loss is cheapest for a smear where a line's place is uncertain; here a smear
    misses the line in full while a line a pixel or two off costs nothing."""
    def mag(t: torch.Tensor) -> torch.Tensor:
        dx = F.pad(t[..., :, 1:] - t[..., :, :-1], (0, 1, 0, 0))
        dy = F.pad(t[..., 1:, :] - t[..., :-1, :], (0, 0, 0, 1))
        return (dx.abs() + dy.abs()).amax(1, keepdim=True)
    k = 2 * reach + 1
    eo, et = mag(x), mag(y)
    missed = F.relu(et - F.max_pool2d(eo, k, 1, reach))
    extra = F.relu(eo - F.max_pool2d(et, k, 1, reach))
    return (w * (missed + extra)).mean()


def pixel_loss(out: torch.Tensor, target: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Weighted L1 on the pixels and on their gradients (the image loss of both networks)."""
    return (w * (out - target).abs()).mean() + 0.5 * grad_l1(out, target, w)


def morph_inputs(morpher: Morpher, b: dict, device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch's face crops (rest, target) and the morph pose the morpher reads."""
    pm, _ = stage_vectors(DEFAULT_POSE_SPEC, b["pose"])
    pm = pm[:, : morpher.decoder.dec.pose_dim]  # a morpher made before later parameters reads a prefix
    return (to_tensor(b["rest_crop"]).to(device), to_tensor(b["expr_crop"]).to(device),
            torch.from_numpy(pm).to(device))


def morph_loss(morpher: Morpher, b: dict, device, gain: float = 16.0) -> tuple[torch.Tensor, torch.Tensor]:
    rest, target, pm = morph_inputs(morpher, b, device)
    out, _ = morpher(rest, pm)
    return pixel_loss(out, target, changed_weight(rest, target, gain)), out


def keep_old_loss(morpher: Morpher, teacher: Morpher, b: dict, device, known: int,
                  gain: float = 16.0, edge_weight: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Learn the parameters after the first `known` while keeping every older pose as it was.

    Rows that show a new parameter are learnt from their truth; every row, with the new
    parameters set back to rest (network input 0), is held to what the starting morpher
    (`teacher`, reading only the first `known`) renders for it. The whole decoder can then
    change, which weights on the new inputs alone cannot (they shift channels, they cannot
    redraw a lid), while the old poses are anchored to the morpher's own output, not to
    the training rigs' pixels (which would pull it away from what it chose on unseen rigs)."""
    rest, target, pm = morph_inputs(morpher, b, device)
    new = (pm[:, known:].abs() > 1e-6).any(1).float()[:, None, None, None]
    at_rest = pm.clone()
    at_rest[:, known:] = 0.0
    with torch.no_grad():
        feats = morpher.encoder(rest)
    out, _ = morpher.decoder(rest, *feats, pm)
    kept, _ = morpher.decoder(rest, *feats, at_rest)
    with torch.no_grad():
        old, _ = teacher(rest, pm[:, :known])
    w = changed_weight(rest, target, gain) * new
    learn = pixel_loss(out, target, w)
    if edge_weight > 0:
        learn = learn + edge_weight * committed_edges(out, target, w)
    wk = changed_weight(rest, old, gain)
    keep = pixel_loss(kept, old, wk)
    return learn + keep, out


def flow_error_px(flow: torch.Tensor, b: dict, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean end-point error (in pixels of the 128 grid) of a predicted grid offset against the
    true backward flow where the source knows it, and how many pixels that covers."""
    target = torch.from_numpy(b["flow"].astype(np.float32)).permute(0, 3, 1, 2).to(device)
    known = torch.from_numpy(b["flow_mask"].astype(np.float32))[:, None].to(device)
    if target.shape[-1] != flow.shape[-1]:
        raise ValueError(f"flow targets are {target.shape[-1]} px wide, the rotator's grid {flow.shape[-1]}")
    epe = ((flow - target) * (flow.shape[-1] / 2.0)).norm(dim=1, keepdim=True)
    n = known.sum()
    return (epe * known).sum() / n.clamp_min(1.0), n


def rotate_loss(rotator: Rotator, b: dict, device, flow_weight: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Image losses on the warped result; with flow_weight > 0 also the end-point error of the
    grid against the true flow. Pixels alone reward a hedging grid (a blurred blend of where
    things might be); the flow names the one place each pixel came from."""
    rest = to_tensor(b["rest"]).to(device)
    expr = to_tensor(b["expr"]).to(device)
    target = to_tensor(b["posed"]).to(device)
    _, pr = stage_vectors(DEFAULT_POSE_SPEC, b["pose"])
    flow, color, mask, grid128 = run_rotator(rotator, rest, torch.from_numpy(pr).to(device))
    out = apply_rotation(expr, flow, color, mask)
    w = changed_weight(expr, target, 4.0)
    tv = (flow[..., 1:, :] - flow[..., :-1, :]).abs().mean() + (flow[..., :, 1:] - flow[..., :, :-1]).abs().mean()
    loss = pixel_loss(out, target, w) + 0.05 * tv
    if flow_weight > 0 and "flow" in b:
        epe, _ = flow_error_px(grid128, b, device)
        loss = loss + flow_weight * epe
    return loss, out


def psnr_changed(out: torch.Tensor, target: torch.Tensor, rest: torch.Tensor) -> tuple[float, float]:
    """PSNR of engine and of the identity baseline over the changed region (premultiplied)."""
    m = (changed_weight(rest, target, 1.0) > 1.5).float().expand_as(target)
    if m.sum() < 1:
        return float("nan"), float("nan")
    def p(x):
        mse = (((x - target) ** 2) * m).sum() / m.sum()
        return float(10 * torch.log10(1.0 / mse.clamp_min(1e-10)))
    return p(out), p(rest)


def save_grid(path: Path, rows: list[list[torch.Tensor]]) -> None:
    """Rows of premultiplied (4,H,W) tensors -> one PNG over grey."""
    import cv2

    def cell(t: torch.Tensor, size: int) -> np.ndarray:
        t = F.interpolate(t[None], size=(size, size), mode="bilinear", align_corners=False)[0]
        rgb = t[:3] + 0.5 * (1 - t[3:4])
        return (rgb.clamp(0, 1).permute(1, 2, 0).numpy()[..., ::-1] * 255).astype(np.uint8)

    img = np.concatenate([np.concatenate([cell(t, 128) for t in r], 1) for r in rows], 0)
    cv2.imwrite(str(path), img)


def compact_state(morpher: Morpher, rotator: Rotator, step: int) -> dict:
    return {"morpher": morpher.state_dict(), "rotator": rotator.state_dict(), "step": step}


def atomic_save(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def update_compact(path: Path, morpher: Morpher | None, rotator: Rotator | None, step: int) -> None:
    """Write this process's network(s) into the shared compact checkpoint.

    A morpher-only and a rotator-only run can train side by side (one core each) and keep
    one checkpoint file: each replaces only its own part, under a file lock."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        st = torch.load(path, map_location="cpu") if path.exists() else {"step": 0}
        st.setdefault("steps", {})
        if morpher is not None:
            st["morpher"] = {k: v.cpu() for k, v in morpher.state_dict().items()}
            st["steps"]["morpher"] = step
        if rotator is not None:
            st["rotator"] = {k: v.cpu() for k, v in rotator.state_dict().items()}
            st["steps"]["rotator"] = step
            st.pop("mirror_distilled", None)  # trained on pictures: no longer the ensemble's copy
        st["step"] = max(st["steps"].values())
        if "morpher" not in st:
            st["morpher"] = Morpher().state_dict()
        if "rotator" not in st:
            st["rotator"] = Rotator().state_dict()
        atomic_save(st, path)


def parse_turn_scale(items: list[str]) -> dict[str, np.ndarray]:
    """["proc-=1.45,2.5,2.5"] -> {"proc-": array of yaw, pitch, roll factors}."""
    out = {}
    for it in items:
        prefix, _, vals = it.partition("=")
        f = np.array([float(v) for v in vals.split(",")], np.float32)
        if not prefix or f.shape != (3,) or (f <= 0).any():
            raise SystemExit(f"--turn-scale {it!r}: use CHARACTER_PREFIX=YAW,PITCH,ROLL with positive factors")
        out[prefix] = f
    return out


def relabel_turns(b: dict, scales: dict[str, np.ndarray], n: int) -> dict:
    """Re-express the head turns of some sources in the units of the others, keep n rows.

    The same nominal angle moves a procedural head ~1.5x (yaw) to ~2.5x (pitch, roll) as far
    as a typical Live2D rig (measured with optical flow in the head box), so a procedural
    sample of 12 degrees of roll shows what a Live2D rig does at 30. Rows whose rescaled
    angle would leave the PoseSpec range are dropped (b holds spare rows for that)."""
    pose = b["pose"].copy()
    idx = [DEFAULT_POSE_SPEC.names.index(t) for t in HEAD_TURNS]
    lim = np.array([DEFAULT_POSE_SPEC[t].hi for t in HEAD_TURNS], np.float32)
    keep = np.ones(len(pose), bool)
    for prefix, f in scales.items():
        rows = np.char.startswith(b["character"].astype(str), prefix)
        pose[np.ix_(rows, idx)] *= f
        keep &= ~rows | (np.abs(pose[:, idx]) <= lim + 1e-4).all(1)
    sel = np.flatnonzero(keep)[:n]
    return {**{k: v[sel] for k, v in b.items() if k != "pose"}, "pose": pose[sel]}


def decayed_lr(lr: float, lr_end: float, frac: float) -> float:
    """Cosine from lr to lr_end as frac (the share of the time budget used) goes 0 -> 1:
    a plateaued network usually gains again once the step size shrinks."""
    frac = min(max(frac, 0.0), 1.0)
    return lr_end + 0.5 * (lr - lr_end) * (1.0 + math.cos(math.pi * frac))


def parse_data(items: list[str]) -> dict[str, float]:
    out = {}
    for it in items:
        path, _, w = it.partition("=")
        out[path] = float(w) if w else 1.0
    return out


def grown_morpher_state(state: dict) -> tuple[dict, int]:
    """A morpher state dict reading every morph parameter of the current PoseSpec (a checkpoint
    made before the later ones were added reads a prefix of them; the new inputs start at zero
    weight), and how many it read."""
    had = pose_dim_of(state)
    return (grow_pose_inputs(state, MORPH_POSE_DIM - had) if had < MORPH_POSE_DIM else state), had


def learn_new_inputs_only(morpher: Morpher, known: int) -> list[torch.nn.Parameter]:
    """Freeze the morpher except the weights that read the pose parameters after the first
    `known`: at those parameters' defaults (zero) the network then renders exactly as before,
    whatever training does, so adding an expression cannot cost an existing one anything.
    Returns the parameters left to learn (each keeps its old columns by a gradient mask)."""
    extra = MORPH_POSE_DIM - known
    if extra <= 0:
        raise SystemExit(f"--new-inputs-only: the morpher already reads all {MORPH_POSE_DIM} "
                         "morph parameters; nothing is new")
    morpher.requires_grad_(False)
    learn = []
    for layer in POSE_INPUT_LAYERS:
        w = morpher.get_parameter(f"{layer}.weight")
        w.requires_grad_(True)
        keep = torch.zeros_like(w)
        keep[:, -extra:] = 1.0
        w.register_hook(lambda g, keep=keep: g * keep)
        learn.append(w)
    return learn


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="omokage train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", action="append", required=True, help="shard dir[=weight]; repeatable")
    ap.add_argument("--val-data", action="append", default=None, help="dirs with val/ shards (default: --data)")
    ap.add_argument("--run", default="runs/main")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--max-steps", type=int, default=None, help="stop at this step even with time left")
    ap.add_argument("--decay-steps", type=int, default=None, metavar="N",
                    help="with --lr-end: decay over N steps instead of over --minutes, so a training "
                         "spread over several sessions (each resuming the run) follows one schedule")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--lr-end", type=float, default=None,
                    help="cosine-decay the learning rate to this value over --minutes (default: constant)")
    ap.add_argument("--weight-decay", type=float, default=0.0, help="decoupled weight decay (AdamW)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--val-every", type=int, default=1000)
    ap.add_argument("--only", choices=["morpher", "rotator"], default=None,
                    help="train one network (run two processes, one per core, with separate --run dirs)")
    ap.add_argument("--turn-scale", action="append", default=[],
                    help="PREFIX=YAW,PITCH,ROLL: multiply the head turns of characters whose id starts "
                         "with PREFIX (rotator only), e.g. proc-=1.45,2.5,2.5")
    ap.add_argument("--morph-gain", type=float, default=16.0, help="loss weight of changed face pixels")
    ap.add_argument("--shape-warp", type=float, default=0.0, metavar="P",
                    help="share of training rows given a random smooth warp (new face shapes; default 0)")
    ap.add_argument("--shape-warp-px", type=float, default=5.0, metavar="SIGMA",
                    help="how strong that warp is: control-point offsets' standard deviation in canvas px")
    ap.add_argument("--colour-jitter", type=float, default=0.0, metavar="P",
                    help="share of training rows given a random hue turn (new colourings; default 0)")
    ap.add_argument("--flip", type=float, default=0.0, metavar="P",
                    help="share of training rows flipped left-right with the pose mirrored (default 0)")
    ap.add_argument("--flow-weight", type=float, default=0.0, metavar="W",
                    help="weight of the rotator grid's end-point error (128-grid px) against the "
                         "true flow stored in the shards (default 0: image losses only)")
    ap.add_argument("--template", type=Path, default=None, metavar="NPZ",
                    help="motion template the rotator refines (python -m engines.neural.motion_template "
                         "fit); set when a run starts, kept in its checkpoints")
    ap.add_argument("--head-view", action="store_true",
                    help="train the rotator with a second, 2x finer view of the head region "
                         "(engines/neural/head_view.py; starts from --checkpoint's rotator)")
    ap.add_argument("--freeze-base", action="store_true",
                    help="with --head-view: keep the whole-canvas rotator fixed")
    ap.add_argument("--new-inputs-only", action="store_true",
                    help="morpher: learn only the weights of pose parameters the checkpoint's morpher "
                         "did not read (expressions added later); everything it did stays exactly")
    ap.add_argument("--keep-old-poses", action="store_true",
                    help="morpher: learn the parameters the checkpoint's morpher did not read with the "
                         "whole decoder, every row at rest held to that morpher's own output "
                         "(keep_old_loss; the encoder stays fixed)")
    ap.add_argument("--edge-weight", type=float, default=0.0, metavar="W",
                    help="with --keep-old-poses: weight of committed_edges on the rows that show a new "
                         "parameter (a line drawn, not a smear; default 0)")
    ap.add_argument("--checkpoint", type=Path, default=COMPACT_CHECKPOINT,
                    help="compact weights-only checkpoint (the one committed to git)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    morpher, rotator = Morpher().to(device), Rotator().to(device)
    if args.head_view:
        rotator = HeadViewRotator(rotator).to(device)
        if args.freeze_base:  # only the head view learns: its effect alone, on a fixed rotator
            rotator.base.requires_grad_(False)
    # AdamW: with --weight-decay 0 it is plain Adam; decay keeps the rotator from storing
    # each training rig's amplitude in large weights (it generalises worse than it fits).
    opt_m = torch.optim.AdamW(morpher.parameters(), lr=args.lr, betas=(0.5, 0.999), weight_decay=args.weight_decay)
    opt_r = torch.optim.AdamW(rotator.parameters(), lr=args.lr, betas=(0.5, 0.999), weight_decay=args.weight_decay)
    step = 0
    state_path = run / "state.pt"
    known = MORPH_POSE_DIM  # morph parameters the starting morpher read
    if state_path.exists():
        st = torch.load(state_path, map_location=device)
        morpher.load_state_dict(grown_morpher_state(st["morpher"])[0])
        load_rotator_state(rotator, st["rotator"])
        known = st.get("morph_known", MORPH_POSE_DIM)
        step = st["step"]
        print(f"resumed from {state_path} at step {step}")
    elif args.checkpoint.exists():
        st = torch.load(args.checkpoint, map_location=device)
        state, known = grown_morpher_state(st["morpher"])
        morpher.load_state_dict(state)
        load_rotator_state(rotator, st["rotator"])
        step = st.get("steps", {}).get(args.only, st["step"]) if args.only else st["step"]
        print(f"started from {args.checkpoint} (step {step}), fresh optimiser"
              + (f"; the morpher read {known} parameters, grown to {MORPH_POSE_DIM}" if known < MORPH_POSE_DIM else ""))
    teacher = None
    if args.edge_weight > 0 and not args.keep_old_poses:
        raise SystemExit("--edge-weight applies to --keep-old-poses training; add it, or leave --edge-weight out")
    if args.keep_old_poses:
        if args.only != "morpher" or args.new_inputs_only:
            raise SystemExit("--keep-old-poses trains the morpher alone: add --only morpher, "
                             "without --new-inputs-only")
        if known >= MORPH_POSE_DIM:
            raise SystemExit(f"--keep-old-poses: the morpher already reads all {MORPH_POSE_DIM} "
                             "morph parameters; nothing is new")
        if state_path.exists() and "teacher" not in st:
            raise SystemExit(f"--keep-old-poses: {state_path} is a run made without it (no starting "
                             "morpher to hold the old poses to); start a new --run")
        teacher = Morpher(known).to(device)
        teacher.load_state_dict(st["teacher"] if state_path.exists() else st["morpher"])
        teacher.requires_grad_(False).eval()
        morpher.encoder.requires_grad_(False)  # the cached features stay the teacher's
        opt_m = torch.optim.AdamW([p for p in morpher.parameters() if p.requires_grad], lr=args.lr,
                                  betas=(0.5, 0.999), weight_decay=args.weight_decay)
    if args.new_inputs_only:
        if args.only != "morpher":
            raise SystemExit("--new-inputs-only trains the morpher: add --only morpher")
        # No weight decay: it would shrink the frozen columns too.
        opt_m = torch.optim.Adam(learn_new_inputs_only(morpher, known), lr=args.lr, betas=(0.5, 0.999))
    if state_path.exists():
        opt_m.load_state_dict(st["opt_m"])
        opt_r.load_state_dict(st["opt_r"])
        for opt in (opt_r,) if args.new_inputs_only else (opt_m, opt_r):
            for g in opt.param_groups:  # this run's decay, not the saved one
                g["weight_decay"] = args.weight_decay
                g["decoupled_weight_decay"] = True
    if args.template is not None and args.head_view:
        raise SystemExit("--template and --head-view do not combine")
    if args.template is not None and not state_path.exists():
        with np.load(args.template) as z:
            rotator.decoder.template.copy_(torch.from_numpy(z["template"]))
        print(f"rotator motion template from {args.template}")

    train = ShardSampler(parse_data(args.data), "train", seed=step)
    warp_rng = np.random.default_rng([step, 7])
    hue_rng = np.random.default_rng([step, 11])
    flip_rng = np.random.default_rng([step, 13])
    val_roots = parse_data(args.val_data) if args.val_data else parse_data(args.data)
    val = ShardSampler(val_roots, "val", seed=1234)
    turn_scale = parse_turn_scale(args.turn_scale)
    val_batch = relabel_turns(val.batch(48), turn_scale, 16) if turn_scale else val.batch(16)

    def save() -> None:
        atomic_save({**compact_state(morpher, rotator, step), "opt_m": opt_m.state_dict(),
                     "opt_r": opt_r.state_dict(), "morph_known": known,
                     **({"teacher": teacher.state_dict()} if teacher is not None else {})}, state_path)
        update_compact(args.checkpoint, None if args.only == "rotator" else morpher,
                       None if args.only == "morpher" else rotator, step)

    t_end = time.time() + args.minutes * 60
    t0, n0 = time.time(), step
    ema = {}
    # The bar runs over the time budget: training stops on time, not on a step count.
    bar = tqdm(total=round(args.minutes * 60), unit="s", desc=f"train {args.only or 'both'}",
               mininterval=5.0, bar_format="{desc} {percentage:3.0f}%|{bar:20}| {elapsed}<{remaining}{postfix}")
    lr_end = args.lr if args.lr_end is None else args.lr_end
    while time.time() < t_end and (args.max_steps is None or step < args.max_steps):
        frac = (step / args.decay_steps if args.decay_steps
                else 1.0 - (t_end - time.time()) / (args.minutes * 60))
        lr = decayed_lr(args.lr, lr_end, frac)
        for g in opt_m.param_groups + opt_r.param_groups:
            g["lr"] = lr
        # Relabelling drops about two thirds of the procedural rows: draw spares to fill a batch.
        spare = train.batch(3 * args.batch) if turn_scale else None
        b = {k: v[: args.batch] for k, v in spare.items()} if turn_scale else train.batch(args.batch)
        losses = {}
        if args.only != "rotator":
            mb = warp_batch(b, warp_rng, args.shape_warp, CROP_KEYS, args.shape_warp_px)
            mb = flip_batch(jitter_batch(mb, hue_rng, args.colour_jitter, CROP_KEYS), flip_rng, args.flip, CROP_KEYS)
            lm, _ = (keep_old_loss(morpher, teacher, mb, device, known, args.morph_gain, args.edge_weight)
                     if teacher is not None
                     else morph_loss(morpher, mb, device, args.morph_gain))
            opt_m.zero_grad()
            lm.backward()
            opt_m.step()
            losses["morph"] = float(lm.detach())
        if args.only != "morpher":
            rb = relabel_turns(spare, turn_scale, args.batch) if turn_scale else b
            rb = warp_batch(rb, warp_rng, args.shape_warp, FULL_KEYS, args.shape_warp_px)
            rb = flip_batch(jitter_batch(rb, hue_rng, args.colour_jitter, FULL_KEYS), flip_rng, args.flip, FULL_KEYS)
            lr_, _ = rotate_loss(rotator, rb, device, args.flow_weight)
            opt_r.zero_grad()
            lr_.backward()
            opt_r.step()
            losses["rotate"] = float(lr_.detach())
        step += 1
        for k, v in losses.items():
            ema[k] = v if k not in ema else 0.98 * ema[k] + 0.02 * v
        rate = (step - n0) * args.batch / max(time.time() - t0, 1e-6)
        bar.set_postfix_str(f"step {step} " + " ".join(f"{k}={v:.4f}" for k, v in ema.items())
                            + f" lr={lr:.1e} {rate:.1f} samples/s", refresh=False)
        bar.update(min(round(time.time() - t0), bar.total) - bar.n)
        if step % 200 == 0:
            train.refresh()  # pick up shards a running generator has added
        if step % args.save_every == 0:
            save()
        if step % args.val_every == 0:
            validate(morpher, rotator, val_batch, run, step, device)
    bar.close()
    save()
    validate(morpher, rotator, val_batch, run, step, device)
    return 0


@torch.no_grad()
def validate(morpher: Morpher, rotator: Rotator, vb: dict, run: Path, step: int, device) -> dict:
    morpher.eval(); rotator.eval()
    lm, om = morph_loss(morpher, vb, device)
    lr_, orr = rotate_loss(rotator, vb, device)
    if "flow" in vb:
        _, pr = stage_vectors(DEFAULT_POSE_SPEC, vb["pose"])
        *_, grid = run_rotator(rotator, to_tensor(vb["rest"]).to(device), torch.from_numpy(pr).to(device))
        epe, n_known = flow_error_px(grid, vb, device)
    rest_c, expr_c = to_tensor(vb["rest_crop"]), to_tensor(vb["expr_crop"])
    expr, posed = to_tensor(vb["expr"]), to_tensor(vb["posed"])
    pm_e, pm_i = psnr_changed(om.cpu(), expr_c, rest_c)
    pr_e, pr_i = psnr_changed(orr.cpu(), posed, expr)
    rec = {"step": step, "val_morph_loss": float(lm), "val_rotate_loss": float(lr_),
           "morph_psnr_changed": pm_e, "morph_identity": pm_i,
           "rotate_psnr_changed": pr_e, "rotate_identity": pr_i, "time": time.time()}
    if "flow" in vb and n_known > 0:
        rec["rotate_flow_epe_px"] = float(epe)
    with open(run / "log.jsonl", "a") as f:
        f.write(json.dumps(rec) + "\n")
    tqdm.write("VAL " + json.dumps(rec))
    rows = [[rest_c[i], om[i].cpu(), expr_c[i], expr[i], orr[i].cpu(), posed[i]] for i in range(6)]
    save_grid(run / f"val_{step:07d}.png", rows)
    shutil.copy(run / f"val_{step:07d}.png", run / "val_latest.png")
    morpher.train(); rotator.train()
    return rec


if __name__ == "__main__":
    raise SystemExit(main())
