"""mstad: Multi-Scale Time-series Anomaly Detection.

Pipeline, one direction: ``data`` (entities) -> ``features`` -> ``models`` (fit / score per
time step / explain per sensor) -> ``evaluation`` -> ``runs`` -> ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

from mstad.errors import ConfigError, DataError, MstadError

#: the detector of ``mstad run`` and ``mstad demo`` without ``--model`` (light: the CLI's
#: option defaults read it before anything heavy is imported)
DEFAULT_MODEL = "best"
#: how every run, fit and detector fits its alarm threshold on validation scores without being
#: told (:mod:`mstad.models.thresholds`; calibration round 31 kept it: ``calibration_log.md`` §32)
DEFAULT_THRESHOLD = "pot"

try:
    __version__ = version("mstad")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_THRESHOLD",
    "ConfigError",
    "DataError",
    "MstadError",
    "__version__",
]
