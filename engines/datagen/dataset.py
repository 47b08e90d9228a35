"""The training-data format shared by every data source (Live2D renders, procedural characters).

A source yields Triples at 512x512: the rest image, the image with only the face expression
changed (the morpher's target) and the fully posed image (the rotator's target). The writer
stores each triple at the resolution the networks train at, in compressed .npz shards:

    rest_crop, expr_crop   (N, 128, 128, 4) uint8   the MORPH_BOX crop at native 512 scale
    rest, expr, posed      (N, 256, 256, 4) uint8   the whole image at half scale
    pose                   (N, P) float32           full pose in PoseSpec order
    character              (N,) str                 character id (split is by character)
    flow                   (N, 128, 128, 2) float16 true backward flow posed -> expr, in grid
                                                    units (the canvas spans -1..1), when the
                                                    source knows it; zeros otherwise
    flow_mask              (N, 128, 128) uint8      1 where that flow is known and visible

Shard k of a source is generated from seed (base_seed, k) alone, so a dataset is
deterministic for a seed and a resumed run produces the same shards. A shard is written to a
temporary name and renamed when complete, so an interrupted run leaves no partial shard.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping, Protocol, Sequence

import cv2
import numpy as np

from engines.convention import MORPH_BOX
from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec

TRAIN_RES = 256


@dataclass
class Triple:
    rest: np.ndarray  # 512x512x4 uint8, straight alpha
    expr: np.ndarray  # expression params applied, head/body at rest
    posed: np.ndarray  # expression + head/body params applied
    pose: dict[str, float]  # the full pose of `posed` (PoseSpec names)
    character: str
    # For each pixel of `posed` at FLOW_SHAPE: the grid offset to where it is in `expr`, and
    # where that is known and visible (None: the source does not know correspondence).
    flow: np.ndarray | None = None
    flow_mask: np.ndarray | None = None


FLOW_SHAPE = (128, 128)


def mirror_flow(flow: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flow of the left-right flipped images: mirrored, with x offsets negated."""
    f = np.ascontiguousarray(flow[..., ::-1, :])
    f[..., 0] *= -1.0
    return f, np.ascontiguousarray(mask[..., ::-1])


class TripleSource(Protocol):
    """What a data source offers the writer."""

    name: str

    def characters(self, split: str) -> list[str]:
        """Character ids of the split ("train" or "val"); the two never overlap."""

    def make_triple(self, character: str, rng: np.random.Generator) -> Triple:
        """One random training triple of `character`, deterministic for the rng state."""


