"""tools/analysis_tools/ood_cosine_auroc.py and ``cosine_scale``: the
AUROC, the generated out-of-domain images and the cosine behind a margin
head's logits."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.helpers import ROOT, load_tool, write_random_checkpoint

CONFIG = 'tests/configs/tiny_two_branch_crop.py'


def _tool():
    return load_tool('tools/analysis_tools/ood_cosine_auroc.py')


def test_auroc_is_the_mann_whitney_statistic():
    """Oracle: scipy's Mann-Whitney U / (n_pos * n_neg), ties included."""
    from scipy.stats import mannwhitneyu
    rng = np.random.default_rng(0)
    pos = np.round(rng.normal(0.5, 1, 40), 1)
    neg = np.round(rng.normal(0, 1, 30), 1)
    u = mannwhitneyu(pos, neg).statistic
    assert _tool().auroc(pos, neg) == pytest.approx(u / (40 * 30))
    assert _tool().auroc([2, 3], [0, 1]) == 1.0


def test_ood_images_are_what_they_say():
    """Noise is not smooth, blurred noise is; no set repeats an image."""
    tool = _tool()
    for kind in tool.OOD_KINDS:
        imgs = tool.make_ood_images(kind, 3, 64)
        assert [i.shape for i in imgs] == [(64, 64, 3)] * 3
        assert all(i.dtype == np.uint8 for i in imgs)
        assert not np.array_equal(imgs[0], imgs[1])
    noise, smooth = (tool.make_ood_images(k, 1, 64)[0].astype(float)
                     for k in ('noise', 'smooth'))
    assert np.abs(np.diff(noise, axis=1)).mean() > 50
    assert np.abs(np.diff(smooth, axis=1)).mean() < 10


def test_logits_over_cosine_scale_are_the_mean_branch_cosine(tmp_path):
    """Oracle: the cosine of the normalised pooled feature and class
    weight, computed by hand for each branch and averaged (``'sum'``)."""
    import projects.fgvc_aam  # noqa: F401
    from projects.fgvc_aam.apis import cosine_scale, init_fitting_model
    ckpt = write_random_checkpoint(CONFIG, str(tmp_path / 'r.pth'))
    model = init_fitting_model(osp.join(ROOT, CONFIG), ckpt)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits = model(x, mode='tensor')
        raw, _, obj = model.extract_two_branch_feats(x)
        weight = F.normalize(model.head.class_weight, dim=1)
        hand = sum(
            F.normalize(model.head.pre_logits(f), dim=1) @ weight.T
            for f in (raw, obj)) / 2
    assert model.head.class_weight.shape[0] == logits.shape[1]
    torch.testing.assert_close(logits / cosine_scale(model), hand,
                               atol=1e-5, rtol=0)
