"""One error family for everything a user can get wrong.

Each message is one line that names the file or field at fault and says how to fix it; the CLI
prints it without a traceback (exit code 2).
"""


class MstadError(Exception):
    """Base class: a problem the user can fix (bad input, bad configuration)."""


class DataError(MstadError):
    """A data file or array is missing, malformed or inconsistent."""


class ConfigError(MstadError):
    """A configuration key, value, dataset or model name is not valid."""


def reason(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none), for one-line
    errors that wrap a third-party exception."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
