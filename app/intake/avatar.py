"""A character from a selfie: fit the procedural generator's Identity to a photo of a person.

MediaPipe's FaceLandmarker (the tracker's packaged face_landmarker.task) gives 478 points.
From them:
  - face shape (width, jaw, chin) and eye spacing/opening, as ratios to the eye-to-chin
    distance compared with the average of a dozen photos, so a wide face becomes a wide
    anime face;
  - skin colour from discs on both cheeks, iris colour from the iris landmarks (468-477)
    inside the eye opening, minus pupil and highlights;
  - hair colour from a band around the top of the face oval (skin-coloured pixels left out),
    then a hair mask (pixels near that colour, connected to the band) says how far down the
    hair reaches beside the face (back-hair length) and over the forehead (fringe length);
  - glasses from horizontal edges both on the nose bridge and under the eyes (a frame's
    bridge and rims); weak, see GLASSES_BRIDGE.
What a photo cannot say (drawing style, clothes, eye shape details) comes from a random
identity seeded by the photo's pixels, so the same photo always gives the same character.

Colours are fitted in CIELAB to what the rendered avatar shows in the matching region (the
drawing's cel shading darkens or lightens a fill colour), and judged with CIEDE2000.
The result is an original drawing in the input convention, not a traced photo.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from app.settings import atomic_write_text

# MediaPipe face-mesh indices (canonical 478-point topology).
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109)
EYE_R = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
EYE_L = (362, 398, 384, 385, 386, 387, 388, 466, 263, 249, 390, 373, 374, 380, 381, 382)
IRIS_R, IRIS_L = (468, 469, 470, 471, 472), (473, 474, 475, 476, 477)
CHEEKS = (50, 280, 101, 330, 118, 347, 205, 425)
TOP, CHIN, CHEEK_R, CHEEK_L, JAW_R, JAW_L = 10, 152, 234, 454, 172, 397
MOUTH_MID, BROW_R, BROW_L, NOSE_BRIDGE = 14, 105, 334, 168

# Average face ratios (to the eye-to-chin distance, or to the face width), the means of
# this landmarker on the 12 frontal test photos (spread about +-0.1, +-0.03, +-0.05,
# +-0.04); the avatar departs from the generator's average face as the photo departs
# from these.
MEAN_WIDTH = 1.18     # cheek width / eye-to-chin
MEAN_JAW = 0.81       # jaw width / cheek width
MEAN_CHIN = 0.37      # mouth-to-chin / eye-to-chin
MEAN_SPACING = 0.46   # iris-centre distance / cheek width
# Generator head space (engines.datagen.procedural.layout): eyes at y=12, chin at y=60.
GEN_EYE_Y, GEN_CHIN_Y = 12.0, 60.0
# Glasses: edge strengths (grey levels per pixel) both places must pass. Set on the 12
# photos at hand (one with glasses at 40/53; the rest at most 36/30 with one or the other
# low): a weak detector, and the user can add or remove "glasses" in the parameters.
GLASSES_BRIDGE, GLASSES_UNDER = 14.0, 40.0
PARAMS_SUFFIX = ".json"
MAX_FACES = 4
# Photos are read at most this many pixels a side: plenty for colours and landmarks, and it
# bounds the memory of the per-pixel colour work on a 20-megapixel phone picture.
MAX_SIDE = 1280


class AvatarError(ValueError):
    """The photo cannot make an avatar (no face, unreadable), with what to do instead."""


@dataclass
class PhotoReading:
    """What was measured on the photo (pixels and sRGB colours), kept beside the result."""
    skin: tuple[int, int, int]
    iris: tuple[int, int, int]
    hair: tuple[int, int, int] | None
    face_width: float
    jaw: float
    chin: float
    eye_spacing: float
    eye_open: float
    eye_tilt: float
    hair_bottom: float | None  # head-space y (generator units) where the hair ends beside the face
    fringe: float              # 0 bare forehead .. 1 hair down to the brows
    glasses_bridge: float      # edge strength where a frame's bridge would be
    glasses_under: float       # ... and where its rims pass under the eyes

    @property
    def glasses(self) -> bool:
        return self.glasses_bridge > GLASSES_BRIDGE and self.glasses_under > GLASSES_UNDER
    notes: list[str] = field(default_factory=list)


@dataclass
class Avatar:
    identity: object  # engines.datagen.procedural.Identity
    rgba: np.ndarray
    reading: PhotoReading | None


# ---- colour -------------------------------------------------------------------------
def rgb_to_lab(rgb) -> np.ndarray:
    """sRGB (0..255, any shape ending in 3) to CIELAB (D65)."""
    a = np.asarray(rgb, dtype=np.float32).reshape(-1, 1, 3) / 255.0
    lab = cv2.cvtColor(a, cv2.COLOR_RGB2Lab).reshape(np.shape(rgb))
    return lab.astype(np.float64)


def lab_to_rgb(lab) -> np.ndarray:
    a = np.asarray(lab, dtype=np.float32).reshape(-1, 1, 3)
    rgb = cv2.cvtColor(a, cv2.COLOR_Lab2RGB).reshape(np.shape(lab))
    return np.clip(rgb * 255.0, 0, 255)


def ciede2000(lab1, lab2) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1) of Lab arrays (..., 3)."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    cbar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(cbar**7 / (cbar**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dL, dC = L2 - L1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    Lbar, cbarp = (L1 + L2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    hbar = np.where(c1p * c2p == 0, hsum,
                    np.where(np.abs(h1p - h2p) <= 180, hsum / 2,
                             np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)))
    t = (1 - 0.17 * np.cos(np.radians(hbar - 30)) + 0.24 * np.cos(np.radians(2 * hbar))
         + 0.32 * np.cos(np.radians(3 * hbar + 6)) - 0.20 * np.cos(np.radians(4 * hbar - 63)))
    sl = 1 + 0.015 * (Lbar - 50) ** 2 / np.sqrt(20 + (Lbar - 50) ** 2)
    sc, sh = 1 + 0.045 * cbarp, 1 + 0.015 * cbarp * t
    rt = (-2 * np.sqrt(cbarp**7 / (cbarp**7 + 25.0**7))
          * np.sin(np.radians(60 * np.exp(-(((hbar - 275) / 25) ** 2)))))
    return np.sqrt((dL / sl) ** 2 + (dC / sc) ** 2 + (dH / sh) ** 2
                   + rt * (dC / sc) * (dH / sh))


def _hex(rgb) -> str:
    r, g, b = (int(round(float(np.clip(c, 0, 255)))) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def _rgb(hex_: str) -> np.ndarray:
    return np.array([int(hex_[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def _robust_colour(pixels: np.ndarray, lo: float = 15, hi: float = 90) -> np.ndarray | None:
    """Median Lab of RGB pixels whose lightness lies between two percentiles (drops shadow
    and specular highlights), as sRGB; None when there are too few pixels to trust."""
    if len(pixels) < 6:
        return None
    lab = rgb_to_lab(pixels.astype(np.float64))
    p0, p1 = np.percentile(lab[:, 0], [lo, hi])
    keep = lab[(lab[:, 0] >= p0) & (lab[:, 0] <= p1)]
    return lab_to_rgb(np.median(keep if len(keep) >= 3 else lab, axis=0))


# ---- landmarks ----------------------------------------------------------------------
def find_landmarks(rgb: np.ndarray, model_path=None, notes: list[str] | None = None) -> np.ndarray:
    """(478, 2) pixel landmarks of the largest face in an RGB uint8 photo; AvatarError when
    there is none. With several faces, a line saying so goes to `notes`."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from app.tracking.model_file import find_face_model

    opts = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(find_face_model(model_path))),
        running_mode=vision.RunningMode.IMAGE, num_faces=MAX_FACES)
    with vision.FaceLandmarker.create_from_options(opts) as lm:
        res = lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))
    if not res.face_landmarks:
        raise AvatarError(
            "no face was found in the photo. Use a well-lit photo of one person looking at "
            "the camera, with the whole face visible and at least about 100 pixels wide.")
    h, w = rgb.shape[:2]
    faces = [np.array([(p.x * w, p.y * h) for p in f], dtype=np.float64) for f in res.face_landmarks]
    faces.sort(key=lambda f: -np.ptp(f[:, 0]) * np.ptp(f[:, 1]))
    if len(faces) > 1 and notes is not None:
        notes.append(f"{len(faces)} faces in the photo; the largest was used")
    return faces[0]


