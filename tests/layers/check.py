"""check_layer: the checks every layer gets, in one call.

For a layer factory it builds the layer on each backend (torch, jax and the inference-only numpy) with the
same weights, then checks the output shape (eager and symbolic), equality across backends, a NumPy
reference, finite non-zero gradients on torch and jax (the same on both), and a config round trip.
A layer with several inputs (a merging layer) takes a list of input shapes.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

import numpy as np

import lamina
from lamina import backend

Reference = Callable[[Any, list[np.ndarray]], Any]
_UNSET = object()  # expected_mask not given: masks are not checked


def several(input_shape: Any) -> bool:
    """Whether `input_shape` is a list of shapes (a layer with several inputs) rather than one shape."""
    return bool(input_shape) and isinstance(input_shape[0], (list, tuple))


def make_input(shape: Sequence[int], dtype: str = "float32", input_range: tuple[int, int] = (0, 10),
               seed: int = 0) -> np.ndarray:
    """A fixed random input: standard normal floats, or ints in [low, high)."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(*input_range, size=tuple(shape)).astype(dtype)
    return rng.standard_normal(tuple(shape)).astype(dtype)


def make_inputs(input_shape: Any, dtype: str, input_range: tuple[int, int]) -> Any:
    """One input array, or a list of them (each drawn apart) for a list of shapes."""
    if several(input_shape):
        return [make_input(shape, dtype, input_range, seed=index) for index, shape in enumerate(input_shape)]
    return make_input(input_shape, dtype, input_range)


def symbolic_inputs(x: Any) -> Any:
    """lamina.Input(s) shaped like x (batch axis left unknown)."""
    if isinstance(x, list):
        return [symbolic_inputs(item) for item in x]
    return lamina.Input(shape=x.shape[1:], dtype=str(x.dtype))


def to_tensors(x: Any) -> Any:
    """x as tensors of the active backend."""
    return [backend.impl.convert_to_tensor(i) for i in x] if isinstance(x, list) else backend.impl.convert_to_tensor(x)


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
                call_kwargs: dict | None = None, input_mask: Any = None,
                expected_mask: Any = _UNSET) -> list[np.ndarray]:
    """Run the generic layer checks; returns the outputs of the first backend as NumPy arrays.

    make_layer: builds a fresh, unbuilt layer (called once per backend, under that backend).
    input_shape: one shape, or a list of shapes for a layer with several inputs (then x is a list).
    reference: reference(x, weights) -> the expected output(s), in NumPy.
    backends: every one is run; a backend that cannot run the layer fails the check (never skipped).
    expected_output_shape: a shape, or a list of shapes for a layer with several outputs.
    train: also check gradients on torch and jax.
    input_mask: a boolean mask of the input (shaped like its leading axes), given to the layer in the mask check.
    expected_mask: the mask of the (first) output, a boolean array or None for none; when given (or with
        input_mask), `compute_mask`, the mask an eager torch output carries and the mask a functional model
        propagates past the layer must equal it on every backend. A layer that makes a mask from its input (Embedding(mask_zero=True), Masking) needs
        only expected_mask.
    """
    call_kwargs = call_kwargs or {}
    x = make_inputs(input_shape, input_dtype, input_range)
    names = list(backends)
    weights: list[np.ndarray] | None = None
    results: dict[str, list[np.ndarray]] = {}
    for name in names:
        with backend.use(name):
            layer = make_layer()
            symbolic = layer(symbolic_inputs(x), **call_kwargs)  # builds
            if weights is None:
                weights = layer.get_weights()
            layer.set_weights(weights)
            tensor = to_tensors(x)
            try:
                results[name] = flat_numpy(layer(tensor, **call_kwargs))
            except Exception as error:
                raise AssertionError(f"{type(layer).__name__} fails on the {name} backend: {error!r}") from error
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
    if input_mask is not None or expected_mask is not _UNSET:
        if expected_mask is _UNSET:
            raise TypeError("check_layer: input_mask given without expected_mask (None if the output has no mask).")
        for name in names:
            with backend.use(name):
                check_mask(make_layer, x, input_mask, expected_mask, call_kwargs, name)
    return first


