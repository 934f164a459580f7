"""Low-rank adaptation shared by Dense and Embedding: a frozen weight plus (alpha / rank) * A @ B."""

from __future__ import annotations

from typing import Any

from lamina import backend


def check_rank(lora_rank: Any, lora_alpha: Any, quantization_config: Any, owner: str) -> None:
    if lora_rank is not None and (isinstance(lora_rank, bool) or not isinstance(lora_rank, int) or lora_rank <= 0):
        raise ValueError(f"{owner} lora_rank must be a positive int or None, got {lora_rank!r}.")
    if lora_alpha is not None and (isinstance(lora_alpha, bool) or not isinstance(lora_alpha, (int, float))
                                   or lora_alpha <= 0):
        raise ValueError(f"{owner} lora_alpha must be a positive number or None, got {lora_alpha!r}.")
    if quantization_config is not None:
        raise NotImplementedError(f"{owner}: quantized weights are not supported; pass quantization_config=None.")


class LoraMixin:
    """For a layer whose weight `_lora_target` (an attribute name) may be adapted at low rank."""

    _lora_target: str = ""
    lora_rank: int | None = None
    lora_alpha: float | None = None
    lora_enabled: bool = False

    def enable_lora(self, rank: int, lora_alpha: float | None = None, a_initializer: Any = "he_uniform",
                    b_initializer: Any = "zeros") -> None:
        """Freeze the weight and train a rank-`rank` correction A @ B instead (B starts at zero)."""
        if not self.built:
            raise ValueError(f"enable_lora on {self.name!r}: build the layer (call it once) first.")
        if self.lora_enabled:
            raise ValueError(f"enable_lora on {self.name!r}: LoRA is already enabled.")
        self._add_lora(rank, lora_alpha, a_initializer, b_initializer)

    def _add_lora(self, rank: int, lora_alpha: float | None, a_initializer: Any = "he_uniform",
                  b_initializer: Any = "zeros") -> None:
        check_rank(rank, lora_alpha, None, type(self).__name__)
        if getattr(self, f"{self._lora_target}_constraint", None) is not None:
            raise ValueError(f"{type(self).__name__} {self.name!r}: LoRA cannot keep a constrained "
                             f"{self._lora_target} within its constraint; remove {self._lora_target}_constraint.")
        weight = getattr(self, "_" + self._lora_target)
        weight.trainable = False
        weight._lamina_wants_training = False
        rows, columns = tuple(weight.shape)
        self.lora_rank, self.lora_alpha = rank, float(lora_alpha if lora_alpha is not None else rank)
        self._lora_a = self.add_weight(shape=(rows, rank), initializer=a_initializer,
                                       name=f"lora_{self._lora_target}_a")
        self._lora_b = self.add_weight(shape=(rank, columns), initializer=b_initializer,
                                       name=f"lora_{self._lora_target}_b")
        self.lora_enabled = True

    def _effective(self) -> Any:
        weight = getattr(self, "_" + self._lora_target)
        if not self.lora_enabled:
            return weight
        B = backend.impl
        return B.add(weight, B.matmul(self._lora_a, self._lora_b) * (self.lora_alpha / self.lora_rank))

    def _lora_config(self) -> dict:
        return {"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha} if self.lora_rank else {}
