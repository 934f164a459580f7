"""The hand-written PyTorch baseline: what a competent engineer writes without a framework.

Data goes to the device once; each epoch draws a device-side permutation and each
step selects its batch by indexing; the loss is computed on logits; Adam runs its
fused kernel; loss and accuracy accumulate on the device and are read once per
epoch. The last partial batch is dropped, so every step has the same shape, and
only the samples actually trained on are counted.

Variant 'opt' (CUDA only) replays the whole step (gather, forward, backward, Adam,
accumulators) as one CUDA graph: the ceiling that per-step overhead allows.

Run by benchmarks/run.py; alone: python benchmarks/hand_torch.py --backend torch --quick
"""

from __future__ import annotations

import time
from typing import Any, Callable

import workloads as wl

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except Exception as error:  # noqa: BLE001 - reported as "unavailable", never a crash
    torch = None
    IMPORT_ERROR = f"{type(error).__name__}: {error}"


def build_model(name: str) -> "nn.Module":
    """The workload's network, ending in logits (the softmax/sigmoid lives in the loss)."""
    if name in ("W1", "W4"):
        return nn.Sequential(
            nn.Linear(wl.MLP_INPUT, wl.MLP_HIDDEN[0]), nn.ReLU(),
            nn.Linear(wl.MLP_HIDDEN[0], wl.MLP_HIDDEN[1]), nn.ReLU(),
            nn.Linear(wl.MLP_HIDDEN[1], wl.CLASSES),
        )
    if name == "W5":
        return TransformerClassifier()
    if name == "W6":
        def batch_norm(channels: int) -> "nn.Module":  # Keras's defaults: momentum 0.99 is torch's 0.01
            return nn.BatchNorm2d(channels, eps=wl.BN_EPSILON, momentum=1 - wl.BN_MOMENTUM)

        return nn.Sequential(
            nn.Conv2d(3, 32, 3), batch_norm(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), batch_norm(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 6 * 6, 128), nn.ReLU(), nn.Linear(128, wl.CLASSES),
        )
    if name == "W2":
        return nn.Sequential(  # NCHW: 3x32x32 -> 32x30x30 -> 32x15x15 -> 64x13x13 -> 64x6x6
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 6 * 6, 128), nn.ReLU(), nn.Linear(128, wl.CLASSES),
        )

    class LSTMClassifier(nn.Module):
        """Embedding -> LSTM (last hidden state) -> one logit."""

        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(wl.VOCAB, wl.EMBED_DIM)
            self.lstm = nn.LSTM(wl.EMBED_DIM, wl.LSTM_UNITS, batch_first=True)
            self.head = nn.Linear(wl.LSTM_UNITS, 1)

        def forward(self, tokens: "torch.Tensor") -> "torch.Tensor":
            _, (hidden, _) = self.lstm(self.embedding(tokens))  # hidden: (1, batch, units)
            return self.head(hidden[-1])  # (batch, 1) logits

    return LSTMClassifier()


if torch is not None:
    class TransformerClassifier(nn.Module):
        """Embedding -> self-attention (fused SDPA) + residual -> LayerNorm -> Dense(relu) -> mean -> one logit."""

        def __init__(self) -> None:
            super().__init__()
            width = wl.HEADS * wl.KEY_DIM
            self.embedding = nn.Embedding(wl.VOCAB, wl.EMBED_DIM)
            self.query, self.key, self.value = (nn.Linear(wl.EMBED_DIM, width) for _ in range(3))
            self.attention_output = nn.Linear(width, wl.EMBED_DIM)
            self.norm = nn.LayerNorm(wl.EMBED_DIM, eps=1e-3)
            self.feed_forward = nn.Linear(wl.EMBED_DIM, wl.FEED_FORWARD)
            self.head = nn.Linear(wl.FEED_FORWARD, 1)

        def heads(self, x: "torch.Tensor") -> "torch.Tensor":
            return x.view(x.shape[0], x.shape[1], wl.HEADS, wl.KEY_DIM).transpose(1, 2)

        def forward(self, tokens: "torch.Tensor") -> "torch.Tensor":
            x = self.embedding(tokens)
            attended = F.scaled_dot_product_attention(self.heads(self.query(x)), self.heads(self.key(x)),
                                                      self.heads(self.value(x)))
            attended = attended.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
            x = self.norm(x + self.attention_output(attended))
            x = torch.relu(self.feed_forward(x))
            return self.head(x.mean(dim=1))  # (batch, 1) logits


def device_data(name: str, quick: bool, device: "torch.device") -> tuple["torch.Tensor", "torch.Tensor"]:
    """The workload's data as device tensors in the layouts torch wants, moved once."""
    x, y = wl.make_data(name, quick)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    if name == "W1":
        y_t = y_t.long()
    elif name in ("W2", "W6"):
        x_t = x_t.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW once, before training
    else:
        x_t = x_t.long()
    return x_t.to(device), y_t.to(device)


