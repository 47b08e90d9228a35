"""The ONNX runtime matches the PyTorch model it was exported from (the committed checkpoint)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from engines.neural.compose import premultiply, stage_vectors, unpremultiply  # noqa: E402
from engines.neural.export import export  # noqa: E402
from engines.neural.model import Morpher, Rotator, apply_rotation, load_networks  # noqa: E402
from engines.neural.runtime import NeuralEngine  # noqa: E402
from engines.neural.train import COMPACT_CHECKPOINT  # noqa: E402
from engines.convention import MORPH_BOX  # noqa: E402

REPO = Path(__file__).resolve().parents[3]


def _character() -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(REPO / "assets" / "default_character.png").convert("RGBA"))


def test_onnx_render_matches_pytorch(tmp_path) -> None:
    checkpoint = tmp_path / "checkpoint.pt"  # a copy: a running training may rewrite the original
    checkpoint.write_bytes(COMPACT_CHECKPOINT.read_bytes())
    export(checkpoint, tmp_path)  # re-export the committed checkpoint
    engine = NeuralEngine.load(tmp_path, threads=1, mirror_ensemble=False)  # one pass, as PyTorch below
    engine.pose_tables = None  # the decoders every frame, not the maps baked from them
    morpher, rotator, _ = load_networks(checkpoint)
    img = _character()
    pose = {"eye_left_open": 0.2, "mouth_open": 0.7, "head_yaw": 18.0, "head_pitch": -6.0}
    out = engine.render(engine.prepare(img), pose)

    spec = engine.pose_spec
    pm, pr = stage_vectors(spec, spec.to_vector(pose)[None])
    x = torch.from_numpy(premultiply(img)).permute(2, 0, 1)[None]
    x0, y0, x1, y1 = MORPH_BOX
    with torch.no_grad():
        morphed, _ = morpher(x[..., y0:y1, x0:x1], torch.from_numpy(pm))
        x = x.clone()
        x[..., y0:y1, x0:x1] = morphed
        small = F.interpolate(torch.from_numpy(premultiply(img)).permute(2, 0, 1)[None], size=(128, 128), mode="area")
        flow, color, mask = rotator(small, torch.from_numpy(pr))
        ref = unpremultiply(apply_rotation(x, flow, color, mask)[0].permute(1, 2, 0).numpy())
    visible = ref[..., 3] > 64
    diff = np.abs(ref.astype(int) - out.astype(int))[visible]
    # uint8 compositing at 512 vs float in PyTorch: small rounding differences only.
    assert diff.mean() < 1.5 and np.percentile(diff, 99.9) < 24


def test_a_rotator_trained_alone_exports_beside_the_other_checkpoints_morpher(tmp_path) -> None:
    base = tmp_path / "base.pt"
    base.write_bytes(COMPACT_CHECKPOINT.read_bytes())
    st = torch.load(base, map_location="cpu")
    torch.manual_seed(1)
    alone = tmp_path / "alone.pt"  # a fresh rotator, as `train --only rotator` from scratch saves it
    torch.save({**st, "rotator": Rotator().state_dict(), "step": 123}, alone)
    plain = export(base, tmp_path / "plain")
    mixed = export(base, tmp_path / "mixed", rotator_from=alone)
    for name in ("morpher_encoder", "morpher_decoder"):
        assert mixed["files"][name]["sha256"] == plain["files"][name]["sha256"]
    for name in ("rotator_encoder", "rotator_decoder"):
        assert mixed["files"][name]["sha256"] != plain["files"][name]["sha256"]
    assert mixed["training"]["step"] == 123


def test_a_turn_calibration_stays_with_the_rotator_it_was_measured_on(tmp_path) -> None:
    base = tmp_path / "base.pt"
    base.write_bytes(COMPACT_CHECKPOINT.read_bytes())
    st = torch.load(base, map_location="cpu")
    torch.manual_seed(2)
    new_morpher, new_rotator = tmp_path / "m.pt", tmp_path / "r.pt"
    torch.save({**st, "morpher": Morpher().state_dict()}, new_morpher)
    torch.save({**st, "rotator": Rotator().state_dict()}, new_rotator)
    out = tmp_path / "weights"
    export(base, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["turn_scale"] = {"head_yaw": 0.7}  # as turn_calibration writes it
    (out / "manifest.json").write_text(json.dumps(manifest))
    # a new morpher does not change how far heads turn ...
    assert export(new_morpher, out)["turn_scale"] == {"head_yaw": 0.7}
    # ... nor does the same rotator written as another graph (pose folded or not) ...
    unfolded = export(base, out, fold=())
    assert unfolded["turn_scale"] == {"head_yaw": 0.7}
    assert unfolded["files"]["rotator_decoder"]["sha256"] != manifest["files"]["rotator_decoder"]["sha256"]
    # ... a new rotator does: its calibration is measured again
    assert "turn_scale" not in export(new_rotator, out)


def test_opencv_applies_the_morpher_maps_as_pytorch_does() -> None:
    """The runtime warps and blends the morpher's maps with OpenCV; model.MorpherDecoder does
    it with grid_sample (bilinear, border padding). Flows up to the morpher's largest warp,
    so the border is sampled too."""
    from engines.neural.model import MORPH_MAX_WARP, identity_grid
    from engines.neural.runtime import apply_morph

    g = torch.Generator().manual_seed(3)
    crop = torch.rand(1, 4, 128, 128, generator=g)
    crop[:, :3] *= crop[:, 3:4]
    alpha = torch.rand(1, 1, 128, 128, generator=g)
    color = torch.rand(1, 4, 128, 128, generator=g)
    flow = (torch.rand(1, 2, 128, 128, generator=g) * 2 - 1) * MORPH_MAX_WARP
    grid = identity_grid(1, 128, 128) + flow.permute(0, 2, 3, 1)
    warped = F.grid_sample(crop, grid, mode="bilinear", padding_mode="border", align_corners=False)
    want = (alpha * warped + (1 - alpha) * color)[0].permute(1, 2, 0).numpy()
    got = apply_morph(np.ascontiguousarray(crop[0].permute(1, 2, 0).numpy()), alpha[0].numpy(), color[0].numpy(),
                      flow[0].numpy())
    assert got.shape == want.shape == (128, 128, 4)
    # OpenCV interpolates at 1/32 px: well under one uint8 level on this noise.
    assert np.abs(got - want).max() < 1.5 / 255


class _MorphedCrop(torch.nn.Module):
    """A morpher decoder that does its own warp: it gives the morphed crop."""

    def __init__(self, dec: torch.nn.Module) -> None:
        super().__init__()
        self.dec = dec

    def forward(self, rest, f1, f2, f3, f4, pose):
        return self.dec(rest, f1, f2, f3, f4, pose)[0]


def test_a_morpher_decoder_that_gives_the_morphed_crop_still_renders(tmp_path) -> None:
    from engines.neural.runtime import sha256_file, write_manifest

    checkpoint = tmp_path / "checkpoint.pt"
    checkpoint.write_bytes(COMPACT_CHECKPOINT.read_bytes())
    new, old = tmp_path / "new", tmp_path / "old"
    export(checkpoint, new)
    export(checkpoint, old)
    morpher, _, _ = load_networks(checkpoint)
    engine = NeuralEngine.load(new, threads=1)
    engine.pose_tables = None  # the two decoders themselves, not maps baked from them
    prepared = engine.prepare(_character())
    args = (torch.from_numpy(prepared.crop), *(torch.from_numpy(f) for f in prepared.morph_feats),
            torch.zeros(1, len(engine.pose_spec.stage_names("morph"))))
    path = old / "morpher_decoder.onnx"
    torch.onnx.export(_MorphedCrop(morpher.decoder), args, str(path), input_names=["image", "f1", "f2", "f3", "f4", "pose"],
                      output_names=["morphed"], opset_version=17, dynamo=False)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["files"]["morpher_decoder"]["sha256"] = sha256_file(path)
    write_manifest(old, manifest)
    legacy = NeuralEngine.load(old, threads=1)
    legacy.pose_tables = None
    assert [o.name for o in legacy._s["morpher_decoder"].get_outputs()] == ["morphed"]
    pose = {"eye_left_open": 0.1, "eye_right_open": 0.3, "mouth_open": 0.8, "iris_x": 0.6}
    a = engine.render(prepared, pose).astype(int)
    b = legacy.render(legacy.prepare(_character()), pose).astype(int)
    assert np.abs(a - _character().astype(int)).max() > 50  # the eyes and mouth did move
    # The same pictures but for rounding (1/32 px interpolation steps, amplified where alpha is low).
    assert (np.abs(a - b) > 1).mean() < 1e-3


def test_the_from_scratch_rotator_checkpoint_loads_beside_the_shipped_morpher() -> None:
    from engines.neural.model import load_networks

    shipped_m, shipped_r, _ = load_networks(COMPACT_CHECKPOINT)
    m, r, st = load_networks(COMPACT_CHECKPOINT.with_name("scratch_rotator_checkpoint.pt"))
    assert st["steps"]["rotator"] == st["step"] > 1000
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), shipped_m.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(r.state_dict().values(), shipped_r.state_dict().values()))


def test_export_names_a_network_it_cannot_fold(tmp_path, capsys) -> None:
    from engines.neural.export import main

    with pytest.raises(SystemExit):
        main(["--checkpoint", str(COMPACT_CHECKPOINT), "--out", str(tmp_path), "--fold", "rotator,encoder"])
    assert "--fold takes morpher and/or rotator" in capsys.readouterr().err
    assert not (tmp_path / "manifest.json").exists()  # nothing written
