# Stanford Cars (196 classes), thesis recipe (600 -> 448): the pipelines,
# batch and normalisation of fgvc_aircraft_bs8_448.py on MMPretrain's
# StanfordCars, trained on `train`, tested on `test`. No boxes are loaded,
# so `gt_bboxes` is absent.
# Data: data/stanfordcars (cars_annos.mat + car_ims/, or the devkit layout).
_base_ = ['./fgvc_aircraft_bs8_448.py']

dataset_type = 'StanfordCars'
data_root = 'data/stanfordcars'
data_preprocessor = dict(num_classes=196)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
