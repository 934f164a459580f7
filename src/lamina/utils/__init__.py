"""Utilities users reach for: one-hot labels, padding, datasets of batches, progress bars and seeding."""

from __future__ import annotations

from lamina.backend import clear_session
from lamina.config import disable_interactive_logging, enable_interactive_logging, is_interactive_logging_enabled
from lamina.utils.config import Config
from lamina.utils.data_utils import pack_x_y_sample_weight, unpack_x_y_sample_weight
from lamina.utils.dataset_split import split_dataset
from lamina.utils.file_utils import get_file
from lamina.utils.numerical import normalize, to_categorical
from lamina.utils.progbar import Progbar
from lamina.utils.py_dataset import PyDataset, Sequence
from lamina.utils.seeding import set_random_seed
from lamina.utils.sequences import pad_sequences
from lamina.utils.tensors import get_source_inputs, is_keras_tensor, standardize_dtype
from lamina.utils.timeseries import timeseries_dataset_from_array
from lamina.utils.dataset_from_directory import (audio_dataset_from_directory, image_dataset_from_directory,
                                                 text_dataset_from_directory)
from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from lamina.utils.plotting import model_to_dot, plot_history, plot_model
from lamina.utils.multi_gpu import multi_gpu_model

# Keras keeps its serialization helpers in keras.utils too; here they come from lamina.saving when first asked
# for (lamina.saving imports parts of the library that import lamina.utils).
_FROM_SAVING = ("CustomObjectScope", "custom_object_scope", "deserialize_keras_object", "get_custom_objects",
                "get_registered_name", "get_registered_object", "register_keras_serializable",
                "serialize_keras_object")


def __getattr__(name: str) -> object:
    if name in _FROM_SAVING:
        from lamina import saving

        return getattr(saving, name)
    raise AttributeError(f"module 'lamina.utils' has no attribute {name!r}")


__all__ = ["Config", "Progbar", "PyDataset", "Sequence", "clear_session", "disable_interactive_logging",
           "enable_interactive_logging", "get_file", "get_source_inputs", "is_interactive_logging_enabled",
           "is_keras_tensor", "normalize", "pack_x_y_sample_weight", "pad_sequences", "set_random_seed",
           "split_dataset", "standardize_dtype", "timeseries_dataset_from_array", "to_categorical",
           "unpack_x_y_sample_weight", *_FROM_SAVING]
__all__ += ["array_to_img", "audio_dataset_from_directory", "image_dataset_from_directory", "img_to_array",
            "load_img", "model_to_dot", "multi_gpu_model", "plot_history", "plot_model", "save_img",
            "text_dataset_from_directory"]
