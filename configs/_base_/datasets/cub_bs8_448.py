# CUB-200-2011 with its bounding boxes, thesis recipe (600 -> 448).
# Data: data/CUB_200_2011 (images/, images.txt, image_class_labels.txt,
# train_test_split.txt, classes.txt, bounding_boxes.txt).
dataset_type = 'CUBWithBoxes'
data_root = 'data/CUB_200_2011'
data_preprocessor = dict(
    num_classes=200,
    # RGB format normalization parameters (ImageNet)
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    # convert image from BGR to RGB
    to_rgb=True,
)

# `gt_bboxes` (x1, y1, x2, y2 pixels) follows every geometric transform.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=600),
    dict(type='BoxAwareRandomCrop', crop_size=448),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputsWithBoxes'),
]

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=600),
    dict(type='CenterCrop', crop_size=448),
    dict(type='PackInputsWithBoxes'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        with_bbox=True,
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)

val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        with_bbox=True,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