def _down(img: np.ndarray, res: int) -> np.ndarray:
    # Premultiply before resizing so transparent pixels do not bleed colour into edges.
    a = img[..., 3:4].astype(np.float32) / 255.0
    pm = np.concatenate([img[..., :3].astype(np.float32) * a, img[..., 3:4].astype(np.float32)], -1)
    small = cv2.resize(pm, (res, res), interpolation=cv2.INTER_AREA)
    alpha = small[..., 3:4] / 255.0
    rgb = np.where(alpha > 1e-4, small[..., :3] / np.maximum(alpha, 1e-4), 0.0)
    out = np.concatenate([rgb, small[..., 3:4]], -1)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def crop_morph(img512: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = MORPH_BOX
    return img512[y0:y1, x0:x1]


def pack_triples(triples: Sequence[Triple], spec: PoseSpec = DEFAULT_POSE_SPEC) -> dict[str, np.ndarray]:
    for t in triples:
        for name in ("rest", "expr", "posed"):
            a = getattr(t, name)
            if a.shape != (512, 512, 4) or a.dtype != np.uint8:
                raise ValueError(f"{t.character}: {name} must be 512x512x4 uint8, got {a.shape} {a.dtype}")
    return {
        "rest_crop": np.stack([crop_morph(t.rest) for t in triples]),
        "expr_crop": np.stack([crop_morph(t.expr) for t in triples]),
        "rest": np.stack([_down(t.rest, TRAIN_RES) for t in triples]),
        "expr": np.stack([_down(t.expr, TRAIN_RES) for t in triples]),
        "posed": np.stack([_down(t.posed, TRAIN_RES) for t in triples]),
        "pose": np.stack([spec.to_vector(t.pose) for t in triples]),
        "character": np.array([t.character for t in triples]),
        "flow": np.stack([np.zeros((*FLOW_SHAPE, 2), np.float16) if t.flow is None
                          else t.flow.astype(np.float16) for t in triples]),
        "flow_mask": np.stack([np.zeros(FLOW_SHAPE, np.uint8) if t.flow_mask is None
                               else t.flow_mask.astype(np.uint8) for t in triples]),
    }


def shard_path(out_dir: Path, split: str, k: int) -> Path:
    return Path(out_dir) / split / f"shard_{k:05d}.npz"


def write_shard(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def write_dataset(
    source: TripleSource,
    out_dir: Path,
    split: str,
    n_shards: int,
    shard_size: int = 64,
    seed: int = 0,
    progress: bool = True,
    spec: PoseSpec = DEFAULT_POSE_SPEC,
) -> list[Path]:
    """Write shards 0..n_shards-1 of `split`, skipping shards already complete (resume)."""
    from tqdm import tqdm

    chars = source.characters(split)
    if not chars:
        raise ValueError(f"source {source.name!r} has no {split} characters")
    out_dir = Path(out_dir)
    meta = out_dir / "meta.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    if not meta.exists():
        meta.write_text(json.dumps({"source": source.name, "pose_spec": spec.to_json()}, indent=1))
    split_salt = 0 if split == "train" else 1
    paths = []
    bar = tqdm(range(n_shards), desc=f"{source.name}/{split}", disable=not progress, unit="shard")
    for k in bar:
        path = shard_path(out_dir, split, k)
        paths.append(path)
        if path.exists():
            continue
        rng = np.random.default_rng([seed, split_salt, k])
        triples = []
        for _ in range(shard_size):
            ch = chars[int(rng.integers(len(chars)))]
            triples.append(source.make_triple(ch, rng))
        write_shard(path, pack_triples(triples, spec))
    return paths


@dataclass
class ShardSampler:
    """Random samples mixed from several shard directories with chosen weights.

    roots: {directory: weight}. Each directory holds <split>/shard_*.npz. Shards are loaded
    lazily and a few are kept in memory; new shards that appear while training (a generator
    still running) are picked up on refresh().
    """

    roots: Mapping[str, float]
    split: str = "train"
    seed: int = 0
    cache_shards: int = 48
    fresh: float = 0.015
    _files: dict[str, list[Path]] = field(default_factory=dict, init=False)
    _cache: dict[Path, dict[str, np.ndarray]] = field(default_factory=dict, init=False)
    _meta: dict[Path, list[str] | None] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.refresh()

    def refresh(self) -> None:
        for root in self.roots:
            self._files[root] = sorted((Path(root) / self.split).glob("shard_*[0-9].npz"))
        if not any(self._files.values()):
            raise FileNotFoundError(
                f"no {self.split} shards under {list(self.roots)}; generate data first"
            )

    def _load(self, path: Path) -> dict[str, np.ndarray]:
        if path not in self._cache:
            if len(self._cache) >= self.cache_shards:
                self._cache.pop(next(iter(self._cache)))
            with np.load(path) as z:
                shard = {k: z[k] for k in z.files}
            shard["pose"] = self._current_poses(path, shard["pose"])
            if "flow" not in shard:  # written before sources stored correspondence
                n = len(shard["pose"])
                shard["flow"] = np.zeros((n, *FLOW_SHAPE, 2), np.float16)
                shard["flow_mask"] = np.zeros((n, *FLOW_SHAPE), np.uint8)
            self._cache[path] = shard
        return self._cache[path]

    def _current_poses(self, path: Path, poses: np.ndarray) -> np.ndarray:
        """A shard's poses in the current PoseSpec's order: a shard written before later
        parameters were added (fewer values; its directory's meta.json lists the spec the
        directory was begun with) holds them at their defaults, which is what its images
        show. The spec only ever appends, so a full row is already in order (a build resumed
        after the spec grew holds both kinds)."""
        names = DEFAULT_POSE_SPEC.names
        if poses.shape[1] == len(names):
            return poses
        stored = self._stored_names(path)
        if stored is None or len(stored) != poses.shape[1]:
            raise ValueError(f"{path}: its poses have {poses.shape[1]} values and its meta.json does not "
                             f"say which parameters they are; rebuild the dataset")
        unknown = sorted(set(stored) - set(names))
        if unknown:
            raise ValueError(f"{path}: parameters {unknown} are not in the current PoseSpec")
        out = np.tile(DEFAULT_POSE_SPEC.to_vector({}), (len(poses), 1))
        out[:, [names.index(n) for n in stored]] = poses
        return out

    def _stored_names(self, path: Path) -> list[str] | None:
        meta = path.parent.parent / "meta.json"
        if meta not in self._meta:
            try:
                self._meta[meta] = [d["name"] for d in json.loads(meta.read_text())["pose_spec"]]
            except (OSError, ValueError, KeyError, TypeError):
                self._meta[meta] = None
        return self._meta[meta]

    def batch(self, n: int) -> dict[str, np.ndarray]:
        roots = [r for r in self.roots if self._files.get(r)]
        w = np.array([self.roots[r] for r in roots], dtype=np.float64)
        w /= w.sum()
        picks: dict[str, list[np.ndarray]] = {}
        for _ in range(n):
            root = roots[int(self.rng.choice(len(roots), p=w))]
            files = self._files[root]
            # Decompressing a shard costs ~0.4 s, about one training step, so most rows come
            # from the shards in memory; a new shard is read with probability `fresh` (always
            # while the cache is still filling), replacing the oldest.
            cached = [f for f in files if f in self._cache]
            filling = len(self._cache) < self.cache_shards and len(cached) < len(files)
            if cached and not filling and self.rng.random() >= self.fresh:
                f = cached[int(self.rng.integers(len(cached)))]
            else:
                f = files[int(self.rng.integers(len(files)))]
            shard = self._load(f)
            i = int(self.rng.integers(len(shard["pose"])))
            for k, v in shard.items():
                picks.setdefault(k, []).append(v[i])
        return {k: np.stack(v) for k, v in picks.items()}

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        while True:
            yield self.batch(1)