def _poly_mask(shape, pts) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(np.asarray(pts)).astype(np.int32)], 1)
    return m.astype(bool)


def _disc_mask(shape, centres, r) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    for c in np.atleast_2d(centres):
        cv2.circle(m, (int(round(c[0])), int(round(c[1]))), max(1, int(round(r))), 1, -1)
    return m.astype(bool)


# ---- reading the photo ---------------------------------------------------------------
def read_photo(rgb: np.ndarray, pts: np.ndarray) -> PhotoReading:
    """Measure face shape, colours, hair and glasses from the photo and its landmarks."""
    notes: list[str] = []
    eye_r, eye_l = pts[list(IRIS_R)[0]], pts[list(IRIS_L)[0]]
    eye_mid = (eye_r + eye_l) / 2
    # Work in the face's own frame so a tilted head reads the same as an upright one.
    axis = (eye_l - eye_r) / np.linalg.norm(eye_l - eye_r)
    down = np.array([-axis[1], axis[0]])
    if np.dot(down, pts[CHIN] - eye_mid) < 0:
        down = -down

    def along(i, j):
        return abs(float(np.dot(pts[j] - pts[i], axis)))

    def depth(p):  # distance below the eye line, in pixels
        return float(np.dot(np.asarray(p) - eye_mid, down))

    e2c = depth(pts[CHIN])
    if e2c < 8:
        raise AvatarError("the face in the photo is too small or seen from too steep an "
                          "angle; use a frontal photo with the face at least ~100 px wide.")
    width = along(CHEEK_R, CHEEK_L)
    jaw = along(JAW_R, JAW_L) / width
    chin = (depth(pts[CHIN]) - depth(pts[MOUTH_MID])) / e2c
    spacing = abs(float(np.dot(eye_l - eye_r, axis))) / width
    opens, tilts = [], []
    for ring, outer, inner, top, bot in ((EYE_R, 33, 133, 159, 145), (EYE_L, 263, 362, 386, 374)):
        ew = along(outer, inner)
        opens.append(abs(depth(pts[bot]) - depth(pts[top])) / max(ew, 1e-6))
        tilts.append((depth(pts[inner]) - depth(pts[outer])) / max(ew, 1e-6))

    # Skin: discs on both cheeks.
    face_h = float(np.linalg.norm(pts[TOP] - pts[CHIN]))
    skin = _robust_colour(rgb[_disc_mask(rgb.shape, pts[list(CHEEKS)], 0.035 * face_h)])
    # Iris: inside the iris circle and the eye opening, outside the pupil.
    iris_px = []
    for ring, eye in ((IRIS_R, EYE_R), (IRIS_L, EYE_L)):
        c = pts[ring[0]]
        r = float(np.mean(np.linalg.norm(pts[list(ring[1:])] - c, axis=1)))
        m = (_disc_mask(rgb.shape, c, 0.9 * r) & _poly_mask(rgb.shape, pts[list(eye)])
             & ~_disc_mask(rgb.shape, c, 0.35 * r))
        iris_px.append(rgb[m])
    iris = _robust_colour(np.concatenate(iris_px), 10, 80)
    if iris is None:
        notes.append("the eyes are closed or too small to read their colour; kept a brown")
        iris = np.array([110.0, 80.0, 60.0])

    hair, bottom, fringe, _ = _read_hair(rgb, pts, skin, eye_mid, down, e2c, width, notes)
    bridge, under = _glasses_edges(rgb, pts, face_h)
    return PhotoReading(
        skin=tuple(int(round(v)) for v in skin), iris=tuple(int(round(v)) for v in iris),
        hair=None if hair is None else tuple(int(round(v)) for v in hair),
        face_width=width / e2c, jaw=jaw, chin=chin, eye_spacing=spacing,
        eye_open=float(np.mean(opens)), eye_tilt=float(np.mean(tilts)),
        hair_bottom=bottom, fringe=fringe, glasses_bridge=bridge, glasses_under=under,
        notes=notes)


