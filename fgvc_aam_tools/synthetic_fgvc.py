"""Deterministic procedural generator of a synthetic fine-grained data set.

The data set imitates CUB-200-2011 (Wah et al., 2011): one smallish
"bird" per image, at a random position, scale and pose (rotation and
horizontal flip), on a cluttered background whose distractors reuse the
bird's colours. Classes differ ONLY in subtle part attributes, combined
factorially (mixed radix, first attribute fastest):

=========  ======================================================
attribute  levels (class-defining)
=========  ======================================================
stripes    0, 1, 2 or 3 dark stripes across the belly
tail       short or long tail
wing       wing darker or paler than the body
crest      no crest or a small crest on the head
beak       short or long beak
wingbar    no wing bar or a pale bar along the wing
eye        plain eye or eye with a pale ring
=========  ======================================================

so 16 classes vary stripes x tail x wing, 32 also the crest, and so on
(at most 256 classes). ``first_class`` shifts the set along that order:
the pretraining set (:data:`PRETRAIN_PARAMS`) takes the 48 attribute
combinations 16-63, i.e. every bird has a crest or a long beak (or both),
while the default set's 16 classes (0-15) have neither: the same domain and
the same rendering, no class and no image in common (see
:data:`PRETRAIN_PARAMS`). Everything else (body colour, proportions,
pose, background) is drawn per instance, which gives intra-class
variation larger than the inter-class differences, as in real FGVC.

``objects='shapes'`` draws another kind of data set: the object-centric
pretraining set of the mechanism study (:data:`OBJECTS_PRETRAIN_PARAMS`).
Each class is an object *kind* (not a bird): a fixed template of 2-4
primitive parts (ellipses, triangles, rectangles, diamonds, stars,
crosses) drawn from the class index alone, with per-instance jitter,
random colours and the birds' pose, background and distractors (which
reuse the object's colours). What tells these classes apart is the
object's shape, never the background or the colour, so a network trained
on them has a reason to respond to objects (as ImageNet's 1,000 classes
give an ImageNet backbone).

The files are written in the exact CUB-200-2011 layout (``images/``,
``images.txt``, ``image_class_labels.txt``, ``train_test_split.txt``,
``classes.txt``, ``bounding_boxes.txt``) so that
:class:`~projects.fgvc_aam.datasets.CUBWithBoxes` (and MMPretrain's
``CUB``) read them unchanged. The same seed and parameters give the same
bytes: every image uses its own ``numpy.random.Generator`` seeded by
``(seed, class, instance)`` and JPEGs are encoded with a fixed quality.

A set is whole or it is refused: it is written into a temporary sibling
folder, ends with a manifest (:data:`MANIFEST_FILE`: size and SHA-256 of
every file) and only then is renamed into place; an older set in the
target folder stays untouched until the new one is complete.
:class:`~projects.fgvc_aam.datasets.CUBWithBoxes` refuses a generated set
whose files do not match its manifest.
"""
import hashlib
import json
import math
import os
import os.path as osp
import re
import shutil
import tempfile
import warnings
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np

__all__ = [
    'make_synthetic_fgvc', 'render_bird_image', 'class_attributes',
    'synthetic_fgvc_is_complete', 'image_rng', 'check_output_folder',
    'write_manifest', 'DEFAULT_PARAMS', 'PRETRAIN_PARAMS',
    'OBJECTS_PRETRAIN_PARAMS', 'ATTRIBUTES', 'OBJECT_KINDS'
]

GENERATOR_VERSION = 2  # 2: stronger part attributes (tail, wing, stripes)
META_FILE = 'synthetic_fgvc.json'
# Written first, before any other file: a folder that holds it (or the meta
# file of older versions) was made by this generator and may be rewritten.
MARKER_FILE = '.synthetic_fgvc_generator'
# Written last: every file of the set with its size and SHA-256; the data
# set refuses a generated folder whose files do not match it (the format is
# read by projects/fgvc_aam/datasets/generated_set.py).
MANIFEST_FILE = 'synthetic_fgvc_manifest.json'
MANIFEST_FORMAT = 'fgvc_aam synthetic set manifest 1'
# the generator's own files in a set folder (anything else is the user's)
_OWN_IMAGE = re.compile(r'^images/\d{3}\.[^/]+/[^/]+_\d{4}\.jpg$')
_PARTIAL = '.partial-'
ANNOTATION_FILES = ('images.txt', 'image_class_labels.txt',
                    'train_test_split.txt', 'classes.txt',
                    'bounding_boxes.txt')

# (name, level names used in class names). Order = mixed-radix order.
ATTRIBUTES: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ('stripes', ('Plain', 'One_striped', 'Two_striped', 'Three_striped')),
    ('tail', ('Short_tailed', 'Long_tailed')),
    ('wing', ('Dark_winged', 'Pale_winged')),
    ('crest', ('Smooth_headed', 'Crested')),
    ('beak', ('Short_billed', 'Long_billed')),
    ('wingbar', ('Barless', 'Wing_barred')),
    ('eye', ('Dark_eyed', 'Ring_eyed')),
)
MAX_CLASSES = int(np.prod([len(levels) for _, levels in ATTRIBUTES]))

