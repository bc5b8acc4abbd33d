"""Without the `spark` extra every other command still works and `ringtrace spark` says what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli import app


def test_spark_detect_without_pyspark_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if not installed: importing it raises ImportError
    result = CliRunner().invoke(app, ["spark", "detect", "--bundle", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "pip install 'ringtrace[spark]'" in " ".join(result.output.split())
    assert not (tmp_path / "o").exists()


def test_the_spark_package_imports_without_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    for name in [m for m in sys.modules if m.startswith("graph.spark")]:
        monkeypatch.delitem(sys.modules, name)
    import graph.spark.bundle
    import graph.spark.communities
    import graph.spark.job  # noqa: F401  (importing is the test)
