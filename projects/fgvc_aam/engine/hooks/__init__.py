from .dataset_consistency_hook import DatasetConsistencyHook

__all__ = ['DatasetConsistencyHook']
