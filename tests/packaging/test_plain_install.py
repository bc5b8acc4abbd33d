"""A plain ``pip install .`` (no extras) runs every command, the API and the default detection.

The repository is copied to a temporary folder (so the build writes no ``build/`` into the tree),
built into a wheel and installed with its real dependencies, and none of its extras, into a fresh
venv. Everything below then runs in that venv, from a folder outside the checkout, so the installed
package is what is imported. No test here touches Neo4j: the commands get an address where nothing
listens. Select these tests with ``-m packaging`` (or leave them out with ``-m 'not packaging'``);
they take a minute or two, most of it pip.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("graph", "api")
#: The only modules that may not import in a plain install, with the module they may miss (its extra).
OPTIONAL_MODULES = {"graph.detection.plm": "networkit"}  # ringtrace[fast]
#: What the extras bring: none of it may come in with a plain install, or the test proves nothing.
EXTRA_ONLY = ("networkit", "leidenalg", "pyspark")
#: Nothing listens here: a command that tried to reach Neo4j would fail rather than touch a database.
NO_NEO4J = "bolt://127.0.0.1:1"
_SKIP_DIRS = {".git", ".venv", "build", "dist", "__pycache__"}


@dataclass(frozen=True)
class PlainInstall:
    source: Path  # the copy of the repository the wheel was built from
    bin: Path  # the venv's bin/
    cwd: Path  # an empty folder outside the checkout
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=self.cwd, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def python(self, code: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bin / "python"), "-c", textwrap.dedent(code), timeout=timeout)

    def python_json(self, code: str) -> Any:
        done = self.python(code)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


def _copy_repository(dest: Path) -> None:
    """What a clone has: tracked and untracked-but-not-ignored files (a plain copy outside git)."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        shutil.copytree(ROOT, dest, ignore=lambda _dir, names: [n for n in names if n in _SKIP_DIRS
                                                               or n.endswith(".egg-info") or n.startswith(".neo4j")])
        return
    for name in filter(None, listed.stdout.split("\0")):
        path = ROOT / name
        if path.is_file():  # deleted in the work tree but still in the index: skip
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / name)