# The project's default data, calibrated so that the CPU quickstart (a
# 16-channel ResNet-18 trained from scratch for 30 epochs) learns it clearly
# above chance but far from perfectly (softmax: about 55% top-1, chance
# 6.25%): 16 classes, 100 train + 50 test images per class, 128x128 px,
# bird length 40-60% of the side.
DEFAULT_PARAMS: Dict = dict(
    num_classes=16,
    images_per_class=150,
    train_per_class=100,
    image_size=128,
    object_size_range=(0.4, 0.6),
    max_rotation=30.0,
    clutter=0.25,
    jitter=0.7,
    jpeg_quality=90,
    seed=0,
)

# The pretraining set: the default set stands to it as CUB's species stand
# to ImageNet's bird classes. Same domain (every rendering parameter of
# DEFAULT_PARAMS), different classes: attribute combinations 16-63 (stripes
# x tail x wing x {crest, long beak, both}), whereas the default set's 16
# classes (0-15) have neither a crest nor a long beak. No shared image: an
# image's random stream is seeded by (seed, absolute class, index) and the
# classes differ; the seed differs too. 48 classes x (70 train + 10 test).
PRETRAIN_PARAMS: Dict = dict(
    DEFAULT_PARAMS,
    num_classes=48,
    first_class=16,
    images_per_class=80,
    train_per_class=70,
    seed=1,
)

# The object-centric pretraining set of the mechanism study (the analog of
# ImageNet, whose 1,000 classes make objectness discriminative): 48 object
# kinds (objects='shapes', see _shape_template), none of them a bird, on
# the default set's rendering, background and clutter; 150 train + 10
# test images per kind. No class in common with the fine-tuning set
# (birds) and no image (another seed and another kind of object).
OBJECTS_PRETRAIN_PARAMS: Dict = dict(
    DEFAULT_PARAMS,
    objects='shapes',
    num_classes=48,
    images_per_class=160,
    train_per_class=150,
    seed=2,
)
OBJECT_KINDS = ('birds', 'shapes')
MAX_SHAPE_CLASSES = 1000

# Class-defining attribute values (level index -> value).
_TAIL_LEN = (0.25, 0.75)  # tail length / body length
_WING_SHADE = (-0.5, 0.5)  # <0 blend towards black, >0 towards white
_BEAK_LEN = (0.13, 0.26)  # beak length / body length
_STRIPE_HALF_WIDTH = 0.05  # / body length


def class_attributes(label: int) -> Dict[str, int]:
    """Level index of every attribute of the 0-based class ``label``."""
    if not 0 <= label < MAX_CLASSES:
        raise ValueError(f'label must be in [0, {MAX_CLASSES}), got {label}')
    attrs = {}
    rest = label
    for name, levels in ATTRIBUTES:
        attrs[name] = rest % len(levels)
        rest //= len(levels)
    return attrs


def _class_names(num_classes: int, first_class: int = 0,
                 objects: str = 'birds') -> List[str]:
    """CUB-style names ``NNN.Name`` built from the attributes that vary
    over classes ``first_class .. first_class + num_classes - 1`` (or the
    object kind's number for ``objects='shapes'``)."""
    if objects == 'shapes':
        return [f'{c + 1:03d}.Object_kind_{first_class + c + 1:03d}'
                for c in range(num_classes)]
    attrs = [class_attributes(first_class + c) for c in range(num_classes)]
    varying = [(name, levels) for name, levels in ATTRIBUTES
               if len({a[name] for a in attrs}) > 1]
    names = []
    for c, a in enumerate(attrs):
        words = [levels[a[name]] for name, levels in varying] + ['Bird']
        names.append(f'{c + 1:03d}.' + '_'.join(words))
    return names


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------
def _ellipse(cx: float, cy: float, ax: float, ay: float, angle: float = 0.,
             n: int = 28) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x, y = ax * np.cos(t), ay * np.sin(t)
    c, s = math.cos(angle), math.sin(angle)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def _blend(color: np.ndarray, shade: float) -> np.ndarray:
    """Blend towards black (shade < 0) or white (shade > 0)."""
    color = np.asarray(color, dtype=np.float64)
    if shade < 0:
        return color * (1 + shade)
    return color + (255. - color) * shade


def _hsv_color(rng: np.random.Generator, h: Tuple[float, float],
               s: Tuple[float, float], v: Tuple[float, float]) -> np.ndarray:
    """Random BGR colour from ranges of OpenCV-style HSV (h in [0, 180))."""
    hsv = np.array([[[rng.uniform(*h) % 180, rng.uniform(*s) * 255,
                      rng.uniform(*v) * 255]]], dtype=np.float32)
    return cv2.cvtColor(hsv.astype(np.uint8),
                        cv2.COLOR_HSV2BGR)[0, 0].astype(np.float64)


