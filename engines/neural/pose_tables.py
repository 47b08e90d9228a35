"""The rotator's maps baked per character into pose tables, looked up per frame.

The rotator's maps (grid offset, colour change, blend mask at 128x128) depend on the
character, which is fixed once it is loaded, and on five numbers: head yaw, pitch and roll,
body turn and breathing. So prepare() runs the rotator (with its mirror pass) once per point
of a grid over each of them and keeps the maps; a frame then costs a weighted sum of a few
stored maps instead of two decoder passes.

The tables are additive in the turns (a first-order expansion anchored at the rest pose, as
in cut-HDMR): maps(pose) = rest + sum over each turn of the change that turn alone makes,
interpolated linearly between its grid points. That is exact on each axis at the grid
points and leaves out how two turns interact (yaw and roll at once): `python -m
engines.neural.pose_tables fidelity` measures both errors against the decoders, and
`omokage eval` scores the engine as the app renders, with the tables.

Points: TURN_POINTS over each parameter's range (5 degrees apart for the head turns), so a
turn between two points is a linear blend of maps 5 degrees apart.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from engines.posespec import PoseSpec

TURN_POINTS = 13
PAIR_POINTS = 5
# The pairs of turns whose interaction is baked (each on PAIR_POINTS x PAIR_POINTS points).
PAIRS: tuple[tuple[str, str], ...] = (
    ("head_yaw", "head_pitch"), ("head_yaw", "head_roll"), ("head_pitch", "head_roll"),
    ("head_yaw", "body_yaw"), ("head_pitch", "body_yaw"), ("head_roll", "body_yaw"),
)
# Map channels, in the order the decoder gives them: flow (2), colour (4), mask (1).
SPLIT = (2, 6)


def _cell(grid: np.ndarray, x: float) -> tuple[int, float]:
    """The grid interval holding x (clipped to the grid) and x's place in it, 0..1."""
    x = min(max(float(x), float(grid[0])), float(grid[-1]))
    k = min(max(int(np.searchsorted(grid, x)) - 1, 0), len(grid) - 2)
    return k, (x - float(grid[k])) / float(grid[k + 1] - grid[k])


def _add(out: np.ndarray, w: float, term: np.ndarray) -> None:
    # out += w * term in one pass (OpenCV's fused scaleAdd; numpy makes a temporary).
    if w != 0.0:
        cv2.scaleAdd(term.reshape(-1, term.shape[-1]), w, out.reshape(-1, out.shape[-1]),
                     dst=out.reshape(-1, out.shape[-1]))


@dataclass(frozen=True)
class TableSpec:
    """Where the tables are baked: `points` values of each turn, `pair_points` of each of
    `pairs` together."""

    points: int = TURN_POINTS
    pair_points: int = PAIR_POINTS
    pairs: tuple[tuple[str, str], ...] = PAIRS


@dataclass
class PoseTables:
    """One character's rotator maps: `rest` (C, H, W); per rotate parameter (its index in the
    pose vector) the grid of its values and the change it makes alone (K, C, H, W); per pair
    of parameters, on a coarser grid, what the two make together beyond the sum of their
    own changes (Ka, Kb, C, H, W). Every change is zero where its parameters are at rest."""

    rest: np.ndarray
    axes: list[tuple[int, np.ndarray, np.ndarray]]
    pairs: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]
    mirror_ensemble: bool  # what the maps were baked with
    bake_s: float = 0.0

    @property
    def nbytes(self) -> int:
        return (self.rest.nbytes + sum(d.nbytes for *_, d in self.axes)
                + sum(d.nbytes for *_, d in self.pairs))

    def maps(self, pose: np.ndarray) -> list[np.ndarray]:
        """(P,) scaled pose vector (as render() gives the networks) -> [flow, colour, mask]."""
        out = self.rest.copy()
        for i, grid, delta in self.axes:
            k, t = _cell(grid, pose[i])
            _add(out, 1.0 - t, delta[k])
            _add(out, t, delta[k + 1])
        for i, j, gi, gj, delta in self.pairs:
            (a, s), (b, t) = _cell(gi, pose[i]), _cell(gj, pose[j])
            _add(out, (1.0 - s) * (1.0 - t), delta[a, b])
            _add(out, s * (1.0 - t), delta[a + 1, b])
            _add(out, (1.0 - s) * t, delta[a, b + 1])
            _add(out, s * t, delta[a + 1, b + 1])
        return [out[: SPLIT[0]], out[SPLIT[0]: SPLIT[1]], out[SPLIT[1]:]]


