"""The README keeps up with the settings and leads with the two commands."""

from __future__ import annotations

from pathlib import Path

from settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme() -> None:
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]

    assert missing == []


def test_the_readme_starts_with_the_run_and_test_commands() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]

    assert "make run" in first_block
    assert "make test" in first_block
