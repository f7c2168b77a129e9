"""Stage after ``runs``: fit once, score new data, stream, export — the step from benchmark to
monitor. :mod:`.model` is the model folder (``mstad fit`` writes it), :mod:`.inputs` reads the
data it scores, :mod:`.scoring` turns scores into alarms and events, :mod:`.stream` feeds rows to
a :class:`~mstad.models.streaming.Monitor`, :mod:`.export` writes ONNX graphs."""
