"""Layers around a backend's own models: TorchModuleWrapper (a torch.nn.Module) and JaxLayer (a pure jax function).

Each works on its backend only: the wrapped model computes with that backend's tensors.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from lamina import backend
from lamina.backend.common import standardize_dtype
from lamina.layers.layer import Layer
from lamina.ops.symbolic import KerasTensor
from lamina.utils import tree


def _require_backend(owner: str, needed: str) -> None:
    active = backend.impl.NAME
    if active != needed:
        raise ValueError(f"{owner} wraps a model of the {needed} backend and works only there; the active backend "
                         f"is {active!r}. Set LAMINA_BACKEND={needed}.")


def _adopt(layer: Layer, variable: Any, name: str) -> None:
    """Track an existing variable as a weight of `layer`, in Keras's order (trainable ones first)."""
    wants_training = bool(variable.trainable)
    variable._init_names(name, f"{layer.name}/{name}")
    variable._lamina_regularizer = None
    variable._lamina_constraint = None
    variable._lamina_wants_training = wants_training
    variable.trainable = wants_training and layer.trainable
    if wants_training:
        position = sum(1 for v in layer._own_variables if v._lamina_wants_training)
        layer._own_variables.insert(position, variable)
    else:
        layer._own_variables.append(variable)


def _is_one_shape(shape: Any) -> bool:
    return isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, (int, np.integer)) for d in shape)


def _placeholders(shapes: Any) -> Any:
    """Zeros shaped like `shapes` (one shape or a nest of them), unknown sizes taken as 1."""
    if _is_one_shape(shapes):
        return backend.impl.zeros(tuple(1 if d is None else int(d) for d in shapes))
    if isinstance(shapes, dict):
        return {key: _placeholders(value) for key, value in shapes.items()}
    return type(shapes)(_placeholders(s) for s in shapes)


class TorchModuleWrapper(Layer):
    """A torch.nn.Module as a layer (torch backend only): its parameters become the layer's weights (buffers its
    non-trainable ones) and `call` runs its forward. Lazy modules (torch.nn.LazyLinear) are made at build.

    output_shape: the output's shape (with the batch axis), when running the module on zeros to learn it is
        not wanted.
    """

    def __init__(self, module: Any, name: str | None = None, output_shape: Any = None, **kwargs: Any) -> None:
        _require_backend("TorchModuleWrapper", "torch")
        super().__init__(name=name, **kwargs)
        self.module = module
        self._fixed_output_shape = tuple(output_shape) if output_shape is not None else None
        self._wrapped = False
        self._wrap(None)

    def _wrap(self, input_shape: Any) -> None:
        pairs = backend.impl.wrap_module_parameters(self.module, input_shape)
        if pairs is None:  # lazy parameters: made at build, from the input shape
            return
        for key, variable in pairs:
            _adopt(self, variable, key)
        self._wrapped = True

    def build(self, input_shape: Any) -> None:
        if not self._wrapped:
            self._wrap(input_shape)

    def call(self, *args: Any, training: Any = None, **kwargs: Any) -> Any:
        return backend.impl.call_module(self.module, args, kwargs, training)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        shapes = tree.map_structure(lambda t: t.shape, args[0])
        self._build_for(shapes)
        if self._fixed_output_shape is not None:
            return KerasTensor(self._fixed_output_shape, self.dtype)
        B = backend.impl
        kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        batch = tree.flatten(shapes)[0] if not _is_one_shape(shapes) else shapes[0]
        concrete = [_placeholders(tree.map_structure(lambda t: t.shape, a)) if isinstance(a, KerasTensor) else a
                    for a in args]
        with B.no_grad():  # a forward on zeros in inference mode: no running statistic moves
            outputs = B.call_module(self.module, tuple(concrete), kwargs, False)

        def spec(t: Any) -> KerasTensor:
            shape = tuple(B.shape(t))
            return KerasTensor((batch, *shape[1:]) if shape else shape, standardize_dtype(B.dtype_of(t)))

        return tree.map_structure(spec, outputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._fixed_output_shape is not None:
            return self._fixed_output_shape
        inputs = tree.map_structure(lambda s: KerasTensor(tuple(s), "float32"), input_shape) \
            if not _is_one_shape(input_shape) else KerasTensor(tuple(input_shape), "float32")
        return tree.map_structure(lambda t: t.shape, self.compute_output_spec(inputs))

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"TorchModuleWrapper {self.name!r} cannot be saved as a config: rebuilding an arbitrary torch module "
            "from a file would mean unpickling it (running code from the file). Save the weights instead "
            "(model.save_weights), and rebuild the model in code before load_weights.")


