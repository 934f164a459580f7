"""Functional models: a graph of layer calls from symbolic inputs to outputs, run in topological order."""

from __future__ import annotations

from typing import Any

from lamina.layers.input_layer import InputLayer
from lamina.layers.layer import Layer, Node, flat_masks
from lamina.models import input_rank
from lamina.models.model import Model
from lamina.ops.symbolic import KerasTensor
from lamina.utils import tree


def _topological_nodes(outputs: list[KerasTensor]) -> list[Node]:
    """Every node that the outputs depend on, each after the nodes that feed it."""
    ordered: list[Node] = []
    state: dict[int, str] = {}

    def visit(tensor: KerasTensor) -> None:
        if tensor._history is None:
            raise ValueError(f"{tensor} was not made by a layer: functional outputs must come from lamina.Input "
                             "through layer calls.")
        layer, node_index, _ = tensor._history
        node = layer._inbound_nodes[node_index]
        if state.get(id(node)) == "done":
            return
        if state.get(id(node)) == "visiting":
            raise ValueError("The functional graph has a cycle.")
        state[id(node)] = "visiting"
        for parent in node.input_tensors:
            visit(parent)
        state[id(node)] = "done"
        ordered.append(node)

    for tensor in outputs:
        visit(tensor)
    return ordered


def _check_keys(model_name: str, inputs: dict, names: list[str]) -> None:
    """A dict of inputs must have one key per model input, named as the inputs are."""
    unknown = [key for key in inputs if key not in names]
    missing = [name for name in names if name not in inputs]
    if unknown or missing:
        problems = [f"unknown key(s) {unknown}" if unknown else "", f"no value for {missing}" if missing else ""]
        raise ValueError(f"Model {model_name!r} takes inputs named {names}; the input dict has "
                         f"{' and '.join(p for p in problems if p)}.")


class _Step:
    """One node of the execution plan, with its argument lookup resolved ahead of time."""

    __slots__ = ("call", "takes_training", "single_input", "args", "kwargs", "output_ids", "layer", "mask",
                 "mask_ids", "read_ids", "last_reads")

    def __init__(self, node: Node) -> None:
        self.call = node.layer._call_function
        self.takes_training = node.layer._call_takes_training
        simple = len(node.args) == 1 and isinstance(node.args[0], KerasTensor) and not node.kwargs
        self.single_input = id(node.args[0]) if simple else None
        self.args, self.kwargs = node.args, {k: v for k, v in node.kwargs.items() if k != "training"}
        self.output_ids = [id(t) for t in tree.flatten(node.outputs)]
        # Masks: those of the inputs are looked up like tensors, those of the outputs stored beside them.
        self.layer, self.mask = node.layer, node.mask
        output_masks = [getattr(t, "_keras_mask", None) for t in tree.flatten(node.outputs)]
        masked = node.mask is not None or any(m is not None for m in output_masks)
        self.mask_ids = [id(m) if m is not None else None for m in output_masks] if masked else None
        reads = tree.flatten((node.args, node.kwargs, node.mask))
        self.read_ids = {id(t) for t in reads if isinstance(t, KerasTensor)}
        self.last_reads: tuple[int, ...] = ()  # the values no later step reads, set by the plan

    def run(self, values: dict[int, Any], training: Any) -> None:
        extra = {"training": training} if self.takes_training else {}
        if self.mask_ids is not None:
            fill = lambda t: values[id(t)] if isinstance(t, KerasTensor) else t  # noqa: E731
            mask = tree.map_structure(fill, self.mask) if self.mask is not None else None
            args, kwargs = tree.map_structure(fill, self.args), tree.map_structure(fill, self.kwargs)
            outputs, masks = self.layer._call_with_mask(tuple(args), {**kwargs, **extra}, mask)
            for key, value in zip(self.mask_ids, flat_masks(masks, len(self.mask_ids))):
                if key is not None:
                    values[key] = value
        elif self.single_input is not None:
            outputs = self.call(values[self.single_input], **extra)
        else:
            fill = lambda t: values[id(t)] if isinstance(t, KerasTensor) else t  # noqa: E731
            args = tree.map_structure(fill, self.args)
            kwargs = tree.map_structure(fill, self.kwargs)
            outputs = self.call(*args, **kwargs, **extra)
        if len(self.output_ids) == 1:
            values[self.output_ids[0]] = outputs
        else:
            for key, value in zip(self.output_ids, tree.flatten(outputs)):
                values[key] = value
        for key in self.last_reads:
            del values[key]


