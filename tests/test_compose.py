"""docker-compose.yml checked against the project (no Docker engine here): every image builds
from files that exist, commands and paths exist, volumes line up, the DAG folder is mounted,
and no secret is written in clear."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml

from tests.conftest import PROJECT

AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|_KEY$|TOKEN|SQL_ALCHEMY_CONN|BROKER_URL|RESULT_BACKEND")
VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def _image_files(service: dict) -> tuple[Path, Path]:
    build = service["build"]
    context = (PROJECT / build["context"]).resolve()
    return context, context / build.get("dockerfile", "Dockerfile")


def _dockerfile(path: Path) -> list[tuple[str, str]]:
    """Instructions (upper-case keyword, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _copies(path: Path) -> list[tuple[list[str], str]]:
    """COPY sources and destination (from the build context, not other stages)."""
    out = []
    for word, rest in _dockerfile(path):
        if word == "COPY" and "--from" not in rest:
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]
            out.append((parts[:-1], parts[-1]))
    return out


def _image_path(copies, workdir: str, container_path: str, context: Path) -> Path | None:
    """The build-context file that ends up at container_path, if a COPY puts it there."""
    target = PurePosixPath(container_path)
    for sources, dest in copies:
        dest_path = PurePosixPath(dest if dest.startswith("/") else f"{workdir}/{dest}")
        for src in sources:
            if len(sources) > 1 or dest.endswith("/"):
                candidate = dest_path / PurePosixPath(src).name
                if target == candidate:
                    return context / src
                if target.is_relative_to(candidate):
                    return context / src / target.relative_to(candidate)
            else:
                if target == dest_path:
                    return context / src
                if target.is_relative_to(dest_path) and (context / src).is_dir():
                    return context / src / target.relative_to(dest_path)
    return None


