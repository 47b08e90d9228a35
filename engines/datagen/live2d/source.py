"""Live2DSource: the Live2D characters as a TripleSource for engines.datagen.dataset."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engines.datagen.dataset import Triple, mirror_flow
from engines.datagen.live2d.augment import Augment
from engines.datagen.live2d.character import Live2DCharacter
from engines.datagen.live2d.flow import backward_flow
from engines.datagen.live2d.models import HEAD_ONLY, HUMAN_TRAIN, HUMAN_VAL, fetch_model
from engines.datagen.live2d.sampling import sample_expression, sample_head
from engines.posespec import DEFAULT_POSE_SPEC, PoseSpec


# The five dot-eyed figures are one rig with different parts shown, so their faces sit at the
# same place; long twin tails and curls fool the framing of two of them, so all use nico's.
FRAMING_LIKE = {name: "nico" for name in HEAD_ONLY if name != "nico"}


class Live2DSource:
    name = "live2d"

    def __init__(self, train: tuple[str, ...] = HUMAN_TRAIN + HEAD_ONLY, val: tuple[str, ...] = HUMAN_VAL,
                 augment: Augment | None = None, spec: PoseSpec = DEFAULT_POSE_SPEC) -> None:
        overlap = set(train) & set(val)
        if overlap:
            raise ValueError(f"characters in both train and val: {sorted(overlap)}")
        self.splits = {"train": list(train), "val": list(val)}
        self.augment = augment if augment is not None else Augment()
        self.spec = spec
        self._chars: dict[str, Live2DCharacter] = {}

    def characters(self, split: str) -> list[str]:
        if split not in self.splits:
            raise ValueError(f"unknown split {split!r}; use 'train' or 'val'")
        return list(self.splits[split])

    def character(self, name: str) -> Live2DCharacter:
        if name not in self._chars:
            like = FRAMING_LIKE.get(name)
            framing = self.character(like).framing if like else None
            self._chars[name] = Live2DCharacter(self._model_path(name), spec=self.spec, framing=framing)
        return self._chars[name]

    def _model_path(self, name: str) -> Path:
        return fetch_model(name)

    def sample_pose(self, name: str, rng: np.random.Generator) -> tuple[dict[str, float], dict[str, float]]:
        """(expression values, head/body values) supported by this character."""
        ch = self.character(name)
        # Only controls that visibly work on this model are sampled. The dot-eyed figures give
        # head poses only: their eyes, irises, brows and yaw do nothing, and their mouth-open
        # deforms the whole head and hair, beyond what the face morpher may change.
        expr = {} if name in HEAD_ONLY else sample_expression(rng, ch.supports, self.spec)
        return expr, sample_head(rng, ch.supports, self.spec)

    def make_triple(self, character: str, rng: np.random.Generator) -> Triple:
        ch = self.character(character)
        expr, head = self.sample_pose(character, rng)
        aug = self.augment
        colors = aug.part_colors(rng, ch.part_ids)
        params = aug.free_params(rng, ch.params)
        framing = ch.framing.jittered(*aug.jitter(rng))
        flip = aug.flip(rng)
        gains = aug.turn_gains(rng, ch.model.part_count)
        ss = aug.supersample(rng)
        kw = dict(params=params, part_colors=colors, framing=framing)
        rest = ch.render({}, supersample=ss, **kw)
        expr_img, expr_meshes, matrix, frame = ch.render_with_meshes(expr, **kw)
        posed, posed_meshes, _, _ = ch.render_with_meshes({**expr, **head}, turn_gains=gains, **kw)
        if ss > 1:  # the meshes (for the flow) are the same at any size; the pixels are not
            expr_img = ch.render(expr, supersample=ss, **kw)
            posed = ch.render({**expr, **head}, turn_gains=gains, supersample=ss, **kw)
        # The rotator warps the expression image into the posed one: that is the flow it needs.
        flow, flow_mask = backward_flow(expr_meshes, posed_meshes, matrix, frame)
        pose = self.spec.clamp({**expr, **head})
        if flip:
            rest, expr_img, posed = (np.ascontiguousarray(a[:, ::-1]) for a in (rest, expr_img, posed))
            flow, flow_mask = mirror_flow(flow, flow_mask)
            pose = {k: v + 0.0 for k, v in self.spec.mirrored(pose).items()}  # no -0.0
        return Triple(rest=rest, expr=expr_img, posed=posed, pose=pose, character=character,
                      flow=flow, flow_mask=flow_mask)
