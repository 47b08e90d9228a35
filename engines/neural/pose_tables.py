"""The networks' maps baked per character into pose tables, looked up per frame.

Both decoders give maps at 128x128 (the rotator: grid offset, colour change and blend mask
for the whole canvas; the morpher: blend mask, colour change and a small warp of the face
crop) that depend on the character, fixed once it is loaded, and on a few numbers: the
rotator on head yaw, pitch and roll, body turn and breathing, the morpher on the eyes, irises,
brows and mouth. So prepare() runs each decoder (the rotator with its mirror pass) once per
point of a grid over each parameter and keeps the maps; a frame then costs a weighted sum
of a few stored maps instead of three decoder passes.

The tables are a second-order expansion anchored at the rest pose (cut-HDMR): maps(pose) =
rest + the change each parameter makes alone + for chosen pairs of parameters what the two
make together beyond the sum of their own changes; each term is interpolated linearly
between its grid points. It is exact at the grid points of one parameter and of the pairs,
and leaves out the rest: `python -m engines.neural.pose_tables fidelity` measures the tables
against the decoders and both against the truth, and `omokage eval` scores the engine as the
app renders, with the tables.

Points: POINTS over each parameter's range (5 degrees apart for the head turns) and
PAIR_POINTS per parameter of a pair. The pairs are the parameters that act on the same
pixels, and the two sides that move together: the head turns with each other and with the
body turn; the two eyes (a blink), the two brows, an eye's opening with the iris and with
its brow, the iris's two axes, the mouth's opening and form.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from engines.posespec import PoseSpec

POINTS = 13
PAIR_POINTS = 5
ROTATE_PAIRS: tuple[tuple[str, str], ...] = (
    ("head_yaw", "head_pitch"), ("head_yaw", "head_roll"), ("head_pitch", "head_roll"),
    ("head_yaw", "body_yaw"), ("head_pitch", "body_yaw"), ("head_roll", "body_yaw"),
)
MORPH_PAIRS: tuple[tuple[str, str], ...] = (
    ("eye_left_open", "eye_right_open"), ("brow_left", "brow_right"),
    ("eye_left_open", "iris_x"), ("eye_left_open", "iris_y"), ("eye_right_open", "iris_x"),
    ("eye_right_open", "iris_y"), ("iris_x", "iris_y"), ("brow_left", "eye_left_open"),
    ("brow_right", "eye_right_open"), ("mouth_open", "mouth_form"),
)


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
    """Where the tables are baked: `points` values of each parameter, `pair_points` of each
    parameter of a pair; the pairs per stage ("rotate", "morph"). A stage left out of
    `stages` runs its decoder every frame."""

    points: int = POINTS
    pair_points: int = PAIR_POINTS
    rotate_pairs: tuple[tuple[str, str], ...] = ROTATE_PAIRS
    morph_pairs: tuple[tuple[str, str], ...] = MORPH_PAIRS
    stages: tuple[str, ...] = ("rotate", "morph")


@dataclass
class PoseTables:
    """One character's maps for one stage: `rest` (C, H, W); per parameter (its index in the
    pose vector) the grid of its values and the change it makes alone at each; per pair of
    parameters, on a coarser grid, what the two make together beyond the sum of their own
    changes. A change is zero where its parameters are at rest, and is not stored: `index`
    arrays give each grid point's place in the stacked changes (N, C, H, W), -1 for zero.
    `split`: where the stacked channels divide into the decoder's maps, of `shapes`."""

    rest: np.ndarray
    axes: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]  # param, grid, index (K,), changes
    pairs: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]  # + index (Ka, Kb)
    split: tuple[int, ...]
    shapes: list[tuple[int, ...]]
    mirror_ensemble: bool = False  # the rotator's: what its maps were baked with
    bake_s: float = 0.0

    @property
    def nbytes(self) -> int:
        return self.rest.nbytes + sum(e[-1].nbytes for e in self.axes) + sum(e[-1].nbytes for e in self.pairs)

    def maps(self, pose: np.ndarray) -> list[np.ndarray]:
        """(P,) scaled pose vector (as render() gives the networks) -> the decoder's maps."""
        out = self.rest.copy()
        for i, grid, index, delta in self.axes:
            k, t = _cell(grid, pose[i])
            for n, w in ((index[k], 1.0 - t), (index[k + 1], t)):
                if n >= 0:
                    _add(out, w, delta[n])
        for i, j, gi, gj, index, delta in self.pairs:
            (a, s), (b, t) = _cell(gi, pose[i]), _cell(gj, pose[j])
            for n, w in ((index[a, b], (1.0 - s) * (1.0 - t)), (index[a + 1, b], s * (1.0 - t)),
                         (index[a, b + 1], (1.0 - s) * t), (index[a + 1, b + 1], s * t)):
                if n >= 0:
                    _add(out, w, delta[n])
        return [m.reshape(shape) for m, shape in zip(np.split(out, self.split), self.shapes)]


