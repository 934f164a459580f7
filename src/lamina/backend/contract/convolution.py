"""Convolution and pooling."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES = (
    Entry("conv", "conv(inputs, kernel, strides, padding, dilation_rate, groups=1)",
          'N-d convolution, channels last: inputs (batch, *spatial, channels), kernel (*window, in / groups, out); '
          'padding "valid" or "same"'),
    Entry("max_pool", "max_pool(inputs, pool_size, strides, padding)", "N-d max pooling, channels last"),
    Entry("average_pool", "average_pool(inputs, pool_size, strides, padding)",
          'N-d average pooling, channels last; "same" averages only the real cells'),
)