class MaskProbe(lamina.layers.Layer):
    """Outputs the mask it receives (as float32, of the first tensor), or [-1.0] when there is none."""

    supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        if mask is None:
            return lamina.ops.ones((1,)) * -1.0
        return lamina.ops.cast(mask, "float32")


def as_mask(value: Any) -> Any:
    """A computed mask as a NumPy bool array, or None."""
    value = value[0] if isinstance(value, (list, tuple)) else value
    return None if value is None else np.asarray(backend.impl.convert_to_numpy(value)).astype(bool)


def assert_mask(actual: Any, expected: Any, what: str) -> None:
    if expected is None:
        assert actual is None, f"{what}: a mask where none was expected"
        return
    assert actual is not None, f"{what}: no mask, expected {np.asarray(expected).astype(int).tolist()}"
    np.testing.assert_array_equal(actual, np.asarray(expected, bool), err_msg=what)


def check_mask(make_layer: Callable[[], Any], x: Any, input_mask: Any, expected: Any, call_kwargs: dict,
               name: str) -> None:
    """compute_mask on tensors, and the mask reaching the next layer of a functional model, equal `expected`."""
    layer = make_layer()
    inputs = symbolic_inputs(x)
    mask_inputs = None
    if input_mask is not None:  # a list may hold None for an unmasked input
        masks = input_mask if isinstance(input_mask, list) else [input_mask]
        mask_inputs = [None if m is None else lamina.Input(shape=np.shape(m)[1:], dtype="bool") for m in masks]
        outputs = layer(inputs, mask=mask_inputs if isinstance(input_mask, list) else mask_inputs[0], **call_kwargs)
    else:
        outputs = layer(inputs, **call_kwargs)
    model_inputs = (inputs if isinstance(inputs, list) else [inputs]) + [m for m in mask_inputs or [] if m is not None]
    from lamina.models import Model

    tensor_inputs = len(model_inputs) - len([m for m in mask_inputs or [] if m is not None])
    try:
        model = Model(model_inputs, MaskProbe()(outputs))
    except ValueError as error:  # a layer that drops the mask leaves the mask inputs out of the graph
        if "not connected" not in str(error):
            raise
        model_inputs = model_inputs[:tensor_inputs]
        model = Model(model_inputs, MaskProbe()(outputs))
    tensor = to_tensors(x)
    mask_tensor = None
    if input_mask is not None:
        mask_tensor = [None if m is None else to_tensors(m) for m in masks]
        mask_tensor = mask_tensor if isinstance(input_mask, list) else mask_tensor[0]
    # A layer without mask support is never asked for its mask by a call (its compute_mask, as in Keras, would
    # hand the input's mask back); the model below shows that the mask stops there.
    if input_mask is None or layer.supports_masking or layer._call_takes_mask or layer._creates_mask:
        assert_mask(as_mask(layer.compute_mask(tensor, mask_tensor)), expected, f"compute_mask on {name}")
    values = (tensor if isinstance(tensor, list) else [tensor]) + [
        m for m in (mask_tensor if isinstance(mask_tensor, list) else [mask_tensor]) if m is not None]
    values = values[:len(model_inputs)]
    if name == "torch":  # its eager tensors take attributes: the outputs of a call carry their mask, as in Keras
        eager = layer(tensor, **call_kwargs) if mask_tensor is None else layer(tensor, mask=mask_tensor, **call_kwargs)
        eager = eager[0] if isinstance(eager, (list, tuple)) else eager
        assert_mask(as_mask(getattr(eager, "_keras_mask", None)), expected, "the mask an eager torch output carries")
    propagated = np.asarray(backend.impl.convert_to_numpy(model(values)))
    if propagated.shape == (1,) and propagated[0] == -1.0:
        assert_mask(None, expected, f"the mask past the layer in a functional model on {name}")
    else:
        assert_mask(propagated.astype(bool), expected, f"the mask past the layer in a functional model on {name}")


