"""Recurrent layers over time: fused kernels and the generic loop."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES = (
    Entry("lstm", "lstm(inputs, h, c, kernel, recurrent_kernel, bias, go_backwards=False)",
          "a whole LSTM layer over time (axis 1), gates i, f, c, o: (outputs, last h, last c)"),
    Entry("gru", "gru(inputs, h, kernel, recurrent_kernel, bias, go_backwards=False)",
          "a whole GRU layer (reset gate after the recurrent matmul) over time (axis 1), gates z, r, h, "
          "bias (2, 3 * units) or None: (outputs, last h)"),
    Entry("simple_rnn", "simple_rnn(inputs, h, kernel, recurrent_kernel, bias, activation, go_backwards=False)",
          'a whole Elman RNN over time (axis 1), activation "tanh" or "relu": (outputs, last h)'),
    Entry("rnn", "rnn(step, inputs, states, go_backwards=False, mask=None, unroll=False, zero_output_for_mask=False)",
          "step(input_t, states) -> (output_t, states) over time (axis 1): (stacked outputs, last states); inputs and "
          "outputs may be lists or tuples of tensors; "
          "masked steps keep the states and repeat the previous output (or give zeros)"),
)