def test_every_component_is_there(services):
    assert {"postgres", "redis", "airflow-init", *AIRFLOW_SERVICES, "superset", "superset-init"} <= set(services)
    for name, cmd in AIRFLOW_SERVICES.items():
        assert " ".join(services[name]["command"]) == cmd, name
        env = _env(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert (
            env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
            and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
        )
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy"
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
    for name, svc in services.items():
        for dep in svc.get("depends_on") or {}:
            assert dep in services, f"{name} depends on unknown service {dep}"
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["redis"]


def test_airflow_commands_exist():
    """The Airflow sub-commands the services run are real; `celery` comes from the celery
    provider, which the image installs from the locked `deploy` dependency group."""
    from airflow.cli import cli_config

    core = {c.name: c for c in cli_config.core_commands}
    for cmd in AIRFLOW_SERVICES.values():
        if cmd != "celery worker":
            assert cmd in core, cmd
    assert "migrate" in {s.name for s in core["db"].subcommands}
    import tomllib

    deploy = tomllib.loads((PROJECT / "pyproject.toml").read_text())["dependency-groups"]["deploy"]
    lock = (PROJECT / "uv.lock").read_text()
    for provider in (
        "apache-airflow-providers-celery",
        "apache-airflow-providers-postgres",
        "apache-airflow-providers-fab",
    ):
        assert any(req.startswith(provider) for req in deploy), provider
        assert f'name = "{provider}"' in lock, f"{provider} is not locked: run uv lock"
    assert "--group deploy" in (PROJECT / "Dockerfile").read_text()
    auth = _env_of_common()["AIRFLOW__CORE__AUTH_MANAGER"]
    assert auth.startswith("airflow.providers.fab.")


def _env_of_common() -> dict:
    return _env(yaml.safe_load((PROJECT / "docker-compose.yml").read_text())["services"]["airflow-scheduler"])


def test_images_build_from_files_that_exist(services):
    built = {name: svc for name, svc in services.items() if "build" in svc}
    assert set(AIRFLOW_SERVICES) | {"airflow-init", "superset-init"} <= set(built)
    for name, svc in built.items():
        context, dockerfile = _image_files(svc)
        assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
        instructions = _dockerfile(dockerfile)
        base = next(rest for word, rest in instructions if word == "FROM")
        assert ":" in base and not base.endswith(":latest"), f"{name}: pin the base image ({base})"
        for sources, _ in _copies(dockerfile):
            for src in sources:
                assert (context / src).exists(), f"{name}: COPY {src} is not in {context}"
    # Services that reuse an image name without building it share one built by another service.
    images = {svc.get("image") for svc in built.values()}
    for name, svc in services.items():
        if "build" not in svc and svc["image"].endswith(":local"):
            assert svc["image"] in images, name


def test_project_image_installs_the_lock(services):
    context, dockerfile = _image_files(services["airflow-worker"])
    assert context == PROJECT
    text = dockerfile.read_text()
    # Exactly the lock, with the deployment group and without the dev tools; nothing unpinned.
    syncs = re.findall(r"uv sync ([^\n\\&]*)", text)
    assert syncs and all("--frozen" in s and "--no-dev" in s and "--group deploy" in s for s in syncs), syncs
    assert "pip install" not in text.replace('pip install --no-cache-dir "uv==${UV_VERSION}"', "")
    uv_version = re.search(r"^UV_VERSION := (\S+)", (PROJECT / "Makefile").read_text(), re.M).group(1)
    assert f"ARG UV_VERSION={uv_version}" in text
    env = dict(re.findall(r"(\w+)=(\S+)", text.split("ENV", 1)[1].split("RUN", 1)[0]))
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/swpm/dags" and env["SWPM_HOME"] == "/data/swpm"


def test_commands_and_scripts_exist(services):
    for name, svc in services.items():
        if "build" not in svc and not svc["image"].endswith(":local"):
            continue
        ref = (
            svc
            if "build" in svc
            else next(s for s in services.values() if s.get("image") == svc["image"] and "build" in s)
        )
        context, dockerfile = _image_files(ref)
        copies = _copies(dockerfile)
        workdir = next((rest for word, rest in _dockerfile(dockerfile) if word == "WORKDIR"), "/")
        for argv in (svc.get("entrypoint"), svc.get("command")):
            for arg in argv or []:
                if arg.startswith("/") and arg.endswith((".sh", ".py")):
                    source = _image_path(copies, workdir, arg, context)
                    assert source is not None and source.is_file(), f"{name}: {arg} is not put in the image"
                    if arg.endswith(".sh"):
                        res = subprocess.run(["bash", "-n", str(source)], capture_output=True, text=True)
                        assert res.returncode == 0, res.stderr
    # The bootstrap scripts call what exists.
    init = (PROJECT / "bi" / "docker-init.sh").read_text()
    assert "python /app/swpm/bootstrap.py --init" in init
    compile((PROJECT / "bi" / "bootstrap.py").read_text(), "bootstrap.py", "exec")
    compile((PROJECT / "bi" / "superset_config.py").read_text(), "superset_config.py", "exec")


def test_superset_image_installs_its_lock(services):
    """The Superset image installs bi/superset/uv.lock (as make bi and the tests do), no floating
    version, with the bundle and bootstrap bi/bootstrap.py imports."""
    context, dockerfile = _image_files(services["superset-init"])
    assert context == PROJECT / "bi"
    text = dockerfile.read_text()
    syncs = re.findall(r"uv sync ([^\n\\&]*)", text)
    assert syncs and all("--frozen" in s and "--no-dev" in s for s in syncs), syncs
    assert "pip install" not in text.replace('pip install --no-cache-dir "uv==${UV_VERSION}"', "")
    uv_version = re.search(r"^UV_VERSION := (\S+)", (PROJECT / "Makefile").read_text(), re.M).group(1)
    assert f"ARG UV_VERSION={uv_version}" in text
    copied = {src for sources, _ in _copies(dockerfile) for src in sources}
    assert {"superset/uv.lock", "bootstrap.py", "superset_config.py", "bundle"} <= copied


def _interpolate(text: str) -> str:
    """Compose's variable substitution with the defaults (a variable without one stays named)."""
    return VAR.sub(lambda m: m.group(3) if m.group(2) == "-" else f"<{m.group(1)}>", text)


def _mounts(svc) -> list[tuple[str, str, str]]:
    out = []
    for v in svc.get("volumes") or []:
        parts = _interpolate(v).split(":")
        out.append((parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"))
    return out


def test_dag_folder_mounted_where_airflow_reads_it(services):
    for name in list(AIRFLOW_SERVICES) + ["airflow-init"]:
        dags_folder = _env(services[name])["AIRFLOW__CORE__DAGS_FOLDER"]
        mounts = {t: (h, mode) for h, t, mode in _mounts(services[name])}
        host, mode = mounts[dags_folder]
        assert (PROJECT / host).resolve() == PROJECT / "dags" and mode == "ro", name


def test_data_volumes_line_up(compose, services):
    worker = services["airflow-worker"]
    home = _env(worker)["SWPM_HOME"]
    mounts = {t: h for h, t, _ in _mounts(worker)}
    hosts = {}
    for folder in ("landing", "quarantine", "warehouse", "serving"):
        assert f"{home}/{folder}" in mounts, f"worker lacks {home}/{folder}"
        hosts[folder] = mounts[f"{home}/{folder}"]
        assert hosts[folder].endswith(f"/{folder}")
    assert {t: h for h, t, _ in _mounts(services["airflow-init"]) if t.startswith(home)} == {
        f"{home}/{f}": h for f, h in hosts.items()
    }
    # Superset reads the very folder the worker publishes into, read-only, at the path its
    # bootstrap connects to.
    for name in ("superset", "superset-init"):
        ss = {t: (h, mode) for h, t, mode in _mounts(services[name])}
        snapshot = _env(services[name])["SWPM_SNAPSHOT"]
        target = str(PurePosixPath(snapshot).parent)
        assert ss[target] == (hosts["serving"], "ro"), name
        assert not any(t.startswith(home) and t != target for t in ss), f"{name} sees more than serving/"
    named = {h for svc in services.values() for h, _, _ in _mounts(svc) if not h.startswith((".", "/", "$"))}
    assert named <= set(compose.get("volumes") or {}), named


def test_no_secret_in_clear(services):
    text = (PROJECT / "docker-compose.yml").read_text()
    example = (PROJECT / ".env.example").read_text()
    declared = dict(re.findall(r"^(\w+)=(.*)$", example, re.M))
    for name, svc in services.items():
        for key, value in _env(svc).items():
            if SECRET_NAME.search(key):
                value = str(value)
                for var, _op, _ in VAR.findall(value):
                    assert var in declared, f"{name}: {var} not in .env.example"
                assert VAR.search(value), f"{name}: {key} is not taken from .env"
                literal = VAR.sub("", value)  # what is left is written in the file
                if "://" in literal:
                    assert not re.search(r"://[^/@]*:[^/@]+@", literal), f"{name}: {key} holds a literal password"
                else:
                    assert literal == "", f"{name}: {key} holds a literal value"
    # A secret variable has no default in the compose file: a missing one stops `compose up`.
    for var, op, _ in VAR.findall(text):
        if SECRET_NAME.search(var):
            assert op in ("", "?"), f"{var} has a default value"
            assert declared.get(var, "") == "", f".env.example gives {var} a value: leave secrets empty"
    # .env itself is never committed.
    assert ".env" in (PROJECT / ".gitignore").read_text().split()
    tracked = subprocess.run(["git", "ls-files", ".env"], cwd=PROJECT, capture_output=True, text=True).stdout
    assert tracked.strip() == ""
    # Every variable the compose file needs without a default is in .env.example.
    for var, op, _ in VAR.findall(text):
        if op != "-":
            assert var in declared, var
