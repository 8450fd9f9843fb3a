"""The one box drawer (``projects.fgvc_aam.apis.draw_box``) and every
picture that goes through it: ``draw_prediction`` (inferencer, demo) and
the matplotlib panels of tools/visualization. Oracle: the pixel colours at
the box edges on a blank image, written out by hand."""
import numpy as np
import pytest

import projects.fgvc_aam.apis as apis
from projects.fgvc_aam.apis import (GT_COLOR, PRED_COLOR, draw_box,
                                    draw_prediction)

RED = (0, 0, 255)


def _outline(height, width, x1, y1, x2, y2):
    """Boolean mask of a 1-pixel outline through columns x1, x2 and rows
    y1, y2 (inclusive), by hand."""
    mask = np.zeros((height, width), bool)
    mask[y1, x1:x2 + 1] = mask[y2, x1:x2 + 1] = True
    mask[y1:y2 + 1, x1] = mask[y1:y2 + 1, x2] = True
    return mask


def test_draw_box_colours_exactly_the_edge_pixels():
    img = np.zeros((40, 60, 3), np.uint8)
    out = draw_box(img, [10.2, 5., 29.6, 25.4], RED, 1)
    assert out is img  # in place
    mask = _outline(40, 60, 10, 5, 30, 25)
    assert (img[mask] == RED).all()
    assert (img[~mask] == 0).all()
    # spot checks: the four edges, inside and just outside
    assert img[5, 20].tolist() == list(RED)  # top
    assert img[25, 20].tolist() == list(RED)  # bottom
    assert img[15, 10].tolist() == list(RED)  # left
    assert img[15, 30].tolist() == list(RED)  # right
    assert img[15, 20].tolist() == [0, 0, 0]  # inside
    assert img[15, 31].tolist() == [0, 0, 0] and img[4, 20].tolist() == [
        0, 0, 0]


def test_a_box_on_the_border_stays_visible_and_tensors_work():
    import torch
    img = np.zeros((40, 60, 3), np.uint8)
    draw_box(img, torch.tensor([-5., -3., 60., 40.]), RED, 1)
    mask = _outline(40, 60, 0, 0, 59, 39)
    assert (img[mask] == RED).all() and (img[~mask] == 0).all()


def test_default_thickness_and_an_rgba_layer():
    assert apis.drawing.box_thickness(40, 60) == 1
    assert apis.drawing.box_thickness(400, 600) == 3
    layer = np.zeros((400, 600, 4), np.uint8)
    draw_box(layer, [100, 100, 300, 200], (255, 0, 0, 255))
    assert layer[150, 100].tolist() == [255, 0, 0, 255]  # left edge
    assert layer[150, 200].tolist() == [0, 0, 0, 0]  # transparent inside
    cols = np.nonzero(layer[150, :, 3])[0]
    assert cols.min() < 100 < cols.max() and len(cols) > 2  # wider than 1


def test_draw_prediction_draws_its_boxes_with_draw_box(monkeypatch):
    """Predicted box red, ground truth green, at their edges; both through
    ``draw_box`` (a spy sees both calls)."""
    img = np.zeros((200, 300, 3), np.uint8)
    calls = []
    real = apis.drawing.draw_box

    def spy(image, box, color, thickness=None):
        calls.append((list(box), tuple(color)))
        return real(image, box, color, thickness)

    monkeypatch.setattr(apis.drawing, 'draw_box', spy)
    out = draw_prediction(img, 'pred 0.9', [100, 120, 250, 180],
                          None, [20, 60, 80, 100])
    assert calls == [([20, 60, 80, 100], GT_COLOR),
                     ([100, 120, 250, 180], PRED_COLOR)]
    assert PRED_COLOR == (0, 0, 255) and GT_COLOR == (0, 160, 0)
    assert out[150, 100].tolist() == [0, 0, 255]  # predicted: left edge
    assert out[150, 250].tolist() == [0, 0, 255]  # right edge
    assert out[80, 20].tolist() == [0, 160, 0]  # ground truth: left edge
    assert out[150, 175].tolist() == [0, 0, 0]  # inside: untouched
    assert (img == 0).all()  # a copy


def test_the_tools_panels_draw_through_draw_box(monkeypatch):
    """``fgvc_aam_tools.visualization.draw_box`` (vis_localization,
    vis_cam) lays the outline of the one drawer over the panel: red at the
    box edges, transparent elsewhere, above the image."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from fgvc_aam_tools.visualization import draw_box as draw_on_axes
    calls = []
    real = apis.draw_box

    def spy(image, box, color, thickness=None):
        calls.append(tuple(color))
        return real(image, box, color, thickness)

    monkeypatch.setattr(apis, 'draw_box', spy)
    fig, ax = plt.subplots()
    ax.imshow(np.zeros((40, 60, 3), np.uint8), extent=(0, 60, 40, 0))
    draw_on_axes(ax, [10, 5, 30, 25], 'red', (40, 60))
    draw_on_axes(ax, [0, 0, 20, 20], 'lime', (40, 60))
    assert calls == [(255, 0, 0, 255), (0, 255, 0, 255)]
    layer = np.asarray(ax.images[1].get_array())
    assert layer.shape == (40, 60, 4)
    mask = _outline(40, 60, 10, 5, 30, 25)
    assert (layer[mask] == (255, 0, 0, 255)).all()
    assert (layer[~mask] == 0).all()
    assert ax.images[1].get_extent() == pytest.approx([0, 60, 40, 0])
    assert ax.images[1].get_zorder() > ax.images[0].get_zorder()
    plt.close(fig)
