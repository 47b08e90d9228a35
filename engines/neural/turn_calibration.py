"""Choose how far the engine turns the head of a character it has never seen.

    python -m engines.neural.turn_calibration [--weights weights] [--json runs/turns.json] [--on-val]

How far a head moves at a given angle is the artist's choice: at 30 degrees of yaw the
Live2D training rigs move the face by 9 to 30 px. One picture does not say which kind of rig
a character is, so on an unseen character the engine turns by some typical amount, E.
Missing in one direction costs more than in the other: a feature drawn too far is wrong at two
places, while half the motion still earns part of the gain. So the best expected score lies
below the typical amount. Everything here is measured without the validation characters:

- g(r), the changed-region gain over identity (dB) when the engine turns r times as far as
  the truth, measured on the training rigs, where the engine knows the right amount (r = 1),
  each rig on the turns it has (the dot-eyed figures' yaw does nothing);
- A_i, each training rig's amplitude, and E, the engine's amplitude on unseen procedural
  characters (both `engines.datagen.turn_amplitude`);
- for each turn, the factor s that maximises mean_i g(s * E / A_i).

With --on-val the factors are chosen on the validation rigs instead, where every other choice
is made: for each turn (body turn included) the factor that maximises their mean gain, at
angles other than the eval's own (10 and 20 degrees, body turn 0.5 and 0.8). That does not
assume the engine turns an unseen rig as far as it turns a procedural character (a rotator's
amplitude follows the look it sees); the held-out rig stays out of it. The factors apply to
art the engine has never seen; the generator's own characters (the creator's, avatars, the
default one) are posed in the engine's unit, unscaled (runtime: prepare(generated=True)).

The factors are written to the manifest as "turn_scale"; the runtime multiplies the pose's
turns by them before the rotator. The app's mapper gains still scale the motion as a whole.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from engines.datagen.live2d.models import HEAD_ONLY, HUMAN_TRAIN, HUMAN_VAL
from engines.posespec import HEAD_TURNS

# Fine steps around 1: g(r) has a sharp peak there, and straight lines across 0.25-wide steps
# cut it off and make the expected gain look flat over a wide range of factors.
RATIOS = (0.25, 0.5, 0.625, 0.75, 0.875, 1.0, 1.125, 1.25, 1.5, 2.0)
ANGLES = (10.0, -10.0, 15.0, -15.0)  # x2 stays inside the +-30 degree range
SHRINKS = tuple(np.round(np.arange(0.3, 1.201, 0.05), 2))
# Each distinct training rig once: haru02 is haru01's rig with other clothes, and the five
# dot-eyed figures are one rig with different parts shown.
RIGS = tuple(n for n in HUMAN_TRAIN if n != "haru02") + HEAD_ONLY[:1]


def best_shrink(ratios: np.ndarray, gains: np.ndarray, relative: np.ndarray) -> tuple[float, dict[float, float]]:
    """ratios/gains: the curve g(r); relative: E / A_i per rig. Returns the s maximising
    mean_i g(s * relative_i) and the expected gain for every candidate s. g(0) = 0 (no
    motion is the identity); beyond the last ratio the curve is held at its last value."""
    r = np.concatenate([[0.0], np.asarray(ratios, float)])
    g = np.concatenate([[0.0], np.asarray(gains, float)])
    expected = {float(s): float(np.mean(np.interp(s * np.asarray(relative), r, g))) for s in SHRINKS}
    return max(expected, key=expected.get), expected


def measure(weights: Path | None = None, rigs: tuple[str, ...] = RIGS, n_procedural: int = 8) -> dict:
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.models import fetch_model
    from engines.datagen.procedural import ProceduralSource, draw_character, identity_for
    from engines.datagen.turn_amplitude import turn_amplitudes
    from engines.neural.evaluate import score
    from engines.neural.runtime import NeuralEngine

    engine = NeuralEngine.load(weights, threads=1)
    engine.turn_scale = {}  # measure the network itself
    gains: dict[str, list[np.ndarray]] = {t: [] for t in HEAD_TURNS}  # per rig: g(r) per ratio
    amp: dict[str, list[float]] = {t: [] for t in HEAD_TURNS}
    used: dict[str, list[str]] = {t: [] for t in HEAD_TURNS}
    for name in rigs:
        character = Live2DCharacter(fetch_model(name))
        render = character.render
        rest = render({})
        prep = engine.prepare(rest)
        a = turn_amplitudes(render)
        for t in HEAD_TURNS:
            if not character.supports(t):
                continue  # a dead control says nothing about how far heads turn
            amp[t].append(a[t])
            used[t].append(name)
            g = np.zeros(len(RATIOS))
            for angle in ANGLES:
                truth = render({t: angle})
                base = score(rest, rest, truth)["psnr_changed"]
                for k, r in enumerate(RATIOS):
                    got = score(rest, engine.render(prep, {t: angle * r}), truth)["psnr_changed"]
                    g[k] += (got - base) / len(ANGLES)
            gains[t].append(g)
    engine_amp = {t: [] for t in HEAD_TURNS}
    for cid in ProceduralSource().characters("val")[:n_procedural]:
        ident = identity_for(cid)
        prep = engine.prepare(draw_character(ident, {}))
        a = turn_amplitudes(lambda pose: engine.render(prep, pose))
        for t in HEAD_TURNS:
            engine_amp[t].append(a[t])
    out = {"rigs": list(rigs), "ratios": list(RATIOS), "turn_scale": {}, "per_turn": {}}
    for t in HEAD_TURNS:
        e = float(np.median(engine_amp[t]))
        relative = e / np.asarray(amp[t])
        curve = np.mean(gains[t], axis=0)
        s, expected = best_shrink(np.array(RATIOS), curve, relative)
        out["turn_scale"][t] = s
        out["per_turn"][t] = {"rigs": used[t], "gain_at_ratio_db": [round(float(v), 3) for v in curve],
                              "rig_amplitude_px": [round(v, 2) for v in amp[t]],
                              "engine_amplitude_px": round(e, 2),
                              "expected_gain_db": {str(k): round(v, 3) for k, v in expected.items()}}
    return out


VAL_TURNS = HEAD_TURNS + ("body_yaw",)
# Wider than SHRINKS: a rotator trained on other rigs may under-turn unseen ones as well as
# over-turn them.
VAL_FACTORS = tuple(np.round(np.concatenate([np.arange(0.3, 1.2, 0.05), np.arange(1.2, 2.01, 0.1)]), 2))
VAL_ANGLES = {"head_yaw": (10.0, -10.0, 20.0, -20.0), "head_pitch": (10.0, -10.0, 20.0, -20.0),
              "head_roll": (10.0, -10.0, 20.0, -20.0), "body_yaw": (0.5, -0.5, 0.8, -0.8)}


def measure_on_val(weights: Path | None = None, rigs: tuple[str, ...] = HUMAN_VAL) -> dict:
    """Per turn, the mean changed-region gain (dB) on the validation rigs at each factor of
    VAL_FACTORS, and the factor with the highest."""
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.models import fetch_model
    from engines.neural.evaluate import score
    from engines.neural.runtime import NeuralEngine

    engine = NeuralEngine.load(weights, threads=1)
    engine.turn_scale = {}  # measure the network itself
    gains = {t: np.zeros(len(VAL_FACTORS)) for t in VAL_TURNS}
    for name in rigs:
        render = Live2DCharacter(fetch_model(name)).render
        rest = render({})
        prep = engine.prepare(rest)
        for t in VAL_TURNS:
            for angle in VAL_ANGLES[t]:
                truth = render({t: angle})
                base = score(rest, rest, truth)["psnr_changed"]
                for k, s in enumerate(VAL_FACTORS):
                    got = score(rest, engine.render(prep, {t: angle * s}), truth)["psnr_changed"]
                    gains[t][k] += (got - base) / (len(VAL_ANGLES[t]) * len(rigs))
    out = {"rigs": list(rigs), "factors": [float(s) for s in VAL_FACTORS], "turn_scale": {}, "gain_db": {}}
    for t in VAL_TURNS:
        out["turn_scale"][t] = float(VAL_FACTORS[int(np.argmax(gains[t]))])
        out["gain_db"][t] = [round(float(g), 3) for g in gains[t]]
    return out


def write_to_manifest(weights_dir: Path, turn_scale: dict[str, float]) -> None:
    from engines.neural.runtime import write_manifest

    manifest = json.loads((weights_dir / "manifest.json").read_text())
    write_manifest(weights_dir, {**manifest, "turn_scale": turn_scale})


def main(argv: list[str] | None = None) -> int:
    from engines.neural.runtime import WEIGHTS_DIR

    ap = argparse.ArgumentParser(prog="python -m engines.neural.turn_calibration", description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    ap.add_argument("--json", type=Path, default=None, help="write the measurements here too")
    ap.add_argument("--on-val", action="store_true", help="choose the factors on the validation rigs")
    args = ap.parse_args(argv)
    if args.on_val:
        result = measure_on_val(args.weights)
        one = VAL_FACTORS.index(1.0)
        for t in VAL_TURNS:
            g = result["gain_db"][t]
            print(f"{t}: x{result['turn_scale'][t]}, {max(g):+.2f} dB (x1: {g[one]:+.2f} dB)")
    else:
        result = measure(args.weights)
        for t in HEAD_TURNS:
            p = result["per_turn"][t]
            print(f"{t}: gain at ratio {dict(zip(RATIOS, p['gain_at_ratio_db']))}; engine {p['engine_amplitude_px']} px, "
                  f"rigs {p['rig_amplitude_px']} px -> turn_scale {result['turn_scale'][t]}")
    write_to_manifest(args.weights, result["turn_scale"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
