"""Progress output: a bar on a terminal, one line per page in a log (no carriage-return redraws)."""
from __future__ import annotations

import io

from lancs_evidence.build import runner


def test_progress_in_a_log_is_one_line_per_page(monkeypatch):
    log = io.StringIO()  # not a terminal
    monkeypatch.setattr(runner.sys, "stderr", log)
    bar = runner._progress(2, True)
    for name in ("lancaster", "preston"):
        bar.set_postfix_str(name)
        bar.update(1)
    bar.close()
    out = log.getvalue()
    assert "\r" not in out
    assert out.splitlines() == ["notebooks: 1/2 lancaster", "notebooks: 2/2 preston"]


def test_no_progress_when_not_wanted(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(runner.sys, "stderr", log)
    bar = runner._progress(3, False)
    bar.update(1)
    bar.close()
    assert log.getvalue() == ""
