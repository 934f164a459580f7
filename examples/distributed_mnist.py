"""Data-parallel training of an MNIST-style MLP: every device (jax) or process (torch) trains on its share of
each global batch, and the gradients are averaged, so the model learns as one device would.

One machine:
    LAMINA_BACKEND=jax python examples/distributed_mnist.py                        # every local device
    LAMINA_BACKEND=torch torchrun --nproc_per_node=2 examples/distributed_mnist.py  # two processes
Several machines: see the README's "Training on several devices and machines".
"""

import os

import lamina
from lamina import distribution
from lamina.layers import Dense, Dropout
from lamina.models import Sequential
from mnist_mlp import make_data  # the MNIST-style data of examples/mnist_mlp.py (no download)


def main(epochs: int = 5, samples: int = 4096, batch_size_per_replica: int = 64) -> dict:
    if os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES"):  # jax on several machines: join the others first
        distribution.initialize()
    lamina.utils.set_random_seed(0)  # every process starts from the same weights and shuffles alike
    x_train, y_train = make_data(samples)
    x_test, y_test = make_data(samples // 4, seed=1)

    parallel = distribution.DataParallel()  # jax: all devices of all processes; torch: torchrun's processes
    batch_size = batch_size_per_replica * parallel.num_replicas  # fit's batch_size is the global batch
    with parallel.scope():
        model = Sequential()
        model.add(Dense(256, activation="relu", input_shape=(784,)))
        model.add(Dropout(0.2))
        model.add(Dense(10, activation="softmax"))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=2)
        test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0)
    if parallel.is_chief:  # process 0 reports (and would save the model)
        print(f"{parallel.num_replicas} replicas, global batch {batch_size}: test accuracy {test_accuracy:.3f}")
    return {"history": history.history, "loss": test_loss, "accuracy": test_accuracy,
            "replicas": parallel.num_replicas}


if __name__ == "__main__":
    main()
