"""Image preprocessing and augmentation layers: rescaling, resizing, cropping, random transforms."""

from lamina.layers.preprocessing.image.bounding_boxes import MaxNumBoundingBoxes
from lamina.layers.preprocessing.image.color import (AutoContrast, ContrastLimitedAdaptiveHistogramEqualization,
                                                    Equalization, RandomBrightness,
                                                    RandomColorDegeneration, RandomContrast, RandomGaussianBlur,
                                                    RandomGrayscale, RandomHue, RandomInvert, RandomPosterization,
                                                    RandomSaturation, RandomSharpness, Solarization)
from lamina.layers.preprocessing.image.geometric import (RandomCrop, RandomElasticTransform, RandomFlip,
                                                        RandomPerspective, RandomRotation, RandomShear,
                                                        RandomTranslation, RandomZoom)
from lamina.layers.preprocessing.image.mixing import CutMix, MixUp, RandomErasing
from lamina.layers.preprocessing.image.policies import AugMix, Pipeline, RandAugment, RandomColorJitter
from lamina.layers.preprocessing.image.resizing import CenterCrop, Rescaling, Resizing

__all__ = ["AugMix", "AutoContrast", "CenterCrop", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix", "Equalization", "MaxNumBoundingBoxes", "MixUp", "Pipeline", "RandAugment",
           "RandomColorJitter", "RandomErasing", "RandomBrightness", "RandomColorDegeneration",
           "RandomContrast", "RandomCrop", "RandomElasticTransform", "RandomFlip", "RandomGaussianBlur",
           "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization",
           "RandomRotation", "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation",
           "RandomZoom", "Rescaling", "Resizing", "Solarization"]
