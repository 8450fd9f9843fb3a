# Mechanism study, row "single-branch AAM step": the softmax row's model
# with the AAM head (eq. 51) and the step margin (eq. 52): m = 0.25 from 30%
# of the 12 epochs (k1 = 4), 0.5 from 60% (k2 = 7). s = 30 is the
# synthetic configs' value; the study sweeps s = 16 / 30 / 64 at the
# selected learning rate (README.md here). Head and margin: the base.
_base_ = ['../_base_/synthetic_fgvc_objpre_bs16_12e_aam-step.py']
