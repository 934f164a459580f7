"""The base Layer: weights, sub-layer tracking, building from shapes, symbolic and eager calls, configs."""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from lamina import backend, constraints, dtype_policies, initializers, regularizers
from lamina.backend.common import is_float_dtype, standardize_dtype
from lamina.ops.symbolic import KerasTensor, compute_output_spec, is_shape, is_symbolic, symbolic_inputs
from lamina.utils import naming, tree

Shape = tuple


# Per thread: whether the enclosing layer call is training, so that sub-layers called without `training`
# inherit it (a custom layer's `call` rarely passes it on). Thread-local, so that a model predicting in one
# thread never sees another thread's training flag.
_call_context = threading.local()
# Whether any layer computes in float16 or bfloat16: until one does, calls skip the dtype policy entirely.
_low_precision_used = [False]
_OUTSIDE = object()  # the training flag outside any layer call
# Whether any layer has added a loss yet: until then, calls skip clearing the losses of the previous call.
_losses_added = [False]
# Bumped whenever a layer gains or loses a sub-layer: the flat lists of sub-layers cached before are stale.
_structure_version = [0]


def structure_changed() -> None:
    """Note that some layer's sub-layers changed (its `_flat_layers` must be computed again)."""
    _structure_version[0] += 1


def _is_metric(value: Any) -> bool:
    from lamina.metrics.metric import Metric  # metrics build on losses, which come after layers

    return isinstance(value, Metric)


@dataclass
class InputSpec:
    """What a layer accepts: a rank and sizes along given axes (None = anything)."""

    ndim: int | None = None
    min_ndim: int | None = None
    axes: dict[int, int] = field(default_factory=dict)


@dataclass
class Node:
    """One call of a layer on symbolic tensors: the edge that functional models are made of.

    `mask` holds the symbolic masks of the inputs (None without masks); the masks of the outputs ride
    on the output tensors as `_keras_mask`.
    """

    layer: "Layer"
    args: tuple
    kwargs: dict
    outputs: Any
    mask: Any = None

    @property
    def input_tensors(self) -> list[KerasTensor]:
        tensors = [t for t in tree.flatten((self.args, self.kwargs)) if isinstance(t, KerasTensor)]
        masks = [m for m in tree.flatten(self.mask) if isinstance(m, KerasTensor) and m._history is not None]
        return tensors + masks  # an implicit mask is computed with its tensor; an explicit one is a graph tensor


def _marking_built(build: Any) -> Any:
    """A layer's `build`, which marks the layer built (with the shape it was built for) when called directly."""
    if getattr(build, "_lamina_marks_built", False):
        return build

    @functools.wraps(build)
    def marked(self: "Layer", *args: Any, **kwargs: Any) -> Any:
        depth = self.__dict__.get("_lamina_build_depth", 0)
        object.__setattr__(self, "_lamina_build_depth", depth + 1)  # super().build() calls are nested builds
        try:
            result = build(self, *args, **kwargs)
        finally:
            object.__setattr__(self, "_lamina_build_depth", depth)
        if depth == 0 and not self.built:
            shape = args[0] if args else kwargs.get("input_shape", next(iter(kwargs.values()), None))
            self.built, self._build_shapes = True, shape
        return result

    marked._lamina_marks_built = True
    return marked