def _bird_parts(attrs: Dict[str, int], rng: np.random.Generator,
                jitter: float) -> List[Tuple[str, np.ndarray, str]]:
    """Part polygons of one bird in body-length units, facing +x.

    Returns (part name, (N, 2) points, colour key) in drawing order. y
    points down (image convention); the belly is at +y.
    """
    j = jitter

    def jit(scale: float) -> float:
        return float(rng.uniform(-scale, scale)) * j

    body_h = 0.21 + jit(0.03)
    head_r = 0.16 + jit(0.02)
    tail_len = _TAIL_LEN[attrs['tail']] + jit(0.06)
    tail_w = 0.13 + jit(0.03)
    beak_len = _BEAK_LEN[attrs['beak']] + jit(0.03)
    head_x, head_y = 0.47 + jit(0.03), -0.13 + jit(0.03)
    wing_len, wing_h = 0.34 + jit(0.04), 0.11 + jit(0.015)
    wing_angle = -0.12 + jit(0.1)
    tail_angle = jit(0.2)

    parts = []
    # Tail: a fan at the back of the body.
    ta = tail_angle
    base = np.array([[-0.40, -0.06], [-0.40, 0.06]])
    tip_c = np.array([-0.40 - tail_len * math.cos(ta),
                      -tail_len * math.sin(ta)])
    normal = np.array([-math.sin(ta), math.cos(ta)])
    tail = np.stack([
        base[0], tip_c - normal * tail_w, tip_c + normal * tail_w, base[1]
    ])
    parts.append(('tail', tail, 'tail'))
    parts.append(('body', _ellipse(0., 0., 0.5, body_h), 'body'))
    # Belly stripes: thin bands below the wing, spread along the body.
    n_str = attrs['stripes']
    if n_str:
        xs = np.linspace(-0.24, 0.24, n_str + 2)[1:-1] + jit(0.03)
        half = _STRIPE_HALF_WIDTH
        for x in xs:
            yb = body_h * math.sqrt(max(0., 1 - (x / 0.5)**2)) * 0.97
            band = np.array([[x - half, 0.0], [x + half, 0.0],
                             [x + half, yb], [x - half, yb]])
            parts.append(('stripe', band, 'stripe'))
    # Wing on the upper back.
    wing = _ellipse(-0.06, -0.05, wing_len, wing_h, wing_angle)
    parts.append(('wing', wing, 'wing'))
    if attrs['wingbar']:
        bar = _ellipse(-0.06, -0.05, wing_len * 0.8, wing_h * 0.28,
                       wing_angle)
        parts.append(('wingbar', bar, 'wingbar'))
    # Head, crest, beak, eye.
    if attrs['crest']:
        crest = np.array([[head_x - 0.10, head_y - head_r * 0.7],
                          [head_x - 0.16, head_y - head_r - 0.13],
                          [head_x + 0.02, head_y - head_r * 0.9]])
        parts.append(('crest', crest, 'head'))
    parts.append(('head', _ellipse(head_x, head_y, head_r, head_r * 0.95),
                  'head'))
    bx = head_x + head_r * 0.85
    beak = np.array([[bx, head_y - 0.045], [bx + beak_len, head_y + 0.01],
                     [bx, head_y + 0.045]])
    parts.append(('beak', beak, 'beak'))
    ex, ey = head_x + head_r * 0.35, head_y - head_r * 0.2
    if attrs['eye']:
        parts.append(('eyering', _ellipse(ex, ey, 0.055, 0.055, n=16),
                      'eyering'))
    parts.append(('eye', _ellipse(ex, ey, 0.03, 0.03, n=12), 'eye'))
    return parts


_PRIMITIVES = ('ellipse', 'triangle', 'rectangle', 'diamond', 'star',
               'cross')
_UNIT = {  # unit outlines (x right, y down) of the polygon primitives
    'triangle': [[1., 0.], [-1., 1.], [-1., -1.]],
    'rectangle': [[1., 1.], [-1., 1.], [-1., -1.], [1., -1.]],
    'diamond': [[1., 0.], [0., 1.], [-1., 0.], [0., -1.]],
    'star': [[math.cos(a) * r, math.sin(a) * r] for a, r in zip(
        np.linspace(0, 2 * np.pi, 10, endpoint=False), [1., 0.45] * 5)],
    'cross': [[1., .3], [.3, .3], [.3, 1.], [-.3, 1.], [-.3, .3], [-1., .3],
              [-1., -.3], [-.3, -.3], [-.3, -1.], [.3, -1.], [.3, -.3],
              [1., -.3]],
}


def _shape_template(kind: int) -> List[dict]:
    """The fixed part layout of object kind ``kind`` (0-based), in
    body-length units: a body (one of :data:`_PRIMITIVES`, its aspect
    ratio) and 1-3 large attached parts, each a primitive with its centre,
    size, angle and colour slot. Depends on ``kind`` only."""
    rng = np.random.default_rng([7, kind])
    parts = [dict(prim=_PRIMITIVES[kind % len(_PRIMITIVES)], cx=0., cy=0.,
                  ax=0.5, ay=float(rng.uniform(0.15, 0.45)), angle=0.,
                  slot=0)]
    for _ in range(int(rng.integers(1, 4))):
        t = float(rng.uniform(0, 2 * np.pi))  # anchor on the body's rim
        body = parts[0]
        parts.append(dict(
            prim=_PRIMITIVES[int(rng.integers(0, len(_PRIMITIVES)))],
            cx=float(body['ax'] * math.cos(t)),
            cy=float(body['ay'] * math.sin(t)),
            ax=float(rng.uniform(0.12, 0.3)),
            ay=float(rng.uniform(0.08, 0.2)),
            angle=float(rng.uniform(0, np.pi)),
            slot=int(rng.integers(1, 3))))
    return parts