def bake(spec: PoseSpec, rotation_maps: Callable[[np.ndarray], list[np.ndarray]], gain: np.ndarray | float,
         mirror_ensemble: bool, where: TableSpec = TableSpec()) -> PoseTables:
    """Run `rotation_maps` ((1, P) scaled pose vector -> [flow, colour, mask]) at the rest pose,
    at `where.points` values of each rotate parameter alone and at `where.pair_points` squared
    values of each of `where.pairs`. A grid spans its parameter's range, and the range times
    `gain` (the turn factors render() applies) where that is wider, so every pose render()
    can send lies inside it."""
    t0 = time.perf_counter()
    r0 = spec.to_vector({}).astype(np.float32) * gain
    g = np.broadcast_to(np.asarray(gain, np.float32), r0.shape)

    def at(values: dict[int, float]) -> np.ndarray:
        v = r0.copy()
        for i, x in values.items():
            v[i] = x
        return np.concatenate([m.reshape(-1, *m.shape[-2:]) for m in rotation_maps(v[None])], 0)

    def grid(i: int, n: int) -> np.ndarray:
        # Over the parameter's range, whatever the gain (so the same network inputs meet the
        # same points), widened only where a gain above 1 sends values beyond it.
        p = spec.params[i]
        lo, hi = min(p.lo, p.lo * g[i], p.hi * g[i]), max(p.hi, p.lo * g[i], p.hi * g[i])
        return np.unique(np.concatenate([np.linspace(lo, hi, n), [r0[i]]]).astype(np.float32))

    rest = at({})
    one: dict[tuple[int, float], np.ndarray] = {}  # what one parameter at one value changes

    def alone(i: int, x: float) -> np.ndarray:
        if x == r0[i]:
            return np.zeros_like(rest)
        if (i, x) not in one:
            one[(i, x)] = at({i: x}) - rest
        return one[(i, x)]

    axes = []
    for i, p in enumerate(spec.params):
        if p.stage == "rotate":
            gi = grid(i, where.points)
            axes.append((i, gi, np.stack([alone(i, x) for x in gi])))
    both = []
    for a, b in where.pairs:
        i, j = spec.names.index(a), spec.names.index(b)
        gi, gj = grid(i, where.pair_points), grid(j, where.pair_points)
        delta = np.zeros((len(gi), len(gj)) + rest.shape, np.float32)
        for u, x in enumerate(gi):
            for w, y in enumerate(gj):
                if x != r0[i] and y != r0[j]:
                    delta[u, w] = at({i: x, j: y}) - rest - alone(i, x) - alone(j, y)
        both.append((i, j, gi, gj, delta))
    return PoseTables(rest, axes, both, mirror_ensemble, time.perf_counter() - t0)


# ---- fidelity: the tables against the decoders ------------------------------------------


def _random_poses(spec: PoseSpec, rng: np.random.Generator, n: int, kind: str) -> list[dict]:
    """Poses off the grid: one turn at a time over its range ("one_turn", the interpolation's
    error), or every turn at once with a face expression, each turn over half its range
    ("half_turns", as a face in front of a webcam turns) or its whole range ("all_turns":
    the interactions the tables leave out, at their largest)."""
    turns = [p for p in spec.params if p.stage == "rotate"]
    poses = []
    for _ in range(n):
        together = kind != "one_turn"
        chosen = turns if together else [turns[rng.integers(len(turns))]]
        f = 0.5 if kind == "half_turns" else 1.0
        pose = {p.name: float(p.default + f * (rng.uniform(p.lo, p.hi) - p.default)) for p in chosen}
        if together:
            pose.update(eye_left_open=float(rng.uniform(0, 1)), mouth_open=float(rng.uniform(0, 1)))
        poses.append(pose)
    return poses