class Layer:
    """A unit of computation with its own weights: override `build` to make weights, `call` for the math.

    Masks (Keras semantics): a layer whose `call` takes `mask` receives the mask of its inputs; a layer
    with `supports_masking` passes it on through `compute_mask`; any other layer drops it, with a warning.

    Dtypes: `dtype` is a dtype policy (a name such as "float32" or "mixed_bfloat16", or a DTypePolicy; the
    global policy when None). Variables are kept in `variable_dtype` (also `dtype`), float inputs are
    cast to `compute_dtype` and, for a mixed policy, the call runs under the backend's autocasting.
    """

    # Passes an incoming mask on (through `compute_mask`) without needing it in `call`.
    supports_masking: bool = False
    # Computes in floats: inputs of another dtype (ints, bools, float64) are cast to `dtype` first.
    casts_inputs: bool = False
    # An op applied to symbolic tensors (lamina.ops.operation): a graph node, but not one of a model's `layers`.
    _is_operation: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A layer may be built by calling its `build` directly, as Keras allows: it is then built.
        if "build" in cls.__dict__:
            cls.build = _marking_built(cls.__dict__["build"])

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 input_shape: Sequence[int | None] | None = None, input_dim: int | None = None,
                 batch_size: int | None = None, activity_regularizer: Any = None, autocast: bool = True,
                 **kwargs: Any) -> None:
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
            batch_size, input_shape = batch_shape[0], batch_shape[1:]
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        self._tracked(_layers=[], _own_variables=[], _seed_generators=[], _inbound_nodes=[], _losses=[], _metrics=[])
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self._tracked(dtype_policy=dtype_policies.get(dtype))  # also Keras 3's {"class_name": "DTypePolicy", ...}
        self.dtype = self.dtype_policy.variable_dtype
        self._autocasts = bool(autocast) and self.dtype_policy.is_mixed
        if self._autocasts or self.compute_dtype in ("float16", "bfloat16"):
            _low_precision_used[0] = True
        self._trainable = trainable
        self.built = False
        self.input_spec: InputSpec | None = None
        if input_dim is not None:
            input_shape = (input_dim,)
        self._input_shape_argument = (batch_size,) + tuple(input_shape) if input_shape is not None else None
        self.activity_regularizer = regularizers.get(activity_regularizer)
        parameters = inspect.signature(self.call).parameters
        self._call_takes_training = "training" in parameters
        self._call_takes_mask = "mask" in parameters
        self._build_shapes: Any = None
        self._checked_shape: Any = None  # the last eager input shape that passed the input spec
        self._uncast_dtype: Any = None  # the last (backend) input dtype found equal to `dtype`

    def _tracked(self, **attributes: Any) -> None:
        for key, value in attributes.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        if not key.startswith("_") and "_layers" in self.__dict__:
            self._track(value)
        object.__setattr__(self, key, value)

    def _track(self, value: Any) -> None:
        if isinstance(value, Layer):
            if not any(value is layer for layer in self._layers):
                self._layers.append(value)
                structure_changed()
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Layer):
                    self._track(item)
        elif isinstance(value, backend.impl.SeedGenerator):
            self._seed_generators.append(value)
        elif _is_metric(value) and not any(value is metric for metric in self._metrics):
            self._metrics.append(value)

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in (bfloat16 under "mixed_bfloat16")."""
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer keeps its weights in."""
        return self.dtype_policy.variable_dtype

    # --- weights ---------------------------------------------------------------------------

    def add_weight(self, *args: Any, shape: Sequence[int] | None = None, initializer: Any = None,
                   dtype: Any = None, trainable: bool = True, regularizer: Any = None,
                   constraint: Any = None, name: str | None = None) -> Any:
        """Create a weight of this layer, initialised now, and track it."""
        if args and isinstance(args[0], str):  # Keras 2 spelling: add_weight(name, shape, ...)
            name, args = args[0], args[1:]
        if args:
            shape = args[0]
        dtype = standardize_dtype(dtype or self.dtype)
        if initializer is None:
            initializer = "glorot_uniform" if is_float_dtype(dtype) else "zeros"
        shape = tuple(int(d) for d in (shape or ()))
        from lamina.saving.load_budget import check_weight

        check_weight(self, shape, dtype)  # while a file loads: its sizes are refused before allocating
        value = np.asarray(initializers.get(initializer)(shape, dtype=dtype), dtype=dtype)
        name = name or f"variable_{len(self._own_variables)}"
        variable = backend.impl.Variable(value, dtype=dtype, trainable=trainable and self._trainable,
                                         name=name, path=f"{self.name}/{name}")
        variable._lamina_regularizer = regularizers.get(regularizer)
        variable._lamina_constraint = constraints.get(constraint)
        variable._lamina_wants_training = trainable
        variable._lamina_created_trainable = trainable  # its place in `weights`, even if frozen later
        if trainable:  # Keras's order: the weights created trainable in creation order, then the others
            position = sum(1 for v in self._own_variables if getattr(v, "_lamina_created_trainable", True))
            self._own_variables.insert(position, variable)
        else:
            self._own_variables.append(variable)
        return variable

    def _flat_layers(self) -> list["Layer"]:
        """This layer's sub-layers, depth first, each once."""
        cached = self.__dict__.get("_flat_layers_cache")  # asked several times a step: kept until layers change
        if cached is not None and cached[0] == _structure_version[0]:
            return list(cached[1])
        seen: dict[int, Layer] = {}
        for layer in self._layers:
            for sub in [layer, *layer._flat_layers()]:
                seen.setdefault(id(sub), sub)
        flat = list(seen.values())
        object.__setattr__(self, "_flat_layers_cache", (_structure_version[0], flat))
        return list(flat)

    @property
    def weights(self) -> list[Any]:
        """Own weights (trainable ones first, each group in creation order), then those of sub-layers; each once."""
        seen: dict[int, Any] = {}
        for layer in [self, *self._flat_layers()]:
            for variable in layer._own_variables:
                seen.setdefault(id(variable), variable)
        return list(seen.values())

    variables = weights

    @property
    def trainable_weights(self) -> list[Any]:
        return [v for v in self.weights if v.trainable]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self) -> list[Any]:
        return [v for v in self.weights if not v.trainable]

    def parameters(self, recurse: bool = True) -> Iterator[Any]:
        """The weights as torch Parameters, as torch's Module.parameters() gives them: what a torch optimizer
        takes (`torch.optim.Adam(model.parameters())`). On the torch backend only, where a weight is one."""
        for _, variable in self.named_parameters(recurse=recurse):
            yield variable

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """(path, weight) pairs, as torch's Module.named_parameters() gives them; on the torch backend only."""
        if backend.backend() != "torch":
            raise AttributeError(f"{type(self).__name__}.parameters() gives torch Parameters: it exists on the torch "
                                 f"backend only, and the backend is {backend.backend()!r}. Use `.weights` instead.")
        variables = self.weights if recurse else list(self._own_variables)
        for variable in variables:
            yield (f"{prefix}.{variable.path}" if prefix else variable.path), variable

    non_trainable_variables = non_trainable_weights

    @property
    def seed_state_variables(self) -> list[Any]:
        """The random-number state of this layer and its sub-layers: carried through steps, but not weights."""
        generators = [g for layer in [self, *self._flat_layers()] for g in layer._seed_generators]
        return [variable for generator in generators for variable in generator.variables]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, flag: bool) -> None:
        for layer in [self, *self._flat_layers()]:
            layer._trainable = flag
            for variable in layer._own_variables:
                variable.trainable = flag and variable._lamina_wants_training

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' values, in the order of `weights` (later training does not change them)."""
        return [np.array(backend.impl.convert_to_numpy(v)) for v in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load weights in the order of `weights`; shapes must match."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"set_weights on layer {self.name!r} expected a list of {len(own)} arrays, "
                             f"got {len(weights)}.")
        for variable, value in zip(own, weights):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(f"set_weights: weight {variable.path} has shape {tuple(variable.shape)}, "
                                 f"got an array of shape {value.shape}.")
            variable.assign(backend.impl.convert_to_tensor(value, standardize_dtype(variable.dtype)))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"Layer {self.name!r} is not built yet, so it has no weights to count. "
                             "Call it on data or build it with an input shape first.")
        return int(sum(int(np.prod(v.shape)) for v in self.weights))

    @property
    def metrics(self) -> list[Any]:
        """The Metric objects set as attributes of this layer and of its sub-layers."""
        found = {id(m): m for layer in [self, *self._flat_layers()] for m in layer._metrics}
        return list(found.values())

    @property
    def metrics_variables(self) -> list[Any]:
        return [variable for metric in self.metrics for variable in metric.variables]

    def stateless_call(self, trainable_variables: Sequence[Any], non_trainable_variables: Sequence[Any], *args: Any,
                       return_losses: bool = False, **kwargs: Any) -> tuple:
        """Call the layer with these values in place of its weights; returns the outputs and the new values of the
        non-trainable weights (and the losses the call added, with return_losses=True), changing no weight.

        The non-trainable values may also carry the random-number state after the weights, as the state a
        model's `train_step(state, data)` receives does."""
        trainable = self.trainable_variables
        non_trainable = self.non_trainable_variables
        if len(non_trainable_variables) == len(non_trainable) + len(self.seed_state_variables):
            non_trainable = non_trainable + self.seed_state_variables
        for what, given, own in (("trainable_variables", trainable_variables, trainable),
                                 ("non_trainable_variables", non_trainable_variables, non_trainable)):
            if len(given) != len(own):
                raise ValueError(f"stateless_call: {what} has {len(given)} values, but layer {self.name!r} has "
                                 f"{len(own)} such variables.")
        B = backend.impl
        with B.StateScope(trainable + non_trainable, list(trainable_variables) + list(non_trainable_variables)) as scope:
            outputs = self(*args, **kwargs)
            new_non_trainable = scope.current(non_trainable)
            losses = list(self.losses) if return_losses else None
        return (outputs, new_non_trainable, losses) if return_losses else (outputs, new_non_trainable)

    # --- losses ----------------------------------------------------------------------------

    def add_loss(self, loss: Any) -> None:
        """Add a term to the training loss (for example an activity penalty computed in `call`).

        Losses last until the next outermost call: `losses` then holds only those of the new call. A symbolic
        call (building a functional model) adds none.
        """
        if getattr(_call_context, "symbolic", False):
            return
        _losses_added[0] = True
        self._losses.append(loss)

    @property
    def losses(self) -> list[Any]:
        """Losses added during the last call, and the penalties of regularized weights."""
        terms = []
        for layer in [self, *self._flat_layers()]:
            terms.extend(layer._losses)
            for variable in layer._own_variables:
                if variable._lamina_regularizer is not None:
                    terms.append(variable._lamina_regularizer(variable))
        return terms

    def _clear_losses(self) -> None:
        for layer in [self, *self._flat_layers()]:
            layer._losses.clear()

    # --- building and calling --------------------------------------------------------------

    def build(self, input_shape: Any) -> None:
        """Create the weights for inputs of this shape (batch size as None). The default makes none."""

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return inputs

    def _build_for(self, input_shape: Any) -> None:
        if not self.built:
            self.build(input_shape)
            self.built = True
            self._build_shapes = input_shape

    def _check_input(self, shape: Shape) -> None:
        spec = self.input_spec
        if spec is None:
            return
        if spec.ndim is not None and len(shape) != spec.ndim:
            raise ValueError(f"{type(self).__name__} {self.name!r} expected input of rank {spec.ndim}, "
                             f"got shape {shape}.")
        if spec.min_ndim is not None and len(shape) < spec.min_ndim:
            raise ValueError(f"{type(self).__name__} {self.name!r} expected input of rank at least "
                             f"{spec.min_ndim}, got shape {shape}.")
        for axis, size in spec.axes.items():
            if shape[axis] is not None and shape[axis] != size:
                what = "last dimension" if axis == -1 else f"dimension {axis}"
                raise ValueError(f"{type(self).__name__} {self.name!r} expected input with {what} {size}, "
                                 f"got {shape[axis]} (input shape {shape}).")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args:
            args = (kwargs.pop("inputs"),)
        inputs = args[0]
        if isinstance(inputs, KerasTensor) or (tree.is_nested(inputs) and is_symbolic(inputs)):
            return self._symbolic_call(args, kwargs)
        if isinstance(inputs, np.ndarray):  # users call models on NumPy arrays too
            inputs = backend.impl.convert_to_tensor(inputs)
            args = (inputs, *args[1:])
        if not self.built:
            self._build_for(tree.map_structure(lambda t: tuple(backend.impl.shape(t)), inputs))
        shape = getattr(inputs, "shape", None)
        if shape is not None and shape != self._checked_shape and self.input_spec is not None:
            self._check_input(tuple(shape))
            self._checked_shape = shape
        mask = kwargs.pop("mask", None)
        if mask is None:
            mask = getattr(inputs, "_keras_mask", None)  # an eager torch tensor carries its mask (a jax array cannot)
        if mask is not None and not self._accept_mask():
            mask = None
        if mask is not None and self._call_takes_mask:
            kwargs["mask"] = mask
        outer = getattr(_call_context, "training", _OUTSIDE)
        previous = None if outer is _OUTSIDE else outer
        if outer is _OUTSIDE and _losses_added[0]:  # the outermost call: the losses of the last one are outdated
            self._clear_losses()
        training = kwargs.get("training")
        if training is None:
            training = previous
        if self._call_takes_training:
            kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        _call_context.training = training
        try:
            outputs = self._call_function(*args, **kwargs)
        finally:
            _call_context.training = outer
        if mask is not None or self._creates_mask:
            _attach_masks(outputs, self.compute_mask(inputs, mask))
        return outputs

    # --- what containers run: casting, the activity penalty and masks around `call` --------------

    @property
    def _call_function(self) -> Any:
        """`call`, wrapped only when inputs may need a cast, outputs carry an activity penalty, or the layer
        computes in another precision than the one around it."""
        if _low_precision_used[0]:  # float inputs may arrive in another precision than this layer's
            return self._call_in_policy
        return self._plain_call_function

    @property
    def _plain_call_function(self) -> Any:
        if self.casts_inputs or self.activity_regularizer is not None:
            return self._cast_call_penalize
        return self.call

    def _call_in_policy(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The call of a mixed-precision layer, or of any layer inside one: float inputs in the compute dtype,
        and the backend autocasting to it (or, for a full-precision layer, not autocasting)."""
        compute = self.compute_dtype
        inputs = tree.map_structure(lambda x: self.dtype_policy.convert_input(x, True, compute), inputs)
        outer = getattr(_call_context, "autocast", None)
        _call_context.autocast = compute if self._autocasts else None
        try:
            with backend.impl.autocast(_call_context.autocast):
                return self._plain_call_function(inputs, *args, **kwargs)
        finally:
            _call_context.autocast = outer

    def _cast_call_penalize(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if self.casts_inputs:
            inputs = self._cast_input(inputs)
        outputs = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            # Keras 3 adds the penalty of the whole batch's outputs, undivided (tf.keras 2 divided it by the
            # batch size); the same regularizer gives the same loss here as there.
            for output in tree.flatten(outputs):
                self.add_loss(self.activity_regularizer(output))
        return outputs

    def _cast_input(self, inputs: Any) -> Any:
        """inputs in the compute dtype (torch does not promote ints in matmuls); the check is one compare."""
        if isinstance(inputs, (list, tuple)):
            return type(inputs)(self._cast_input(x) for x in inputs)
        dtype = getattr(inputs, "dtype", None)
        if dtype is None or dtype == self._uncast_dtype:
            return inputs
        if backend.impl.dtype_of(inputs) == self.compute_dtype:
            self._uncast_dtype = dtype
            return inputs
        return backend.impl.cast(inputs, self.compute_dtype)

    def _accept_mask(self) -> bool:
        """Whether this layer takes the mask its inputs carry; if not, the mask stops here, with a warning
        (once per layer), as in Keras."""
        if self._call_takes_mask or self.supports_masking or self._creates_mask:
            return True
        if not getattr(self, "_warned_about_mask", False):
            self._warned_about_mask = True
            warnings.warn(f"{type(self).__name__} {self.name!r} does not support masking, but its input carries a "
                          "mask (from Embedding(mask_zero=True), Masking or a `mask` argument): the mask stops here "
                          "and later layers see none.", stacklevel=3)
        return False

    def _call_with_mask(self, args: tuple, kwargs: dict, mask: Any) -> tuple[Any, Any]:
        """For containers: the outputs of a call on inputs masked by `mask` (or None), and their masks."""
        if mask is not None and not self._accept_mask():
            return self._call_function(*args, **kwargs), None
        if mask is not None and self._call_takes_mask:
            kwargs = {**kwargs, "mask": mask}
        outputs = self._call_function(*args, **kwargs)
        return outputs, self.compute_mask(args[0], mask)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The mask of the outputs (None: unmasked); by default the mask of the inputs, unchanged."""
        return previous_mask

    @property
    def _creates_mask(self) -> bool:
        """Whether outputs may carry a mask when the inputs carry none (a layer's own `compute_mask`)."""
        return type(self).compute_mask is not Layer.compute_mask

    # --- symbolic calls ----------------------------------------------------------------------------

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        inputs = args[0]
        shapes = tree.map_structure(lambda t: t.shape, inputs)
        self._build_for(shapes)
        if isinstance(inputs, KerasTensor):
            self._check_input(inputs.shape)
        kwargs = dict(kwargs)
        mask = kwargs.pop("mask", None)
        if mask is None:
            mask = tree.map_structure(lambda t: getattr(t, "_keras_mask", None), inputs)
            mask = None if all(m is None for m in tree.flatten(mask)) else mask
        if mask is not None and not self._accept_mask():
            mask = None
        call_kwargs = {k: v for k, v in kwargs.items() if k != "training" or self._call_takes_training}
        run_kwargs = {**call_kwargs, "mask": mask} if mask is not None and self._call_takes_mask else call_kwargs

        outputs = self._symbolic_outputs(args, run_kwargs)
        flat_outputs = tree.flatten(outputs)
        if mask is not None or self._creates_mask:
            for tensor, output_mask in zip(flat_outputs, self._symbolic_masks(inputs, mask, len(flat_outputs))):
                tensor._keras_mask = output_mask
        node_index = len(self._inbound_nodes)
        for index, tensor in enumerate(flat_outputs):
            tensor._history = (self, node_index, index)
        self._inbound_nodes.append(Node(self, args, call_kwargs, outputs, mask))
        return outputs

    def _symbolic_outputs(self, args: tuple, kwargs: dict) -> Any:
        """Fresh KerasTensors for the outputs of a call: `compute_output_spec` where a subclass defines it, else
        `call` traced on stand-ins (falling back on a subclass's `compute_output_shape` if that trace fails)."""
        if type(self).compute_output_spec is not Layer.compute_output_spec:
            with _symbolic_scope():
                outputs = self.compute_output_spec(*args, **kwargs)
            return tree.map_structure(lambda t: KerasTensor(t.shape, t.dtype), outputs)

        call = self._call_in_policy if _low_precision_used[0] else self.call  # outputs in the compute dtype

        def run(filled: Any) -> Any:
            filled_args, filled_kwargs = filled
            return call(*filled_args, **filled_kwargs)

        try:
            with _symbolic_scope():
                return compute_output_spec(run, (args, kwargs))
        except Exception:
            if type(self).compute_output_shape is Layer.compute_output_shape:
                raise
            shapes = self.compute_output_shape(tree.map_structure(lambda t: t.shape, args[0]))
            return _tensors_of_shapes(shapes, self.compute_dtype)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """KerasTensors shaped like the outputs of a call on these (symbolic) inputs; nothing is recorded."""
        if type(self).compute_output_shape is not Layer.compute_output_shape:
            shapes = self.compute_output_shape(tree.map_structure(lambda t: t.shape, args[0]))
            return _tensors_of_shapes(shapes, self.compute_dtype)
        self._build_for(tree.map_structure(lambda t: t.shape, args[0]))

        call = self._call_in_policy if _low_precision_used[0] else self.call

        def run(filled: Any) -> Any:
            return call(*filled[0], **filled[1])

        with _symbolic_scope():
            return compute_output_spec(run, (args, kwargs))

    def _symbolic_masks(self, inputs: Any, mask: Any, count: int) -> list[Any]:
        """`compute_mask` on symbolic tensors: one mask (a KerasTensor or None) per output."""
        present: list[bool] = []

        def masks(filled: Any) -> list[Any]:
            flat = flat_masks(self.compute_mask(*filled), count)
            present[:] = [m is not None for m in flat]
            return [m for m in flat if m is not None]

        found = iter(compute_output_spec(masks, (inputs, mask)))
        return [next(found) if here else None for here in present]

    def compute_output_shape(self, input_shape: Any) -> Any:
        specs = symbolic_inputs(input_shape)
        self._build_for(input_shape)
        with _symbolic_scope():
            outputs = compute_output_spec(lambda x: self.call(x), specs)
        return tree.map_structure(lambda t: t.shape, outputs)

    # --- the symbolic calls made so far (Keras: the first call's tensors) -------------------------------

    def _first_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name!r} has never been called on a symbolic input (a lamina.Input or "
                                 f"the output of another layer), so it has no defined {what}.")
        return self._inbound_nodes[0]

    @property
    def input(self) -> Any:
        """The input tensor(s) of the layer's first symbolic call."""
        return self._first_node("input").args[0]

    @property
    def output(self) -> Any:
        """The output tensor(s) of the layer's first symbolic call."""
        return self._first_node("output").outputs

    def _node_shapes(self, what: str) -> Any:
        self._first_node(what)
        shapes = []
        for node in self._inbound_nodes:
            tensors = node.args[0] if what == "input shape" else node.outputs
            shape = tree.map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else t, tensors)
            if shape not in shapes:
                shapes.append(shape)
        if len(shapes) > 1:
            raise AttributeError(f"Layer {self.name!r} has been called on inputs of several shapes, so its {what} is "
                                 f"ill-defined: {', '.join(str(s) for s in shapes)}. Read it from one call's tensors "
                                 f"instead.")
        return shapes[0]

    # A subclass may keep an attribute of these names (Keras 3's Layer has none): then it reads back its value.
    @property
    def input_shape(self) -> Any:
        """The shape of the layer's symbolic input (every call the same), batch axis included."""
        if "_own_input_shape" in self.__dict__:
            return self._own_input_shape
        return self._node_shapes("input shape")

    @input_shape.setter
    def input_shape(self, value: Any) -> None:
        self._own_input_shape = value

    @property
    def output_shape(self) -> Any:
        """The shape of the layer's symbolic output (every call the same), batch axis included."""
        if "_own_output_shape" in self.__dict__:
            return self._own_output_shape
        return self._node_shapes("output shape")

    @output_shape.setter
    def output_shape(self, value: Any) -> None:
        self._own_output_shape = value

    # --- building from a saved config ------------------------------------------------------------------

    def get_build_config(self) -> dict | None:
        """What `build_from_config` needs to make the weights again: the input shape of the build."""
        if self._build_shapes is None:
            return None
        return {"input_shape": self._build_shapes}

    def build_from_config(self, config: dict | None) -> None:
        """Build from `get_build_config()`'s output (shapes may have become lists in JSON)."""
        if config and config.get("input_shape") is not None:
            self._build_for(_as_shapes(config["input_shape"]))
        if config:
            self.built = True

    # --- the state a saved file holds ------------------------------------------------------------------

    def save_own_variables(self, store: dict) -> None:
        """Put this layer's own weights (not its sub-layers') into `store` under "0", "1", ...; a layer with
        other state overrides this and `load_own_variables` together."""
        for index, variable in enumerate(self._own_variables):
            store[str(index)] = variable.numpy()

    def load_own_variables(self, store: Any) -> None:
        """Set this layer's own weights from what `save_own_variables` put into `store`."""
        if len(store) != len(self._own_variables):
            raise ValueError(f"Layer {self.name!r} has {len(self._own_variables)} weights, but the saved state "
                             f"holds {len(store)} ({sorted(store)}).")
        for index, variable in enumerate(self._own_variables):
            value = np.asarray(store[str(index)])
            if value.shape != tuple(variable.shape):
                raise ValueError(f"Layer {self.name!r}: weight {index} ({variable.path}) has shape "
                                 f"{tuple(variable.shape)}, but the saved state holds shape {value.shape}.")
            variable.assign(value.astype(standardize_dtype(variable.dtype), copy=False))

    # --- configs -----------------------------------------------------------------------------

    def get_config(self) -> dict:
        """The constructor arguments that rebuild this layer (without its weights)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype_policy.name}
        if self._input_shape_argument is not None:
            config["batch_input_shape"] = list(self._input_shape_argument)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


@contextlib.contextmanager
def _symbolic_scope() -> Iterator[None]:
    """Within: calls only infer shapes, so `add_loss` keeps nothing."""
    previous = getattr(_call_context, "symbolic", False)
    _call_context.symbolic = True
    try:
        yield
    finally:
        _call_context.symbolic = previous


def _attach_masks(outputs: Any, masks: Any) -> None:
    """Set `_keras_mask` on eager outputs, as Keras does, where the tensor type takes attributes (torch)."""
    if masks is None:
        return
    flat_outputs = tree.flatten(outputs)
    flat_masks = tree.flatten(masks) if isinstance(masks, (list, tuple)) else [masks] * len(flat_outputs)
    for output, mask in zip(flat_outputs, flat_masks):
        try:
            output._keras_mask = mask
        except (AttributeError, TypeError):
            return


def _tensors_of_shapes(shapes: Any, dtype: Any) -> Any:
    """KerasTensors for a shape, or for a list, tuple or dict of shapes."""
    if is_shape(shapes):
        return KerasTensor(shapes, dtype)
    if isinstance(shapes, dict):
        return {key: _tensors_of_shapes(value, dtype) for key, value in shapes.items()}
    return [_tensors_of_shapes(shape, dtype) for shape in shapes]


def _as_shapes(value: Any) -> Any:
    """Shapes read back from JSON: lists of sizes as tuples, nested lists and dicts kept."""
    if is_shape(value):
        return tuple(value)
    if isinstance(value, dict):
        return {key: _as_shapes(item) for key, item in value.items()}
    return [_as_shapes(item) for item in value]


def serialize(layer: Layer) -> dict:
    """A layer as Keras's layout: {"module", "class_name", "config", "registered_name"}."""
    from lamina.saving import registry

    if not isinstance(layer, Layer):
        raise TypeError(f"serialize expects a Layer, got {type(layer).__name__}: {layer!r:.100}.")
    return registry.serialize_layer(layer)


def deserialize(config: dict, custom_objects: dict[str, Any] | None = None) -> Layer:
    """A new layer from `serialize`'s dict (also Keras's); classes are found by name, never imported."""
    from lamina.saving import registry

    return registry.deserialize_layer(config, custom_objects)


def flat_masks(masks: Any, count: int) -> list[Any]:
    """The masks of `count` outputs as a list: one mask (or None) is shared by all outputs."""
    flat = tree.flatten(masks)
    return flat if len(flat) == count else flat[:1] * count