def _shape_parts(kind: int, rng: np.random.Generator,
                 jitter: float) -> List[Tuple[str, np.ndarray, str]]:
    """Part polygons of one object of kind ``kind`` (see
    :func:`_shape_template`) with per-instance jitter of position (0.03),
    size (10%) and angle (0.15 rad), times ``jitter``."""
    out = []
    for i, p in enumerate(_shape_template(kind)):
        j = rng.uniform(-1, 1, 5) * jitter
        cx, cy = p['cx'] + 0.03 * j[0], p['cy'] + 0.03 * j[1]
        ax, ay = p['ax'] * (1 + 0.1 * j[2]), p['ay'] * (1 + 0.1 * j[3])
        angle = p['angle'] + 0.15 * j[4]
        if p['prim'] == 'ellipse':
            pts = _ellipse(cx, cy, ax, ay, angle)
        else:
            c, s = math.cos(angle), math.sin(angle)
            pts = (np.array(_UNIT[p['prim']]) * [ax, ay]) @ np.array(
                [[c, s], [-s, c]]) + [cx, cy]
        out.append((f'part{i}', pts, f'slot{p["slot"]}'))
    return out


def _shape_colors(rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """Random colours of the three slots (not class information)."""
    base = _hsv_color(rng, (0, 180), (0.25, 0.85), (0.45, 0.9))
    return dict(slot0=base,
                slot1=_blend(base, float(rng.uniform(-0.6, 0.6))),
                slot2=_hsv_color(rng, (0, 180), (0.3, 0.9), (0.3, 0.95)))


def _to_fixed(points: np.ndarray) -> np.ndarray:
    """Float pixel coordinates -> int32 with 4 fractional bits (shift=4)."""
    return np.round(points * 16).astype(np.int32).reshape(-1, 1, 2)


def _background(rng: np.random.Generator, w: int, h: int, clutter: float,
                palette: Sequence[np.ndarray]) -> np.ndarray:
    """Smooth coloured texture plus distractor shapes (bird colours)."""
    base = _hsv_color(rng, (0, 180), (0.15, 0.55), (0.35, 0.8))
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    # Two octaves of smooth noise (texture), amplitude grows with clutter.
    for cells, amp in ((4, 70.), (12, 40.)):
        g = rng.uniform(-1, 1, (cells, cells, 3)).astype(np.float32)
        img += cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC) * (
            amp * (0.3 + clutter))
    # A "branch" the bird may sit near.
    p0 = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    ang = rng.uniform(0, np.pi)
    d = np.array([math.cos(ang), math.sin(ang)]) * (w + h)
    brown = _hsv_color(rng, (5, 25), (0.3, 0.7), (0.2, 0.5))
    thick = max(1, int(round(rng.uniform(0.02, 0.05) * min(w, h))))
    cv2.line(img, tuple(_to_fixed(p0 - d)[0, 0]), tuple(_to_fixed(p0 + d)[0,
                                                                          0]),
             brown.tolist(), thick, cv2.LINE_AA, 4)
    # Distractors: ellipses / bars / striped blobs in similar colours.
    n_distract = int(round(clutter * 10))
    side = min(w, h)
    for _ in range(n_distract):
        kind = int(rng.integers(0, 3))
        col = palette[int(rng.integers(0, len(palette)))]
        col = _blend(col, float(rng.uniform(-0.25, 0.25)))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        ax = rng.uniform(0.04, 0.14) * side
        ay = ax * rng.uniform(0.25, 0.8)
        angle = rng.uniform(0, np.pi)
        poly = _ellipse(cx, cy, ax, ay, angle, n=20)
        cv2.fillPoly(img, [_to_fixed(poly)], col.tolist(), cv2.LINE_AA, 4)
        if kind == 1:  # stripes on the blob, like the bird's belly
            for k in range(int(rng.integers(1, 4))):
                t = (k + 1) / 4 * 2 - 1
                c, s = math.cos(angle), math.sin(angle)
                q = np.array([cx + c * t * ax, cy + s * t * ax])
                e = np.array([-s, c]) * ay
                cv2.line(img, tuple(_to_fixed(q - e)[0, 0]),
                         tuple(_to_fixed(q + e)[0, 0]),
                         _blend(col, -0.6).tolist(),
                         max(1, int(round(0.015 * side))), cv2.LINE_AA, 4)
        elif kind == 2:  # a thin twig
            e = np.array([math.cos(angle), math.sin(angle)]) * ax * 1.5
            q = np.array([cx, cy])
            cv2.line(img, tuple(_to_fixed(q - e)[0, 0]),
                     tuple(_to_fixed(q + e)[0, 0]), brown.tolist(),
                     max(1, int(round(0.012 * side))), cv2.LINE_AA, 4)
    return img


