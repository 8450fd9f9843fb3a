"""Two-level (raw + object) classifier with one shared backbone (thesis sec.
"localization + classification sub-network", eq. 55)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import Tensor
from torchvision.ops import roi_align

from ...compat.mmpretrain import head_predictions
from ...utils.checks import check_choice, check_int
from ..localizers.localizer_inputs import localizer_inputs


def crop_and_resize(inputs: Tensor, boxes: Tensor,
                    size: Tuple[int, int]) -> Tensor:
    """Crop ``boxes`` (N, 4) from ``inputs`` (N, C, H, W), resize to ``size``.

    One batched :func:`torchvision.ops.roi_align` call. A box ``x1, y1, x2,
    y2`` is in continuous pixel-edge coordinates (pixel ``i`` covers
    ``[i, i + 1)``). Output pixel ``k`` samples the input at
    ``x1 + (k + 0.5) * (x2 - x1) / out_w`` (edge coordinates), which is what
    ``aligned=True`` does; with ``sampling_ratio=-1`` this is exactly
    bilinear resampling (``F.interpolate(mode='bilinear',
    align_corners=False)`` semantics, image borders clamped) when the output
    is at least as large as the box, and an average of
    ``ceil(box / out)`` x ``ceil(box / out)`` bilinear samples per output
    pixel (anti-aliasing) when it is smaller.
    """
    num = inputs.shape[0]
    batch_idx = torch.arange(num, device=inputs.device, dtype=boxes.dtype)
    rois = torch.cat([batch_idx.unsqueeze(1), boxes], 1).to(inputs.dtype)
    return roi_align(inputs, rois, output_size=tuple(size), spatial_scale=1.,
                     sampling_ratio=-1, aligned=True)


def _add(a, b):
    """Element-wise sum of two tensors or tuples of tensors."""
    if isinstance(a, Tensor):
        return a + b
    return tuple(x + y for x, y in zip(a, b))


@MODELS.register_module()
class TwoBranchClassifier(ImageClassifier):
    """Raw level + object level classification with a shared backbone.

    raw images -> backbone -> localizer (on a backbone feature map, e.g.
    :class:`ChannelAggregationLocalizer`) -> crop each box from the
    (normalised) input and resize it to the input size (one batched
    ``roi_align``) -> the SAME backbone -> neck -> head.

    Training loss (eq. 55): ``L_raw + L_object``, logged as ``loss_raw`` and
    ``loss_object`` (every key of the head's loss dict gets a ``_raw`` /
    ``_object`` suffix; mmengine sums the keys that contain ``loss``). The
    boxes are computed under ``no_grad`` from detached features: the hard
    threshold and the crop are not differentiable, so the localizer gets
    gradients only through the raw branch's own loss.

    At test time the output is the ``raw`` logits, the ``object`` logits or
    their ``sum`` (``test_branch``). For margin heads (ArcFace, AAM) the
    evaluation logits are ``s * cos(theta)`` without margin, so summing is
    well defined. Every prediction carries its box as ``pred_bboxes``
    ((1, 4) float tensor, network-input pixels). One method,
    :meth:`test_branch_output`, applies ``test_branch`` for every mode
    (tensor, predict, :meth:`logits_and_boxes`, :meth:`extract_feat`);
    :meth:`extract_feat` is the whole model's features (MMPretrain's
    contract), :meth:`extract_branch_feat` those of one branch.

    Args:
        backbone (dict): Any MMPretrain backbone whose output
            ``localizer.in_index`` is a (N, C, H, W) feature map.
        neck (dict, optional): Neck, shared by both branches.
        head (dict, optional): Head, shared by both branches (e.g.
            ``LinearClsHead``, ``ArcFaceClsHead``, ``AngularMarginHead``).
        localizer (dict): The box source; it is called as
            ``localizer(feat, img_shape, prev_feat=None, data_samples=None)``
            and must return boxes (N, 4) in input pixels. Its ``in_index`` /
            ``prev_in_index`` attributes (if present) select the backbone
            outputs it reads (:func:`localizer_inputs`); ``in_index = None``
            means it reads no feature map (``feat`` is None).
            ``data_samples`` are the batch's samples where the caller has
            them (loss, predict), else None. Box
            sources: :class:`ChannelAggregationLocalizer` (the method) and,
            for the box-source ablation, :class:`GroundTruthBoxLocalizer`,
            :class:`JitteredBoxLocalizer`, :class:`WholeImageLocalizer`.
        test_branch (str): ``'raw'``, ``'object'`` or ``'sum'``. Defaults to
            ``'sum'`` (best on the synthetic benchmark, see the README).
        crop_size (int | tuple[int, int], optional): Size of the object
            branch input; None (default) = the raw input size.
        pretrained, train_cfg, data_preprocessor, init_cfg: As in
            :class:`ImageClassifier`.
    """

    TEST_BRANCHES = ('raw', 'object', 'sum')
    #: The stages of :meth:`ImageClassifier.extract_feat`.
    FEATURE_STAGES = ('backbone', 'neck', 'pre_logits')

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 localizer: Union[dict, nn.Module] = dict(
                     type='ChannelAggregationLocalizer'),
                 test_branch: str = 'sum',
                 crop_size: Optional[Union[int, Sequence[int]]] = None,
                 pretrained: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            train_cfg=train_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if localizer is None:
            raise ValueError('TwoBranchClassifier: `localizer` is required')
        if not isinstance(localizer, (dict, nn.Module)):
            raise TypeError('TwoBranchClassifier: `localizer` must be a '
                            f'config dict or a module, got {localizer!r}')
        if not isinstance(localizer, nn.Module):
            localizer = MODELS.build(localizer)
        self.localizer = localizer
        self.test_branch = test_branch  # validated by the property setter
        if isinstance(crop_size, (list, tuple)):
            if len(crop_size) != 2:
                raise ValueError('TwoBranchClassifier: `crop_size` must be a '
                                 'positive int or (height, width), got '
                                 f'{crop_size!r}')
            crop_size = tuple(
                check_int('crop_size', s, 1, 'TwoBranchClassifier')
                for s in crop_size)
        elif crop_size is not None:
            crop_size = (check_int('crop_size', crop_size, 1,
                                   'TwoBranchClassifier'), ) * 2
        self.crop_size = crop_size

    @property
    def test_branch(self) -> str:
        """Which logits :meth:`predict` and tensor mode return."""
        return self._test_branch

    @test_branch.setter
    def test_branch(self, value: str) -> None:
        self._test_branch = check_choice('test_branch', value,
                                         self.TEST_BRANCHES,
                                         'TwoBranchClassifier')

    # ------------------------------------------------------------------
    # building blocks
    # ------------------------------------------------------------------
    def localize(self,
                 backbone_outs: Sequence[Tensor],
                 img_shape: Sequence[int],
                 data_samples: Optional[List[DataSample]] = None) -> Tensor:
        """Boxes (N, 4) from the backbone outputs of the raw images (and the
        data samples, for box sources that read them), computed without
        gradient. The outputs the localizer reads are chosen by
        :func:`~projects.fgvc_aam.models.localizers.localizer_inputs`."""
        feat, prev = localizer_inputs(self.localizer, backbone_outs,
                                      'TwoBranchClassifier')
        with torch.no_grad():
            return self.localizer(
                None if feat is None else feat.detach(),
                tuple(img_shape),
                prev_feat=None if prev is None else prev.detach(),
                data_samples=data_samples)

    def crop(self, inputs: Tensor, boxes: Tensor) -> Tensor:
        """Object-level inputs: the boxes cropped and resized (no grad)."""
        size = self.crop_size or tuple(inputs.shape[-2:])
        with torch.no_grad():
            return crop_and_resize(inputs, boxes, size)

    def _neck(self, x):
        return self.neck(x) if self.with_neck else x

    def extract_branch_feat(self, inputs: Tensor, stage: str = 'neck'):
        """Features of ONE branch: backbone (``'backbone'``), + neck
        (``'neck'``), + the head's ``pre_logits`` (``'pre_logits'``) on
        ``inputs``, the raw images or the object crops. This is
        :meth:`ImageClassifier.extract_feat` (one backbone pass, no
        localizer); :meth:`extract_feat` is the whole model's."""
        return super().extract_feat(inputs, stage)

    def extract_two_branch_feats(
            self,
            inputs: Tensor,
            with_raw: bool = True,
            with_object: bool = True,
            stage: str = 'neck',
            data_samples: Optional[List[DataSample]] = None
    ) -> Tuple[Optional[tuple], Tensor, Optional[tuple]]:
        """Features (``stage`` as in :meth:`extract_branch_feat`) of the raw
        branch, the boxes, and features of the object branch (None where
        not requested). The raw images pass the backbone once: its outputs
        feed both the localizer and the raw branch."""
        outs = self.backbone(inputs)
        boxes = self.localize(outs, inputs.shape[-2:], data_samples)
        if boxes.device != inputs.device:  # read from the data samples
            boxes = boxes.to(inputs.device)
        feats_raw = None
        if with_raw:
            feats_raw = outs
            if stage != 'backbone':
                feats_raw = self._neck(outs)
            if stage == 'pre_logits':
                feats_raw = self.head.pre_logits(feats_raw)
        feats_obj = None
        if with_object:
            feats_obj = self.extract_branch_feat(self.crop(inputs, boxes),
                                                 stage)
        return feats_raw, boxes, feats_obj

    def test_branch_output(
        self,
        inputs: Tensor,
        stage: str = 'neck',
        data_samples: Optional[List[DataSample]] = None,
        with_boxes: bool = False
    ) -> Tuple[Union[Tensor, tuple], Optional[Tensor]]:
        """THE dispatch on ``test_branch``; every mode goes through it.

        ``'raw'``: the output of the raw images' branch, ``'object'``: of
        the crops' branch, ``'sum'``: raw + object, element-wise (tuples
        element by element).

        Args:
            inputs (Tensor): The raw images (N, C, H, W).
            stage (str): Features at ``'backbone'``, ``'neck'`` or
                ``'pre_logits'`` (as :meth:`extract_branch_feat`), or
                ``'logits'``: the head on each branch's neck features
                (``'sum'``: ``head(raw) + head(object)``).
            data_samples (list[DataSample], optional): For box sources
                that read them.
            with_boxes (bool): Also return the localizer's boxes (N, 4)
                in input pixels; else they are None where no branch
                needs them (``'raw'`` then runs one backbone pass and no
                localizer).

        Returns:
            tuple: The output and the boxes (or None).
        """
        branch = self.test_branch
        with_raw, with_object = branch != 'object', branch != 'raw'
        feat_stage = 'neck' if stage == 'logits' else stage
        if with_object or with_boxes:
            feats_raw, boxes, feats_obj = self.extract_two_branch_feats(
                inputs, with_raw, with_object, feat_stage, data_samples)
        else:
            feats_raw, boxes, feats_obj = self.extract_branch_feat(
                inputs, feat_stage), None, None
        if stage == 'logits':
            feats_raw = self.head(feats_raw) if with_raw else None
            feats_obj = self.head(feats_obj) if with_object else None
        if branch == 'raw':
            return feats_raw, boxes
        if branch == 'object':
            return feats_obj, boxes
        return _add(feats_raw, feats_obj), boxes

    def extract_feat(self, inputs: Tensor, stage: str = 'neck'):
        """Features of the whole model, as ``test_branch`` combines them:
        those of the raw images (``'raw'``), of the object crops
        (``'object'``) or their element-wise sum (``'sum'``), at ``stage``
        (``'backbone'``, ``'neck'`` or ``'pre_logits'``). MMPretrain's
        tools built on ``extract_feat`` (``get_flops``, ``vis_tsne``,
        ``FeatureExtractor``) thus see the two-branch model; the features
        of one branch are :meth:`extract_branch_feat`."""
        if stage not in self.FEATURE_STAGES:  # as ImageClassifier's check
            raise AssertionError(
                f'Invalid output stage "{stage}", please choose from '
                '"backbone", "neck" and "pre_logits"')
        return self.test_branch_output(inputs, stage)[0]

    # ------------------------------------------------------------------
    # the three modes
    # ------------------------------------------------------------------
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """As :meth:`ImageClassifier.forward`; ``tensor`` mode returns the
        logits (or neck features without a head) of ``test_branch``, summed
        element-wise for ``'sum'``."""
        if mode == 'tensor':
            stage = 'logits' if self.with_head else 'neck'
            return self.test_branch_output(inputs, stage, data_samples)[0]
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> dict:
        """``L_raw + L_object`` (eq. 55), reported as separate keys."""
        feats_raw, _, feats_obj = self.extract_two_branch_feats(
            inputs, data_samples=data_samples)
        losses = dict()
        for suffix, feats in (('raw', feats_raw), ('object', feats_obj)):
            branch_losses = self.head.loss(feats, data_samples)
            losses.update(
                {f'{key}_{suffix}': v for key, v in branch_losses.items()})
        return losses

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        """Predictions of ``test_branch``, each with its ``pred_bboxes``."""
        logits, boxes = self.logits_and_boxes(inputs, data_samples)
        preds = head_predictions(self.head, logits, data_samples)
        for pred, box in zip(preds, boxes.unsqueeze(1)):
            pred.set_field(box, 'pred_bboxes')
        return preds

    def logits_and_boxes(
        self,
        inputs: Tensor,
        data_samples: Optional[List[DataSample]] = None
    ) -> Tuple[Tensor, Tensor]:
        """The logits of ``test_branch`` (``'sum'``: raw + object) and the
        localizer's (N, 4) boxes in input pixels, from one forward; what
        :meth:`predict` and the ONNX export return."""
        return self.test_branch_output(inputs, 'logits', data_samples,
                                       with_boxes=True)
