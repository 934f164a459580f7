"""Constraints by Keras's names: aliases, deserialize, the fuzz factor from the config, and projection during fit."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, config, constraints
from lamina.layers import Dense
from lamina.models import Sequential


def test_lower_case_names_and_deserialize() -> None:
    assert constraints.max_norm is constraints.MaxNorm and constraints.non_neg is constraints.NonNeg
    assert constraints.min_max_norm is constraints.MinMaxNorm and constraints.unit_norm is constraints.UnitNorm
    again = constraints.deserialize(constraints.serialize(constraints.MaxNorm(3.0, axis=1)))
    assert isinstance(again, constraints.MaxNorm) and again.get_config() == {"max_value": 3.0, "axis": 1}
    assert isinstance(constraints.deserialize("unit_norm"), constraints.UnitNorm)
    keras_layout = {"module": "keras.constraints", "class_name": "NonNeg", "config": {}, "registered_name": None}
    assert isinstance(constraints.deserialize(keras_layout), constraints.NonNeg)
    with pytest.raises(ValueError, match="Unknown"):
        constraints.deserialize({"class_name": "NoSuchConstraint", "config": {}})


def test_unit_norm_uses_the_configured_epsilon() -> None:
    w = np.full((1, 2), 0.5, "float32")  # column norms 0.5
    config.set_epsilon(0.5)
    try:
        with backend.use("jax") as B:
            np.testing.assert_allclose(B.convert_to_numpy(constraints.UnitNorm()(B.convert_to_tensor(w))), 0.5)
    finally:
        config.set_epsilon(1e-7)


def test_a_constraint_holds_after_each_training_step(training_backend: str) -> None:
    model = Sequential([Dense(3, kernel_constraint="non_neg", bias_constraint=constraints.MaxNorm(0.1),
                              input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(16, 4)), -10.0 * np.ones((16, 3)), epochs=2, batch_size=8, verbose=0)
    kernel, bias = model.get_weights()
    assert kernel.min() >= 0.0 and np.linalg.norm(bias) <= 0.1 + 1e-5
