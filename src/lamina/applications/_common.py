"""What every architecture shares: checking arguments, the input tensor, the head, and loading weights."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any, Callable

from lamina import backend, layers
from lamina.utils.tensors import get_source_inputs, is_keras_tensor


def channels_last() -> bool:
    return backend.image_data_format() == "channels_last"


def channel_axis() -> int:
    return -1 if channels_last() else 1


def check_weights(weights: Any, include_top: bool, classes: int, classes_name: str = "classes") -> None:
    """`weights` must be None, "imagenet" or an existing file; pretrained heads have 1000 classes."""
    if not (weights is None or weights == "imagenet" or
            (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either None (random initialization), 'imagenet' "
                         f"(pre-training on ImageNet), or the path to an existing weights file. "
                         f"Received: weights={weights!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"With weights='imagenet' and include_top=True, `{classes_name}` must be 1000. "
                         f"Received: {classes_name}={classes!r}")


def obtain_input_shape(input_shape: Any, default_size: int, min_size: int, require_flatten: bool,
                       weights: Any = None) -> tuple:
    """The per-image input shape: the family's default when none is given, checked otherwise."""
    last = channels_last()
    if input_shape is not None:
        input_shape = tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[-1] if last else input_shape[0]
        if channels not in {1, 3}:
            warnings.warn(f"This model usually expects 1 or 3 input channels; input_shape={input_shape} has "
                          f"{channels}.", stacklevel=3)
        default = (default_size, default_size, channels) if last else (channels, default_size, default_size)
    else:
        default = (default_size, default_size, 3) if last else (3, default_size, default_size)
    if weights == "imagenet" and require_flatten and input_shape is not None and input_shape != default:
        raise ValueError("With include_top=True and weights='imagenet', `input_shape` must be "
                         f"{default}. Received: input_shape={input_shape}")
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
        channels, spatial = (input_shape[-1], input_shape[:2]) if last else (input_shape[0], input_shape[1:])
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"With weights='imagenet' the input must have 3 channels. "
                             f"Received: input_shape={input_shape}")
        if any(size is not None and size < min_size for size in spatial):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}. Received: input_shape={input_shape}")
    elif require_flatten:
        input_shape = default
    else:
        input_shape = (None, None, 3) if last else (3, None, None)
    if require_flatten and None in input_shape:
        raise ValueError(f"With include_top=True the `input_shape` must be static. Received: input_shape={input_shape}")
    return input_shape


def image_input(input_tensor: Any, input_shape: tuple) -> Any:
    """The model's input: a new Input, or the symbolic tensor the caller gave."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not is_keras_tensor(input_tensor):
        raise ValueError("`input_tensor` must be a symbolic tensor (from lamina.Input or a layer called on one). "
                         f"Received: {type(input_tensor).__name__}")
    return input_tensor


def model_inputs(input_tensor: Any, img_input: Any) -> Any:
    return get_source_inputs(input_tensor) if input_tensor is not None else img_input


def validate_activation(classifier_activation: Any, weights: Any) -> None:
    """Pretrained heads only take softmax or no activation."""
    if weights is None:
        return
    from lamina import activations

    allowed = {activations.get("softmax"), activations.get(None)}
    if activations.get(classifier_activation) not in allowed:
        raise ValueError("Only None and 'softmax' are allowed for `classifier_activation` with pretrained "
                         f"weights and include_top=True. Received: classifier_activation={classifier_activation!r}")


def pool(x: Any, pooling: str | None, names: tuple[str | None, str | None] = (None, None)) -> Any:
    """Global pooling for include_top=False ("avg", "max" or None)."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=names[0])(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=names[1])(x)
    if pooling is not None:
        raise ValueError(f"`pooling` must be None, 'avg' or 'max'. Received: pooling={pooling!r}")
    return x


