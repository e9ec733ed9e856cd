"""Documentation that cannot drift: README ↔ .ci/run ↔ CLI ↔ settings."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def _code_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```\n(.*?)```", text, flags=re.S)]


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    blocks = _code_blocks(setup)
    assert len(blocks) == 2, blocks
    app_cmd, test_cmd = blocks
    assert "streamlit run app.py" in app_cmd
    assert "pytest" in test_cmd
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_cmd in ci_lines, ".ci/run must run the README's test command verbatim"


def _walk(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield "command", name
                yield from _walk(sub)
        elif action.help is not argparse.SUPPRESS:
            for opt in action.option_strings:
                yield "option", opt


def test_every_cli_command_and_option_is_in_the_readme():
    missing = sorted({f"{kind} {name}" for kind, name in _walk(cli.build_parser())
                      if name not in ("-h", "--help") and name not in README})
    assert not missing, f"undocumented in README.md: {missing}"


def test_every_setting_read_from_the_environment_is_documented():
    # Any quoted STEPBACK_* name in the product's code is a setting it reads
    # (directly or through a constant), and must be documented.
    used = set()
    paths = list(ROOT.glob("*.py"))
    for pkg in ("assessment", "models", "records", "reports", "serve", "ui"):
        paths += list((ROOT / pkg).rglob("*.py"))
    for path in paths:
        used |= set(re.findall(r"[\"'](STEPBACK_[A-Z_]+)[\"']", path.read_text("utf-8")))
    assert used, "expected at least STEPBACK_DATABASE_URL to be read somewhere"
    missing = sorted(s for s in used if s not in README)
    assert not missing, f"settings missing from README.md: {missing}"