def _bird_colors_and_parts(label: int, rng: np.random.Generator,
                           jitter: float) -> Tuple[Dict, List]:
    """Colours (body colour random: not class information) and parts of
    one bird of attribute combination ``label``."""
    attrs = class_attributes(label)
    body = _hsv_color(rng, (0, 180), (0.25, 0.85), (0.45, 0.9))
    shade = _WING_SHADE[attrs['wing']] + rng.uniform(-0.08, 0.08) * jitter
    colors = dict(
        body=body,
        tail=_blend(body, float(rng.uniform(-0.15, 0.05))),
        head=_blend(body, float(rng.uniform(-0.15, 0.15))),
        wing=_blend(body, float(shade)),
        stripe=_blend(body, float(-0.6 + rng.uniform(-0.1, 0.1) * jitter)),
        wingbar=_blend(body, float(0.7 + rng.uniform(-0.1, 0.1) * jitter)),
        beak=_hsv_color(rng, (10, 30), (0.5, 0.9), (0.6, 0.95)),
        eye=np.array([20., 20., 20.]),
        eyering=np.array([235., 235., 235.]),
    )
    return colors, _bird_parts(attrs, rng, jitter)


def render_bird_image(
    label: int,
    rng: np.random.Generator,
    image_size: Union[int, Tuple[int, int]] = DEFAULT_PARAMS['image_size'],
    object_size_range: Tuple[float, float] = DEFAULT_PARAMS[
        'object_size_range'],
    max_rotation: float = DEFAULT_PARAMS['max_rotation'],
    clutter: float = DEFAULT_PARAMS['clutter'],
    jitter: float = DEFAULT_PARAMS['jitter'],
    draw_object: bool = True,
    objects: str = 'birds',
) -> Tuple[np.ndarray, np.ndarray]:
    """Render one image of class ``label``.

    Args:
        label: 0-based class index (see :func:`class_attributes`).
        rng: the generator that decides everything random about the image.
        image_size: side (int) or (width, height) in pixels.
        object_size_range: range of the bird's length (beak to tail tip,
            before rotation) as a fraction of the shorter image side.
        max_rotation: maximal in-plane rotation in degrees.
        clutter: 0 = plain textured background; 1 = strong texture and 10
            distractor shapes in the bird's colours.
        jitter: scale of the per-instance shape/colour jitter.
        draw_object: if False the bird is not drawn (the random stream is
            consumed identically, so the background is the same).
        objects: ``'birds'`` (``label`` is an attribute combination) or
            ``'shapes'`` (``label`` is an object kind, see
            :func:`_shape_template`).

    Returns:
        (BGR uint8 image (H, W, 3), box float64 (4,) x1, y1, x2, y2 in
        pixels; x2, y2 exclusive, i.e. the tight box of the bird's mask).
    """
    w, h = (image_size, image_size) if isinstance(image_size,
                                                  int) else image_size
    if objects == 'shapes':
        colors = _shape_colors(rng)
        parts = _shape_parts(label, rng, jitter)
        palette = [colors['slot0'], colors['slot1'], colors['slot2']]
    else:
        colors, parts = _bird_colors_and_parts(label, rng, jitter)
        palette = [colors['body'], colors['wing'], colors['head']]
    # Pose: flip, rotation, scale, position (the bird stays inside).
    flip = rng.random() < 0.5
    theta = math.radians(rng.uniform(-max_rotation, max_rotation))
    all_pts = np.concatenate([p for _, p, _ in parts])
    length = all_pts[:, 0].max() - all_pts[:, 0].min()
    scale = rng.uniform(*object_size_range) * min(w, h) / length
    c, s = math.cos(theta), math.sin(theta)
    rot = np.array([[c, -s], [s, c]]) * scale
    if flip:
        rot = rot @ np.diag([-1., 1.])
    moved = all_pts @ rot.T
    lo, hi = moved.min(0), moved.max(0)
    margin = 1.0
    tx = rng.uniform(margin - lo[0], max(margin - lo[0], w - margin - hi[0]))
    ty = rng.uniform(margin - lo[1], max(margin - lo[1], h - margin - hi[1]))
    offset = np.array([tx, ty])

    img = _background(rng, w, h, clutter, palette)
    mask = np.zeros((h, w), np.uint8)
    if draw_object:
        for name, pts, key in parts:
            poly = _to_fixed(pts @ rot.T + offset)
            cv2.fillPoly(img, [poly], colors[key].tolist(), cv2.LINE_AA, 4)
            cv2.fillPoly(mask, [poly], 255, cv2.LINE_8, 4)
    # Global illumination and sensor noise.
    gain = 1 + rng.uniform(-0.15, 0.15) * jitter
    noise = rng.normal(0, 3 + 5 * clutter, (h, w, 3)).astype(np.float32)
    img = np.clip(img * gain + noise, 0, 255).astype(np.uint8)
    if draw_object:
        ys, xs = np.nonzero(mask)
        box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                       dtype=np.float64)
    else:
        box = np.zeros(4)
    return img, box


# --------------------------------------------------------------------------
# Data set writer
# --------------------------------------------------------------------------
def image_rng(seed: int, label: int, index: int) -> np.random.Generator:
    """The generator of image ``index`` (0-based) of class ``label``."""
    return np.random.default_rng([seed, 1, label, index])