def hair_mask(rgb: np.ndarray, pts: np.ndarray) -> np.ndarray | None:
    """The photo's hair mask as read_photo finds it (for checks and the contact sheet)."""
    e_r, e_l = pts[IRIS_R[0]], pts[IRIS_L[0]]
    axis = (e_l - e_r) / np.linalg.norm(e_l - e_r)
    down = np.array([-axis[1], axis[0]])
    eye_mid = (e_r + e_l) / 2
    if np.dot(down, pts[CHIN] - eye_mid) < 0:
        down = -down
    e2c = float(np.dot(pts[CHIN] - eye_mid, down))
    width = abs(float(np.dot(pts[CHEEK_L] - pts[CHEEK_R], axis)))
    face_h = float(np.linalg.norm(pts[TOP] - pts[CHIN]))
    skin = _robust_colour(rgb[_disc_mask(rgb.shape, pts[list(CHEEKS)], 0.035 * face_h)])
    return _read_hair(rgb, pts, skin, eye_mid, down, e2c, width, [])[3]


def _read_hair(rgb, pts, skin, eye_mid, down, e2c, width, notes):
    """Hair colour, where the hair ends beside the face (generator head-space y), how far
    the fringe comes down the forehead (0..1), and the hair mask (None: no hair seen)."""
    h, w = rgb.shape[:2]
    oval = pts[list(FACE_OVAL)]
    centre = oval.mean(axis=0)
    lab = rgb_to_lab(rgb.reshape(-1, 3).astype(np.float64)).reshape(h, w, 3)
    skin_lab = rgb_to_lab(skin)
    # Foreheads run past the mesh's top: leave out anything near the skin's hue and lightness.
    d = lab - skin_lab
    not_skin = (np.linalg.norm(d, axis=-1) > 16.0) & ((np.hypot(d[..., 1], d[..., 2]) > 9.0)
                                                      | (np.abs(d[..., 0]) > 28.0))
    above = (np.einsum("hwc,c->hw", np.dstack(np.meshgrid(np.arange(w), np.arange(h)))
                       - eye_mid, down)) < -0.35 * e2c
    band = (_poly_mask(rgb.shape, centre + (oval - centre) * 1.40)
            & ~_poly_mask(rgb.shape, centre + (oval - centre) * 1.06) & above & not_skin)
    if band.sum() < 20:
        notes.append("no hair is visible above the face (cropped photo, or a bald or covered "
                     "head); hair colour and length come from the random identity")
        return None, None, 0.5, None
    px = lab[band]
    # Two clusters (hair, background); the hair is the one nearest the face outline.
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(px.astype(np.float32), 2, None, crit, 3, cv2.KMEANS_PP_CENTERS)
    inner = (_poly_mask(rgb.shape, centre + (oval - centre) * 1.22) & band)[band]
    score = [np.mean(inner[labels.ravel() == k]) * np.sum(labels.ravel() == k) for k in range(2)]
    k = int(np.argmax(score))
    hair_lab = np.median(px[labels.ravel() == k], axis=0)
    hair = lab_to_rgb(hair_lab)
    # Hair mask: near the hair colour and connected to the band's hair pixels.
    spread = float(np.percentile(np.linalg.norm(px[labels.ravel() == k] - hair_lab, axis=1), 80))
    near = (np.linalg.norm(lab - hair_lab, axis=-1) < max(12.0, 1.3 * spread)) & not_skin
    near &= ~_poly_mask(rgb.shape, centre + (oval - centre) * 0.98) | above
    n, comp = cv2.connectedComponents(near.astype(np.uint8), connectivity=8)
    seeds = np.unique(comp[band & near])
    mask = np.isin(comp, seeds[seeds > 0])
    # Beside the face: columns just outside the cheeks, down from the eye line.
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    rel = np.dstack([xs, ys]) - eye_mid
    across = rel @ np.array([down[1], -down[0]])
    dn = rel @ down
    side = (np.abs(across) > 0.45 * width) & (np.abs(across) < 0.85 * width) & (dn > 0)
    rows = dn[mask & side]
    if rows.size < 10:
        bottom_px = 0.0  # hair ends above the eyes: short
    else:
        bottom_px = float(np.percentile(rows, 97))
    reaches_edge = bool(rows.size and np.any((mask & side)[-2:, :]))
    bottom = GEN_EYE_Y + bottom_px / e2c * (GEN_CHIN_Y - GEN_EYE_Y)
    if reaches_edge:
        bottom = max(bottom, 200.0)  # the hair goes on below the photo
    # Fringe: the share of the forehead (eye line -0.35 .. -0.95 eye-to-chin) covered by hair
    # in a strip between the eyes' outer halves.
    fore = (np.abs(across) < 0.3 * width) & (dn < -0.30 * e2c) & (dn > -0.95 * e2c)
    covered = mask[fore].mean() if fore.any() else 0.0
    return hair, bottom, float(np.clip(covered * 1.4, 0.0, 1.0)), mask


