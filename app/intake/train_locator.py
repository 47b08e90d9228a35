"""Train the anime face locator and export it to ONNX (build time only; the app runs the
exported file with onnxruntime and never imports torch).

    python -m app.intake.train_locator --out /tmp/loc/face_locator.onnx --minutes 22
    python -m app.intake.train_locator --out app/intake/face_locator.onnx --minutes 24 \
        --resume /tmp/loc/face_locator.pt --seed 1 --refine-share 0.6
    python -m app.intake.train_locator --train features --from-onnx app/intake/face_locator.onnx \
        --out /tmp/loc/face_locator.onnx --minutes 30 --bank runs/loc/features_bank.npz

Three small CNNs, the classic find-then-refine cascade and a feature finder:
  find     : the whole picture letterboxed to 128x128 -> face outline centre, width, height,
             presence
  refine   : a 64x64 crop around an estimate (side = 2 face widths) -> the correction, and
             whether a face really sits there (the confidence the app reports)
  features : a 128x128 crop where the eyes and mouth should be (side = 1.1 head boxes of the
             convention's framing, app.intake.locate.feature_crop) -> the eyes box and the
             mouth box (what closing the eyes and opening the mouth change), and whether the
             crop really shows them
All go into one ONNX file (one graph, three inputs, three outputs), so there is one file to
ship and verify. --train names the nets to train; the others come from --resume (a .pt this
script wrote) or --from-onnx (an exported locator, its weights read back into torch).

find and refine learn from procedural characters (the face outline is known exactly only
there). features learns from procedural characters in their own drawing styles (a share in
the default style) and from Live2D training rigs at their convention framing (the eyes and
mouth boxes their framing measured), never the validation rigs, never the held-out rig, and
not the rigs named by --withhold (default chitose, izumi, shizuku), so that
app.intake.prepare_eval can measure prepare on five rigs the locator never saw.

Training characters use seeds from TRAIN_SEED0 + seed * characters on (FEATURE_SEED0 for the
features net); measurements use seeds from 5,000,000 (app/intake/evaluate.py), so no measured
character was ever seen here. Each net trains for a wall-clock budget on one torch thread.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from app.intake import scenes
from app.intake.locate import (CROP_FACES, FEATURES, FIND, REFINE, feature_crop, rule_framing)

TRAIN_SEED0 = 1_000_000
FEATURE_SEED0 = 2_000_000
WITHHELD = ("chitose", "izumi", "shizuku")  # Live2D training rigs kept for measuring prepare
PLAIN_SHARE = 0.2  # features bank: characters in the default drawing style (Look())
LIVE2D_SHARE = 0.5  # features samples from Live2D rigs
# The part of a 512 render the features bank keeps (x0, y0, side): the face with room around.
REGION = (64, 0, 384)
NETS = ("find", "refine", "features")
OUTPUTS = {"find": 5, "refine": 5, "features": 9}
SIZES = {"find": FIND, "refine": REFINE, "features": FEATURES}


def _net(size: int, outputs: int = 5, norm: bool = True):
    """norm=False: the same net with each batch norm folded into its convolution (as the
    exported ONNX file holds it), for weights read back from an export."""
    import torch.nn as nn

    def block(i, o, s):
        if not norm:
            return [nn.Conv2d(i, o, 3, s, 1), nn.ReLU(inplace=True)]
        return [nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

    layers = block(3, 16, 2) + block(16, 32, 2) + block(32, 32, 1) + block(32, 64, 2) \
        + block(64, 64, 1) + block(64, 96, 2) + block(96, 128, 2)
    cells = (size // 32) ** 2 * 128
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(cells, 128), nn.ReLU(inplace=True),
                         nn.Linear(128, outputs))


class Bank:
    """Pre-drawn characters (drawing is the slow part: ~25 ms each)."""

    def __init__(self, n: int, seed0: int = TRAIN_SEED0):
        self.items = []
        for i in range(n):
            rgba, box = scenes.character(seed0 + i)
            self.items.append((scenes.pyramid(rgba), box, rgba.shape[1]))

    def pick(self, rng):
        return self.items[int(rng.integers(len(self.items)))]


class FeatureBank:
    """Faces with their eyes and mouth boxes (pixel centres of the kept region): procedural
    characters in random poses and looks, and Live2D training rigs in random expressions,
    part colours and free parameters. Kept in an .npz file, since drawing takes minutes."""

    def __init__(self, images: np.ndarray, boxes: np.ndarray, live2d: np.ndarray):
        self.images, self.boxes, self.live2d = images, boxes, live2d.astype(bool)
        self.pyramids = [scenes.pyramid(im, 2) for im in images]
        self.groups = [np.flatnonzero(~self.live2d), np.flatnonzero(self.live2d)]

    @classmethod
    def build(cls, characters: int, variants: int, seed: int = 0,
              withhold: tuple[str, ...] = WITHHELD, say=print) -> "FeatureBank":
        images, boxes, live2d = [], [], []
        rng = np.random.default_rng(FEATURE_SEED0 + seed)
        t = time.time()
        for i in range(characters):
            rgba, eyes, mouth = procedural_face(FEATURE_SEED0 + seed * characters + i,
                                                rng.random() < PLAIN_SHARE)
            if eyes is None or mouth is None:
                continue
            images.append(_region(rgba))
            boxes.append(_region_boxes(eyes, mouth))
            live2d.append(False)
        say(f"drew {len(images)} procedural faces in {time.time() - t:.0f}s")
        t = time.time()
        for name in live2d_rigs(withhold):
            for rgba, eyes, mouth in live2d_faces(name, variants, rng):
                images.append(_region(rgba))
                boxes.append(_region_boxes(eyes, mouth))
                live2d.append(True)
        say(f"rendered {sum(live2d)} Live2D faces in {time.time() - t:.0f}s")
        return cls(np.stack(images), np.array(boxes, np.float32), np.array(live2d))

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, images=self.images, boxes=self.boxes, live2d=self.live2d)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "FeatureBank":
        d = np.load(path)
        return cls(d["images"], d["boxes"], d["live2d"])

    def pick(self, rng):
        group = self.groups[int(rng.random() < LIVE2D_SHARE)]
        if not len(group):
            group = np.arange(len(self.images))
        i = int(group[int(rng.integers(len(group)))])
        return self.pyramids[i], self.boxes[i], self.images[i].shape[1]


def procedural_face(seed: int, plain: bool):
    """(512 RGBA, eyes box, mouth box) of a random procedural character in a random pose;
    boxes in pixel edges at its head pose."""
    from dataclasses import replace

    from engines.datagen.procedural.identity import sample_identity
    from engines.datagen.procedural.look import Look
    from engines.datagen.procedural.render import draw_character

    rng = np.random.default_rng(seed)
    ident = sample_identity(rng)
    if plain:
        ident = replace(ident, look=Look())
    pose = scenes.random_pose(rng)
    eyes, mouth = scenes.feature_boxes(ident, pose)
    return draw_character(ident, pose), eyes, mouth


def live2d_rigs(withhold: tuple[str, ...] = WITHHELD) -> list[str]:
    """The Live2D rigs the features net may learn from: training rigs with working eyes,
    less the withheld ones (never the validation or the held-out rigs)."""
    from engines.datagen.live2d.models import HUMAN_HELDOUT, HUMAN_TRAIN, HUMAN_VAL

    rigs = [n for n in HUMAN_TRAIN if n not in withhold]
    assert not set(rigs) & set(HUMAN_VAL + HUMAN_HELDOUT)
    return rigs


def live2d_faces(name: str, n: int, rng: np.random.Generator):
    """n renders of a Live2D rig at its convention framing: rest or a light expression, random
    part colours and free parameters; the eyes and mouth boxes its framing measured at rest
    (pixel edges on the 512 canvas)."""
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.augment import Augment
    from engines.datagen.live2d.models import fetch_model

    ch = Live2DCharacter(fetch_model(name))
    f, aug = ch.framing, Augment()
    eyes = tuple(np.array(f.eyes) * f.scale + [f.tx, f.ty, f.tx, f.ty])
    mouth = tuple(np.array(f.mouth) * f.scale + [f.tx, f.ty, f.tx, f.ty])
    for _ in range(n):
        pose = {}
        if rng.random() < 0.5:
            eye = float(rng.choice([1.0, rng.uniform(0, 1)], p=[0.7, 0.3]))
            pose = {"eye_left_open": eye, "eye_right_open": eye,
                    "mouth_open": float(rng.uniform(0, 1) ** 2),
                    "mouth_form": float(rng.uniform(-1, 1))}
            pose = {k: v for k, v in pose.items() if ch.supports(k)}
        yield (ch.render(pose, params=aug.free_params(rng, ch.params),
                         part_colors=aug.part_colors(rng, ch.part_ids)), eyes, mouth)


def _region(rgba: np.ndarray) -> np.ndarray:
    x0, y0, side = REGION
    return np.ascontiguousarray(rgba[y0:y0 + side, x0:x0 + side])


def _region_boxes(eyes, mouth) -> np.ndarray:
    """Edge boxes on the 512 canvas -> pixel-centre boxes in the kept region."""
    x0, y0, _ = REGION
    return np.array([eyes, mouth], np.float64) - 0.5 - np.array([x0, y0, x0, y0])


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


def feature_targets(boxes: np.ndarray, cx: float, cy: float, side: float) -> np.ndarray:
    """Eyes and mouth boxes (pixel centres) as the features net predicts them for a crop of
    `side` px centred on (cx, cy): per box, centre relative to the crop centre and log size,
    in crop sides. Crop pixel j shows x = cx + (j - size / 2) * side / size, so a box centre
    at q in the mirrored crop is at -q - 1 / size in the crop."""
    out = []
    for x0, y0, x1, y1 in boxes:
        out += [((x0 + x1) / 2 - cx) / side, ((y0 + y1) / 2 - cy) / side,
                np.log((x1 - x0) / side), np.log((y1 - y0) / side)]
    return np.array(out)


def feature_sample(rng, bank: FeatureBank):
    """(128x128 RGB crop, target eyes and mouth, presence). The crop is where the convention
    framing of an estimate puts the features: mostly close to the truth (later passes), often
    far off in scale and place (the first pass, from the face outline, whose relation to the
    eyes and mouth differs between artists by a third), sometimes nowhere near a face."""
    pyr, boxes, w = bank.pick(rng)
    boxes = boxes.astype(np.float64)
    flip = np.eye(3)
    if rng.random() < 0.5:
        flip = np.array([[-1.0, 0, w - 1], [0, 1, 0], [0, 0, 1]])
        boxes = np.stack([w - 1 - boxes[:, 2], boxes[:, 1], w - 1 - boxes[:, 0], boxes[:, 3]], 1)
    cx, cy, side = feature_crop(*rule_framing(tuple(boxes[0]), tuple(boxes[1])))
    present = rng.random() > 0.12
    r = rng.random()
    if not present:  # far off: hair, body, background, or the face far too small or big
        if rng.random() < 0.6:
            a = rng.uniform(0, 2 * np.pi)
            cx, cy = np.array([cx, cy]) + rng.uniform(0.7, 2.0) * side * np.array([np.cos(a), np.sin(a)])
        else:
            side *= float(np.exp(rng.choice([rng.uniform(-2.0, -1.3), rng.uniform(1.0, 1.7)])))
    elif r < 0.45:  # a first look
        side *= float(np.exp(rng.uniform(np.log(0.68), np.log(1.5))))
        cx, cy = np.array([cx, cy]) + rng.normal(0, 0.08, 2) * side
    else:  # a later look
        side *= float(np.exp(rng.normal(0, 0.04)))
        cx, cy = np.array([cx, cy]) + rng.normal(0, 0.025, 2) * side
    k = FEATURES / side
    m = np.array([[k, 0, FEATURES / 2 - k * cx], [0, k, FEATURES / 2 - k * cy]])
    crop = scenes.composite(scenes.place(pyr, m @ flip, FEATURES, FEATURES),
                            scenes.background(rng, FEATURES, FEATURES))
    return _augment(rng, crop), feature_targets(boxes, cx, cy, side), float(present)


# Each target's weight: eye centre y, eye width and mouth centre y set the framing.
FEATURE_WEIGHTS = np.array([1.0, 2.0, 2.0, 0.5, 1.0, 2.0, 0.5, 0.5])


def _batch(fn, rng, bank, n):
    xs, ts, ps = zip(*(fn(rng, bank) for _ in range(n)))
    import torch

    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).float() / 255.0
    return x, torch.tensor(np.stack(ts), dtype=torch.float32), torch.tensor(ps)


def train_one(net, fn, bank, seconds: float, seed: int, label: str, lr: float = 2e-3,
              weights: np.ndarray | None = None):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    wt = None if weights is None else torch.tensor(weights, dtype=torch.float32)
    net.train()
    t0, step, ema = time.time(), 0, None
    while time.time() - t0 < seconds:
        frac = (time.time() - t0) / seconds
        for g in opt.param_groups:
            g["lr"] = lr * (0.5 * (1 + np.cos(np.pi * frac))) + 2e-5
        x, t, p = _batch(fn, rng, bank, 32)
        out = net(x)
        pos = p > 0.5
        n = t.shape[1]
        if pos.any():
            err = F.smooth_l1_loss(out[pos, :n] * 8, t[pos] * 8, reduction="none")
            reg = (err * wt).mean() / wt.mean() if wt is not None else err.mean()
        else:
            reg = out.sum() * 0
        loss = reg + 0.3 * F.binary_cross_entropy_with_logits(out[:, n], p)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        step += 1
        if step % 200 == 0:
            print(f"{label} step {step} {time.time() - t0:.0f}s loss {ema:.4f}", flush=True)
    return net.eval()


def nets_from_onnx(path: Path, names=NETS) -> dict:
    """The nets of an exported locator as torch modules (batch norms folded, as exported),
    checked to give the file's outputs."""
    import onnx
    import onnxruntime as ort
    import torch
    from onnx import numpy_helper

    model = onnx.load(str(path))
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    inputs = [i.name for i in model.graph.input]
    outputs = [o.name for o in model.graph.output]
    out = {}
    for name, inp, outp in zip(NETS, inputs, outputs):
        if name not in names:
            continue
        chain, node = [], producer[outp]  # walk back from the output to the input
        while True:
            chain.append(node)
            src = next((i for i in node.input if i in producer), None)
            if src is None:
                break
            node = producer[src]
        chain.reverse()
        assert chain[0].input[0] == inp, (name, chain[0].input)
        net = _net(SIZES[name], init[chain[-1].input[1]].shape[0], norm=False)
        layers = [m for m in net if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        weighted = [n for n in chain if n.op_type in ("Conv", "Gemm")]
        assert len(layers) == len(weighted), (name, len(layers), len(weighted))
        with torch.no_grad():
            for layer, node in zip(layers, weighted):
                w = init[node.input[1]]
                attrs = {a.name: a.i for a in node.attribute}
                if node.op_type == "Gemm" and not attrs.get("transB", 0):
                    w = w.T
                layer.weight.copy_(torch.from_numpy(np.array(w)))
                layer.bias.copy_(torch.from_numpy(np.array(init[node.input[2]])))
        out[name] = net.eval()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feed = {i.name: rng.random((2, *i.shape[1:]), dtype=np.float32) for i in sess.get_inputs()}
    ref = sess.run(None, feed)
    for (name, net), x, y in zip(((n, out.get(n)) for n in NETS), feed.values(), ref):
        if net is not None:
            with torch.no_grad():
                got = net(torch.from_numpy(x)).numpy()
            assert np.abs(got - y).max() < 1e-3, (name, np.abs(got - y).max())
    return out


def export(nets: dict, out: Path) -> None:
    import torch

    names = [n for n in NETS if n in nets]
    inputs = {"find": "frame", "refine": "crops", "features": "face_crops"}

    class All(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.nets = torch.nn.ModuleList(nets[n].eval() for n in names)

        def forward(self, *xs):
            return tuple(net(x) for net, x in zip(self.nets, xs))

    m = All().eval()
    tmp = out.with_suffix(".tmp.onnx")
    args = tuple(torch.zeros(1, 3, SIZES[n], SIZES[n]) for n in names)
    # A batch axis of its own per net: the app runs one net at a time, the others on empty
    # batches, which a shared axis name would forbid.
    axes = {inputs[n]: {0: f"n_{n}"} for n in names} | {n: {0: f"n_{n}"} for n in names}
    torch.onnx.export(m, args, str(tmp), input_names=[inputs[n] for n in names],
                      output_names=names, dynamic_axes=axes, opset_version=17, dynamo=False)
    tmp.replace(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("face_locator.onnx"))
    ap.add_argument("--train", default="find,refine,features",
                    help="nets to train, comma-separated (the others come from --resume or "
                         "--from-onnx)")
    ap.add_argument("--characters", type=int, default=1500,
                    help="procedural characters drawn for find and refine")
    ap.add_argument("--feature-characters", type=int, default=1000,
                    help="procedural characters drawn for features")
    ap.add_argument("--live2d-variants", type=int, default=120,
                    help="renders of each Live2D training rig for features")
    ap.add_argument("--withhold", default=",".join(WITHHELD),
                    help="Live2D training rigs kept out of the features net (for measuring)")
    ap.add_argument("--bank", type=Path, default=None,
                    help="features bank .npz: read if it exists, else drawn and written")
    ap.add_argument("--minutes", type=float, default=20.0, help="training time, all nets")
    ap.add_argument("--resume", type=Path, default=None,
                    help="continue from a .pt written by an earlier run (lower learning rate)")
    ap.add_argument("--from-onnx", type=Path, default=None,
                    help="take the nets not trained from this exported locator")
    ap.add_argument("--seed", type=int, default=0, help="sampling seed (use another to resume)")
    ap.add_argument("--refine-share", type=float, default=0.5,
                    help="share of the find+refine time given to the refine net")
    ap.add_argument("--features-share", type=float, default=0.4,
                    help="share of the time given to the features net when training it too")
    args = ap.parse_args(argv)
    train = [n.strip() for n in args.train.split(",") if n.strip()]
    if not train or set(train) - set(NETS):
        ap.error(f"--train: name some of {', '.join(NETS)}")
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    nets, norm, lr = {}, {}, 2e-3
    if args.from_onnx:
        nets.update(nets_from_onnx(args.from_onnx, [n for n in NETS if n not in train]))
        norm.update({n: False for n in nets})
    if args.resume:
        state = torch.load(args.resume)
        for n in NETS:
            if n in state:
                nets[n] = _net(SIZES[n], OUTPUTS[n], state.get("norm", {}).get(n, True))
                nets[n].load_state_dict(state[n])
                norm[n] = state.get("norm", {}).get(n, True)
        lr = 7e-4
    for n in train:
        if n not in nets:
            nets[n], norm[n] = _net(SIZES[n], OUTPUTS[n]), True
    missing = [n for n in NETS if n not in nets]
    if missing:
        ap.error(f"no weights for {', '.join(missing)}: train them, or give --resume/--from-onnx")
    secs = args.minutes * 60
    fshare = args.features_share if "features" in train and len(train) > 1 else float(
        "features" in train)
    if "find" in train or "refine" in train:
        t = time.time()
        bank = Bank(args.characters, TRAIN_SEED0 + args.seed * args.characters)
        print(f"drew {args.characters} characters in {time.time() - t:.0f}s", flush=True)
        rest = secs * (1 - fshare)
        both = "find" in train and "refine" in train
        if "find" in train:
            share = 1 - args.refine_share if both else 1.0
            nets["find"] = train_one(nets["find"], find_sample, bank, rest * share,
                                     1 + 10 * args.seed, "find", lr)
        if "refine" in train:
            share = args.refine_share if both else 1.0
            nets["refine"] = train_one(nets["refine"], refine_sample, bank, rest * share,
                                       2 + 10 * args.seed, "refine", lr)
        del bank
    if "features" in train:
        withhold = tuple(n.strip() for n in args.withhold.split(",") if n.strip())
        if args.bank and args.bank.exists():
            fbank = FeatureBank.load(args.bank)
            print(f"read {len(fbank.images)} faces from {args.bank}", flush=True)
        else:
            fbank = FeatureBank.build(args.feature_characters, args.live2d_variants, args.seed,
                                      withhold)
            if args.bank:
                fbank.save(args.bank)
        nets["features"] = train_one(nets["features"], feature_sample, fbank, secs * fshare,
                                     3 + 10 * args.seed, "features", lr, FEATURE_WEIGHTS)
    state = {n: nets[n].state_dict() for n in NETS}
    state["norm"] = norm
    torch.save(state, args.out.with_suffix(".pt"))
    export(nets, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
