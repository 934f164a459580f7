"""MultiOptimizer and OptimizerMap: variables routed by path, each optimizer's own steps, configs, saving."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend, layers, models, optimizers

rng = np.random.default_rng(5)
PATHS = ["encoder/dense/kernel", "encoder/dense/bias", "decoder/kernel", "head/kernel"]
SHAPES = [(3, 4), (4,), (4, 2), (2, 1)]
INITIAL = [rng.normal(size=shape).astype("float32") for shape in SHAPES]
GRADIENTS = [[rng.normal(size=shape).astype("float32") for shape in SHAPES] for _ in range(3)]


def make_map() -> optimizers.OptimizerMap:
    return optimizers.OptimizerMap(optimizers.SGD(0.1), {"encoder/.*": optimizers.Adam(0.01),
                                                         "decoder/kernel": optimizers.Lion(0.02)})


def train(factory, indices, backend_name):
    """The chosen variables after three steps of the optimizer `factory` makes, and the optimizer."""
    with backend.use(backend_name) as B:
        variables = [B.Variable(INITIAL[i], path=PATHS[i]) for i in indices]
        optimizer = factory()
        for grads in GRADIENTS:
            optimizer.apply([B.convert_to_tensor(grads[i]) for i in indices], variables)
        return [B.convert_to_numpy(v) for v in variables], optimizer


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_each_variable_takes_the_steps_of_its_optimizer(backend_name: str) -> None:
    results, multi = train(lambda: optimizers.MultiOptimizer(make_map()), range(4), backend_name)
    alone = {0: train(lambda: optimizers.Adam(0.01), [0, 1], backend_name)[0],
             2: train(lambda: optimizers.Lion(0.02), [2], backend_name)[0],
             3: train(lambda: optimizers.SGD(0.1), [3], backend_name)[0]}
    for got, want in zip(results, alone[0] + alone[2] + alone[3]):
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert [type(o).__name__ for o in multi.optimizers] == ["Adam", "Lion", "SGD"]
    with backend.use(backend_name) as B:
        assert int(B.convert_to_numpy(multi.iterations)) == 3
        assert all(int(B.convert_to_numpy(o.iterations)) == 3 for o in multi.optimizers)
    # its own counter and rate, then each optimizer's variables in order
    expected = 2 + sum(len(o.variables) for o in multi.optimizers)
    assert len(multi.variables) == expected and multi.variables[2:] == [v for o in multi.optimizers
                                                                      for v in o.variables]


def test_a_function_chooses_the_optimizers() -> None:
    chosen = {"adam": optimizers.Adam(0.01), "sgd": optimizers.SGD(0.1)}
    results, multi = train(lambda: optimizers.MultiOptimizer(
        lambda v: chosen["adam"] if v.path.startswith("encoder") else chosen["sgd"]), range(4), "torch")
    assert multi.optimizers == [chosen["adam"], chosen["sgd"]]
    for got, want in zip(results[:2], train(lambda: optimizers.Adam(0.01), [0, 1], "torch")[0]):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_optimizer_map_lookups_and_errors() -> None:
    mapping = make_map()
    assert isinstance(mapping["encoder/anything"], optimizers.Adam)
    assert isinstance(mapping["decoder/kernel"], optimizers.Lion)
    assert isinstance(mapping["decoder/bias"], optimizers.SGD) and mapping.default_optimizer is mapping["other"]
    mapping["head/.*"] = optimizers.Adam()
    assert len(mapping) == 3 and set(mapping) == {"encoder/.*", "decoder/kernel", "head/.*"}
    with pytest.raises(ValueError, match="already"):
        mapping["head/.*"] = optimizers.SGD()
    mapping["head/ker.*"] = optimizers.SGD()
    with pytest.raises(ValueError, match="several patterns"):
        mapping["head/kernel"]
    with pytest.raises(ValueError, match="cannot be a MultiOptimizer"):
        mapping["x"] = optimizers.MultiOptimizer(make_map())
    with pytest.raises(ValueError, match="cannot be a LossScaleOptimizer"):
        mapping["y"] = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(TypeError, match="default_optimizer must be an Optimizer"):
        optimizers.OptimizerMap("sgd")
    with pytest.raises(TypeError, match="optimizer_map must be"):
        optimizers.MultiOptimizer("adam")


def test_no_single_learning_rate() -> None:
    multi = optimizers.MultiOptimizer(make_map())
    with pytest.raises(AttributeError, match="no single learning rate"):
        multi.learning_rate
    with pytest.raises(AttributeError, match="no single learning rate"):
        multi.learning_rate = 0.1
    assert not hasattr(multi, "learning_rate")


@lamina.saving.register_lamina_serializable(package="test_multi_optimizer")
def pick_by_path(variable):
    return optimizers.Adam(0.01) if variable.path.startswith("encoder") else optimizers.SGD(0.1)


def test_config_round_trips() -> None:
    multi = optimizers.MultiOptimizer(make_map(), name="multi")
    config = multi.get_config()
    assert set(config) == {"optimizer_map", "loss_scale_factor", "name"}
    again = optimizers.get(optimizers.serialize(multi))
    assert isinstance(again, optimizers.MultiOptimizer) and again.get_config() == config
    assert [type(o).__name__ for o in again.optimizers] == ["Adam", "Lion", "SGD"]
    with_function = optimizers.MultiOptimizer(pick_by_path)
    assert optimizers.get(optimizers.serialize(with_function)).optimizer_map is pick_by_path
    with pytest.raises(ValueError, match="lambda"):
        optimizers.MultiOptimizer(lambda v: optimizers.SGD()).get_config()


def test_fit_save_and_load_keep_every_optimizer_state(tmp_path) -> None:
    x = rng.normal(size=(32, 3)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    with backend.use("torch") as B:
        lamina.set_random_seed(3)
        model = models.Sequential([layers.Input((3,)), layers.Dense(4, name="encoder"), layers.Dense(1, name="head")])
        mapping = optimizers.OptimizerMap(optimizers.SGD(0.05), {"encoder/.*": optimizers.Nadam(0.01)})
        model.compile(optimizer=optimizers.MultiOptimizer(mapping), loss="mse")
        losses = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
        assert losses[-1] < losses[0]
        path = tmp_path / "multi.keras"
        model.save(path)
        loaded = lamina.saving.load_model(path)
        assert isinstance(loaded.optimizer, optimizers.MultiOptimizer)
        saved = [B.convert_to_numpy(v) for v in model.optimizer.variables]
        restored = [B.convert_to_numpy(v) for v in loaded.optimizer.variables]
        assert len(saved) == len(restored) and int(saved[0]) == 12
        for a, b in zip(saved, restored):
            np.testing.assert_array_equal(a, b)
