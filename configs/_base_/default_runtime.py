# MMPretrain's runtime, plus the registration of every fgvc_aam component.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['projects.fgvc_aam'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    # reseed the RNGs from (seed, epoch, rank) before every epoch, so that a
    # resumed run replays the same augmentation as an uninterrupted one
    epoch_seed=dict(type='EpochSeedHook'),
    # stop before training if a num_classes disagrees with the data set
    dataset_consistency=dict(type='DatasetConsistencyHook'),
    # No "best" checkpoint: CUB, Aircraft-as-configured and the synthetic
    # set validate on their test split, and the best epoch on the test
    # split is an optimistic number. The last epoch is what is reported;
    # for model selection carve a validation split from the training
    # images (CarvedSplit, see README "Results").
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
)

# Reproducible by default; set `deterministic=True` for bit-exact CPU reruns.
randomness = dict(seed=0, deterministic=False)