def check_shapes(layer: Any, input_shape: Any, symbolic: Any, outputs: list[np.ndarray],
                 expected: Any) -> None:
    """Eager shapes equal `expected`; symbolic outputs and compute_output_shape agree, with batch None."""
    shapes = [tuple(o.shape) for o in outputs]
    if expected is not None:
        expected = list(expected) if isinstance(expected, list) else [tuple(expected)]
        assert shapes == [tuple(s) for s in expected], f"output shapes {shapes}, expected {expected}"
    symbolic = symbolic if isinstance(symbolic, (list, tuple)) else [symbolic]
    assert [tuple(t.shape) for t in symbolic] == [(None, *s[1:]) for s in shapes], \
        f"symbolic shapes {[t.shape for t in symbolic]}, eager shapes {shapes}"
    unknown_batch = [(None, *s[1:]) for s in input_shape] if several(input_shape) else (None, *input_shape[1:])
    computed = layer.compute_output_shape(unknown_batch)
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


def float_inputs(x: Any) -> int:
    """How many of the inputs are floats (each gets a gradient)."""
    return sum(item.dtype.kind == "f" for item in (x if isinstance(x, list) else [x]))


def check_gradients(make_layer: Callable[[], Any], x: Any, weights: list[np.ndarray],
                    outputs: list[np.ndarray], call_kwargs: dict, atol: float) -> None:
    """Gradients of sum(outputs * probes) w.r.t. each trainable weight (and float inputs): finite, not all
    zero, and the same on torch and jax."""
    probes = probes_for(outputs)
    gradients = {}
    for name, compute in (("torch", torch_gradients), ("jax", jax_gradients)):
        with backend.use(name):
            layer = make_layer()
            layer(symbolic_inputs(x), **call_kwargs)  # builds, compiles nothing
            layer.set_weights(weights)
            gradients[name] = compute(layer, x, probes, call_kwargs)
            assert len(gradients[name]) == len(layer.trainable_weights) + float_inputs(x)
            for index, gradient in enumerate(gradients[name]):
                assert np.all(np.isfinite(gradient)), f"{name}: gradient {index} is not finite"
                assert np.any(gradient != 0), f"{name}: gradient {index} is all zero"
    for index, (t, j) in enumerate(zip(gradients["torch"], gradients["jax"])):
        np.testing.assert_allclose(t, j, atol=10 * atol, rtol=1e-4, err_msg=f"gradient {index}, torch against jax")


def torch_gradients(layer: Any, x: Any, probes: list[np.ndarray], call_kwargs: dict) -> list[np.ndarray]:
    import torch

    arrays = x if isinstance(x, list) else [x]
    tensors = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    outputs = layer(tensors if isinstance(x, list) else tensors[0], **call_kwargs)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    loss = sum((o * torch.from_numpy(p)).sum() for o, p in zip(outputs, probes))
    targets = list(layer.trainable_weights) + [t for t in tensors if t.requires_grad]
    return [g.numpy() for g in torch.autograd.grad(loss, targets)]


def jax_gradients(layer: Any, x: Any, probes: list[np.ndarray], call_kwargs: dict) -> list[np.ndarray]:
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

    arrays = x if isinstance(x, list) else [x]
    floats = [a.dtype.kind == "f" for a in arrays]

    def loss_of(values: list, float_values: list) -> Any:  # the float inputs are differentiated, the others fixed
        filled = iter(float_values)
        inputs = [next(filled) if is_float else jnp.asarray(a) for a, is_float in zip(arrays, floats)]
        return loss(values, inputs if isinstance(x, list) else inputs[0])

    values = [v.value for v in trainable]
    float_values = [jnp.asarray(a) for a, is_float in zip(arrays, floats) if is_float]
    # jitted: one compilation instead of one per op of the backward pass
    weight_gradients, input_gradients = jax.jit(jax.grad(loss_of, argnums=(0, 1)))(values, float_values)
    return [np.asarray(g) for g in [*weight_gradients, *input_gradients]]
