"""The checks that compile, fit, evaluate and predict make before any work, each naming the argument at fault."""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import numpy as np

from lamina import backend, losses
from lamina.callbacks import Callback
from lamina.models import input_rank
from lamina.trainers import data_adapter
from lamina.trainers.compile_utils import flat_outputs
from lamina.utils import tree

VERBOSE_VALUES = ("auto", 0, 1, 2)

# Per model, what a symbolic trace found: the compile it saw an own loss for, and output shapes per input spec.
_OWN_LOSS_SEEN: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
_OUTPUT_SHAPES: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def check_verbose(verbose: Any) -> int:
    """verbose as 0, 1 or 2 ("auto" is 1)."""
    if isinstance(verbose, str):
        if verbose == "auto":
            return 1
    elif isinstance(verbose, (int, np.integer)) and int(verbose) in (0, 1, 2):
        return int(verbose)
    raise ValueError(f'verbose must be "auto", 0, 1 or 2, got {verbose!r}.')


def check_batch_size(batch_size: Any, x: Any) -> int:
    """batch_size as a positive integer (32 when not given). A generator, PyDataset or DataLoader makes its
    own batches: a batch_size given with one is ignored, as Keras ignores it (its guides pass one)."""
    if batch_size is None or data_adapter.is_generator_like(x):
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return int(batch_size)


# --- inputs -------------------------------------------------------------------------------------------


def check_inputs(model: Any, x: Any) -> None:
    """x must match the model's inputs (sizes that the model fixes); unbuilt models are built from it."""
    leaves = tree.flatten(x)
    data_adapter.check_not_empty(x, int(backend.impl.shape(leaves[0])[0]) if leaves else 0)
    if not model.built:
        shapes = tree.map_structure(lambda a: (None,) + tuple(backend.impl.shape(a))[1:], x)
        model.build(shapes)
        return
    expected = getattr(model, "inputs", None)
    if not expected:
        return
    given = model._flatten_inputs(x) if hasattr(model, "_flatten_inputs") else tree.flatten(x)
    if len(given) != len(expected):
        raise ValueError(f"Model {model.name!r} expects {len(expected)} input(s), got {len(given)}.")
    for tensor, array in zip(expected, given):
        shape = tuple(backend.impl.shape(array))
        name = tensor.name or "input"
        if len(shape) != len(tensor.shape) and input_rank.adjustable(shape, tensor.shape):
            shape = shape + (1,) if len(shape) < len(tensor.shape) else shape[:-1]  # the model adjusts it
        if len(shape) != len(tensor.shape):
            raise ValueError(f"Input {name!r} of model {model.name!r} expected shape {tensor.shape} "
                             f"(rank {len(tensor.shape)}), got x with shape {shape} (rank {len(shape)}).")
        for axis, (want, got) in enumerate(zip(tensor.shape[1:], shape[1:]), start=1):
            if want is not None and want != got:
                consumer = _first_consumer(model, tensor)
                where = f"{consumer} expected" if consumer else f"Input {name!r} expected"
                dimension = "last dimension" if axis == len(shape) - 1 else f"dimension {axis}"
                raise ValueError(f"{where} input with {dimension} {want}, got {got} "
                                 f"(x has shape {shape}, the model expects {tensor.shape}).")


def _first_consumer(model: Any, tensor: Any) -> str | None:
    """'Dense' for the first layer fed by this input, to name it in errors."""
    for layer in getattr(model, "layers", []):
        for node in layer._inbound_nodes:
            if any(t is tensor for t in node.input_tensors):
                return type(layer).__name__
    return None


def _input_specs(x: Any) -> Any:
    from lamina.ops.symbolic import KerasTensor

    return tree.map_structure(
        lambda a: KerasTensor((None,) + tuple(backend.impl.shape(a))[1:], backend.impl.dtype_of(a)), x)


# --- the loss -----------------------------------------------------------------------------------------


def check_loss_and_targets(model: Any, data: Any) -> None:
    """Before a compiled model trains or evaluates on `data`: there is a loss, and y fits the outputs."""
    check_loss_available(model, data.x)
    if model._compile_loss is not None and data.y is not None:
        check_targets(model, data.y, data.x)


def check_loss_available(model: Any, x: Any) -> None:
    """Training needs a loss: a compiled one, or one the model adds itself (`add_loss`, weight penalties)."""
    if model._compile_loss is not None or _OWN_LOSS_SEEN.get(model) is model._compile_metrics:
        return
    if not _adds_own_loss(model, x):
        raise ValueError("The model was compiled without a loss and adds none of its own with add_loss, so there "
                         "is nothing to minimise: pass loss= to compile(), e.g. "
                         "model.compile(optimizer='adam', loss='mse').")
    _OWN_LOSS_SEEN[model] = model._compile_metrics


def _adds_own_loss(model: Any, x: Any) -> bool:
    """Whether the model's call (traced on shapes only, in inference mode) adds losses, or weights add penalties."""
    from lamina.ops.symbolic import compute_output_spec

    model._clear_losses()
    try:
        compute_output_spec(lambda inputs: model(inputs), _input_specs(x))
        return bool(model.losses)
    finally:
        model._clear_losses()


# --- targets ------------------------------------------------------------------------------------------