_CALL_ARGUMENTS = {"params", "state", "rng", "inputs", "training"}
_INIT_ARGUMENTS = {"rng", "inputs", "training"}


def _arguments(fn: Any, what: str, allowed: set[str]) -> set[str]:
    if not callable(fn):
        raise TypeError(f"JaxLayer {what} must be a function, got {type(fn).__name__}: {fn!r:.100}.")
    names = set(inspect.signature(fn).parameters)
    unknown = names - allowed
    if unknown or "inputs" not in names:
        raise ValueError(f"JaxLayer {what} must take an argument named 'inputs' and may take only "
                         f"{sorted(allowed)} (found by name); {getattr(fn, '__name__', fn)} takes {sorted(names)}.")
    return names


class JaxLayer(Layer):
    """A pure jax function `call_fn(params, inputs[, state][, rng][, training])` as a layer (jax backend only).

    The leaves of the params pytree are the layer's trainable weights, those of state its non-trainable ones.
    Both come from `init_fn(rng, inputs[, training])` at build (returning (params, state) when call_fn takes
    state), or are given as `params` / `state`. With state, call_fn returns (outputs, new_state).
    """

    def __init__(self, call_fn: Callable[..., Any], init_fn: Callable[..., Any] | None = None, params: Any = None,
                 state: Any = None, seed: int | None = None, native_serialization_platforms: Any = None,
                 **kwargs: Any) -> None:
        _require_backend("JaxLayer", "jax")
        super().__init__(**kwargs)
        self._call_arguments = _arguments(call_fn, "call_fn", _CALL_ARGUMENTS)
        self._init_arguments = _arguments(init_fn, "init_fn", _INIT_ARGUMENTS) if init_fn is not None else set()
        if init_fn is None and params is None and state is None:
            raise ValueError("JaxLayer needs init_fn (to make the weights at build) or their values as params "
                             "(and state); all three were None.")
        self.call_fn, self.init_fn, self.seed = call_fn, init_fn, seed
        self.native_serialization_platforms = native_serialization_platforms
        self.seed_generator = backend.impl.SeedGenerator(seed)
        self._trees: dict[str, tuple[Any, list]] = {}
        if params is not None or state is not None:
            self._track_trees(params, state)

    def _track_trees(self, params: Any, state: Any) -> None:
        for kind, value in (("params", params), ("state", state)):
            if value is None:
                continue
            leaves, treedef = backend.impl.flatten_pytree(value)
            variables = []
            for index, leaf in enumerate(leaves):
                array = np.asarray(leaf)
                variables.append(self.add_weight(shape=array.shape, dtype=array.dtype.name, trainable=kind == "params",
                                                 initializer=lambda shape, dtype, a=array: a.astype(dtype),
                                                 name=f"{kind}_{index}"))
            self._trees[kind] = (treedef, variables)

    def build(self, input_shape: Any) -> None:
        if self._trees or self.init_fn is None:
            return
        arguments = {"rng": self.seed_generator.next(), "inputs": _placeholders(input_shape), "training": True}
        result = self.init_fn(**{k: v for k, v in arguments.items() if k in self._init_arguments})
        if "state" in self._call_arguments:
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise ValueError("JaxLayer: call_fn takes state, so init_fn must return (params, state), got "
                                 f"{type(result).__name__}.")
            self._track_trees(*result)
        else:
            self._track_trees(result, None)

    def _tree(self, kind: str) -> Any:
        if kind not in self._trees:
            return None
        treedef, variables = self._trees[kind]
        return backend.impl.unflatten_pytree(treedef, [v.value for v in variables])

    def call(self, inputs: Any, training: Any = None) -> Any:
        arguments = {"inputs": inputs}
        for kind in ("params", "state"):
            if kind in self._call_arguments:
                arguments[kind] = self._tree(kind)
        if "rng" in self._call_arguments:
            arguments["rng"] = self.seed_generator.next()
        if "training" in self._call_arguments:
            arguments["training"] = bool(training)
        result = self.call_fn(**arguments)
        if "state" not in self._call_arguments:
            return result
        outputs, new_state = result
        if "state" in self._trees:
            for variable, value in zip(self._trees["state"][1], backend.impl.flatten_pytree(new_state)[0]):
                variable.assign(value)
        return outputs

    def get_config(self) -> dict:
        from lamina.saving import registry

        return {**super().get_config(), "call_fn": registry.serialize_function(self.call_fn),
                "init_fn": registry.serialize_function(self.init_fn) if self.init_fn is not None else None,
                "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict) -> "JaxLayer":
        from lamina.saving import registry

        config = dict(config)
        for key in ("call_fn", "init_fn"):
            if config.get(key) is not None and not callable(config[key]):
                config[key] = registry.deserialize_function(config[key])
        return cls(**config)
