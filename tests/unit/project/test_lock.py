"""The advisory lock one Flux holds on a shared resource: exclusive while held, its file gone once
released (a busy /tmp held 11,000 left by writes and builds), and a waiter on a file removed meanwhile
takes the lock anew rather than sharing it."""

from __future__ import annotations

import threading
import time

from flux_agent.project.lock import file_lock


def test_the_lock_is_exclusive_and_its_file_goes_when_released(tmp_path):
    path = tmp_path / "locks" / "write.lock"
    order: list[str] = []
    holding = threading.Event()

    def second() -> None:
        holding.wait()
        with file_lock(path):
            order.append("second in")
            time.sleep(0.05)
            order.append("second out")

    def third() -> None:
        holding.wait()
        with file_lock(path):
            order.append("third in")
            order.append("third out")

    others = [threading.Thread(target=second), threading.Thread(target=third)]
    for t in others:
        t.start()
    with file_lock(path):
        assert path.is_file()
        holding.set()
        time.sleep(0.2)  # both wait on this file meanwhile
        order.append("first out")
    for t in others:
        t.join(10)
    assert order[0] == "first out" and len(order) == 5
    # never two inside at once: each "in" is followed by its own "out"
    assert [order[k].split()[0] for k in (1, 2)] == [order[1].split()[0]] * 2
    assert [order[k].split()[0] for k in (3, 4)] == [order[3].split()[0]] * 2
    assert not path.exists()