def _check_params(p: Dict) -> None:
    def bad(name, why):
        raise ValueError(f'make_synthetic_fgvc: {name}={p[name]!r} {why}')

    objects = p.get('objects', 'birds')
    if objects not in OBJECT_KINDS:
        bad('objects', f'must be one of {OBJECT_KINDS}')
    most = MAX_SHAPE_CLASSES if objects == 'shapes' else MAX_CLASSES
    if not isinstance(p['num_classes'], int) or not (
            2 <= p['num_classes'] <= most):
        bad('num_classes', f'must be an int in [2, {most}]')
    first = p.get('first_class', 0)
    if not isinstance(first, int) or not (
            0 <= first <= most - p['num_classes']):
        bad('first_class', 'must be an int in [0, '
            f'{most} - num_classes]')
    if not isinstance(p['images_per_class'],
                      int) or p['images_per_class'] < 2:
        bad('images_per_class', 'must be an int >= 2')
    if not isinstance(p['train_per_class'], int) or not (
            1 <= p['train_per_class'] < p['images_per_class']):
        bad('train_per_class', 'must be an int in [1, images_per_class)')
    size = p['image_size']
    sizes = (size, size) if isinstance(size, int) else tuple(size)
    if len(sizes) != 2 or not all(isinstance(v, int) and v >= 16
                                  for v in sizes):
        bad('image_size', 'must be an int or (width, height), each >= 16')
    lo, hi = p['object_size_range']
    if not 0 < lo <= hi <= 0.9:
        bad('object_size_range', 'must satisfy 0 < lo <= hi <= 0.9')
    if not 0 <= p['max_rotation'] <= 180:
        bad('max_rotation', 'must be in [0, 180] degrees')
    if not 0 <= p['clutter'] <= 1:
        bad('clutter', 'must be in [0, 1]')
    if not 0 <= p['jitter'] <= 2:
        bad('jitter', 'must be in [0, 2]')
    if not isinstance(p['jpeg_quality'], int) or not (
            1 <= p['jpeg_quality'] <= 100):
        bad('jpeg_quality', 'must be an int in [1, 100]')
    if not isinstance(p['seed'], int) or p['seed'] < 0:
        bad('seed', 'must be a non-negative int')


def _normalise(params: Dict) -> Dict:
    p = dict(params)
    p['object_size_range'] = [float(v) for v in p['object_size_range']]
    if not isinstance(p['image_size'], int):
        p['image_size'] = [int(v) for v in p['image_size']]
    for k in ('max_rotation', 'clutter', 'jitter'):
        p[k] = float(p[k])
    if not p.get('first_class'):  # sets made before first_class existed
        p.pop('first_class', None)
    if p.get('objects', 'birds') == 'birds':  # ... or before objects
        p.pop('objects', None)
    return p


def _manifest_sizes_match(out_dir: str) -> bool:
    """The manifest exists and every file it lists has its size."""
    try:
        with open(osp.join(out_dir, MANIFEST_FILE)) as f:
            manifest = json.load(f)
        return manifest['format'] == MANIFEST_FORMAT and all(
            osp.getsize(osp.join(out_dir, rel)) == entry['size']
            for rel, entry in manifest['files'].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def synthetic_fgvc_is_complete(out_dir: str, **params) -> bool:
    """True if ``out_dir`` holds a finished data set made with ``params``.

    Finished means: the meta file records the same parameters and
    generator version, every annotation file exists, every image listed in
    ``images.txt`` exists and every file the manifest lists has its size.
    """
    p = dict(DEFAULT_PARAMS)
    p.update(params)
    meta_path = osp.join(out_dir, META_FILE)
    if not osp.isfile(meta_path):
        return False
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return False
    if meta.get('version') != GENERATOR_VERSION or meta.get(
            'params') != _normalise(p):
        return False
    if not all(osp.isfile(osp.join(out_dir, f)) for f in ANNOTATION_FILES):
        return False
    with open(osp.join(out_dir, 'images.txt')) as f:
        rels = [line.split()[1] for line in f if line.strip()]
    return len(rels) == p['num_classes'] * p['images_per_class'] and all(
        osp.isfile(osp.join(out_dir, 'images', r))
        for r in rels) and _manifest_sizes_match(out_dir)


def check_output_folder(out_dir: str) -> None:
    """Refuse a target folder that this generator did not make.

    Allowed: a missing or empty folder, or one that holds ``MARKER_FILE``
    (or ``META_FILE``, written by every version). Anything else (e.g. a real
    CUB-200-2011 tree, or a symbolic link: never written through) raises
    ``FileExistsError`` naming the folder and what was found there, before
    a byte is written.
    """
    if osp.islink(out_dir):
        raise FileExistsError(
            f'make_synthetic_fgvc: output {out_dir!r} is a symbolic link '
            f'(to {os.readlink(out_dir)!r}); the generator never writes '
            'through a link: pass the real folder.')
    if not osp.lexists(out_dir):
        return
    if not osp.isdir(out_dir):
        raise FileExistsError(
            f'make_synthetic_fgvc: output {out_dir!r} exists and is not a '
            'folder; choose a new or empty folder.')
    found = sorted(os.listdir(out_dir))
    if not found or MARKER_FILE in found or META_FILE in found:
        return
    shown = ', '.join(repr(f) for f in found[:5]) + (
        f' and {len(found) - 5} more' if len(found) > 5 else '')
    raise FileExistsError(
        f'make_synthetic_fgvc: refusing to write into {out_dir!r}: the folder '
        f'is not empty ({shown}) and was not made by this generator (no '
        f'{MARKER_FILE!r} or {META_FILE!r} in it). Nothing was written; '
        'choose a new or empty folder.')


def _walk_files(root: str) -> List[str]:
    """'/'-separated paths of the files (and links) under ``root``."""
    found = []
    for dirpath, dirs, files in os.walk(root):
        rel_dir = osp.relpath(dirpath, root)
        for name in files + [d for d in dirs
                             if osp.islink(osp.join(dirpath, d))]:
            rel = name if rel_dir == '.' else osp.join(rel_dir, name)
            found.append(rel.replace(os.sep, '/'))
    return sorted(found)


def write_manifest(root: str) -> str:
    """Write ``MANIFEST_FILE``: size and SHA-256 of every file of the set
    (all but the marker and the manifest); returns its path."""
    files = {}
    for rel in _walk_files(root):
        if rel in (MANIFEST_FILE, MARKER_FILE):
            continue
        with open(osp.join(root, rel), 'rb') as f:  # small files
            data = f.read()
        files[rel] = dict(size=len(data),
                          sha256=hashlib.sha256(data).hexdigest())
    path = osp.join(root, MANIFEST_FILE)
    with open(path + '.tmp', 'w', newline='\n') as f:
        json.dump(dict(format=MANIFEST_FORMAT, hash='sha256', files=files),
                  f, indent=0, sort_keys=True)
        f.write('\n')
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + '.tmp', path)
    return path


