"""The plain reference loop for signature matrices (the public ports' approach: one inner
product per sensor pair, per scale, per end time), kept for tests and the speed benchmark."""

import numpy as np


def reference_signature(x, windows, gap):
    x = np.asarray(x, dtype=np.float64)
    n_steps, n = x.shape
    ends = list(range(n_steps, max(windows) - 1, -gap))[::-1]
    out = np.zeros((len(ends), len(windows), n, n))
    for k, t_end in enumerate(ends):
        for s, w in enumerate(windows):
            for i in range(n):
                for j in range(n):
                    out[k, s, i, j] = np.inner(x[t_end - w : t_end, i], x[t_end - w : t_end, j]) / w
    return out, np.array(ends)
