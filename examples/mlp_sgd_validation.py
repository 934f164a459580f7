"""The same MLP trained with plain SGD, large batches and validation data; score read by index."""

from lamina.layers import Dense
from lamina.models import Sequential

from mlp_softmax import make_data


def main(epochs: int = 10) -> dict:
    x_train, y_train = make_data(1000)
    x_val, y_val = make_data(200, seed=2)
    x_test, y_test = make_data(200, seed=1)

    model = Sequential()
    model.add(Dense(units=64, activation="relu", input_dim=100))
    model.add(Dense(units=10, activation="softmax"))
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=1, validation_data=(x_val, y_val))
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    return {"history": history.history, "score": score}


if __name__ == "__main__":
    print(main())
