"""`keras.preprocessing`'s names: timeseries_dataset_from_array, and Keras 2's `preprocessing.sequence`."""

from lamina.preprocessing import sequence
from lamina.utils.timeseries import timeseries_dataset_from_array

__all__ = ["sequence", "timeseries_dataset_from_array"]
