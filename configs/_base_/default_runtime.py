# MMPretrain's runtime, plus the registration of every fgvc_aam component.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(
    imports=['projects.fgvc_aam', 'projects.fgvc_aam_hardening'],
    allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    # reseed the RNGs from (seed, epoch, rank) before every epoch, so that a
    # resumed run replays the same augmentation as an uninterrupted one
    epoch_seed=dict(type='EpochSeedHook'),
    # stop before training if a num_classes disagrees with the data set
    dataset_consistency=dict(type='DatasetConsistencyHook'),
    # refuse a load_from / --resume / test checkpoint whose tensors do not
    # fit the model (mmengine would leave them randomly initialised with a
    # warning); allow_partial=True (our tools: --cfg-options
    # allow_partial_checkpoint=True) loads the matching tensors, warning
    checkpoint_fit=dict(type='CheckpointFitHook'),
    # stop at the first NaN / inf loss term, before a checkpoint is written.
    # A default hook (mmengine merges default_hooks by key), so a config's
    # `custom_hooks` list (e.g. its MarginScheduleHook) cannot drop it.
    non_finite=dict(type='NonFiniteLossHook'),
    # mmengine's CheckpointHook, but atomic (temporary name, fsync, rename)
    # and deleting old checkpoints only after the new one is on disk.
    # No "best" checkpoint: CUB, Aircraft-as-configured and the synthetic
    # set validate on their test split, and the best epoch on the test
    # split is an optimistic number. The last epoch is what is reported;
    # for model selection carve a validation split from the training
    # images (CarvedSplit, see README "Data").
    checkpoint=dict(
        type='AtomicCheckpointHook', interval=1, max_keep_ckpts=3),
    # checkpoints hold plain types only: plain `torch.load(weights_only=True)`
    # (publish_model.py, get_model) reads them; --resume restores mmengine's
    # message-hub objects
    plain_checkpoint=dict(type='PlainCheckpointHook'),
)

# Reproducible by default; set `deterministic=True` for bit-exact CPU reruns.
randomness = dict(seed=0, deterministic=False)

# MMPretrain's visualizer, restated without the `_scope_` key that inheriting
# from `mmpretrain::` adds (upstream browse_dataset.py passes every key of it
# to the Visualizer). TensorBoard (needs `pip install tensorboard`): add
# dict(type='TensorboardVisBackend') to vis_backends (see the README).
visualizer = dict(
    _delete_=True,
    type='UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')])
