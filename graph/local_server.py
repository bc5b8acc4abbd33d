"""The local development Neo4j: 5.26 LTS Community from Maven Central, run as a child JVM.

`neo4j/pom.xml` names the server (and Neo4j Browser) artifacts; Maven copies them into `neo4j/lib` once.
The server runs the real entry point (`org.neo4j.server.CommunityEntryPoint`) with a rendered
`neo4j.conf`, so the Python driver talks Bolt to it exactly as to a production server, with
authentication on. Data, logs and the pid file live under `Settings.neo4j_home` (`.neo4j/`).

With `RINGTRACE_NEO4J_GDS=1` (or `ringtrace neo4j start --with-gds`) the server also runs the Graph
Data Science library (Community): `neo4j/gds/pom.xml` fetches its jars into `neo4j/gds/plugins` on the
first such start; that folder is the server's plugin directory (procedures are registered from it)
and its jars also go on the JVM's class path ahead of the server's (GDS's extension loads only from
there). Without the setting nothing of GDS is fetched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

import neo4j
from graph.errors import LocalServerError
from graph.resources import resource_dir
from graph.settings import Settings
from graph.store.driver import ping

__all__ = [
    "IMPORT_FULL",
    "ServerStatus",
    "discard_database",
    "ensure_gds_jars",
    "ensure_server_jars",
    "import_full",
    "is_local",
    "private",
    "start",
    "status",
    "stop",
]

_NEO4J_DIR = resource_dir("neo4j")
_POM = _NEO4J_DIR / "pom.xml"
_LIB = _NEO4J_DIR / "lib"
_GDS_POM = _NEO4J_DIR / "gds" / "pom.xml"
_GDS_PLUGINS = _NEO4J_DIR / "gds" / "plugins"
_CONF_TEMPLATE = _NEO4J_DIR / "conf" / "neo4j.conf.template"
_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_TOOL = "org.neo4j.cli.AdminTool"
#: The neo4j-admin command of the offline bulk import (Community: into an existing, empty database).
IMPORT_FULL = ("database", "import", "full")


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    bolt_uri: str
    bolt_answers: bool
    rss_mib: float | None
    home: Path
    gds: bool = False


def ensure_server_jars() -> Path:
    """Fetch the server jars with Maven unless `neo4j/lib` already matches the pom."""
    return _fetch_jars(_POM, _LIB, "Neo4j")


def ensure_gds_jars() -> Path:
    """Fetch the Graph Data Science plugin's jars with Maven unless `neo4j/gds/plugins` matches its pom."""
    return _fetch_jars(_GDS_POM, _GDS_PLUGINS, "the Graph Data Science plugin")


