"""Utilities users reach for: one-hot labels, padding, datasets of batches, progress bars and seeding."""

from __future__ import annotations

from lamina.utils.data_utils import pack_x_y_sample_weight, unpack_x_y_sample_weight
from lamina.utils.dataset_split import split_dataset
from lamina.utils.numerical import normalize, to_categorical
from lamina.utils.progbar import Progbar
from lamina.utils.py_dataset import PyDataset, Sequence
from lamina.utils.seeding import set_random_seed
from lamina.utils.sequences import pad_sequences
from lamina.utils.tensors import get_source_inputs, is_keras_tensor, standardize_dtype
from lamina.utils.timeseries import timeseries_dataset_from_array

__all__ = ["Progbar", "PyDataset", "Sequence", "get_source_inputs", "is_keras_tensor", "normalize",
           "pack_x_y_sample_weight", "pad_sequences", "set_random_seed", "split_dataset", "standardize_dtype",
           "timeseries_dataset_from_array", "to_categorical", "unpack_x_y_sample_weight"]