def bake(spec: PoseSpec, stage_maps: Callable[[np.ndarray], list[np.ndarray]], gain: np.ndarray | float,
         stage: str, pairs: tuple[tuple[str, str], ...], where: TableSpec = TableSpec(),
         mirror_ensemble: bool = False) -> PoseTables:
    """Run `stage_maps` ((1, P) scaled pose vector -> the stage decoder's maps) at the rest
    pose, at `where.points` values of each of the stage's parameters alone and at
    `where.pair_points` squared values of each of `pairs` (those the spec has). A grid spans
    its parameter's range, and the range times `gain` (the turn factors render() applies)
    where that is wider, so every pose render() can send lies inside it."""
    t0 = time.perf_counter()
    r0 = spec.to_vector({}).astype(np.float32) * gain
    g = np.broadcast_to(np.asarray(gain, np.float32), r0.shape)
    shapes: list[tuple[int, ...]] = []

    def at(values: dict[int, float]) -> np.ndarray:
        v = r0.copy()
        for i, x in values.items():
            v[i] = x
        maps = stage_maps(v[None])
        shapes[:] = [m.shape for m in maps]
        return np.concatenate([m.reshape(-1, *m.shape[-2:]) for m in maps], 0)

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
        if p.stage == stage:
            gi = grid(i, where.points)
            index = np.array([-1 if x == r0[i] else n for n, x in enumerate(gi)])
            index[index >= 0] = np.arange(int((index >= 0).sum()))
            axes.append((i, gi, index, np.stack([alone(i, x) for x in gi if x != r0[i]])))
    both = []
    for a, b in pairs:
        if a not in spec.names or b not in spec.names:
            continue
        i, j = spec.names.index(a), spec.names.index(b)
        gi, gj = grid(i, where.pair_points), grid(j, where.pair_points)
        index = np.full((len(gi), len(gj)), -1)
        changes = []
        for u, x in enumerate(gi):
            for w, y in enumerate(gj):
                if x != r0[i] and y != r0[j]:
                    index[u, w] = len(changes)
                    changes.append(at({i: x, j: y}) - rest - alone(i, x) - alone(j, y))
        both.append((i, j, gi, gj, index, np.stack(changes)))
    split = tuple(int(x) for x in np.cumsum([int(np.prod(s[:-2])) for s in shapes])[:-1])
    return PoseTables(rest, axes, both, split, shapes, mirror_ensemble, time.perf_counter() - t0)

# ---- fidelity: the tables against the decoders ------------------------------------------


def _random_poses(spec: PoseSpec, rng: np.random.Generator, n: int, kind: str) -> list[dict]:
    """Poses off the grid: one parameter at a time over its range ("one", the interpolation's
    error), or every parameter at once, each over half its range from rest ("half", as a
    face in front of a webcam moves) or over its whole range ("all": what the tables leave
    out, at its largest)."""
    poses = []
    for _ in range(n):
        chosen = [spec.params[rng.integers(len(spec.params))]] if kind == "one" else spec.params
        f = 0.5 if kind == "half" else 1.0
        poses.append({p.name: float(p.default + f * (rng.uniform(p.lo, p.hi) - p.default)) for p in chosen})
    return poses


def _compare(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """PSNR (dB) and the largest difference (of 255) of two RGBA images over mid grey."""
    from engines.neural.compose import over_grey

    d = over_grey(a) - over_grey(b)
    mse = float(np.mean(d ** 2))
    return (99.0 if mse == 0 else 10.0 * np.log10(1.0 / mse)), float(np.abs(d).max() * 255.0)


KINDS = ("one", "half", "all")


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
        tables = [t for t in (baked.rotate_tables, baked.morph_tables) if t is not None]
        row = {"bake_s": sum(t.bake_s for t in tables), "table_mb": sum(t.nbytes for t in tables) / 2**20}
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
                                 description="Measure the pose tables against the decoders.")
    ap.add_argument("command", choices=["fidelity"])
    ap.add_argument("--n", type=int, default=40, help="poses per kind and character")
    ap.add_argument("--procedural", type=int, default=4, help="procedural validation characters")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--points", type=int, default=POINTS, help="points per parameter")
    ap.add_argument("--pair-points", type=int, default=PAIR_POINTS, help="points per parameter of a pair")
    ap.add_argument("--rotate-pairs", default=",".join(f"{a}+{b}" for a, b in ROTATE_PAIRS),
                    help="comma-separated NAME+NAME pairs of the rotator whose interaction is baked ('' for none)")
    ap.add_argument("--morph-pairs", default=",".join(f"{a}+{b}" for a, b in MORPH_PAIRS),
                    help="the same for the morpher")
    ap.add_argument("--stages", default="rotate,morph", help="the stages with tables")
    args = ap.parse_args(argv)

    def pairs(text: str) -> tuple[tuple[str, str], ...]:
        return tuple((x.split("+")[0], x.split("+")[1]) for x in text.split(",") if x)

    where = TableSpec(args.points, args.pair_points, pairs(args.rotate_pairs), pairs(args.morph_pairs),
                      tuple(x for x in args.stages.split(",") if x))
    from engines.datagen.live2d import Live2DCharacter
    from engines.datagen.live2d.models import HUMAN_VAL, fetch_model
    from engines.neural.evaluate import procedural_truth
    from engines.neural.runtime import NeuralEngine

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
