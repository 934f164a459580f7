"""Transfer learning as the guides teach it, on images this program draws.

0. Pretrained weights stand for what a network learned on a large source data set. There is no network
   here, so unless a weight file is given, this program makes its own: it trains MobileNetV2 briefly on a
   source task (grey stripes in four orientations). With a file, that step is skipped:
   `python examples/transfer_learning.py --weights mobilenet_v2_weights_..._no_top.h5` (Keras's
   MobileNetV2 weights of the same `alpha`, without the top).
1. The pretrained base without its classifier is frozen (`base.trainable = False`) and called with
   `training=False`, as the guides write it: its BatchNormalization layers run in inference mode, using and
   never updating their moving statistics.
2. A new head (pooling, dropout, one sigmoid unit) learns the target task on top of the frozen features:
   horizontal or vertical stripes, in random colours, with noise.
3. Fine-tuning: the top blocks of the base are unfrozen (but for their BatchNormalization layers, which stay
   in inference mode), the model is recompiled (which a change of `trainable` needs) with a low learning
   rate, and training goes on.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import lamina
from lamina import layers
from lamina.applications import MobileNetV2
from lamina.applications.mobilenet_v2 import preprocess_input

TOP_BLOCKS = ("block_15_", "block_16_", "Conv_1")  # what fine-tuning unfreezes: the last two blocks and the 1x1 conv


def make_images(count: int, size: int, orientations: int = 2, colour: bool = True,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` RGB images of `size`x`size` pixels (0..255) of stripes; the label k is their orientation,
    k * 180 / `orientations` degrees (label 0: horizontal stripes; of two, label 1: vertical)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, orientations, count)
    angle = np.pi * labels / orientations
    rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    along = rows * np.cos(angle)[:, None, None] + cols * np.sin(angle)[:, None, None]  # (count, size, size)
    period, phase = rng.uniform(4, 12, (count, 1, 1)), rng.uniform(0, 2 * np.pi, (count, 1, 1))
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * along / period + phase)
    channels = 3 if colour else 1
    dark, light = rng.uniform(0, 100, (count, 1, 1, channels)), rng.uniform(155, 255, (count, 1, 1, channels))
    images = dark + (light - dark) * stripes[..., None] + rng.normal(0, 20 if colour else 5, (count, size, size, 1))
    images = np.broadcast_to(images, (count, size, size, 3))
    return np.clip(images, 0, 255).astype("float32"), labels


def pretrain(base: lamina.Model, size: int, images: int, epochs: int, batch_size: int) -> float:
    """Train the whole base on the source task; returns its accuracy there.

    Keras's MobileNetV2 updates its BatchNormalization statistics slowly (momentum 0.999), for long training;
    this short one lowers the momentum so that the statistics the frozen base will use catch up.
    """
    norms = [layer for layer in base.layers if isinstance(layer, layers.BatchNormalization)]
    momentum = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.8
    x, y = make_images(images, size, orientations=4, colour=False, seed=2)
    inputs = layers.Input((size, size, 3))
    features = layers.GlobalAveragePooling2D()(base(layers.Lambda(preprocess_input)(inputs)))
    source = lamina.Model(inputs, layers.Dense(4, activation="softmax")(features), name="source_task")
    source.compile(optimizer=lamina.optimizers.Adam(5e-3), loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"])
    history = source.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    for layer, value in zip(norms, momentum):
        layer.momentum = value
    return history.history["accuracy"][-1]


def build_model(base: lamina.Model, size: int) -> lamina.Model:
    """The frozen base called in inference mode, and a new head."""
    inputs = layers.Input((size, size, 3))
    x = layers.Lambda(preprocess_input, name="preprocess")(inputs)  # MobileNetV2 expects pixels in [-1, 1]
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return lamina.Model(inputs, outputs, name="transfer")


def base_state(base: lamina.Model) -> dict[str, np.ndarray]:
    """Every variable of the base by path: the trainable weights and the BatchNormalization moving statistics."""
    return {variable.path: np.array(variable.numpy()) for variable in base.weights}


def unfreeze_top(base: lamina.Model) -> int:
    """Make the base trainable but for the layers below its top blocks; returns how many layers train.

    BatchNormalization layers stay frozen: a frozen one runs in inference mode whatever the call says, so
    its moving statistics, which the layers above were trained with, stay as they are.
    """
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith(TOP_BLOCKS) and not isinstance(layer, layers.BatchNormalization)
    return sum(layer.trainable for layer in base.layers)


def main(size: int = 32, images: int = 320, alpha: float = 0.35, pretrain_epochs: int = 6, epochs: int = 5,
         fine_tune_epochs: int = 2, batch_size: int = 32, weights: str | None = None, seed: int = 0,
         verbose: int | str = 2) -> dict:
    start = time.perf_counter()
    lamina.utils.set_random_seed(seed)
    x, y = make_images(images, size)
    x_test, y_test = make_images(images // 4, size, seed=1)

    base = MobileNetV2(input_shape=(size, size, 3), alpha=alpha, include_top=False, weights=weights)
    if weights is None and pretrain_epochs > 0:
        accuracy = pretrain(base, size, images, pretrain_epochs, batch_size)
        print(f"Pretrained {base.name} on the source task: accuracy {accuracy:.3f}")
    base.trainable = False
    model = build_model(base, size)
    model.compile(optimizer=lamina.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    print(f"Base: {base.name}, {len(base.layers)} layers, {base.count_params():,} parameters, all frozen; "
          f"head: {len(model.trainable_weights)} trainable weights")
    before = base_state(base)
    head = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_split=0.2, verbose=verbose)
    after_head = base_state(base)
    head_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"Head trained on the frozen base: test accuracy {head_accuracy:.3f}")

    trainable_layers = unfreeze_top(base)
    model.compile(optimizer=lamina.optimizers.Adam(1e-4), loss="binary_crossentropy", metrics=["accuracy"])
    print(f"Fine-tuning the top {trainable_layers} layers of the base, learning rate 1e-4")
    tuned = model.fit(x, y, epochs=fine_tune_epochs, batch_size=batch_size, validation_split=0.2, verbose=verbose)
    tuned_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"After fine-tuning: test accuracy {tuned_accuracy:.3f} ({time.perf_counter() - start:.1f} s in all)")
    return {"head_history": head.history, "fine_tune_history": tuned.history, "head_accuracy": head_accuracy,
            "fine_tuned_accuracy": tuned_accuracy, "base_before": before, "base_after_head": after_head,
            "base_after_fine_tuning": base_state(base), "trainable_layers": trainable_layers}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=None, help="a Keras MobileNetV2 no-top weight file (default: random)")
    parser.add_argument("--alpha", type=float, default=0.35)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--images", type=int, default=320)
    arguments = parser.parse_args()
    main(size=arguments.size, images=arguments.images, alpha=arguments.alpha, weights=arguments.weights)