def _compare(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """PSNR (dB) and the largest difference (of 255) of two RGBA images over mid grey."""
    from engines.neural.compose import over_grey

    d = over_grey(a) - over_grey(b)
    mse = float(np.mean(d ** 2))
    return (99.0 if mse == 0 else 10.0 * np.log10(1.0 / mse)), float(np.abs(d).max() * 255.0)


KINDS = ("one_turn", "half_turns", "all_turns")


def fidelity(engine, characters: dict[str, tuple[Callable[[dict], np.ndarray], bool]], n: int = 40,
             seed: int = 0, where: TableSpec = TableSpec()) -> dict:
    """characters: name -> (function(pose) -> true 512x512 RGBA, whether the generator drew it).
    Per character and kind of pose (_random_poses, `n` each): PSNR (dB, whole canvas over
    grey) and the largest difference (of 255) of the engine with tables baked at `where`
    against the same engine running the decoders; and both against the truth, as `omokage
    eval` scores (changed-region PSNR over the head): whether what the tables leave out
    costs anything there."""
    from engines.neural.evaluate import score

    rng = np.random.default_rng(seed)
    out = {}
    keep = engine.pose_tables
    for name, (render, generated) in characters.items():
        rgba = render({})
        engine.pose_tables = where
        baked = engine.prepare(rgba, generated=generated)
        engine.pose_tables = None
        exact = engine.prepare(rgba, generated=generated)
        row = {"bake_s": baked.tables.bake_s, "table_mb": baked.tables.nbytes / 2**20}
        for kind in KINDS:
            psnrs, worst, truth_t, truth_d = [], 0.0, [], []
            for pose in _random_poses(engine.pose_spec, rng, n, kind):
                engine.pose_tables = where
                a = engine.render(baked, pose)
                engine.pose_tables = None
                b = engine.render(exact, pose)
                db, diff = _compare(a, b)
                psnrs.append(db)
                worst = max(worst, diff)
                truth = render(pose)
                truth_t.append(score(rgba, a, truth)["psnr_changed"])
                truth_d.append(score(rgba, b, truth)["psnr_changed"])
            row[kind] = {"psnr_median": float(np.median(psnrs)), "psnr_min": float(np.min(psnrs)),
                         "max_diff": worst, "truth_tables": float(np.mean(truth_t)),
                         "truth_decoders": float(np.mean(truth_d))}
        out[name] = row
    engine.pose_tables = keep
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m engines.neural.pose_tables",
                                 description="Measure the rotator's pose tables against its decoders.")
    ap.add_argument("command", choices=["fidelity"])
    ap.add_argument("--n", type=int, default=40, help="poses per kind and character")
    ap.add_argument("--procedural", type=int, default=4, help="procedural validation characters")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--points", type=int, default=TURN_POINTS, help="points per turn")
    ap.add_argument("--pair-points", type=int, default=PAIR_POINTS, help="points per turn in a pair")
    ap.add_argument("--pairs", default=",".join(f"{a}+{b}" for a, b in PAIRS),
                    help="comma-separated NAME+NAME pairs whose interaction is baked ('' for none)")
    args = ap.parse_args(argv)
    where = TableSpec(args.points, args.pair_points,
                      tuple(tuple(x.split("+")) for x in args.pairs.split(",") if x))
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.models import HUMAN_VAL, fetch_model
    from engines.neural.evaluate import procedural_truth
    from engines.neural.runtime import NeuralEngine

    from engines.resources import default_character

    chars = {}
    for name in HUMAN_VAL:
        chars[f"live2d:{name}"] = (Live2DCharacter(fetch_model(name)).render, False)
    if args.procedural:
        from engines.datagen.procedural import ProceduralSource

        for cid in ProceduralSource().characters("val")[: args.procedural]:
            chars[cid] = (procedural_truth(cid), True)
    engine = NeuralEngine.load(args.weights, threads=1)
    res = fidelity(engine, chars, args.n, where=where)
    print(f"tables {where}\nper kind of pose: PSNR against the decoders over grey (median / min dB), the "
          "largest difference (of 255), and changed-region PSNR against the truth, tables / decoders (mean dB)")
    print(f"{'character':<18} {'bake s':>6} {'MB':>6}" + "".join(f"{k:>34}" for k in KINDS))
    for name, row in res.items():
        cells = "".join(f"{row[k]['psnr_median']:>9.1f} /{row[k]['psnr_min']:>5.1f},{row[k]['max_diff']:>4.0f},"
                        f"{row[k]['truth_tables']:>6.2f} /{row[k]['truth_decoders']:>6.2f}" for k in KINDS)
        print(f"{name:<18} {row['bake_s']:>6.2f} {row['table_mb']:>6.1f}{cells}")
    for k in KINDS:
        gap = np.mean([row[k]["truth_tables"] - row[k]["truth_decoders"] for row in res.values()])
        print(f"{k}: against the truth, tables minus decoders, mean over characters {gap:+.3f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