def _environment(bin_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}
           and not k.startswith(("NEO4J_", "RINGTRACE_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(bin_dir.parent),
               NEO4J_URI=NO_NEO4J, PIP_NO_INPUT="1", PYTHONNOUSERSITE="1")
    return env


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> PlainInstall:
    tmp = tmp_path_factory.mktemp("plain-install")
    source, venv, wheels, cwd = tmp / "source", tmp / "venv", tmp / "wheels", tmp / "elsewhere"
    _copy_repository(source)
    cwd.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    install = PlainInstall(source, venv / "bin", cwd, _environment(venv / "bin"))
    pip = (str(install.bin / "python"), "-m", "pip")
    built = install.run(*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source), timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = wheels.glob("ringtrace-*.whl")
    installed = install.run(*pip, "install", str(wheel), timeout=900)  # no extras: exactly `pip install .`
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return install


def test_dependencies_are_consistent_and_no_extra_came_along(plain: PlainInstall) -> None:
    checked = plain.run(str(plain.bin / "python"), "-m", "pip", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    found = plain.python_json(f"""
        import importlib.util, json
        print(json.dumps([m for m in {list(EXTRA_ONLY)!r} if importlib.util.find_spec(m) is not None]))
    """)
    assert found == [], f"a plain install brought in what only an extra should: {found}"


def test_the_commands_start(plain: PlainInstall) -> None:
    imported = plain.python("import graph.cli, api.app")
    assert imported.returncode == 0, imported.stderr[-3000:]
    ringtrace = str(plain.bin / "ringtrace")
    for args in ((ringtrace, "--help"), (ringtrace, "detect", "--help"), (str(plain.bin / "python"), "-m", "graph",
                                                                           "--help")):
        done = plain.run(*args, timeout=120)
        assert done.returncode == 0, f"{' '.join(args[-2:])}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
        assert "Usage" in done.stdout
    assert "detect" in plain.run(ringtrace, "--help").stdout
    spark = plain.run(ringtrace, "spark", "detect", "--bundle", ".", "--out", "spark-out", timeout=120)
    assert spark.returncode == 1 and "pip install 'ringtrace[spark]'" in " ".join(spark.stdout.split())


def test_every_module_imports(plain: PlainInstall) -> None:
    # A file walk, not pkgutil.walk_packages: that skips folders without __init__.py (graph/ingest),
    # which are namespace packages that import all the same.
    report = plain.python_json(f"""
        import importlib, json, pathlib
        results, where = {{}}, {{}}
        for top in {list(PACKAGES)!r}:
            package = importlib.import_module(top)
            where[top] = list(package.__path__)
            for base in map(pathlib.Path, package.__path__):
                for path in sorted(base.rglob("*.py")):
                    parts = path.relative_to(base.parent).with_suffix("").parts
                    if parts[-1] == "__main__":
                        continue  # runs the CLI when imported; checked by `python -m graph --help`
                    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                    try:
                        importlib.import_module(name)
                    except BaseException as error:
                        results[name] = [type(error).__name__, getattr(error, "name", None), str(error)]
                    else:
                        results[name] = None
        print(json.dumps({{"where": where, "results": results}}))
    """)
    for top, paths in report["where"].items():
        assert all(str(plain.bin.parent) in p for p in paths), f"{top} imported from {paths}, not the venv"
    results: dict[str, list[str | None] | None] = report["results"]
    assert len(results) > 50 and "graph.ingest.loader" in results and "api.app" in results, sorted(results)
    failed = {}
    for name, error in results.items():
        if error is None:
            continue
        kind, missing, message = error
        if kind == "ModuleNotFoundError" and missing and OPTIONAL_MODULES.get(name) == missing.split(".")[0]:
            continue
        failed[name] = f"{kind}: {message}"
    assert not failed, "modules that do not import in a plain install:\n" + "\n".join(
        f"  {name}: {message}" for name, message in sorted(failed.items()))


def test_detection_runs_without_the_fast_extra(plain: PlainInstall) -> None:
    outcome = plain.python_json("""
        import json
        import numpy as np
        from graph.detection.params import DEFAULT_METHOD, METHODS, NATURAL_RESOLUTION, DetectionParams
        from graph.detection.partition import partition_for
        from graph.errors import MissingExtraError

        # two 4-cliques joined by one weak edge
        edges = sorted([(i, j, 1.0) for group in (range(4), range(4, 8)) for i in group for j in group if i < j]
                       + [(3, 4, 0.01)])
        src = np.array([s for s, _, _ in edges], np.int32)
        dst = np.array([d for _, d, _ in edges], np.int32)
        weight = np.array([w for _, _, w in edges], np.float64)
        out = {"default": DetectionParams().method, "DEFAULT_METHOD": DEFAULT_METHOD}
        for method in METHODS:
            try:
                partition = partition_for(method)
            except MissingExtraError as error:
                out[method] = {"missing_extra": error.extra, "message": str(error)}
                continue
            labels = partition(8, src, dst, weight, resolution=NATURAL_RESOLUTION[method], seed=7)
            out[method] = {"labels": [int(x) for x in labels]}
        print(json.dumps(out))
    """)
    assert outcome["default"] == outcome["DEFAULT_METHOD"]
    plm = outcome.pop("plm")
    assert plm.get("missing_extra") == "fast", plm
    assert "'fast'" in plm["message"] and "ringtrace[fast]" in plm["message"], plm["message"]
    for method in ("leiden-cpm", "leiden-modularity", "louvain", outcome["default"]):
        labels = outcome[method].get("labels")
        assert labels is not None, f"{method} does not run in a plain install: {outcome[method]}"
        assert len(set(labels[:4])) == 1 and len(set(labels[4:])) == 1 and labels[0] != labels[4], (method, labels)


def test_package_data_ships(plain: PlainInstall) -> None:
    """Every non-Python file of graph/ and api/ is installed; the shipped scoring model loads."""
    expected = sorted(
        str(path.relative_to(plain.source)) for top in PACKAGES for path in (plain.source / top).rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    )
    installed = plain.python_json(f"""
        import importlib, json, pathlib
        from graph.scoring import default_model
        default_model()
        roots = {{top: pathlib.Path(importlib.import_module(top).__path__[0]).parent for top in {list(PACKAGES)!r}}}
        print(json.dumps([name for name in {expected!r} if not (roots[name.split("/")[0]] / name).is_file()]))
    """)
    assert installed == [], f"not in the wheel (pyproject [tool.setuptools.package-data]): {installed}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def served(plain: PlainInstall, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(plain.bin / "ringtrace"), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=plain.cwd, env=plain.env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"`ringtrace serve` exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("`ringtrace serve` did not answer within 60 s")
                time.sleep(0.25)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def test_the_api_serves(served: str) -> None:
    status, body = _get(f"{served}/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok", body
    status, body = _get(f"{served}/readyz")  # Neo4j does not answer at NO_NEO4J
    assert status == 503, body
    status, body = _get(f"{served}/v1/rings")
    assert status == 401, body  # no key configured: every /v1 route refuses


def test_the_cypher_library_and_the_server_poms_ship(plain: PlainInstall) -> None:
    listed = plain.run(str(plain.bin / "ringtrace"), "query", "--list", timeout=120)
    assert listed.returncode == 0 and "ring_members" in listed.stdout, listed.stdout + listed.stderr
    probe = plain.run(
        str(plain.bin / "python"), "-c",
        "from graph.store.schema import schema_statements; from graph.local_server import _GDS_POM, _POM; "
        "print(len(schema_statements()), _POM.is_file(), _GDS_POM.is_file())",
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    count, pom, gds_pom = probe.stdout.split()
    assert int(count) > 5 and pom == "True" and gds_pom == "True", probe.stdout
