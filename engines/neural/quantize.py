"""int8 copies of the per-frame decoders, made with onnxruntime's own static quantisation.

    python -m engines.neural.quantize            # weights/ of this checkout
    python -m engines.neural.quantize --weights DIR [--characters 12] [--poses 24]

The two decoders run on every frame; the encoders run once per character, so only the
decoders are quantised. Weights are int8 per output channel, activations uint8 with ranges
calibrated on what the decoders really see at run time: the encoder features of real
characters (the default character and procedural training characters, and their mirror
images for the rotator's ensemble pass) with poses drawn over the whole range render() can
give them (generated characters unscaled, other art by the turn factors). The result is
QDQ (QuantizeLinear/DequantizeLinear around each Conv), which onnxruntime fuses into
integer convolutions when it loads the file.

Writes DIR/morpher_decoder_int8.onnx, DIR/rotator_decoder_int8.onnx and DIR/int8.json, which
records each file's sha256 and the sha256 of the float network it was made from. The runtime
uses an int8 file only when both still match, so after the float weights are retrained or
re-exported the old int8 files are ignored (float is used) until this command is run again.
Every file is written atomically (temp file in the same folder, then os.replace).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from engines.neural.runtime import sha256_file

QUANTISED = ("morpher_decoder", "rotator_decoder")
INT8_MANIFEST = "int8.json"


def int8_name(network: str) -> str:
    return f"{network}_int8.onnx"




def _atomic_write_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private; weights are read by everyone
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def calibration_characters(n: int) -> list[tuple[str, np.ndarray]]:
    """The default character plus n-1 procedural *training* characters (the validation ids
    that `omokage eval --procedural-val` scores are never used here)."""
    from PIL import Image

    from engines.datagen.procedural import draw_character, identity_for
    from engines.resources import default_character

    chars = [("default", np.asarray(Image.open(default_character()).convert("RGBA")))]
    for i in range(max(0, n - 1)):
        cid = f"proc-{i * 37:06d}"  # spread over the training ids
        chars.append((cid, draw_character(identity_for(cid), {})))
    return chars


def calibration_poses(spec, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, P) raw pose values: half with every parameter anywhere in its range (the extremes
    set the ranges), half live-like (each parameter moved with probability 0.3, else rest)."""
    lo = np.array([p.lo for p in spec.params], np.float32)
    hi = np.array([p.hi for p in spec.params], np.float32)
    rest = spec.to_vector({})
    out = rng.uniform(lo, hi, size=(n, len(lo))).astype(np.float32)
    sparse = rng.random((n, len(lo))) > 0.3
    half = np.arange(n) % 2 == 1
    out[half] = np.where(sparse[half], rest, out[half])
    return out


def calibration_feeds(engine, characters, poses_per_character: int, seed: int = 0
                      ) -> dict[str, list[dict[str, np.ndarray]]]:
    """network -> list of input dicts, built exactly as NeuralEngine.render() builds them."""
    from engines.neural.compose import stage_vectors

    rng = np.random.default_rng(seed)
    spec = engine.pose_spec
    feeds: dict[str, list[dict]] = {k: [] for k in QUANTISED}
    for _, img in characters:
        prep = engine.prepare(img)
        # Generated characters are posed unscaled (render(generated=True)), art from elsewhere
        # by the turn_scale factors: calibrate on the wider of the two, or the ranges clip the
        # far turns of one of them (on the factors alone, 0.8 for roll, the int8 decoders cost
        # generated characters 1.06 dB in roll).
        poses = calibration_poses(spec, poses_per_character, rng) * np.maximum(engine._pose_gain, 1.0)
        pm, pr = stage_vectors(spec, poses)
        _, pr_m = stage_vectors(spec, spec.mirrored_vectors(poses))
        mfeat = {f"f{i+1}": f for i, f in enumerate(prep.morph_feats)}
        rfeat = {f"f{i+1}": f for i, f in enumerate(prep.rot_feats)}
        rfeat_m = {f"f{i+1}": f for i, f in enumerate(prep.rot_feats_m)}
        for j in range(len(poses)):
            feeds["morpher_decoder"].append({"image": prep.crop, "pose": pm[j:j + 1], **mfeat})
            feeds["rotator_decoder"].append({"image": prep.small, "pose": pr[j:j + 1], **rfeat})
            feeds["rotator_decoder"].append({"image": prep.small_m, "pose": pr_m[j:j + 1], **rfeat_m})
    return feeds


class _Reader:
    """onnxruntime's CalibrationDataReader over a list of feeds."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]) -> None:
        self._it: Iterator = iter(feeds)

    def get_next(self):
        return next(self._it, None)

    def rewind(self) -> None:  # not used by quantize_static; kept for the interface
        pass


def output_convs(model_path: Path, n: int = 1) -> list[str]:
    """The last `n` Conv nodes in graph order (n=1: the one that makes the outputs). They stay float:
    their outputs are the flow grid, colour, mask and blend logits themselves, where an
    int8 step is visible (quantised, the rotator's grid moved pixels by ~1.6 px on average
    at 512x512; float, by ~0.15 px), and they are a small share of the time."""
    import onnx

    convs = [n.name for n in onnx.load(str(model_path)).graph.node if n.op_type == "Conv"]
    return convs[len(convs) - n:] if n > 0 else []


def pose_convs(model_path: Path) -> list[str]:
    """The Conv nodes whose input concatenates the pose (broadcast over the image) with
    image features. One uint8 scale covers that whole input, and the features' range is
    far wider than the pose's -1..1, so the pose would be read in coarse steps (the
    morpher's mouth lost 0.6 dB changed-region gain that way); these stay float."""
    import onnx

    graph = onnx.load(str(model_path)).graph
    made_by = {o: n for n in graph.node for o in n.output}

    def from_pose(t: str, seen: set) -> bool:
        if t == "pose":
            return True
        n = made_by.get(t)
        if n is None or t in seen or n.op_type == "Conv":  # the pose itself, not features made from it
            return False
        seen.add(t)
        return any(from_pose(i, seen) for i in n.input)

    out = []
    for n in graph.node:
        src = made_by.get(n.input[0]) if n.op_type == "Conv" else None
        if src is not None and src.op_type == "Concat" and any(from_pose(i, set()) for i in src.input):
            out.append(n.name)
    return out


