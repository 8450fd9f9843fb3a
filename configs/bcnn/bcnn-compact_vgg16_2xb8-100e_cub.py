# Compact bilinear pooling (Gao et al. 2016, Tensor Sketch, d = 8192) in
# place of full bilinear pooling on the B-CNN VGG-16: only the neck differs.
_base_ = ['./bcnn_vgg16_2xb8-100e_cub.py']

model = dict(
    neck=dict(
        _delete_=True,
        type='CompactBilinearPooling',
        in_channels=512,
        output_dim=8192,
        seed=0),
    head=dict(in_channels=8192))
