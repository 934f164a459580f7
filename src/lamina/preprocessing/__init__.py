"""`keras.preprocessing`'s names: timeseries_dataset_from_array, and Keras 2's `sequence` and `image` modules."""

from lamina.preprocessing import image, sequence
from lamina.utils.timeseries import timeseries_dataset_from_array

__all__ = ["image", "sequence", "timeseries_dataset_from_array"]