def _glasses_edges(rgb, pts, face_h) -> tuple[float, float]:
    """Horizontal-edge strength (mean |dI/dy| of the strongest row) on the nose bridge
    between the eyes and under each eye (weaker side). A frame puts a bar across both
    places; bare skin is smooth there, and wrinkles or a deep brow mark only one of them."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gy = np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)) / 4.0
    h, w = grey.shape

    def strongest_row(cx, y0, y1, half_w):
        ys = slice(int(np.clip(y0, 0, h - 1)), int(np.clip(y1, 0, h - 1)) + 1)
        xs = slice(int(np.clip(cx - half_w, 0, w - 1)), int(np.clip(cx + half_w, 0, w - 1)) + 1)
        rows = gy[ys, xs].mean(axis=1)
        return float(rows.max()) if rows.size else 0.0

    x0, x1 = sorted((pts[133][0], pts[362][0]))
    cx, cy = pts[NOSE_BRIDGE]
    bridge = strongest_row(cx, cy - 0.06 * face_h, cy + 0.06 * face_h, max(2.0, 0.3 * (x1 - x0)))
    under = min(strongest_row(pts[c][0], pts[b][1] + 0.03 * face_h, pts[b][1] + 0.16 * face_h,
                              0.05 * face_h) for c, b in ((468, 145), (473, 374)))
    return bridge, under


# ---- fitting the identity -------------------------------------------------------------
def _clip(v, lo, hi):
    return float(np.clip(v, lo, hi))


def fit_identity(reading: PhotoReading, seed: int):
    """An Identity for the photo: measured fields from `reading`, the rest from a random
    identity drawn with `seed` (style, clothes, eye details)."""
    from engines.datagen.procedural.identity import sample_identity

    ident = sample_identity(np.random.default_rng(seed))
    r = reading
    # Gains spread the photos' spread of each ratio over the range the generator samples.
    ident.face_width = _clip(1.0 + 0.9 * (r.face_width / MEAN_WIDTH - 1), 0.9, 1.08)
    ident.jaw = _clip(0.5 + 10.0 * (MEAN_JAW - r.jaw), 0.0, 1.0)
    ident.chin = _clip(50.0 * (r.chin - MEAN_CHIN), -4.0, 5.0)
    ident.eye_spacing = _clip(1.0 + 2.0 * (r.eye_spacing / MEAN_SPACING - 1), 0.9, 1.1)
    ident.eye_h = _clip(10.0 + (r.eye_open - 0.18) / 0.22 * 7.0, 10.0, 17.0)
    ident.eye_tilt = _clip(1.5 * r.eye_tilt, -0.25, 0.35)
    ident.skin = _hex(r.skin)
    ident.iris_color = _hex(r.iris)
    # A lighter second colour for the lower iris, as the generator draws it.
    ident.iris_color2 = _hex(lab_to_rgb(rgb_to_lab(np.array(r.iris, float)) + (15.0, 0, 0)))
    ident.hair_tips = ""
    ident.twin_tails = ident.ponytail = ident.buns = False  # not visible from the front
    ident.accessories = ["glasses"] if r.glasses else []
    if r.hair is not None:
        ident.hair_color = _hex(r.hair)
    if r.hair_bottom is not None:
        ident.back_hair, ident.hair_len = _back_hair_for(r.hair_bottom)
        ident.side_locks = ("none" if ident.back_hair == "short" else
                            "short" if ident.back_hair == "bob" else ident.side_locks)
    ident.bang_len = _clip(r.fringe, 0.0, 1.0)
    if r.fringe < 0.25:
        ident.bangs = "parted"  # a bare forehead reads best as hair parted away from it
    elif ident.bangs == "parted":
        ident.bangs = "straight"
    ident.blush = min(ident.blush, 0.3)
    return ident


def _back_hair_for(bottom_y: float) -> tuple[str, float]:
    """Back-hair style and length scale (0.75..1.2, as the generator samples it) ending at
    head-space y `bottom_y`: a style that reaches it within that scale, the nearest to its
    natural length; otherwise the nearest style."""
    lengths = {"short": 38.0, "bob": 62.0, "medium": 130.0, "long": 280.0}
    y = max(bottom_y, 20.0)
    fits = [k for k, v in lengths.items() if 0.75 * v <= y <= 1.2 * v]
    pool = fits or list(lengths)
    best = min(pool, key=lambda k: abs(np.log(y / lengths[k])))
    return best, _clip(y / lengths[best], 0.75, 1.2)


def require_generator():
    """The procedural generator package; AvatarError when its drawing library is missing
    (skia-python is an app dependency, so only a broken install lacks it)."""
    try:
        import engines.datagen.procedural as procedural
    except ImportError as exc:
        raise AvatarError(f"drawing the character needs skia-python ({exc}). Install it with "
                          "`pip install skia-python` (a dependency of omokage: reinstalling it also brings it).") from None
    return procedural


def draw(identity) -> np.ndarray:
    """The identity drawn at rest: 512x512 straight-alpha RGBA in the input convention."""
    return require_generator().draw_character(identity, {})


# ---- the rendered avatar's colours ------------------------------------------------------
def rendered_colours(identity, rgba: np.ndarray) -> dict[str, np.ndarray]:
    """Median sRGB of the drawing in the regions matching the photo's samples: skin on the
    cheeks (below the blush), the irises outside the pupils (lightness percentiles 10-80, as
    on the photo), and the hair on top of the head."""
    from engines.datagen.procedural.layout import layout_of
    from engines.datagen.procedural.render import framed

    lay = layout_of(identity)
    out = {}
    opaque = rgba[..., 3] == 255
    cy0, cy1 = lay.eye_y + lay.eye_h + 14, lay.mouth_y - 2
    cheeks = [framed(identity, [(s * lay.rw * 0.45, cy0), (s * lay.rw * 0.8, cy0),
                                (s * lay.rw * 0.75, cy1), (s * lay.rw * 0.45, cy1)])
              for s in (-1, 1)]
    masks = {"skin": _poly_mask(rgba.shape, cheeks[0]) | _poly_mask(rgba.shape, cheeks[1])}
    iris = np.zeros(rgba.shape[:2], bool)
    for s in (-1, 1):
        t = np.linspace(0, 2 * np.pi, 32)
        cx, cy = s * lay.eye_dx, lay.eye_y + 0.08 * lay.eye_h
        rx, ry = lay.eye_w * identity.iris_w, lay.eye_h * identity.iris_h

        def ell(k):
            return framed(identity, np.stack([cx + k * rx * np.cos(t), cy + k * ry * np.sin(t)], -1))
        # As on the photo: inside the iris, outside the pupil.
        iris |= _poly_mask(rgba.shape, ell(0.8)) & ~_poly_mask(rgba.shape, ell(0.35))
    masks["iris"] = iris
    top = lay.hair_top
    masks["hair"] = _poly_mask(rgba.shape, framed(identity, [
        (-0.55 * lay.rw, top + 10), (0.55 * lay.rw, top + 10), (0.55 * lay.rw, -32),
        (-0.55 * lay.rw, -32)]))
    for name, m in masks.items():
        px = rgba[m & opaque][:, :3]
        if name == "iris":  # the photo's iris sample drops highlights and shadow the same way
            got = _robust_colour(px, 10, 80)
        else:
            got = lab_to_rgb(np.median(rgb_to_lab(px.astype(np.float64)), axis=0)) if len(px) else None
        out[name] = np.zeros(3) if got is None else got
    return out


def colour_errors(reading: PhotoReading, identity, rgba) -> dict[str, float]:
    """CIEDE2000 between each photo colour and the drawing's colour in the same region."""
    got = rendered_colours(identity, rgba)
    errs = {}
    for name in ("skin", "iris", "hair"):
        want = getattr(reading, name)
        if want is not None:
            errs[name] = float(ciede2000(rgb_to_lab(np.array(want, float)), rgb_to_lab(got[name])))
    return errs


