# The CPU schedule of the embedded synthetic data set (quickstart, synthetic
# siblings): 30 epochs of 100 iterations (1600 training images, batch 16),
# linear warm-up for one epoch, then cosine annealing.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=1, end=30),
]

train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=1)
val_cfg = dict()
test_cfg = dict()

# The learning rate above is for a total batch size of 16.
auto_scale_lr = dict(base_batch_size=16)
