"""Local mode, scripted: what a new user sees after `make run`, without a Slack workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def local(tmp_path: Path, *lines: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PLANBOT_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'local.db'}", COLUMNS="120")
    args = [arg for line in lines for arg in ("--run", line)]
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "local", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_scripted_run_shows_safety_and_fire(tmp_path: Path) -> None:
    result = local(tmp_path, "/plan safety", "/plan fire", "home")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Loaded City of Hartford Fiscal Year 2016 Strategic Plan" in out
    assert "sample updates" in out
    assert "/plan safety  (only you can see this)" in out
    assert "16 initiatives" in out
    for department in ("Police", "Fire", "Emergency Services & Telecommunications"):
        assert department in out
    assert "Work with the Mayor's Fire Task Force" in out  # the Fire summary
    assert "App Home" in out and "Plan goals" in out  # the local user is an admin
    assert "Traceback" not in result.stderr
    # A second run reuses the database: no second load, no second batch of samples.
    again = local(tmp_path, "/plan goals")
    assert again.returncode == 0 and "Loaded" not in again.stdout
    assert "sample updates" not in again.stdout


def test_scripted_run_fails_on_what_it_cannot_do(tmp_path: Path) -> None:
    result = local(tmp_path, "make coffee")
    assert result.returncode == 2
    assert "Not understood: 'make coffee'" in result.stdout


def test_scripted_month_as_a_department_lead(tmp_path: Path) -> None:
    result = local(
        tmp_path,
        "/plan owner fire U0LOCAL",
        "prompt",
        "reply fire 1 on track - 12 recruits; 2 at risk 40% union talks",
        "nochange fire",
        "remind",
        "digest",
        "digest",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Prompts for" in out and "1 posted" in out
    assert "Fire — " in out and "Submit update" in out  # the prompt itself
    assert "Recorded for" in out and "union talks" in out  # the thread summary
    assert "Recorded no change for 6 initiatives" in out
    assert "updated by @you" in out
    assert "Reminded: nobody." in out  # Fire has answered
    assert "Weekly plan digest" in out and "87 initiatives" in out
    assert "already posted" in out  # the second `digest` posts nothing
    charts = sorted(p.name for p in (tmp_path / "planbot-files").glob("*.png"))
    # The sample measures have one that missed its target: its chart comes with the others.
    assert [c.split("-2")[0] for c in charts] == [
        "plan-measures-off-target",
        "plan-status-by-goal",
        "plan-status-trend",
    ]


def test_a_reply_in_a_new_run_is_recorded_not_taken_for_a_retry(tmp_path: Path) -> None:
    first = local(tmp_path, "/plan owner fire U0LOCAL", "prompt")
    assert first.returncode == 0 and "1 posted" in first.stdout, first.stderr
    # Each later run is a new process, with a new stand-in for Slack and the same database.
    for number in (3, 2):
        later = local(tmp_path, f"reply fire {number} finished")
        assert later.returncode == 0, later.stderr
        assert "Recorded for" in later.stdout and f"#{number} ✅ Complete" in later.stdout
        assert "Plan Bot updated its message" in later.stdout  # the prompt shows the answer
        assert "message_not_found" not in later.stdout + later.stderr
    fire = local(tmp_path, "/plan fire")
    assert fire.stdout.count("✅ Complete") >= 2


def test_local_modes_files_are_not_committed() -> None:
    root = Path(__file__).resolve().parents[2]
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", "planbot-files/export.csv"],
        cwd=root,
        check=False,
    )
    assert ignored.returncode == 0, "planbot-files/ is not in .gitignore"
