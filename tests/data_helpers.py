"""Helpers for data tests: tiny hand-made CUB trees and file edits."""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image


def write_cub_tree(root: str,
                   items: Sequence[Tuple[Tuple[int, int], Tuple[float, ...],
                                         int, int]],
                   num_classes: int,
                   color=(255, 0, 0)) -> str:
    """Write a CUB-layout tree of PNG images with one filled rectangle.

    Args:
        root: target folder.
        items: per image ``((width, height), (x, y, w, h) box, label 0-based,
            is_train)``; the rectangle is drawn on black, filling exactly the
            integer box ``[x, x + w) x [y, y + h)`` in ``color`` (RGB).
        num_classes: number of classes written to ``classes.txt``.
    """
    os.makedirs(root, exist_ok=True)
    names = [f'{c + 1:03d}.Class_{c + 1}' for c in range(num_classes)]
    lines: Dict[str, List[str]] = {k: [] for k in (
        'images', 'labels', 'split', 'boxes')}
    for i, ((w, h), (x, y, bw, bh), label, is_train) in enumerate(items, 1):
        img = np.zeros((h, w, 3), np.uint8)
        img[int(y):int(y + bh), int(x):int(x + bw)] = color
        rel = f'{names[label]}/img_{i:03d}.png'
        os.makedirs(osp.join(root, 'images', names[label]), exist_ok=True)
        Image.fromarray(img).save(osp.join(root, 'images', rel))
        lines['images'].append(f'{i} {rel}')
        lines['labels'].append(f'{i} {label + 1}')
        lines['split'].append(f'{i} {int(is_train)}')
        lines['boxes'].append(f'{i} {x} {y} {bw} {bh}')
    for fname, key in (('images.txt', 'images'),
                       ('image_class_labels.txt', 'labels'),
                       ('train_test_split.txt', 'split'),
                       ('bounding_boxes.txt', 'boxes')):
        with open(osp.join(root, fname), 'w') as f:
            f.write('\n'.join(lines[key]) + '\n')
    with open(osp.join(root, 'classes.txt'), 'w') as f:
        f.write('\n'.join(f'{i + 1} {n}' for i, n in enumerate(names)) + '\n')
    return root


def read_lines(path: str) -> List[str]:
    with open(path) as f:
        return f.read().splitlines()


def write_lines(path: str, lines: Sequence[str]) -> None:
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def colour_box(img: np.ndarray, channel: int = 0,
               thresh: int = 128) -> np.ndarray:
    """Tight x1, y1, x2, y2 (exclusive) of the pixels whose ``channel`` is
    above ``thresh`` in an (H, W, C) or (C, H, W) array."""
    if img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = np.moveaxis(img, 0, -1)
    ys, xs = np.nonzero(img[..., channel] > thresh)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                    dtype=np.float64)


def tree_snapshot(root: str) -> Dict[str, Tuple[int, int]]:
    """{relative path: (size, mtime_ns)} of every file under ``root``."""
    snap = {}
    for dirpath, _, files in os.walk(root):
        for fname in files:
            p = osp.join(dirpath, fname)
            st = os.stat(p)
            snap[osp.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return snap
