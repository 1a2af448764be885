"""Reading a log a running process is still writing: a half-written last line is left for the
next read, so a reader never parses a JSON line cut in the middle."""

from __future__ import annotations

import json
from pathlib import Path

from devstack.processes import whole_lines


def test_a_line_still_being_written_is_left_out_until_its_newline_lands(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text('{"step": "allocate"}\n{"step": "cha')

    assert [json.loads(line) for line in whole_lines(log)] == [{"step": "allocate"}]

    with log.open("a") as file:
        file.write('rge"}\n')
    assert [json.loads(line) for line in whole_lines(log)] == [
        {"step": "allocate"},
        {"step": "charge"},
    ]


def test_a_log_not_yet_made_or_empty_has_no_lines(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    assert whole_lines(log) == []
    log.write_text("")
    assert whole_lines(log) == []
