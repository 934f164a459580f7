"""User-defined initializers, regularizers and constraints, registered, survive a save and a load."""

from __future__ import annotations

import numpy as np

from lamina import constraints, initializers, regularizers
from lamina.layers import Dense
from lamina.models import Sequential, load_model
from lamina.saving import register_lamina_serializable


@register_lamina_serializable(package="Test")
class HalfOnes(initializers.Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.full(shape, 0.5, dtype=dtype)


@register_lamina_serializable(package="Test")
class Scaled(regularizers.Regularizer):
    def __init__(self, factor=0.1):
        self.factor = factor

    def __call__(self, x):
        return self.factor * regularizers.L1(1.0)(x)

    def get_config(self):
        return {"factor": self.factor}


@register_lamina_serializable(package="Test")
class Clipped(constraints.Constraint):
    def __call__(self, w):
        return constraints.NonNeg()(w)


def test_registered_family_objects_round_trip(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,), kernel_initializer=HalfOnes(), kernel_regularizer=Scaled(0.3),
                              kernel_constraint=Clipped())])
    path = tmp_path / "custom.keras"
    model.save(path)
    layer = load_model(path).layers[0]
    assert isinstance(layer.kernel_initializer, HalfOnes)
    assert isinstance(layer.kernel_regularizer, Scaled) and layer.kernel_regularizer.factor == 0.3
    assert isinstance(layer.kernel_constraint, Clipped)
    np.testing.assert_array_equal(layer.get_weights()[0], np.full((3, 2), 0.5, "float32"))
