"""Progress reports: lanes, milestones, and the hand-over from a worker to its parent."""

import queue

from mstad.progress import Step, drain, forwarding, in_lane, report, reporting


def test_a_report_carries_its_lane_and_whether_it_is_a_milestone():
    steps = []
    with reporting(steps.append):
        report("fit", 0, 3)
        with in_lane("A-1"):
            report("epoch 1", 1, 60, milestone=True)
            with in_lane("A-2"):
                report("score", 1, 3)
            report("save", 2, 3)
    report("nobody listens", 0, 1)  # no reporter installed: nothing happens, nothing fails
    assert steps == [
        Step("fit", 0, 3),
        Step("epoch 1", 1, 60, "A-1", True),
        Step("score", 1, 3, "A-2"),
        Step("save", 2, 3, "A-1"),
    ]


def test_forwarded_reports_reach_the_parent_reporter_in_order():
    channel, received = queue.Queue(), []
    with forwarding(channel), in_lane("machine-1-1"):
        for k in range(3):
            report("block", k + 1, 3)
    channel.put(None)
    drain(channel, received.append)
    assert [(s.done, s.lane) for s in received] == [
        (1, "machine-1-1"),
        (2, "machine-1-1"),
        (3, "machine-1-1"),
    ]


def test_a_queue_that_is_gone_never_fails_the_work():
    class Gone:
        def put_nowait(self, item):
            raise BrokenPipeError("the parent stopped listening")

    with forwarding(Gone()):
        report("epoch 1", 1, 2, milestone=True)  # dropped, not raised
