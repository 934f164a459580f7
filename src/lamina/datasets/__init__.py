"""Data sets to load, as (x_train, y_train), (x_test, y_test).

Keras's data sets download once into Keras's cache folder ($KERAS_HOME/datasets, default ~/.keras/datasets),
so files Keras already fetched are reused; digits ships with scikit-learn and needs no download.
"""

from lamina.datasets import (boston_housing, california_housing, cifar10, cifar100, digits, fashion_mnist, imdb, mnist,
                             reuters)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "digits", "fashion_mnist", "imdb", "mnist",
           "reuters"]
