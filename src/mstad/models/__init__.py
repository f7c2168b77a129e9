"""Stage 3: detectors that fit on normal data and score every time step."""

from mstad.models.base import Detector
from mstad.models.registry import available_detectors, detector_class, make_detector, register

__all__ = ["Detector", "available_detectors", "detector_class", "make_detector", "register"]