def _is_generated(rel: str) -> bool:
    """Whether ``rel`` (in a set folder) is one of the generator's files."""
    return rel in ANNOTATION_FILES + (META_FILE, MARKER_FILE,
                                      MANIFEST_FILE) or bool(
                                          _OWN_IMAGE.match(rel))


def _remove_stale_partials(parent: str, base: str) -> None:
    """Remove temporary folders that killed generator runs left behind
    (their process is gone; they hold the generator's marker)."""
    prefix = f'.{base}{_PARTIAL}'
    for name in os.listdir(parent):
        path = osp.join(parent, name)
        pid = name[len(prefix):].split('-', 1)[0]
        if not name.startswith(prefix) or not pid.isdigit() or \
                osp.islink(path) or not osp.isfile(
                    osp.join(path, MARKER_FILE)):
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still running
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def _put_in_place(new: str, out_dir: str) -> None:
    """Rename the finished set ``new`` to ``out_dir``. An older set there
    is renamed aside first; the user's own files in it are moved into the
    new set, then the old set's files are removed."""
    if osp.isdir(out_dir) and not os.listdir(out_dir):
        os.rmdir(out_dir)
    if not osp.lexists(out_dir):
        os.rename(new, out_dir)
        return
    parent, base = osp.split(out_dir)
    old = tempfile.mkdtemp(prefix=f'.{base}.old-', dir=parent)
    os.rename(out_dir, old)  # replaces the empty folder just made
    os.rename(new, out_dir)
    kept = []
    for rel in _walk_files(old):
        src, dst = osp.join(old, rel), osp.join(out_dir, rel)
        if _is_generated(rel):
            os.remove(src)
        elif osp.lexists(dst):
            kept.append(rel)
        else:
            os.makedirs(osp.dirname(dst), exist_ok=True)
            os.rename(src, dst)  # moves a link itself, never its target
    for dirpath, _, _ in sorted(os.walk(old), reverse=True):
        if not os.listdir(dirpath):
            os.rmdir(dirpath)
    if kept:
        warnings.warn(f'make_synthetic_fgvc: kept the previous set\'s files '
                      f'{kept[:5]} in {old!r}: the new set has files of the '
                      'same names')