_FIELDS = {"skin": "skin", "iris": "iris_color", "hair": "hair_color"}


def _match_colours(ident, reading: PhotoReading, rounds: int = 3):
    """Shift each fill colour in Lab until the drawing shows the photo's colour in its region
    (cel shading, gradients and pupils move the visible colour away from the fill)."""
    rgba = draw(ident)
    for _ in range(rounds):
        got = rendered_colours(ident, rgba)
        for name, attr in _FIELDS.items():
            want = getattr(reading, name)
            if want is None:
                continue
            fill = rgb_to_lab(_rgb(getattr(ident, attr)))
            step = rgb_to_lab(np.array(want, float)) - rgb_to_lab(got[name])
            setattr(ident, attr, _hex(lab_to_rgb(fill + step)))
            if name == "iris":  # the lower half shows the second iris colour
                fill2 = rgb_to_lab(_rgb(ident.iris_color2))
                ident.iris_color2 = _hex(lab_to_rgb(fill2 + step))
        rgba = draw(ident)
    return ident, rgba


# ---- the whole step ---------------------------------------------------------------------
def avatar_from_rgb(rgb: np.ndarray, model_path=None) -> Avatar:
    """The avatar of the person in an RGB uint8 photo."""
    require_generator()
    h, w = rgb.shape[:2]
    if max(h, w) > MAX_SIDE:
        k = MAX_SIDE / max(h, w)
        rgb = cv2.resize(rgb, (max(1, round(w * k)), max(1, round(h * k))),
                         interpolation=cv2.INTER_AREA)
    notes: list[str] = []
    pts = find_landmarks(rgb, model_path, notes)
    reading = read_photo(rgb, pts)
    reading.notes[:0] = notes
    seed = int.from_bytes(hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).digest()[:8], "little")
    ident = fit_identity(reading, seed)
    ident, rgba = _match_colours(ident, reading)
    return Avatar(ident, rgba, reading)


