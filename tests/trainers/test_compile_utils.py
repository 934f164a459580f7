"""What compile makes of loss, loss_weights, metrics and weighted_metrics, for one output or several."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, losses, metrics
from lamina.trainers.compile_utils import CompileLoss, CompileMetrics, flat_outputs, per_output

NAMES = ["first", "second"]
rng = np.random.default_rng(2)
Y_TRUE = [rng.normal(size=(6, 2)).astype("float32"), rng.normal(size=(6, 1)).astype("float32")]
Y_PRED = [rng.normal(size=(6, 2)).astype("float32"), rng.normal(size=(6, 1)).astype("float32")]
WEIGHTS = np.array([1.0, 0.0, 2.0, 0.5, 1.0, 0.0], "float32")


def _mse(y_true, y_pred, weights=None):
    per_sample = ((y_true.astype("float64") - y_pred) ** 2).mean(-1)
    return per_sample.mean() if weights is None else (per_sample * weights).sum() / len(per_sample)


def _mae(y_true, y_pred):
    return np.abs(y_true.astype("float64") - y_pred).mean()


def _value(x) -> float:
    return float(backend.impl.convert_to_numpy(x))


def test_per_output_spreads_one_value_a_list_or_a_dict() -> None:
    assert per_output("mse", NAMES, "loss") == ["mse", "mse"]
    assert per_output(["mse", "mae"], NAMES, "loss") == ["mse", "mae"]
    assert per_output({"second": "mae"}, NAMES, "loss") == [None, "mae"]
    assert per_output(["mse"], ["only"], "loss") == [["mse"]]  # one output: the list is its value


@pytest.mark.parametrize("value", [{"third": "mse"}, ["mse", "mae", "mse"], ["mse"]])
def test_per_output_rejects_values_that_do_not_fit_the_outputs(value) -> None:
    with pytest.raises(ValueError):
        per_output(value, NAMES, "loss")


def test_flat_outputs_orders_by_output_name() -> None:
    assert flat_outputs({"second": 2, "first": 1}, NAMES, "y") == [1, 2]
    assert flat_outputs((1, 2), NAMES, "y") == [1, 2]
    assert flat_outputs(5, ["only"], "y") == [5]
    with pytest.raises(ValueError):
        flat_outputs({"first": 1}, NAMES, "y")
    with pytest.raises(ValueError):
        flat_outputs([1, 2, 3], NAMES, "y")


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_compile_loss_is_the_weighted_sum_of_each_outputs_loss(backend_name: str) -> None:
    with backend.use(backend_name):
        loss = CompileLoss({"first": "mse", "second": "mae"}, {"first": 0.5, "second": 2.0}, NAMES)
        total = loss(Y_TRUE, Y_PRED)
        expected = 0.5 * _mse(Y_TRUE[0], Y_PRED[0]) + 2.0 * _mae(Y_TRUE[1], Y_PRED[1])
        assert _value(total) == pytest.approx(expected, rel=1e-5)
        # as dicts too, and each output's loss is tracked under its name
        total = loss(dict(zip(NAMES, Y_TRUE)), dict(zip(NAMES, Y_PRED)))
        assert _value(total) == pytest.approx(expected, rel=1e-5)
        assert [m.name for m in loss.metrics] == ["first_loss", "second_loss"]
        assert _value(loss.metrics[1].result()) == pytest.approx(_mae(Y_TRUE[1], Y_PRED[1]), rel=1e-5)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_compile_loss_skips_outputs_without_a_loss(backend_name: str) -> None:
    with backend.use(backend_name):
        loss = CompileLoss([None, "mse"], None, NAMES)
        assert _value(loss(Y_TRUE, Y_PRED)) == pytest.approx(_mse(Y_TRUE[1], Y_PRED[1]), rel=1e-5)
        assert loss.metrics == []  # one output with a loss: only the total is logged, as Keras logs it
    with pytest.raises(ValueError):
        CompileLoss([None, None], None, NAMES)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_compile_loss_applies_sample_weights(backend_name: str) -> None:
    with backend.use(backend_name):
        single = CompileLoss("mse", None, ["only"])
        assert single.metrics == []  # one output: no per-output tracker
        value = single(Y_TRUE[0], Y_PRED[0], WEIGHTS)
        assert _value(value) == pytest.approx(_mse(Y_TRUE[0], Y_PRED[0], WEIGHTS), rel=1e-5)
        several = CompileLoss("mse", None, NAMES)
        value = several(Y_TRUE, Y_PRED, {"first": WEIGHTS, "second": np.ones(6, "float32")})
        expected = _mse(Y_TRUE[0], Y_PRED[0], WEIGHTS) + _mse(Y_TRUE[1], Y_PRED[1])
        assert _value(value) == pytest.approx(expected, rel=1e-5)


def test_compile_loss_resolves_names_objects_and_functions() -> None:
    custom = losses.Huber(delta=0.5)
    loss = CompileLoss(["binary_crossentropy", custom], None, NAMES)
    assert isinstance(loss.losses[0], losses.BinaryCrossentropy) and loss.losses[1] is custom
    with pytest.raises(ValueError, match="Did you mean"):
        CompileLoss("mean_sqared_error", None, ["only"])


@pytest.mark.parametrize("loss_name, y_true_shape, y_pred_shape, expected", [
    ("sparse_categorical_crossentropy", (6,), (6, 3), metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", (6, 3), (6, 3), metrics.CategoricalAccuracy),
    ("binary_crossentropy", (6, 1), (6, 1), metrics.BinaryAccuracy),
    ("mse", (6, 1), (6, 1), metrics.BinaryAccuracy),  # from the shapes: one unit
    ("mse", (6, 1), (6, 3), metrics.SparseCategoricalAccuracy),  # labels against classes
    ("mse", (6, 3), (6, 3), metrics.CategoricalAccuracy),
])
def test_accuracy_means_what_the_loss_and_shapes_say(loss_name, y_true_shape, y_pred_shape, expected) -> None:
    compile_loss = CompileLoss(loss_name, None, ["only"])
    compiled = CompileMetrics(["accuracy", "acc"], None, ["only"], compile_loss)
    compiled.build([y_true_shape], [y_pred_shape])
    assert [type(m) for m in compiled.metrics] == [expected, expected]
    assert [m.name for m in compiled.metrics] == ["accuracy", "acc"]


def test_crossentropy_metric_follows_the_loss() -> None:
    compiled = CompileMetrics(["crossentropy"], None, ["only"], CompileLoss("binary_crossentropy", None, ["only"]))
    compiled.build([(6, 1)], [(6, 1)])
    assert isinstance(compiled.metrics[0], metrics.BinaryCrossentropy)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_metrics_per_output_are_prefixed_and_match_numpy(backend_name: str) -> None:
    with backend.use(backend_name):
        compiled = CompileMetrics({"first": ["mae"], "second": ["mse", "mae"]}, None, NAMES,
                                  CompileLoss("mse", None, NAMES))
        compiled.build([(6, 2), (6, 1)], [(6, 2), (6, 1)])
        assert [m.name for m in compiled.metrics] == ["first_mae", "second_mse", "second_mae"]
        compiled.update_state(Y_TRUE, Y_PRED)
        results = [_value(m.result()) for m in compiled.metrics]
    expected = [_mae(Y_TRUE[0], Y_PRED[0]), _mse(Y_TRUE[1], Y_PRED[1]), _mae(Y_TRUE[1], Y_PRED[1])]
    np.testing.assert_allclose(results, expected, rtol=1e-5)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_only_weighted_metrics_see_the_sample_weights(backend_name: str) -> None:
    with backend.use(backend_name):
        compiled = CompileMetrics(["mse"], ["mae"], ["only"], CompileLoss("mse", None, ["only"]))
        compiled.build([(6, 2)], [(6, 2)])
        compiled.update_state(Y_TRUE[0], Y_PRED[0], WEIGHTS)
        plain, weighted = (_value(m.result()) for m in compiled.metrics)
    per_sample = np.abs(Y_TRUE[0].astype("float64") - Y_PRED[0]).mean(-1)
    assert plain == pytest.approx(_mse(Y_TRUE[0], Y_PRED[0]), rel=1e-5)
    assert weighted == pytest.approx((per_sample * WEIGHTS).sum() / WEIGHTS.sum(), rel=1e-5)  # Keras: a weighted mean


def test_a_list_of_lists_gives_each_output_its_metrics() -> None:
    compiled = CompileMetrics([["mae"], ["mse"]], None, NAMES, CompileLoss("mse", None, NAMES))
    compiled.build([(6, 2), (6, 1)], [(6, 2), (6, 1)])
    assert [m.name for m in compiled.metrics] == ["first_mae", "second_mse"]
    one_for_all = CompileMetrics(["mae"], None, NAMES, CompileLoss("mse", None, NAMES))
    one_for_all.build([(6, 2), (6, 1)], [(6, 2), (6, 1)])
    assert [m.name for m in one_for_all.metrics] == ["first_mae", "second_mae"]