def _release_after_last_read(steps: list[_Step], keep: set[int]) -> None:
    """Each step drops the values it is the last to read, so that an intermediate lives only as long as
    it is needed (outside autograd, the memory of a deep model's activations is reused as it runs)."""
    last_reader: dict[int, _Step] = {}
    for step in steps:
        for key in step.read_ids:
            last_reader[key] = step
    for step in steps:
        step.last_reads = tuple(key for key, reader in last_reader.items() if reader is step and key not in keep)


def _single(structure: Any) -> Any:
    """A list or tuple of one tensor as that tensor; anything else as it is."""
    if isinstance(structure, (list, tuple)) and len(structure) == 1:
        return structure[0]
    return structure


class Functional(Model):
    """A model defined by `Model(inputs, outputs)`."""

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._inputs_structure, self._outputs_structure = inputs, outputs
        self.inputs: list[KerasTensor] = tree.flatten(inputs)
        self.outputs: list[KerasTensor] = tree.flatten(outputs)
        for tensor in self.inputs:
            if tensor._history is None or not isinstance(tensor._history[0], InputLayer):
                raise ValueError(f"Model inputs must be tensors made by lamina.Input, got {tensor}.")
        self._nodes = _topological_nodes(self.outputs)
        used_inputs = {id(t) for node in self._nodes for t in node.input_tensors} | {id(t) for t in self.outputs}
        for tensor in self.inputs:
            if id(tensor) not in used_inputs:
                raise ValueError(f"Input {tensor.name!r} is not connected to any output.")
        missing = [t for node in self._nodes for t in node.input_tensors
                   if isinstance(t._history[0], InputLayer) and all(t is not i for i in self.inputs)]
        if missing:
            raise ValueError(f"The outputs depend on input {missing[0].name!r}, which is not among the model inputs.")
        self._steps = [_Step(node) for node in self._nodes if not isinstance(node.layer, InputLayer)]
        for node in self._nodes:
            self._track(node.layer)
        self._input_ids = [id(t) for t in self.inputs]
        self._output_ids = [id(t) for t in self.outputs]
        _release_after_last_read(self._steps, set(self._output_ids))
        self.built = True

    @property
    def layers(self) -> list[Layer]:
        return [layer for layer in self._layers if not layer._is_operation]

    @property
    def input(self) -> Any:
        """The model's inputs as given to it (one tensor for a single input)."""
        return _single(self._inputs_structure)

    @property
    def output(self) -> Any:
        """The model's outputs as given to it (one tensor for a single output)."""
        return _single(self._outputs_structure)

    @property
    def input_shape(self) -> Any:
        return tree.map_structure(lambda t: t.shape, _single(self._inputs_structure))

    @property
    def output_shape(self) -> Any:
        return tree.map_structure(lambda t: t.shape, _single(self._outputs_structure))

    @property
    def input_names(self) -> list[str]:
        return [t._history[0].name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        if isinstance(self._outputs_structure, dict):
            return sorted(self._outputs_structure)
        return [t._history[0].name for t in self.outputs]

    @property
    def input_shapes(self) -> list[tuple]:
        return [t.shape for t in self.inputs]

    def _flatten_inputs(self, inputs: Any) -> list[Any]:
        """The inputs in the order of `self.inputs`; a dict is matched by key, never by position."""
        if isinstance(inputs, dict):
            if isinstance(self._inputs_structure, dict):
                _check_keys(self.name, inputs, list(self._inputs_structure))
                return tree.flatten(inputs)  # both walk the same keys in sorted order
            names = self.input_names
            _check_keys(self.name, inputs, names)
            return [inputs[name] for name in names]
        flat = tree.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self.inputs)} input(s), got {len(flat)}.")
        return flat

    def call(self, inputs: Any, training: Any = None) -> Any:
        given = [input_rank.adjust_rank(value, tensor.shape) if hasattr(value, "shape") else value
                 for value, tensor in zip(self._flatten_inputs(inputs), self.inputs)]
        values = dict(zip(self._input_ids, given))
        for step in self._steps:
            step.run(values, training)
        if len(self._output_ids) == 1 and not tree.is_nested(self._outputs_structure):
            return values[self._output_ids[0]]
        return tree.unflatten_as(self._outputs_structure, [values[i] for i in self._output_ids])

    def get_config(self) -> dict:
        from lamina.saving import functional_config

        return functional_config.functional_to_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Functional":
        from lamina.saving import functional_config

        return functional_config.functional_from_config(config, custom_objects)
