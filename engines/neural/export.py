"""Export trained weights to ONNX files + manifest in weights/ (needs torch).

    python -m engines.neural.export [--checkpoint weights/training_checkpoint.pt] [--out weights]
        [--rotator-from runs/X/ckpt.pt] [--metrics eval.json] [--training-info info.json]

Each network is exported as an encoder (run once per character) and a decoder (per frame),
checked against PyTorch on random inputs, and listed in manifest.json with its sha256.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from engines.neural.manifest import MORPHER_OUTPUTS, ROTATOR_OUTPUTS
from engines.neural.model import FoldedPoseDecoder, load_networks, pose_dim_of
from engines.neural.runtime import sha256_file, write_manifest
from engines.neural.train import COMPACT_CHECKPOINT
from engines.posespec import DEFAULT_POSE_SPEC, stage_prefix

FEATS = ["f1", "f2", "f3", "f4"]
FILES = {
    "morpher_encoder": "morpher_encoder.onnx",
    "morpher_decoder": "morpher_decoder.onnx",
    "rotator_encoder": "rotator_encoder.onnx",
    "rotator_decoder": "rotator_decoder.onnx",
}
ENGINE_NAME = "omokage-neural-v1"


def _export(module: torch.nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.onnx.export(module, args, str(tmp), input_names=inputs, output_names=outputs,
                      opset_version=17, dynamo=False)
    os.replace(tmp, path)


def _check(path: Path, module: torch.nn.Module, args: tuple, inputs: list[str]) -> float:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {n: a.numpy() for n, a in zip(inputs, args)})
    with torch.no_grad():
        want = module(*args)
    want = want if isinstance(want, (tuple, list)) else (want,)
    return max(float(np.abs(g - w.numpy()).max()) for g, w in zip(got, want))


# Decoders written with the pose folded into a bias map per level (model.FoldedPoseDecoder:
# the same function). Measured in one run, one onnxruntime thread: the rotator decoder takes
# 0.86x the time folded, the morpher decoder 1.03x, so only the rotator is folded.
FOLDED = ("rotator",)


class _MorphMaps(torch.nn.Module):
    """The morpher decoder up to its maps (alpha, colour, flow): the runtime warps and blends."""

    def __init__(self, dec: torch.nn.Module) -> None:
        super().__init__()
        self.dec = dec

    def forward(self, rest, f1, f2, f3, f4, pose):
        return self.dec.maps(rest, f1, f2, f3, f4, pose)


def trained_digest(net: torch.nn.Module) -> str:
    """sha256 of a network's trained tensors: the same network whatever graph it is written as."""
    h = hashlib.sha256()
    for k, v in sorted(net.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def export(checkpoint: Path, out: Path, metrics: dict | None = None, training: dict | None = None,
           rotator_from: Path | None = None, fold: tuple[str, ...] = FOLDED) -> dict:
    """rotator_from: take the rotator from this checkpoint instead (one trained alone with
    `train --only rotator`, beside the morpher of `checkpoint`). fold: the networks whose
    decoders are written as model.FoldedPoseDecoder computes them (the same function)."""
    morpher, rotator, st = load_networks(checkpoint)
    distilled = bool(st.get("mirror_distilled", False))
    if rotator_from is not None:
        _, rotator, rst = load_networks(rotator_from)
        st, distilled = {**st, "step": rst["step"]}, bool(rst.get("mirror_distilled", False))
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    img = torch.rand(1, 4, 128, 128)
    img[:, :3] *= img[:, 3:4]
    errors = {}
    # The manifest lists exactly the parameters the networks read: weights made before later
    # parameters were added keep offering only theirs.
    dims = {"morpher": pose_dim_of(morpher.state_dict()), "rotator": pose_dim_of(rotator.state_dict())}
    spec = stage_prefix(DEFAULT_POSE_SPEC, dims["morpher"], dims["rotator"])
    for name, net, outs in (
        ("morpher", morpher, list(MORPHER_OUTPUTS)),
        ("rotator", rotator, list(ROTATOR_OUTPUTS)),
    ):
        pose_dim = dims[name]
        enc_path, dec_path = out / FILES[f"{name}_encoder"], out / FILES[f"{name}_decoder"]
        _export(net.encoder, (img,), enc_path, ["image"], FEATS)
        errors[f"{name}_encoder"] = _check(enc_path, net.encoder, (img,), ["image"])
        with torch.no_grad():
            feats = net.encoder(img)
        pose = torch.rand(1, pose_dim) * 2 - 1
        dec = _MorphMaps(net.decoder) if name == "morpher" else net.decoder
        args = (img, *feats, pose)
        names = ["image", *FEATS, "pose"]
        trained = net.decoder.dec
        if name in fold:
            net.decoder.dec = FoldedPoseDecoder(trained)
        _export(dec, args, dec_path, names, outs)
        net.decoder.dec = trained
        errors[f"{name}_decoder"] = _check(dec_path, dec, args, names)  # against the trained layout
    bad = {k: v for k, v in errors.items() if v > 1e-3}
    if bad:
        raise RuntimeError(f"ONNX export does not match PyTorch: {bad}")
    old = {}
    if (out / "manifest.json").exists():
        old = json.loads((out / "manifest.json").read_text())
    manifest = {
        "engine": ENGINE_NAME,
        "pose_spec": spec.to_json(),
        "files": {k: {"path": v, "sha256": sha256_file(out / v), "bytes": (out / v).stat().st_size}
                  for k, v in FILES.items()},
        "export_max_abs_error": errors,
        "trained_sha256": {"morpher": trained_digest(morpher), "rotator": trained_digest(rotator)},
        "training": training if training is not None else old.get("training", {}) | {"step": st["step"]},
        "metrics": metrics if metrics is not None else old.get("metrics", {}),
    }
    if distilled:  # the rotator decoder already averages the mirror pass (distill.py)
        manifest["mirror_distilled"] = True
    # A turn calibration says how far the rotator turns a head: kept only if the rotator is
    # unchanged (a new morpher does not move heads; the same trained rotator written as
    # another graph is unchanged), or if only its decoder changed to one distilled from it
    # (it gives the same maps for the same pose, so the same factors).
    same = {k for k, v in manifest["files"].items() if old.get("files", {}).get(k, {}).get("sha256") == v["sha256"]}
    same_rotator = old.get("trained_sha256", {}).get("rotator") == manifest["trained_sha256"]["rotator"]
    if "turn_scale" in old and ({"rotator_encoder", "rotator_decoder"} <= same or same_rotator
                                or (distilled and "rotator_encoder" in same)):
        manifest["turn_scale"] = old["turn_scale"]
    write_manifest(out, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.neural.export")
    ap.add_argument("--checkpoint", type=Path, default=COMPACT_CHECKPOINT)
    ap.add_argument("--out", type=Path, default=COMPACT_CHECKPOINT.parent)
    ap.add_argument("--metrics", type=Path, default=None, help="eval JSON to store in the manifest")
    ap.add_argument("--training-info", type=Path, default=None, help="JSON describing the training data")
    ap.add_argument("--rotator-from", type=Path, default=None,
                    help="the rotator of this checkpoint (trained alone) with --checkpoint's morpher")
    ap.add_argument("--fold", default=",".join(FOLDED),
                    help="comma-separated networks (morpher, rotator) whose decoders are written with the "
                         "pose folded into a bias map per level (the same function; model.FoldedPoseDecoder); "
                         f"'' for none (default: {','.join(FOLDED)})")
    args = ap.parse_args(argv)
    metrics = json.loads(args.metrics.read_text()) if args.metrics else None
    training = json.loads(args.training_info.read_text()) if args.training_info else None
    fold = tuple(n for n in args.fold.split(",") if n)
    if set(fold) - {"morpher", "rotator"}:
        ap.error(f"--fold takes morpher and/or rotator, got {args.fold!r}")
    m = export(args.checkpoint, args.out, metrics, training, args.rotator_from, fold)
    print(json.dumps({"files": m["files"], "export_max_abs_error": m["export_max_abs_error"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
