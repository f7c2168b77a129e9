"""mstad: Multi-Scale Time-series Anomaly Detection.

Pipeline, one direction: ``data`` (entities) -> ``features`` -> ``models`` (fit / score per
time step / explain per sensor) -> ``evaluation`` -> ``runs`` -> ``cli``.
"""

from importlib.metadata import PackageNotFoundError, version

from mstad.errors import ConfigError, DataError, MstadError

try:
    __version__ = version("mstad")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["ConfigError", "DataError", "MstadError", "__version__"]
