"""Summarise an ``airflow dags test`` log: task instances by task and final state."""

from __future__ import annotations

import collections
import re
import sys

_DONE = re.compile(r"task_id=(?P<task>\w+)(?: map_index=(?P<map>-?\d+))?")
_STATE = re.compile(r"DagRun Finished: dag_id=(?P<dag>\w+).*?state=(?P<state>\w+)")


def summarise(text: str) -> tuple[str | None, dict[str, int]]:
    tasks: collections.Counter = collections.Counter()
    for line in text.splitlines():
        if "[DAG TEST] end task" in line:
            m = _DONE.search(line)
            if m:
                tasks[m.group("task")] += 1
    state = None
    for m in _STATE.finditer(text):
        state = m.group("state")
    return state, dict(tasks)


def main(path: str) -> int:
    with open(path, encoding="utf-8", errors="replace") as fh:
        state, tasks = summarise(fh.read())
    ran = ", ".join(f"{task} x{n}" if n > 1 else task for task, n in tasks.items()) or "none"
    print(f"Airflow DAG run: {state or 'unknown'}; task instances run: {ran}")
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
