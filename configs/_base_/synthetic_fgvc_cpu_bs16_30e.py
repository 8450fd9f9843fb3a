# What the CPU siblings on the embedded synthetic set share: its data
# (16 classes, 128 px), the 30-epoch CPU schedule and the runtime. A
# sibling lists its model base before this file and overrides the backbone
# width and the head's num_classes / in_channels; this file cannot do that
# (only one base may define `model`).
_base_ = [
    './datasets/synthetic_fgvc_bs16_128.py',
    './schedules/synthetic_cpu_bs16_30e.py',
    './default_runtime.py',
]

num_classes = 16  # the generator's default