def quantize_network(float_path: Path, out_path: Path, feeds: list[dict], method: str = "minmax",
                     per_channel: bool = True, exclude: tuple[str, ...] | None = None,
                     keep_float: int = 1, float_pose: bool = False) -> None:
    """Static QDQ quantisation of one decoder (int8 per-channel weights, uint8 activations).
    exclude: Conv node names kept float (None: the last `keep_float` Convs)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
    with tempfile.TemporaryDirectory(prefix="omokage-quant-") as tmp:
        pre = Path(tmp) / "pre.onnx"
        # Shape inference and constant folding first, as onnxruntime recommends.
        quant_pre_process(str(float_path), str(pre), skip_symbolic_shape=True)
        q = Path(tmp) / "q.onnx"
        quantize_static(
            str(pre), str(q), _Reader(feeds),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["Conv"],  # the cost is in the convolutions; the grid/colour maths stays float
            per_channel=per_channel,
            nodes_to_exclude=list(_float_convs(pre, keep_float, float_pose) if exclude is None else exclude),
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=methods[method],
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )
        _atomic_write_bytes(out_path, q.read_bytes())


def _float_convs(path: Path, keep_float: int, float_pose: bool) -> list[str]:
    names = output_convs(path, keep_float)
    return names + [n for n in pose_convs(path) if n not in names] if float_pose else names


def quantize_weights(weights: Path | None = None, characters: int = 12, poses: int = 24,
                     method: str = "minmax", per_channel: bool = True, keep_float: int = 1,
                     float_pose: bool = False, log=print) -> dict:
    """Quantise both decoders of `weights` and write int8.json; returns its content."""
    from engines.neural.manifest import read_manifest
    from engines.neural.runtime import WEIGHTS_DIR, NeuralEngine

    wd = Path(weights) if weights else WEIGHTS_DIR
    manifest, _, paths = read_manifest(wd)
    # The float engine (checked checksums) makes the calibration inputs.
    engine = NeuralEngine.load(wd, threads=1, int8=False)
    t0 = time.perf_counter()
    chars = calibration_characters(characters)
    feeds = calibration_feeds(engine, chars, poses)
    log(f"calibration: {len(chars)} characters x {poses} poses "
        f"({', '.join(len(v).__str__() + ' ' + k for k, v in feeds.items())} inputs) "
        f"in {time.perf_counter() - t0:.1f} s")
    record = {"made_by": "python -m engines.neural.quantize", "format": "QDQ",
              "weights": "int8 per-channel" if per_channel else "int8 per-tensor",
              "activations": "uint8", "float_convs": f"the last {keep_float} Conv of each decoder"
              + (" and those reading the pose" if float_pose else ""), "calibration": {"method": method, "characters": [c for c, _ in chars],
                                                      "poses_per_character": poses},
              "files": {}}
    for net in QUANTISED:
        out = wd / int8_name(net)
        t0 = time.perf_counter()
        quantize_network(paths[net], out, feeds[net], method, per_channel, keep_float=keep_float,
                         float_pose=float_pose)
        record["files"][net] = {"path": out.name, "sha256": sha256_file(out), "bytes": out.stat().st_size,
                                "source_sha256": manifest["files"][net]["sha256"]}
        log(f"{net}: {paths[net].stat().st_size:,} -> {out.stat().st_size:,} bytes ({out.name}) "
            f"in {time.perf_counter() - t0:.1f} s")
    _atomic_write_bytes(wd / INT8_MANIFEST, json.dumps(record, indent=1).encode())
    log(f"wrote {wd / INT8_MANIFEST}")
    return record


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.neural.quantize", description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, default=None, help="weights folder (default: the shipped one)")
    ap.add_argument("--characters", type=int, default=12, help="calibration characters (default + procedural)")
    ap.add_argument("--poses", type=int, default=24, help="random poses per character")
    ap.add_argument("--method", choices=("minmax", "entropy", "percentile"), default="minmax")
    ap.add_argument("--keep-float", type=int, default=1, metavar="N",
                    help="keep the last N convolutions of each decoder in float (the output layers)")
    ap.add_argument("--float-pose", action="store_true",
                    help="keep the convolutions that read the pose in float (finer pose steps, less speed-up)")
    ap.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor instead of per channel")
    args = ap.parse_args(argv)
    if args.characters < 1 or args.poses < 1 or args.keep_float < 0:
        ap.error("--characters and --poses must be at least 1, --keep-float at least 0")
    quantize_weights(args.weights, args.characters, args.poses, args.method, not args.per_tensor, args.keep_float,
                     args.float_pose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
