"""check_layer: the checks every layer gets, in one call.

For a layer factory it builds the layer on each available backend with the same weights, then checks the
output shape (eager and symbolic), equality across backends, a NumPy reference, finite non-zero gradients
on torch and jax (the same on both), and a config round trip.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Callable, Sequence

import numpy as np

import lamina
from lamina import backend

Reference = Callable[[np.ndarray, list[np.ndarray]], Any]


def available_backends(names: Sequence[str]) -> list[str]:
    """The named backends, without numpy when it cannot be imported (it is inference-only and optional)."""
    found = []
    for name in names:
        try:
            importlib.import_module(f"lamina.backend.{name}")
        except Exception:  # noqa: BLE001 - a numpy backend that fails to import is skipped, others must work
            if name != "numpy":
                raise
            continue
        found.append(name)
    return found


def make_input(shape: Sequence[int], dtype: str = "float32", input_range: tuple[int, int] = (0, 10)) -> np.ndarray:
    """A fixed random input: standard normal floats, or ints in [low, high)."""
    rng = np.random.default_rng(0)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(*input_range, size=tuple(shape)).astype(dtype)
    return rng.standard_normal(tuple(shape)).astype(dtype)


def flat_numpy(outputs: Any) -> list[np.ndarray]:
    """One output or a list of them, as a list of NumPy arrays."""
    items = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(backend.impl.convert_to_numpy(o)) for o in items]


def assert_all_close(actual: list[np.ndarray], expected: list[np.ndarray], atol: float, what: str) -> None:
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, expected {len(expected)}"
    for index, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, atol=atol, rtol=1e-5, err_msg=f"{what}, output {index}")


def check_layer(make_layer: Callable[[], Any], input_shape: Sequence[int], reference: Reference | None = None, *,
                input_dtype: str = "float32", input_range: tuple[int, int] = (0, 10),
                backends: Sequence[str] = ("torch", "jax", "numpy"), atol: float = 1e-5,
                expected_output_shape: Any = None, train: bool = True,
                call_kwargs: dict | None = None) -> list[np.ndarray]:
    """Run the generic layer checks; returns the outputs of the first backend as NumPy arrays.

    make_layer: builds a fresh, unbuilt layer (called once per backend, under that backend).
    reference: reference(x, weights) -> the expected output(s), in NumPy.
    expected_output_shape: a shape, or a list of shapes for a layer with several outputs.
    train: also check gradients on torch and jax.
    """
    call_kwargs = call_kwargs or {}
    x = make_input(input_shape, input_dtype, input_range)
    names = available_backends(backends)
    weights: list[np.ndarray] | None = None
    results: dict[str, list[np.ndarray]] = {}
    for name in names:
        with backend.use(name) as B:
            layer = make_layer()
            symbolic = layer(lamina.Input(shape=tuple(input_shape[1:]), dtype=input_dtype), **call_kwargs)  # builds
            if weights is None:
                weights = layer.get_weights()
            layer.set_weights(weights)
            tensor = B.convert_to_tensor(x)
            results[name] = flat_numpy(layer(tensor, **call_kwargs))
            check_shapes(layer, input_shape, symbolic, results[name], expected_output_shape)
            if name == names[0]:
                check_config_round_trip(layer, tensor, weights, results[name], atol, call_kwargs)
    first = results[names[0]]
    for name in names[1:]:
        assert_all_close(results[name], first, atol, f"{name} against {names[0]}")
    if reference is not None:
        expected = reference(x, weights)
        expected = list(expected) if isinstance(expected, (list, tuple)) else [expected]
        assert_all_close(first, [np.asarray(e, np.float64) for e in expected], atol, "against the NumPy reference")
    if train:
        check_gradients(make_layer, x, weights, first, call_kwargs, atol)
    return first


def check_shapes(layer: Any, input_shape: Sequence[int], symbolic: Any, outputs: list[np.ndarray],
                 expected: Any) -> None:
    """Eager shapes equal `expected`; symbolic outputs and compute_output_shape agree, with batch None."""
    shapes = [tuple(o.shape) for o in outputs]
    if expected is not None:
        expected = list(expected) if isinstance(expected, list) else [tuple(expected)]
        assert shapes == [tuple(s) for s in expected], f"output shapes {shapes}, expected {expected}"
    symbolic = symbolic if isinstance(symbolic, (list, tuple)) else [symbolic]
    assert [tuple(t.shape) for t in symbolic] == [(None, *s[1:]) for s in shapes], \
        f"symbolic shapes {[t.shape for t in symbolic]}, eager shapes {shapes}"
    computed = layer.compute_output_shape((None, *input_shape[1:]))
    computed = computed if isinstance(computed, list) else [computed]
    assert [tuple(s) for s in computed] == [tuple(t.shape) for t in symbolic], f"compute_output_shape: {computed}"


def check_config_round_trip(layer: Any, tensor: Any, weights: list[np.ndarray], outputs: list[np.ndarray],
                            atol: float, call_kwargs: dict) -> None:
    """from_config(get_config()) through JSON rebuilds a layer with the same config and the same outputs."""
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    clone(tensor, **call_kwargs)
    clone.set_weights(weights)
    assert json.loads(json.dumps(clone.get_config())) == config
    assert_all_close(flat_numpy(clone(tensor, **call_kwargs)), outputs, atol, "config round trip")


def probes_for(outputs: list[np.ndarray]) -> list[np.ndarray]:
    """Fixed random weights for the outputs: the gradient of a plain sum can vanish (softmax sums to 1)."""
    rng = np.random.default_rng(1)
    return [rng.standard_normal(o.shape).astype(np.float32) for o in outputs]


def check_gradients(make_layer: Callable[[], Any], x: np.ndarray, weights: list[np.ndarray],
                    outputs: list[np.ndarray], call_kwargs: dict, atol: float) -> None:
    """Gradients of sum(outputs * probes) w.r.t. each trainable weight (and float inputs): finite, not all
    zero, and the same on torch and jax."""
    probes = probes_for(outputs)
    gradients = {}
    for name, compute in (("torch", torch_gradients), ("jax", jax_gradients)):
        with backend.use(name):
            layer = make_layer()
            layer(lamina.Input(shape=x.shape[1:], dtype=str(x.dtype)), **call_kwargs)  # builds, compiles nothing
            layer.set_weights(weights)
            gradients[name] = compute(layer, x, probes, call_kwargs)
            assert len(gradients[name]) == len(layer.trainable_weights) + (x.dtype.kind == "f")
            for index, gradient in enumerate(gradients[name]):
                assert np.all(np.isfinite(gradient)), f"{name}: gradient {index} is not finite"
                assert np.any(gradient != 0), f"{name}: gradient {index} is all zero"
    for index, (t, j) in enumerate(zip(gradients["torch"], gradients["jax"])):
        np.testing.assert_allclose(t, j, atol=10 * atol, rtol=1e-4, err_msg=f"gradient {index}, torch against jax")


def torch_gradients(layer: Any, x: np.ndarray, probes: list[np.ndarray], call_kwargs: dict) -> list[np.ndarray]:
    import torch

    inputs = torch.tensor(x, requires_grad=x.dtype.kind == "f")
    outputs = layer(inputs, **call_kwargs)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    loss = sum((o * torch.from_numpy(p)).sum() for o, p in zip(outputs, probes))
    targets = list(layer.trainable_weights) + ([inputs] if inputs.requires_grad else [])
    return [g.numpy() for g in torch.autograd.grad(loss, targets)]


def jax_gradients(layer: Any, x: np.ndarray, probes: list[np.ndarray], call_kwargs: dict) -> list[np.ndarray]:
    import jax
    import jax.numpy as jnp

    from lamina.backend.jax.core import StateScope

    trainable = layer.trainable_weights
    others = layer.non_trainable_weights + layer.seed_state_variables  # restored after the traced call

    def loss(values: list, inputs: Any) -> Any:
        with StateScope(trainable + others, values + [v.value for v in others]):
            outputs = layer(inputs, **call_kwargs)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            return sum(jnp.sum(o * p) for o, p in zip(outputs, probes))

    values, inputs = [v.value for v in trainable], jnp.asarray(x)
    if x.dtype.kind == "f":  # jitted: one compilation instead of one per op of the backward pass
        weight_gradients, input_gradient = jax.jit(jax.grad(loss, argnums=(0, 1)))(values, inputs)
        return [np.asarray(g) for g in weight_gradients] + [np.asarray(input_gradient)]
    return [np.asarray(g) for g in jax.jit(jax.grad(loss))(values, inputs)]
