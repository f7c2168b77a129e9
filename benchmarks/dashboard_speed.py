"""Time each dashboard action on a run (e.g. the 54-channel SMAP run) with Streamlit's AppTest.

    python benchmarks/dashboard_speed.py RUN_DIR [OTHER_RUN_DIR]

Prints seconds per action — first load, threshold change (slider), typed threshold, switch
entity, switch run, rerun without change — and each one's ratio to the first load measured in
the same process (the reference: everything read and drawn from scratch). AppTest reruns the
whole script for every action, so these are upper bounds of what a browser session sees (the
entity view is a fragment there). Target of issue 20: a threshold change answers in ≤ 1 s.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

from streamlit.testing.v1 import AppTest

SCRIPT = importlib.util.find_spec("mstad.app.dashboard").origin


def timed(action):
    start = time.perf_counter()
    app = action()
    elapsed = time.perf_counter() - start
    if app.exception:
        raise SystemExit(f"dashboard raised: {app.exception[0].message}")
    return app, elapsed


def main(runs: list[str]) -> None:
    os.environ["MSTAD_RUNS"] = os.pathsep.join(runs)
    app, load = timed(lambda: AppTest.from_file(SCRIPT, default_timeout=300).run())
    rows = [("first load (reference)", load)]
    slider = app.slider[0]
    target = slider.min + 0.6 * (slider.max - slider.min)
    app, t = timed(lambda: slider.set_value(target).run())
    rows.append(("threshold change (slider)", t))
    typed = next(n for n in app.number_input if n.label == "typed value")
    app, t = timed(lambda: typed.set_value(3.5).run())
    rows.append(("typed threshold", t))
    entities = app.sidebar.selectbox[1]
    other = entities.options[min(5, len(entities.options) - 1)]
    app, t = timed(lambda: entities.set_value(other).run())
    rows.append(("switch entity", t))
    app, t = timed(lambda: app.run())
    rows.append(("rerun, nothing changed", t))
    if len(runs) > 1:
        picker = app.sidebar.selectbox[0]
        app, t = timed(lambda: picker.set_value(picker.options[1]).run())
        rows.append(("switch run", t))
        app, t = timed(lambda: app.sidebar.selectbox[0].set_value(picker.options[0]).run())
        rows.append(("switch back (cached)", t))
    print(f"dashboard on {', '.join(runs)}")
    print(f"{'action':28s} {'seconds':>8s} {'÷ first load':>13s}")
    for name, seconds in rows:
        print(f"{name:28s} {seconds:8.2f} {seconds / load:13.2f}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])