def _fetch_jars(pom: Path, out: Path, what: str) -> Path:
    # The pom copies its dependencies into `out`; a stamp of the pom's digest says they are current.
    stamp = out / ".pom-sha256"
    pom_hash = hashlib.sha256(pom.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == pom_hash:
        return out
    if shutil.which("mvn") is None:
        raise LocalServerError(f"Maven (mvn) is needed to fetch {what} from Maven Central; install it")
    if out.exists():
        shutil.rmtree(out)
    done = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(pom), "package"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise LocalServerError(f"mvn could not fetch {what}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    stamp.write_text(pom_hash)
    return out


def _pid_file(settings: Settings) -> Path:
    return settings.neo4j_home / "run" / "ringtrace-neo4j.pid"


def _bolt_uri(settings: Settings) -> str:
    return f"bolt://127.0.0.1:{settings.neo4j_bolt_port}"


def _running_pid(settings: Settings) -> int | None:
    pid_file = _pid_file(settings)
    if not pid_file.exists():
        return None
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (ValueError, OSError):
        return None
    return pid if _ENTRY_POINT.encode() in cmdline else None


def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _bolt_answers(settings: Settings) -> bool:
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    try:
        with neo4j.GraphDatabase.driver(_bolt_uri(settings), auth=auth, connection_timeout=2) as driver:
            ping(driver, settings.neo4j_database)
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError):
        return False
    return True


def _runs_gds(pid: int) -> bool:
    try:
        return f"{_GDS_PLUGINS}/*".encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def status(settings: Settings) -> ServerStatus:
    pid = _running_pid(settings)
    return ServerStatus(
        running=pid is not None,
        pid=pid,
        bolt_uri=_bolt_uri(settings),
        bolt_answers=pid is not None and _bolt_answers(settings),
        rss_mib=_rss_mib(pid) if pid is not None else None,
        home=settings.neo4j_home,
        gds=pid is not None and _runs_gds(pid),
    )


def _render_config(settings: Settings, lib: Path, plugins: Path | None = None) -> Path:
    conf_dir = settings.neo4j_home / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("data", "logs", "run", "plugins", "import"):
        (settings.neo4j_home / sub).mkdir(parents=True, exist_ok=True)
    text = Template(_CONF_TEMPLATE.read_text()).substitute(
        bolt_port=settings.neo4j_bolt_port,
        http_port=settings.neo4j_http_port,
        heap=settings.neo4j_heap,
        pagecache=settings.neo4j_pagecache,
        home=settings.neo4j_home,
        lib=lib,
        plugins=plugins or settings.neo4j_home / "plugins",
    )
    (conf_dir / "neo4j.conf").write_text(text)
    return conf_dir


def _java_env(settings: Settings, conf_dir: Path) -> dict[str, str]:
    return {**os.environ, "NEO4J_HOME": str(settings.neo4j_home), "NEO4J_CONF": str(conf_dir)}


def _set_initial_password(settings: Settings, lib: Path, conf_dir: Path) -> None:
    # The password only takes effect before the first start, so do it exactly then.
    if (settings.neo4j_home / "data" / "databases" / "system").exists():
        return
    done = subprocess.run(
        ["java", "-cp", f"{lib}/*", _ADMIN_TOOL, "dbms", "set-initial-password",
         settings.neo4j_password.get_secret_value()],
        env=_java_env(settings, conf_dir), capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise LocalServerError(f"could not set the initial password: {done.stderr[-2000:]}")


def import_full(settings: Settings, arguments: list[str], log: Path) -> None:
    """Run `neo4j-admin database import full` with `arguments` (the database name first) on the local
    server's store, which must be stopped; the tool's whole output goes to `log`. Its memory is bounded
    by the heap and page cache settings (its own default would take 90% of the machine's). A failure
    raises LocalServerError with the tool's own one-line reason."""
    if _running_pid(settings) is not None:
        raise LocalServerError("the local Neo4j runs; stop it before an offline import")
    lib = ensure_server_jars()
    conf_dir = _render_config(settings, lib)
    _set_initial_password(settings, lib, conf_dir)
    command = ["java", f"-Xmx{settings.neo4j_heap}", "-cp", f"{lib}/*", _ADMIN_TOOL, *IMPORT_FULL, *arguments,
               f"--max-off-heap-memory={settings.neo4j_pagecache}"]
    with log.open("w") as output:
        done = subprocess.run(command, env=_java_env(settings, conf_dir), stdout=output, stderr=subprocess.STDOUT,
                              check=False)
    if done.returncode != 0:
        # The tool's last words say why; the rest (its progress, a stack trace) stays in the log.
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
        reason = next((line for line in reversed(lines) if "error" in line.lower() or "exception" in line.lower()),
                      lines[-1] if lines else "no output")
        raise LocalServerError(f"neo4j-admin {' '.join(IMPORT_FULL)} failed: {reason[:300]}")


def discard_database(settings: Settings, database: str) -> None:
    """Delete the stopped local server's store of `database`; the next start creates it empty."""
    if _running_pid(settings) is not None:
        raise LocalServerError("the local Neo4j runs; stop it before discarding a store")
    data = settings.neo4j_home / "data"
    for part in ("databases", "transactions"):
        shutil.rmtree(data / part / database, ignore_errors=True)


def private(settings: Settings) -> Settings:
    """The same local server on ports of its own, that no other client knows."""
    bolt, http = _free_port(), _free_port()
    return settings.model_copy(update={"neo4j_uri": f"bolt://127.0.0.1:{bolt}", "neo4j_bolt_port": bolt,
                                       "neo4j_http_port": http})


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_local(settings: Settings) -> bool:
    """Whether NEO4J_URI names the local server this process starts (loopback, its Bolt port)."""
    parsed = urlsplit(settings.neo4j_uri)
    return parsed.hostname in ("127.0.0.1", "localhost", "::1") and parsed.port == settings.neo4j_bolt_port


def _log_tail(settings: Settings, lines: int = 40) -> str:
    parts = []
    for name in ("console.log", "neo4j.log"):
        path = settings.neo4j_home / "logs" / name
        if path.exists():
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path} ---\n" + "\n".join(tail))
    return "\n".join(parts) or "(no log written)"


def start(settings: Settings, timeout: float = 120.0) -> ServerStatus:
    """Start the server unless it runs, and wait until Bolt answers a query.

    With `settings.neo4j_gds` the server runs the GDS plugin; a server already running without it is
    refused (LocalServerError) rather than silently kept, since a `--backend gds` run would then fail.
    """
    current = status(settings)
    if current.running and settings.neo4j_gds and not current.gds:
        raise LocalServerError("the local Neo4j runs without the GDS plugin; stop it (`ringtrace neo4j stop`) "
                               "and start it again with RINGTRACE_NEO4J_GDS=1 or `--with-gds`")
    if current.running and current.bolt_answers:
        return current
    if current.running:
        return _wait_for_bolt(settings, current.pid, timeout)
    if shutil.which("java") is None:
        raise LocalServerError("Java 17+ is needed to run Neo4j; install a JDK")
    for port in (settings.neo4j_bolt_port, settings.neo4j_http_port):
        if _port_in_use(port):
            raise LocalServerError(
                f"port {port} on 127.0.0.1 is taken by another process (another Neo4j?); stop it or set "
                "RINGTRACE_NEO4J_BOLT_PORT / RINGTRACE_NEO4J_HTTP_PORT"
            )
    lib = ensure_server_jars()
    # The server registers procedures from the jars of its plugin directory, and the plugin's classes
    # must also be on the class path for its extension to load: GDS needs both.
    plugins = ensure_gds_jars() if settings.neo4j_gds else None
    class_path = f"{lib}/*" if plugins is None else f"{plugins}/*:{lib}/*"
    conf_dir = _render_config(settings, lib, plugins)
    _set_initial_password(settings, lib, conf_dir)
    console = (settings.neo4j_home / "logs" / "console.log").open("ab")
    command = [
        "java",
        f"-Xms{settings.neo4j_heap}",
        f"-Xmx{settings.neo4j_heap}",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:+UseStringDeduplication",
        "-Dfile.encoding=UTF-8",
        "-cp",
        class_path,
        _ENTRY_POINT,
        f"--home-dir={settings.neo4j_home}",
        f"--config-dir={conf_dir}",
    ]
    process = subprocess.Popen(
        command, env=_java_env(settings, conf_dir), stdout=console, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    console.close()
    _pid_file(settings).write_text(str(process.pid))
    return _wait_for_bolt(settings, process.pid, timeout)


def _wait_for_bolt(settings: Settings, pid: int | None, timeout: float) -> ServerStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The pid's cmdline may still be Python's between fork and exec, so test liveness only.
        if pid is None or not _alive(pid):
            raise LocalServerError(f"Neo4j exited while starting.\n{_log_tail(settings)}")
        if _bolt_answers(settings):
            return status(settings)
        time.sleep(0.5)
    raise LocalServerError(f"Neo4j did not answer on {_bolt_uri(settings)} within {timeout:.0f} s "
                           f"(pid {pid}).\n{_log_tail(settings)}")


def stop(settings: Settings, timeout: float = 60.0) -> bool:
    """Stop the server (SIGTERM, then SIGKILL after `timeout`); False when none was running."""
    pid = _running_pid(settings)
    if pid is None:
        _pid_file(settings).unlink(missing_ok=True)
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.killpg(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)
    _pid_file(settings).unlink(missing_ok=True)
    return True


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