def _write_set(root: str, params: Dict, names: List[str]) -> np.ndarray:
    """Write every file of the set into ``root``, the manifest last."""
    seed, first_class = params['seed'], params['first_class']
    objects = params.get('objects', 'birds')
    images_per_class = params['images_per_class']
    with open(osp.join(root, MARKER_FILE), 'w', newline='\n') as f:
        f.write('made by fgvc_aam_tools/synthetic_fgvc.py; '
                'the generator may rewrite this folder\n')
    img_lines, label_lines, split_lines, box_lines = [], [], [], []
    boxes = []
    encode = [int(cv2.IMWRITE_JPEG_QUALITY), params['jpeg_quality']]
    img_id = 0
    for label, name in enumerate(names):
        attr_class = first_class + label  # the absolute class
        os.makedirs(osp.join(root, 'images', name), exist_ok=True)
        split_rng = np.random.default_rng([seed, 0, attr_class])
        is_train = np.zeros(images_per_class, bool)
        is_train[split_rng.permutation(images_per_class)
                 [:params['train_per_class']]] = True
        for k in range(images_per_class):
            img_id += 1
            img, box = render_bird_image(
                attr_class, image_rng(seed, attr_class, k),
                params['image_size'], params['object_size_range'],
                params['max_rotation'], params['clutter'], params['jitter'],
                objects=objects)
            rel = f'{name}/{name.split(".", 1)[1]}_{k + 1:04d}.jpg'
            ok, buf = cv2.imencode('.jpg', img, encode)
            assert ok, f'JPEG encoding failed for {rel}'
            with open(osp.join(root, 'images', rel), 'wb') as f:
                f.write(buf.tobytes())
            x1, y1, x2, y2 = box
            img_lines.append(f'{img_id} {rel}')
            label_lines.append(f'{img_id} {label + 1}')
            split_lines.append(f'{img_id} {int(is_train[k])}')
            box_lines.append(
                f'{img_id} {x1:.1f} {y1:.1f} {x2 - x1:.1f} {y2 - y1:.1f}')
            boxes.append(box)
    files = {
        'images.txt': img_lines,
        'image_class_labels.txt': label_lines,
        'train_test_split.txt': split_lines,
        'classes.txt': [f'{i + 1} {n}' for i, n in enumerate(names)],
        'bounding_boxes.txt': box_lines,
    }
    for fname, lines in files.items():
        with open(osp.join(root, fname), 'w', newline='\n') as f:
            f.write('\n'.join(lines) + '\n')
    meta = dict(
        version=GENERATOR_VERSION,
        params=_normalise(params),
        classes={
            n: (class_attributes(first_class + i) if objects == 'birds'
                else dict(kind=first_class + i))
            for i, n in enumerate(names)
        })
    with open(osp.join(root, META_FILE), 'w', newline='\n') as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write('\n')
    write_manifest(root)
    return np.asarray(boxes)


def make_synthetic_fgvc(out_dir: str,
                        num_classes: int = DEFAULT_PARAMS['num_classes'],
                        images_per_class: int = DEFAULT_PARAMS[
                            'images_per_class'],
                        train_per_class: int = DEFAULT_PARAMS[
                            'train_per_class'],
                        image_size: Union[int, Tuple[int, int]] =
                        DEFAULT_PARAMS['image_size'],
                        object_size_range: Tuple[float, float] =
                        DEFAULT_PARAMS['object_size_range'],
                        max_rotation: float = DEFAULT_PARAMS['max_rotation'],
                        clutter: float = DEFAULT_PARAMS['clutter'],
                        jitter: float = DEFAULT_PARAMS['jitter'],
                        jpeg_quality: int = DEFAULT_PARAMS['jpeg_quality'],
                        seed: int = DEFAULT_PARAMS['seed'],
                        return_boxes: bool = False,
                        first_class: int = 0,
                        objects: str = 'birds'
                        ) -> Union[str, Tuple[str, np.ndarray]]:
    """Write a synthetic fine-grained data set in CUB-200-2011 layout.

    Args:
        out_dir: target folder (created if needed): missing, empty, or made
            by this generator (see :func:`check_output_folder`); anything
            else is refused before a byte is written. The set is written
            into a temporary sibling folder and renamed into place when
            complete; an older set there is replaced only then (the user's
            own files in it are moved into the new one).
        num_classes: number of classes (attribute combinations, see the
            module docstring), in [2, 512].
        images_per_class: images per class.
        train_per_class: of these, how many are in the train split (the
            rest is test); the choice is random per class, like CUB.
        image_size: side in pixels (int) or (width, height).
        object_size_range: bird length range as a fraction of the shorter
            image side.
        max_rotation: maximal in-plane rotation of the bird, degrees.
        clutter: background clutter in [0, 1].
        jitter: scale of intra-class shape/colour variation in [0, 2].
        jpeg_quality: JPEG quality (fixed for byte-identical output).
        seed: random seed; same seed and parameters -> same bytes.
        return_boxes: also return the (N, 4) x1, y1, x2, y2 boxes in image
            id order.
        first_class: attribute combination (or object kind) of the first
            class (see the module docstring); labels are written 1-based
            within the set.
        objects: ``'birds'`` (the fine-grained set) or ``'shapes'`` (object
            kinds: the object-centric pretraining set).

    Returns:
        ``out_dir`` (and the boxes when ``return_boxes``).
    """
    params = dict(num_classes=num_classes, images_per_class=images_per_class,
                  train_per_class=train_per_class, image_size=image_size,
                  object_size_range=tuple(object_size_range),
                  max_rotation=max_rotation, clutter=clutter, jitter=jitter,
                  jpeg_quality=jpeg_quality, seed=seed,
                  first_class=first_class, objects=objects)
    _check_params(params)
    check_output_folder(out_dir)
    names = _class_names(num_classes, first_class, objects)
    target = osp.abspath(out_dir)
    parent, base = osp.split(target)
    os.makedirs(parent, exist_ok=True)
    _remove_stale_partials(parent, base)
    tmp = tempfile.mkdtemp(prefix=f'.{base}{_PARTIAL}{os.getpid()}-',
                           dir=parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's folder is private
        boxes = _write_set(tmp, params, names)
        _put_in_place(tmp, target)
    finally:
        if osp.isdir(tmp):  # an error or Ctrl-C before the rename
            shutil.rmtree(tmp, ignore_errors=True)
    if return_boxes:
        return out_dir, boxes
    return out_dir
