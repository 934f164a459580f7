"""TorchModuleWrapper and JaxLayer: a backend's own model as a layer whose weights Lamina trains, reads and
saves; both refuse the other backends with a clear error."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from check import check_layer
from lamina import backend
from lamina.layers import Input, JaxLayer, TorchModuleWrapper
from lamina.models import Model
from lamina.saving import register_lamina_serializable

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 4)).astype("float32")
Y = (X @ RNG.standard_normal((4, 2))).astype("float32")


def torch_mlp(lazy: bool = False) -> torch.nn.Module:
    torch.manual_seed(0)
    first = torch.nn.LazyLinear(8) if lazy else torch.nn.Linear(4, 8)
    return torch.nn.Sequential(first, torch.nn.ReLU(), torch.nn.Linear(8, 2))


def wrapped_model(module: torch.nn.Module) -> tuple[Model, TorchModuleWrapper]:
    inputs = Input((4,))
    layer = TorchModuleWrapper(module)
    return Model(inputs, layer(inputs)), layer


# --- TorchModuleWrapper ------------------------------------------------------------------------------------

def test_a_wrapped_torch_module_trains_with_fit() -> None:
    with backend.use("torch"):
        module = torch_mlp()
        model, layer = wrapped_model(module)
        assert [v.name for v in layer.trainable_weights] == ["0.weight", "0.bias", "2.weight", "2.bias"]
        assert [tuple(v.shape) for v in model.trainable_weights] == [(8, 4), (8,), (2, 8), (2,)]
        before = model.predict(X, verbose=0)
        model.compile(optimizer="adam", loss="mse")
        losses = model.fit(X, Y, epochs=6, batch_size=16, verbose=0).history["loss"]
        after = model.predict(X, verbose=0)
        assert losses[-1] < losses[0], losses
        assert np.abs(after - before).max() > 1e-3
        with torch.no_grad():  # the module itself holds the trained parameters
            np.testing.assert_allclose(module(torch.from_numpy(X)).numpy(), after, rtol=1e-5, atol=1e-6)


def test_weights_are_the_module_parameters_for_get_and_set_weights() -> None:
    with backend.use("torch"):
        module = torch_mlp()
        model, layer = wrapped_model(module)
        weights = layer.get_weights()
        np.testing.assert_array_equal(weights[0], module[0].weight.detach().numpy())
        new = [RNG.standard_normal(w.shape).astype("float32") for w in weights]
        layer.set_weights(new)
        np.testing.assert_array_equal(module[2].bias.detach().numpy(), new[3])
        expected = np.maximum(X @ new[0].T + new[1], 0) @ new[2].T + new[3]
        np.testing.assert_allclose(model.predict(X, verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_a_lazy_module_is_made_at_build() -> None:
    with backend.use("torch"):
        layer = TorchModuleWrapper(torch_mlp(lazy=True))
        assert layer.weights == []
        outputs = layer(Input((4,)))
        assert tuple(outputs.shape) == (None, 2)
        assert [tuple(v.shape) for v in layer.weights] == [(8, 4), (8,), (2, 8), (2,)]


def test_buffers_are_non_trainable_weights_updated_in_training_only() -> None:
    with backend.use("torch"):
        torch.manual_seed(0)
        module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
        model, layer = wrapped_model(module)
        names = [v.name for v in layer.non_trainable_weights]
        assert names == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
        start = layer.get_weights()
        model.predict(X, verbose=0)
        assert all(np.array_equal(a, b) for a, b in zip(start, layer.get_weights()))
        model.compile(optimizer="sgd", loss="mse")
        model.fit(X, Y[:, :1].repeat(3, axis=1), epochs=1, batch_size=32, verbose=0)
        assert layer.get_weights()[-1] == 2  # two training batches counted
        assert not np.allclose(layer.get_weights()[-3], start[-3])  # the running mean moved


def test_saved_weights_load_into_a_fresh_module(tmp_path) -> None:
    with backend.use("torch"):
        model, _ = wrapped_model(torch_mlp())
        model.compile(optimizer="adam", loss="mse")
        model.fit(X, Y, epochs=2, verbose=0)
        path = str(tmp_path / "wrapped.weights.npz")
        model.save_weights(path)
        fresh = torch_mlp()
        torch.nn.init.zeros_(fresh[2].weight)
        other, _ = wrapped_model(fresh)
        other.load_weights(path)
        np.testing.assert_allclose(other.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_torch_wrapper_errors() -> None:
    with backend.use("torch"):
        with pytest.raises(TypeError, match="torch.nn.Module"):
            TorchModuleWrapper(lambda x: x)
        with pytest.raises(NotImplementedError, match="cannot be saved as a config"):
            TorchModuleWrapper(torch_mlp()).get_config()
        assert tuple(TorchModuleWrapper(torch_mlp(), output_shape=(None, 2)).compute_output_shape((None, 4))) == \
            (None, 2)
    for name in ("jax", "numpy"):
        with backend.use(name), pytest.raises(ValueError, match=f"torch backend.*active backend is '{name}'"):
            TorchModuleWrapper(torch_mlp())


# --- JaxLayer ------------------------------------------------------------------------------------------------

def mlp_init(rng, inputs):
    first, second = jax.random.split(rng)
    return {"hidden": {"kernel": jax.random.normal(first, (inputs.shape[-1], 8)) * 0.5, "bias": jnp.zeros(8)},
            "out": {"kernel": jax.random.normal(second, (8, 2)) * 0.5, "bias": jnp.zeros(2)}}


@register_lamina_serializable(package="tests")
def mlp_call(params, inputs, rng, training):
    hidden = jax.nn.relu(inputs @ params["hidden"]["kernel"] + params["hidden"]["bias"])
    if training:  # dropout at rate 0.5, from the layer's rng
        hidden = jnp.where(jax.random.bernoulli(rng, 0.5, hidden.shape), hidden * 2.0, 0.0)
    return hidden @ params["out"]["kernel"] + params["out"]["bias"]


register_lamina_serializable(package="tests")(mlp_init)


def test_a_jax_function_layer_trains_with_fit() -> None:
    with backend.use("jax"):
        inputs = Input((4,))
        layer = JaxLayer(mlp_call, mlp_init, seed=3)
        model = Model(inputs, layer(inputs))
        assert sorted(tuple(v.shape) for v in layer.trainable_weights) == [(2,), (4, 8), (8,), (8, 2)]
        before = model.predict(X, verbose=0)
        model.compile(optimizer="adam", loss="mse")
        losses = model.fit(X, Y, epochs=8, batch_size=16, verbose=0).history["loss"]
        assert losses[-1] < losses[0], losses
        assert np.abs(model.predict(X, verbose=0) - before).max() > 1e-3


def test_jax_layer_through_the_generic_checks_of_its_backend() -> None:
    """Shapes, the NumPy reference and the config round trip (its functions registered), on jax only."""
    def reference(x: np.ndarray, w: list[np.ndarray]) -> np.ndarray:
        hidden_bias, hidden_kernel, out_bias, out_kernel = w  # the leaves in jax's order (sorted keys)
        return np.maximum(x @ hidden_kernel + hidden_bias, 0) @ out_kernel + out_bias

    check_layer(lambda: JaxLayer(mlp_call, mlp_init, seed=1), (3, 4), reference, backends=("jax",), train=False,
                expected_output_shape=(3, 2))


def test_jax_layer_passes_rng_and_training() -> None:
    with backend.use("jax"):
        layer = JaxLayer(mlp_call, mlp_init, seed=0)
        first, second = (np.asarray(layer(X, training=True)) for _ in range(2))
        assert not np.allclose(first, second)  # a fresh key per call
        np.testing.assert_array_equal(np.asarray(layer(X)), np.asarray(layer(X, training=False)))


def test_jax_layer_with_given_params_and_state() -> None:
    def call_fn(params, state, inputs):
        return inputs * params["scale"] + state["count"], {"count": state["count"] + 1.0}

    with backend.use("jax"):
        layer = JaxLayer(call_fn, params={"scale": jnp.full((4,), 2.0)}, state={"count": jnp.zeros(())})
        assert [v.trainable for v in layer.weights] == [True, False]
        np.testing.assert_allclose(np.asarray(layer(X)), X * 2.0, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(layer(X)), X * 2.0 + 1.0, rtol=1e-6)  # the new state was kept
        layer.set_weights([np.ones(4, "float32"), np.array(10.0, "float32")])
        np.testing.assert_allclose(np.asarray(layer(X)), X + 10.0, rtol=1e-6)


def test_jax_layer_config_names_its_functions() -> None:
    with backend.use("jax"):
        config = JaxLayer(mlp_call, mlp_init, seed=5).get_config()
        clone = JaxLayer.from_config(config)
        assert (clone.call_fn, clone.init_fn, clone.seed) == (mlp_call, mlp_init, 5)


def test_jax_layer_errors() -> None:
    with backend.use("jax"):
        with pytest.raises(ValueError, match="'inputs'"):
            JaxLayer(lambda params, x: x, mlp_init)
        with pytest.raises(ValueError, match="init_fn"):
            JaxLayer(mlp_call)
    for name in ("torch", "numpy"):
        with backend.use(name), pytest.raises(ValueError, match=f"jax backend.*active backend is '{name}'"):
            JaxLayer(mlp_call, mlp_init)
