"""Boxes and labels drawn on images: :func:`draw_box` is THE box drawer.

Every picture of the project draws its boxes through :func:`draw_box`:
:func:`draw_prediction` (the inferencer's ``show_dir`` and
``demo/image_demo.py --out-file``) and the matplotlib panels of
``tools/visualization`` (``fgvc_aam_tools.visualization.draw_box``, a
transparent layer drawn by :func:`draw_box` over the panel).
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['GT_COLOR', 'PRED_COLOR', 'box_thickness', 'draw_box',
           'draw_prediction']

#: BGR colours of :func:`draw_prediction`: predicted box red, ground truth
#: green.
PRED_COLOR = (0, 0, 255)
GT_COLOR = (0, 160, 0)


def box_thickness(height: int, width: int) -> int:
    """Outline width in pixels of a ``height`` x ``width`` picture:
    ``max(1, round(max(H, W) / 200))``."""
    return max(1, round(max(height, width) / 200))


def draw_box(image: np.ndarray,
             box: Sequence[float],
             color: Sequence[int],
             thickness: Optional[int] = None) -> np.ndarray:
    """Draw the outline of ``box`` on ``image`` (H, W, C), in place.

    ``box`` is ``x1, y1, x2, y2`` in the image's pixels (a list, array or
    tensor). The outline is OpenCV's rectangle through the pixels
    ``(round(x1), round(y1))`` and ``(round(x2), round(y2))``, each
    clamped into the image (a box on or beyond the border stays visible),
    ``thickness`` pixels wide (default :func:`box_thickness`). ``color``
    is in the image's channel order (BGR for OpenCV pictures, RGBA for a
    transparent layer).

    Returns:
        np.ndarray: ``image``.
    """
    height, width = image.shape[:2]
    if thickness is None:
        thickness = box_thickness(height, width)
    x1, y1, x2, y2 = (int(round(float(v))) for v in box)
    x1, x2 = (min(max(x, 0), width - 1) for x in (x1, x2))
    y1, y2 = (min(max(y, 0), height - 1) for y in (y1, y2))
    cv2.rectangle(image, (x1, y1), (x2, y2), tuple(int(c) for c in color),
                  int(thickness))
    return image


def _label_lines(text: str, width: int, font: float, thick: int
                 ) -> Tuple[List[str], float]:
    """``text`` in at most two lines (split at a space) and the font scale
    at which the widest line fits in ``width`` pixels."""
    def widest(lines, scale):
        return max(cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale,
                                   thick)[0][0] for line in lines)

    lines = [text]
    if widest(lines, font) > width and ' ' in text.strip():
        # two lines, split at the space nearest the middle
        cuts = [i for i, c in enumerate(text) if c == ' ']
        cut = min(cuts, key=lambda i: abs(i - len(text) / 2))
        lines = [text[:cut].strip(), text[cut:].strip()]
    need = widest(lines, font)
    if need > width:
        font *= width / need
        while font > 0.05 and widest(lines, font) > width:
            font *= 0.95
    return lines, font


def draw_prediction(image: np.ndarray,
                    label: str,
                    box: Optional[Sequence[float]] = None,
                    gt_label: Optional[str] = None,
                    gt_box: Optional[Sequence[float]] = None) -> np.ndarray:
    """A copy of the BGR ``image`` with the predicted box (red) and label
    (top left), and the ground-truth box (green) and label (bottom left)
    where given. A label is drawn inside the picture: a long one is split
    in two lines and its font shrunk until it fits the width."""
    out = np.ascontiguousarray(image.copy())
    height, width = out.shape[:2]
    thick = box_thickness(height, width)
    font = max(0.4, max(height, width) / 600)

    def put(text, at_bottom, color):
        lines, scale = _label_lines(text, width - 2, font, thick)
        sizes = [cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale,
                                 thick) for line in lines]
        step = max(th + base for (_, th), base in sizes)
        y = height - step * len(lines) if at_bottom else 0
        y = max(0, y)
        for line, ((tw, th), base) in zip(lines, sizes):
            cv2.rectangle(out, (0, y), (tw + 1, y + step - 1), color, -1)
            cv2.putText(out, line, (1, y + step - base - 1),
                        cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255),
                        max(1, thick if scale >= 0.4 else 1), cv2.LINE_AA)
            y += step

    for bx, text, color, at_bottom in ((gt_box, gt_label, GT_COLOR, True),
                                       (box, label, PRED_COLOR, False)):
        if bx is not None:
            draw_box(out, bx, color, thick)
        if text:
            put(text, at_bottom, color)
    return out
