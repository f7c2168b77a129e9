"""MSCRED (Zhang et al., AAAI 2019): network modules apart from the detector that trains them."""

from mstad.models.mscred.detector import MSCRED
from mstad.models.mscred.network import MSCREDNetwork

__all__ = ["MSCRED", "MSCREDNetwork"]
