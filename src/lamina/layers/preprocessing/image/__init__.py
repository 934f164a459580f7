"""Image preprocessing and augmentation layers: rescaling, resizing, cropping, random transforms."""

__all__: list[str] = []