def loss_and_correct(name: str) -> tuple[Callable, Callable]:
    """(loss(logits, y), correct(logits, y) -> count tensor) for the workload."""
    if name == "W1":
        return nn.CrossEntropyLoss(), lambda logits, y: (logits.argmax(1) == y).sum()
    if name in ("W2", "W6"):  # one-hot targets: CrossEntropyLoss takes class probabilities
        return nn.CrossEntropyLoss(), lambda logits, y: (logits.argmax(1) == y.argmax(1)).sum()
    return nn.BCEWithLogitsLoss(), lambda logits, y: ((logits > 0) == (y > 0.5)).sum()


def synchronize(device: "torch.device") -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(name: str, args: Any, device: "torch.device") -> dict[str, Any]:
    """Train the workload for args.epochs epochs; return per-epoch times and the summary."""
    torch.manual_seed(wl.SEED)
    x, y = device_data(name, args.quick, device)
    model = build_model(name).to(device)
    loss_fn, correct_fn = loss_and_correct(name)
    batch = wl.TRAIN_SPECS[name].batch_size
    steps = x.shape[0] // batch
    capture = args.variant == "opt"
    optimizer = make_optimizer(args.optimizer, model.parameters(), capture)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), dtype=torch.long, device=device)

    def step(index: "torch.Tensor") -> None:
        xb, yb = x[index], y[index]
        logits = model(xb)
        loss = loss_fn(logits, yb)
        loss.backward()
        optimizer.step()
        loss_sum.add_(loss.detach())
        correct.add_(correct_fn(logits.detach(), yb))

    epoch_seconds, history = [], []
    start = time.perf_counter()
    if capture:
        graph, static_index = capture_step(step, optimizer, batch, device)
    for _ in range(args.epochs):
        loss_sum.zero_()
        correct.zero_()
        permutation = torch.randperm(x.shape[0], device=device)
        for i in range(steps):
            index = permutation[i * batch:(i + 1) * batch]
            if capture:
                static_index.copy_(index)
                graph.replay()
            else:
                optimizer.zero_grad(set_to_none=True)
                step(index)
        history.append((loss_sum.item() / steps, correct.item() / (steps * batch)))  # one read per epoch
        synchronize(device)
        now = time.perf_counter()
        epoch_seconds.append(now - start)
        start = now
    return wl.train_result(epoch_seconds, steps * batch, loss=history[-1][0], accuracy=history[-1][1])


def make_optimizer(name: str, parameters: Any, capture: bool) -> Any:
    """torch's fused optimizer for `name`, with the hyperparameters every runner uses."""
    settings = wl.OPTIMIZER_SETTINGS[name]
    if name == "sgd_momentum":
        return torch.optim.SGD(parameters, lr=settings["learning_rate"], momentum=settings["momentum"], fused=True)
    cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
    return cls(parameters, lr=settings["learning_rate"], betas=(settings["beta_1"], settings["beta_2"]),
               eps=settings["epsilon"], weight_decay=settings.get("weight_decay", 0.0), fused=True,
               capturable=capture)


def capture_step(step: Callable, optimizer: Any, batch: int, device: "torch.device") -> tuple[Any, Any]:
    """Record `step` as a CUDA graph reading its batch indices from a static tensor.

    Follows PyTorch's whole-network capture recipe: a few eager steps on a side stream
    (they train on the first rows, inside the unmeasured warm-up epoch), grads set to
    None, then one captured step whose backward owns the gradient buffers.
    """
    static_index = torch.arange(batch, device=device)
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            optimizer.zero_grad(set_to_none=True)
            step(static_index)
    torch.cuda.current_stream().wait_stream(side)
    optimizer.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step(static_index)
    return graph, static_index


def predict_latency(args: Any, device: "torch.device") -> dict[str, Any]:
    """W4: median time of calling the W1 module directly under no_grad on a device tensor."""
    torch.manual_seed(wl.SEED)
    model = build_model("W4").to(device).eval()
    calls, warmup = wl.predict_calls(args.quick)
    result = {}
    for size, array in wl.make_predict_inputs().items():
        inputs = torch.from_numpy(array).to(device)

        def call() -> None:
            with torch.no_grad():
                model(inputs)
            synchronize(device)

        result[str(size)] = wl.time_calls(call, calls, warmup)
    return result


def main() -> None:
    args = wl.runner_arguments(__doc__.splitlines()[0])
    framework = "hand-opt" if args.variant == "opt" else "hand"
    if torch is None:
        wl.emit_unavailable(framework, args.backend, IMPORT_ERROR)
        return
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.variant == "opt" and device.type != "cuda":
        wl.emit_unavailable(framework, args.backend, "CUDA graphs need a CUDA device; torch sees none")
        return
    environment = {"torch": torch.__version__, "device": str(device),
                   "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                   "torch_threads": torch.get_num_threads()}
    jobs = {name: (lambda name=name: train(name, args, device)) for name in wl.TRAIN_WORKLOADS}
    jobs["W4"] = lambda: predict_latency(args, device)
    wl.run_workloads(framework, args, jobs, environment)


if __name__ == "__main__":
    main()
