"""Metrics a user writes: state made with add_variable (Keras 3) or add_weight (Keras 2), used in fit."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import layers, metrics, ops
from lamina.models import Sequential


class CorrectCount(metrics.Metric):
    """Counts the rows whose argmax equals the integer label, weighted."""

    def __init__(self, name: str = "correct_count", keras2: bool = False, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if keras2:
            self.count = self.add_weight(name="count", initializer="zeros")
        else:
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")
        self.seen = self.add_variable(shape=(2,), initializer="ones", name="seen", aggregation="sum")

    def update_state(self, y_true, y_pred, sample_weight=None):
        right = ops.cast(ops.cast(ops.reshape(y_true, (-1,)), "int32") == ops.argmax(y_pred, axis=1), "float32")
        if sample_weight is not None:
            right = right * ops.cast(sample_weight, "float32")
        self.count.assign_add(ops.sum(right))
        self.seen.assign_add(ops.ones((2,)) * ops.cast(ops.shape(y_pred)[0], "float32"))

    def result(self):
        return self.count


@pytest.mark.parametrize("keras2", [False, True])
def test_a_custom_metric_counts_in_fit_and_evaluate(training_backend, keras2):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 4)).astype("float32"), rng.integers(0, 3, 40)
    model = Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    metric = CorrectCount(keras2=keras2)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=[metric])
    model.evaluate(x, y, batch_size=16, verbose=0)
    expected = float((model.predict(x, verbose=0).argmax(1) == y).sum())
    assert float(ops.convert_to_numpy(metric.result())) == expected
    np.testing.assert_array_equal(ops.convert_to_numpy(metric.seen), [41.0, 41.0])  # ones, then 40 rows
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    assert len(history["correct_count"]) == 2 and 0 <= history["correct_count"][-1] <= 40
    metric.reset_state()
    np.testing.assert_array_equal(ops.convert_to_numpy(metric.seen), [1.0, 1.0])


def test_add_variable_names_a_bad_aggregation():
    class Bad(metrics.Metric):
        def __init__(self):
            super().__init__()
            self.add_variable(shape=(), initializer="zeros", aggregation="max")

    with pytest.raises(ValueError, match="aggregation must be one of .* got 'max'"):
        Bad()