def load_photo(path: str | Path) -> np.ndarray:
    """RGB uint8 pixels of a photo file (EXIF rotation honoured); AvatarError if unusable."""
    from app.character import CharacterError, decode_image

    path = Path(path)
    if not path.is_file():
        raise AvatarError(f"{path}: file not found.")
    try:
        rgba, _ = decode_image(path.read_bytes(), path.name, photo=True)
    except CharacterError as exc:
        raise AvatarError(str(exc)) from None
    # Transparent parts (a cut-out photo) read as white, like a plain backdrop.
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    return (rgba[..., :3] * a + 255 * (1 - a)).round().astype(np.uint8)


def avatar_from_params(path: str | Path) -> Avatar:
    """Redraw an avatar from a parameters file written by save_avatar (possibly edited)."""
    ident, _ = read_identity(path, AvatarError,
                             "as `omokage avatar PHOTO --out OUT.png` writes beside OUT.png")
    return Avatar(ident, draw(ident), None)


MAX_IDENTITY_BYTES = 1 << 20  # an identity file is about 2 KB


def read_identity(path: str | Path, error: type[Exception], written_by: str):
    """(Identity, the whole JSON document) from an identity file, as the avatar command and
    the creator save beside each character; `error` with a message naming the file and,
    for a wrong shape, `written_by` (where such files come from)."""
    Identity = require_generator().Identity
    path = Path(path)
    try:
        if path.stat().st_size > MAX_IDENTITY_BYTES:
            raise error(f"{path}: {path.stat().st_size >> 10} KB is far too large for an identity "
                        "file (about 2 KB); choose the .json saved beside a character.")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: file not found.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: not a readable JSON identity file ({exc}).") from None
    ident_data = data.get("identity", data) if isinstance(data, dict) else None
    if not isinstance(ident_data, dict):
        raise error(f"{path}: expected an object with an \"identity\" entry, {written_by}.")
    try:
        return Identity.from_json(json.dumps(ident_data)), data
    except (TypeError, ValueError) as exc:
        raise error(f"{path}: {exc}") from None


