"""`keras.preprocessing`'s names: the dataset loaders (image, text, timeseries) and Keras 2's `sequence` and `image`."""

from lamina.preprocessing import image, sequence
from lamina.utils.dataset_from_directory import image_dataset_from_directory, text_dataset_from_directory
from lamina.utils.timeseries import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
