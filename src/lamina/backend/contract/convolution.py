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
    Entry("conv_general",
          "conv_general(inputs, kernel, strides, padding, dilation_rate, groups, data_format, bias=None)",
          'N-d convolution in either data_format: kernel (*window, in / groups, out); padding "valid", "same" '
          'or (before, after) pairs per spatial axis; strides and dilation_rate tuples; a bias (out,) is added '
          "to every output cell"),
    Entry("conv_transpose_general",
          "conv_transpose_general(inputs, kernel, strides, padding, dilation_rate, data_format)",
          "N-d transposed convolution in either data_format: kernel (*window, out, in); padding the (before, "
          "after) pairs of the stride-spread inputs that the equivalent direct convolution sees"),
    Entry("max_pool_general", "max_pool_general(inputs, pool_size, strides, padding, data_format)",
          "N-d max pooling in either data_format"),
    Entry("average_pool_general", "average_pool_general(inputs, pool_size, strides, padding, data_format)",
          'N-d average pooling in either data_format; "same" averages only the real cells'),
    Entry("adaptive_pool", "adaptive_pool(inputs, output_size, mode, data_format)",
          'N-d adaptive pooling ("average" or "max") to output_size cells per spatial axis; cell i of an axis '
          "of n cells covers [floor(i * n / out), ceil((i + 1) * n / out))"),
)