def classifier_head(x: Any, include_top: bool, pooling: str | None, classes: int, classifier_activation: Any,
                    weights: Any, pool_name: str | None = "avg_pool") -> Any:
    """The end of most families: average pooling (named `pool_name`; None where Keras leaves it unnamed) and
    the "predictions" layer, or the `pooling` of a base."""
    if not include_top:
        return pool(x, pooling)
    x = layers.GlobalAveragePooling2D(name=pool_name)(x)
    validate_activation(classifier_activation, weights)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def correct_pad(inputs: Any, kernel_size: int | tuple[int, int]) -> tuple:
    """Zero padding that makes a strided 'valid' convolution match TensorFlow's 'same'."""
    size = inputs.shape[1:3] if channels_last() else inputs.shape[2:4]
    kernel = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    return ((kernel[0] // 2 - adjust[0], kernel[0] // 2), (kernel[1] // 2 - adjust[1], kernel[1] // 2))


def fetch(fname: str, origin: str, file_hash: str | None = None) -> str:
    """A published file, from Keras's cache folder (`~/.keras/models`) or downloaded there."""
    try:
        from lamina.utils.file_utils import get_file
    except ImportError:
        raise RuntimeError(f"Cannot fetch {fname!r} from {origin}: lamina.utils.get_file is not available. "
                           "Download the file yourself and pass its path as `weights=`.") from None
    return get_file(fname, origin, file_hash=file_hash, cache_subdir="models")


def load_weights(model: Any, weights: Any, imagenet_file: Callable[[], str] | None = None) -> Any:
    """Load `weights` into `model`: "imagenet" through `imagenet_file`, else the file at that path.

    Keras 2 HDF5 files (Keras's published weights among them) are matched layer by layer in the order Keras
    lists a functional model's layers, as Keras reads them; other files load as `model.load_weights` does.
    """
    if weights is None:
        return model
    if weights == "imagenet":
        if imagenet_file is None:
            raise ValueError(f"No ImageNet weights are published for {model.name!r}.")
        weights = imagenet_file()
    from lamina.saving import legacy_h5

    if legacy_h5.is_legacy_path(weights):
        legacy_h5.load_weights(_InKerasOrder(model), weights)
    else:
        model.load_weights(weights)
    return model


class _InKerasOrder:
    """A model seen with its layers in Keras's order, for loading a file whose weights are in that order."""

    def __init__(self, model: Any) -> None:
        self.name = model.name
        self.built = model.built
        self.layers = keras_layer_order(model)


def keras_layer_order(model: Any) -> list[Any]:
    """A functional model's layers as Keras lists them: by depth from the outputs, deepest first; layers at the
    same depth in the order a depth-first walk from the outputs first meets them."""
    from lamina.layers.input_layer import InputLayer

    input_ids = {id(tensor) for tensor in model.inputs}
    finished: set[int] = set()
    nodes: list[Any] = []  # post-order: every node after the nodes feeding it
    first_seen: dict[int, int] = {}
    layers_by_id: dict[int, Any] = {}

    def node_of(tensor: Any) -> Any:
        layer, node_index, _ = tensor._history
        return layer._inbound_nodes[node_index]

    def visit(tensor: Any) -> None:
        node = node_of(tensor)
        if id(node) in finished:
            return
        is_input = isinstance(node.layer, InputLayer)
        if not is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return
        first_seen.setdefault(id(node.layer), len(first_seen))
        layers_by_id[id(node.layer)] = node.layer
        if not is_input:
            for parent in node.input_tensors:
                visit(parent)
        finished.add(id(node))
        nodes.append(node)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20 * len(model.layers) + 1000))
    try:
        for tensor in model.outputs:
            visit(tensor)
    finally:
        sys.setrecursionlimit(limit)
    in_graph = {id(node) for node in nodes}
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(nodes):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        if isinstance(node.layer, InputLayer):
            continue
        for parent in (node_of(tensor) for tensor in node.input_tensors):
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    ordered = sorted(layer_depth, key=lambda key: (-layer_depth[key], first_seen[key]))
    return [layers_by_id[key] for key in ordered]