def check_targets(model: Any, y: Any, x: Any) -> None:
    """y must fit each output under its loss: shapes first, then the range of sparse labels."""
    names = model.output_names
    targets = flat_outputs(y, names, "y") if len(names) > 1 or tree.is_nested(y) else [y]
    predictions = output_shapes(model, x)
    for index, (loss, target) in enumerate(zip(model._compile_loss.losses, targets)):
        if loss is None or target is None or index >= len(predictions):
            continue
        output = names[index] if len(names) > 1 else None
        _check_target_shape(loss, tuple(backend.impl.shape(target)), tuple(predictions[index]), output)
        if _function_of(loss) is losses.sparse_categorical_crossentropy:
            _check_label_range(target, predictions[index][-1], names[index],
                               loss.function_options.get("ignore_class"))


def output_shapes(model: Any, x: Any) -> list[tuple]:
    """The shapes of the model's outputs for inputs like x; a subclassed model is traced once per input spec."""
    outputs = getattr(model, "outputs", None)
    if outputs:
        return [tuple(t.shape) for t in outputs]
    key = tuple((tuple(backend.impl.shape(a))[1:], str(backend.impl.dtype_of(a))) for a in tree.flatten(x))
    known = _OUTPUT_SHAPES.setdefault(model, {})
    if key not in known:
        known[key] = model._traced_output_shapes(x)
    return known[key]


def _function_of(loss: Any) -> Any:
    """The built-in per-sample function of a built-in loss; None for user losses, which may take any shapes."""
    function = getattr(type(loss), "function", None)
    if type(loss).call is not losses.Loss.call or function not in losses.FUNCTIONS.values():
        return None
    if loss.function_options.get("axis", -1) != -1:
        return None
    return function


def _same_sizes(target: tuple, prediction: tuple) -> bool:
    """Equal ranks and equal sizes on every axis after the batch axis that the model fixes."""
    return len(target) == len(prediction) and all(
        want is None or want == got for want, got in zip(prediction[1:], target[1:]))


def _keras_rank_matched(target: tuple, prediction: tuple) -> tuple:
    """The target's shape after the losses' rank matching: one trailing axis of size 1 dropped or added."""
    if len(target) == len(prediction) + 1 and target[-1] == 1:
        return target[:-1]
    if len(prediction) == len(target) + 1 and prediction[-1] == 1:
        return target + (1,)
    return target


def _check_target_shape(loss: Any, target: tuple, prediction: tuple, output: str | None) -> None:
    function = _function_of(loss)
    if function is None:
        return
    where = f"{loss.name} on output {output!r}" if output else loss.name
    count = target[0] if target else None
    expected = (count,) + prediction[1:]
    if function is losses.sparse_categorical_crossentropy:
        labels = prediction[:-1]
        if _same_sizes(target, labels) or (_same_sizes(target[:-1], labels) and target[-1:] == (1,)):
            return
        if _same_sizes(target, prediction) and prediction[-1] not in (None, 1):
            raise ValueError(f"y has shape {target}, one-hot labels, but {where} needs integer class labels of "
                             f"shape {(count,) + labels[1:]} for an output of shape {prediction}; one-hot labels "
                             "need loss='categorical_crossentropy'.")
        raise ValueError(f"y has shape {target}, but {where} needs integer class labels of shape "
                         f"{(count,) + labels[1:]} for an output of shape {prediction}.")
    if function is losses.categorical_crossentropy:
        if _same_sizes(target, prediction):
            return
        labels = prediction[:-1]
        if prediction[-1] != 1 and (_same_sizes(target, labels) or (
                _same_sizes(target[:-1], labels) and target[-1:] == (1,))):
            raise ValueError(f"y has shape {target}, one integer class label per sample, but {where} needs "
                             f"one-hot labels of shape {expected} for an output of shape {prediction}; integer "
                             "class labels need loss='sparse_categorical_crossentropy'.")
        raise ValueError(f"y has shape {target}, but {where} needs one-hot labels of shape {expected} "
                         f"for an output of shape {prediction}.")
    if not _same_sizes(_keras_rank_matched(target, prediction), prediction):
        raise ValueError(f"y has shape {target}, but {where} needs targets of shape {expected} "
                         f"for an output of shape {prediction}.")


def _check_label_range(target: Any, classes: int | None, output: str, ignored: int | None = None) -> None:
    """Sparse labels must index a class of the output (the loss's `ignore_class` excepted)."""
    if not isinstance(target, np.ndarray) or not target.size:
        return
    if ignored is not None:
        target = target[target != ignored]
        if not target.size:
            return
    low, high = target.min(), target.max()
    if low < 0 or (classes is not None and high >= classes):
        bad = int(low) if low < 0 else int(high)
        raise ValueError(f"y holds the label {bad}, but sparse_categorical_crossentropy on output {output!r} "
                         f"needs labels in 0..{(classes or 1) - 1} ({classes} classes).")


# --- generators ---------------------------------------------------------------------------------------


class GeneratorWatch(Callback):
    """Stops training, with one warning, once the generator of fit has no batches left for the next epoch."""

    def __init__(self, data: data_adapter.GeneratorData) -> None:
        super().__init__()
        self.data = data

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        more_epochs = epoch + 1 < self.params.get("epochs", epoch + 1)
        if self.data.ran_short or (more_epochs and not self.data.has_more()):
            warnings.warn("The generator given to fit ran out of data, so training stops after epoch "
                          f"{epoch + 1}. Make sure it yields at least steps_per_epoch * epochs batches: pass "
                          "steps_per_epoch, or make the generator repeat (loop forever).", UserWarning,
                          stacklevel=2)
            self.model.stop_training = True