def params_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + PARAMS_SUFFIX)


def save_avatar(avatar: Avatar, out: str | Path, source: str | None = None) -> tuple[Path, Path]:
    """Write OUT.png (RGBA, the convention) and OUT.json (identity + what was read), each
    atomically. Returns both paths."""
    from app.character import save_rgba_png

    out = Path(out)
    js = params_path(out)
    doc = {"identity": json.loads(avatar.identity.to_json())}
    if avatar.reading is not None:
        doc["photo"] = {"file": source, **asdict(avatar.reading)}
    atomic_write_text(js, json.dumps(doc, indent=1) + "\n")
    save_rgba_png(avatar.rgba, out)
    return out, js


def avatar_path_beside(photo: str | Path) -> Path:
    """Where the window saves the avatar of `photo`: NAME.avatar.png beside it (its
    parameters as NAME.avatar.json), never the photo itself."""
    photo = Path(photo)
    return photo.with_name(f"{photo.stem}.avatar.png")


def redraw(avatar: Avatar, **changes) -> Avatar:
    """The avatar with some identity fields changed (checked as Identity checks them)."""
    from dataclasses import replace

    ident = replace(avatar.identity, **changes)  # __post_init__ validates the new values
    return Avatar(ident, draw(ident), avatar.reading)
