"""A plain-loop transcription of ``vus`` (PyPI 0.0.6) ``metricor.RangeAUC_volume_opt``, kept as
the reference for mstad's vectorised VUS. Loops over buffers × thresholds × segments, as the
original does; only variable names and the (never-filled) ``tp`` array were tidied."""

import numpy as np


def range_convers(label):
    runs, t, n = [], 0, len(label)
    while t < n:
        if label[t]:
            start = t
            while t < n and label[t]:
                t += 1
            runs.append((start, t - 1))
        else:
            t += 1
    return runs


def new_sequence(label, seq, window):
    a = max(seq[0][0] - window // 2, 0)
    out = []
    for i in range(len(seq) - 1):
        if seq[i][1] + window // 2 < seq[i + 1][0] - window // 2:
            out.append((a, seq[i][1] + window // 2))
            a = seq[i + 1][0] - window // 2
    out.append((a, min(seq[-1][1] + window // 2, len(label) - 1)))
    return out


def sequencing(x, seq, window):
    label = x.copy().astype(float)
    n = len(label)
    for s, e in seq:
        x1 = np.arange(e + 1, min(e + window // 2 + 1, n))
        label[x1] += np.sqrt(1 - (x1 - e) / window)
        x2 = np.arange(max(s - window // 2, 0), s)
        label[x2] += np.sqrt(1 - (s - x2) / window)
    return np.minimum(np.ones(n), label)


def reference_vus(labels_original, score, window_size, thre=250):
    labels_original = np.asarray(labels_original, dtype=float)
    P = np.sum(labels_original)
    seq = range_convers(labels_original)
    outer = new_sequence(labels_original, seq, window_size)
    score_sorted = -np.sort(-score)
    picks = np.linspace(0, len(score) - 1, thre).astype(int)
    n_pred = np.array([np.sum(score >= score_sorted[i]) for i in picks])
    aucs, aps = [], []
    for window in range(window_size + 1):
        extended = sequencing(labels_original, seq, window)
        segs = new_sequence(extended, seq, window)
        tf = np.zeros((thre + 2, 2))
        precision = np.ones(thre + 1)
        for j, i in enumerate(picks, start=1):
            pred = score >= score_sorted[i]
            labels = extended.copy()
            existence = 0
            for s, e in segs:
                labels[s : e + 1] = extended[s : e + 1] * pred[s : e + 1]
                if (pred[s : e + 1] > 0).any():
                    existence += 1
            for s, e in seq:
                labels[s : e + 1] = 1
            tp, n_labels = 0.0, 0.0
            for s, e in outer:
                tp += np.dot(labels[s : e + 1], pred[s : e + 1])
                n_labels += np.sum(labels[s : e + 1])
            p_new = (P + n_labels) / 2
            tpr = min(tp / p_new, 1) * existence / len(segs)
            fpr = (n_pred[j - 1] - tp) / (len(labels) - p_new)
            tf[j] = [tpr, fpr]
            precision[j] = tp / n_pred[j - 1]
        tf[thre + 1] = [1, 1]
        aucs.append(np.dot(tf[1:, 1] - tf[:-1, 1], (tf[1:, 0] + tf[:-1, 0]) / 2))
        aps.append(np.dot(tf[1:-1, 0] - tf[:-2, 0], precision[1:]))
    return float(np.mean(aucs)), float(np.mean(aps)), aucs, aps
