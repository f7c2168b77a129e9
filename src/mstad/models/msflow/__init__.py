"""MSFlow for time series: multi-scale features, parallel normalizing flows (FrEIA), a fusion
flow, and per-time-step negative log-likelihood."""

from mstad.models.msflow.detector import MSFlow
from mstad.models.msflow.flows import MultiScaleFlow

__all__ = ["MSFlow", "MultiScaleFlow"]
