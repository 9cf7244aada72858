"""The deployment files stay consistent with the code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.yaml_safe import parse_yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_slack_manifest_declares_what_the_handlers_use():
    manifest = parse_yaml((ROOT / "deploy" / "slack-manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "app_mentions:read",
        "chat:write",
        "commands",
        "im:history",
        "users:read",
        "users:read.email",
        "reactions:write",
        "im:write",
    } <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "app_home_opened"} <= events
    assert manifest["features"]["slash_commands"][0]["command"] == "/ecm"
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def _cli_accepts(command: str) -> None:
    """``command`` (one ``ecm-bot ...`` line, or several joined by ``&&``) runs real commands."""
    from click.testing import CliRunner

    from bot.cli import load_commands

    cli = load_commands()
    for part in command.split("&&"):
        words = part.split()
        assert words[0] == "ecm-bot", command
        result = CliRunner().invoke(cli, [*words[1:], "--help"])
        assert result.exit_code == 0, f"{part}: {result.output}"


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_procfile_processes_are_real_commands():
    processes = procfile()
    assert {"web", "worker", "release"} <= set(processes)
    for command in processes.values():
        _cli_accepts(command)


def test_the_heroku_release_phase_migrates_and_validates_the_skills():
    release = [part.strip() for part in procfile()["release"].split("&&")]
    assert release == ["ecm-bot migrate", "ecm-bot skills validate"]


def env_example() -> set[str]:
    import re

    return set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))


def test_app_json_declares_postgres_and_every_variable():
    import json

    app = json.loads((ROOT / "app.json").read_text())
    (postgres,) = [a for a in app["addons"] if a["plan"].startswith("heroku-postgresql")]
    # The attachment name makes Heroku set ECM_DATABASE_URL, the variable the bot reads.
    assert postgres["as"] + "_URL" == "ECM_DATABASE_URL"
    provided = {"PORT", "ECM_DATABASE_URL"}  # set by Heroku and by the add-on
    assert set(app["env"]) == env_example() - provided
    assert all(entry["description"] for entry in app["env"].values())
    assert set(app["formation"]) <= set(procfile())


# -- Kubernetes ---------------------------------------------------------------------------------
K8S = ROOT / "deploy" / "kubernetes"
# Validated against this Kubernetes version's schemas, bundled with kubernetes-validate (offline).
# CronJob.spec.timeZone needs 1.27+.
KUBERNETES_VERSION = "1.30"


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def by_kind(kind: str) -> list[dict]:
    return [d for p in manifests() for d in documents(p) if d["kind"] == kind]


def pod_specs() -> list[dict]:
    specs = []
    for doc in (d for p in manifests() for d in documents(p)):
        if doc["kind"] in ("Deployment", "Job"):
            specs.append(doc["spec"]["template"]["spec"])
        elif doc["kind"] == "CronJob":
            specs.append(doc["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return specs


def test_there_are_manifests_to_validate():
    names = {p.name for p in manifests()}
    assert {
        "configmap.yaml",
        "secret.example.yaml",
        "migrate-job.yaml",
        "socket-deployment.yaml",
        "http-deployment.yaml",
        "http-service.yaml",
        "sheets-sync-deployment.yaml",
        "triage-cronjob.yaml",
    } <= names


@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_every_manifest_is_valid_kubernetes(path):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")

    docs = documents(path)
    assert docs
    for doc in docs:
        # strict: unknown fields fail; an unknown kind or apiVersion raises SchemaNotFoundError.
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name}: {'.'.join(map(str, exc.path))}: {exc.message}")


def test_the_kustomization_lists_every_manifest_but_the_secret_example():
    kustomization = parse_yaml((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in manifests()} - {"secret.example.yaml"}


def test_the_kubernetes_cronjob_matches_the_triage_trigger():
    job = parse_yaml((K8S / "triage-cronjob.yaml").read_text())
    config = parse_yaml(
        (ROOT / "skills" / "manager" / "triage-and-assign" / "aspora.config.yaml").read_text()
    )
    cron = next(t["cron"] for t in config["triggers"] if "cron" in t)
    assert job["kind"] == "CronJob" and job["spec"]["concurrencyPolicy"] == "Forbid"
    assert job["spec"]["schedule"] == cron["schedule"] == "0 7,14,20 * * *"
    assert job["spec"]["timeZone"] == cron["timezone"] == "Asia/Dubai"
    container = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    # The scheduler claims the slot, records trigger `cron` and posts to ECM_TRIAGE_CHANNEL.
    assert container["command"] == ["ecm-bot", "scheduler", "--once"]


def test_the_workloads_run_the_right_commands():
    commands = {
        d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["command"]
        for d in by_kind("Deployment")
    }
    assert sorted(commands.values()) == sorted(
        [
            ["ecm-bot", "serve", "--socket"],
            ["ecm-bot", "serve", "--http"],
            ["ecm-bot", "sheets", "sync"],
            ["ecm-bot", "mcp", "--http", "--host", "0.0.0.0", "--port", "8765"],
        ]
    )
    (job,) = by_kind("Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["ecm-bot", "migrate"]
    for spec in pod_specs():
        for container in spec["containers"]:
            _cli_accepts(" ".join(container["command"]))


def test_the_http_app_has_replicas_a_service_and_probes():
    (http,) = [d for d in by_kind("Deployment") if d["metadata"]["name"] == "ecm-bot-http"]
    assert http["spec"]["replicas"] >= 2
    container = http["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    (port,) = container["ports"]
    assert port["containerPort"] == 3000
    (service,) = [s for s in by_kind("Service") if s["metadata"]["name"] == "ecm-bot-http"]
    assert service["spec"]["selector"] == http["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] in (port["name"], 3000)


def test_the_other_long_running_workloads_serve_health_on_ecm_health_port():
    for deployment in by_kind("Deployment"):
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        if "--http" in container["command"]:
            continue
        env = {e["name"]: e["value"] for e in container.get("env", [])}
        (port,) = container["ports"]
        assert int(env["ECM_HEALTH_PORT"]) == port["containerPort"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_pods_are_non_root_with_requests_the_local_image_and_no_pvc():
    for spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True
        for volume in spec.get("volumes", []):
            assert "persistentVolumeClaim" not in volume, volume
        for container in spec["containers"]:
            assert container["image"] == "ecm-bot:latest"
            assert container["imagePullPolicy"] == "IfNotPresent"
            assert {"cpu", "memory"} <= set(container["resources"]["requests"])
            refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
            assert refs == {"ecm-bot", "ecm-bot-config"}
    text = "".join(p.read_text() for p in K8S.glob("*.yaml"))
    assert "registry.example.com" not in text and "PersistentVolumeClaim" not in text


def test_the_secret_example_holds_placeholders_only():
    (secret,) = by_kind("Secret")
    for key, value in secret["stringData"].items():
        assert value in ("", "{}") or "CHANGE-ME" in value, key
    assert set(secret["stringData"]) <= env_example()
    (config,) = by_kind("ConfigMap")
    assert set(config["data"]) <= env_example()
    assert not set(config["data"]) & set(secret["stringData"])


# -- the container image ------------------------------------------------------------------------
def test_the_dockerfile_builds_the_wheel_and_installs_it_with_the_tested_script():
    text = (ROOT / "Dockerfile").read_text()
    instructions = [
        line.split(None, 1)
        for line in text.replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    froms = [rest for word, rest in instructions if word == "FROM"]
    assert len(froms) >= 2 and all(f.startswith("python:3.11-slim") for f in froms)
    assert "pip wheel" in text
    assert "scripts/install-wheel.sh" in text and "constraints.txt" in text
    assert "install-wheel.sh" in next(
        rest for word, rest in instructions if word == "RUN" and "install-wheel" in rest
    )
    users = [rest.strip() for word, rest in instructions if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any(
        word == "HEALTHCHECK" and "/healthz" in rest and "curl" not in rest
        for word, rest in instructions
    )
    assert ["ENTRYPOINT", '["ecm-bot"]'] in [[w, r.strip()] for w, r in instructions]
    assert ["CMD", '["serve"]'] in [[w, r.strip()] for w, r in instructions]


def test_the_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".ecm", ".env", ".pytest_cache", ".mypy_cache"} <= ignored


def test_the_image_copies_what_the_wheel_build_needs():
    text = (ROOT / "Dockerfile").read_text()
    ignored = set((ROOT / ".dockerignore").read_text().split())
    for needed in ("pyproject.toml", "setup.py", "MANIFEST.in", "bot", "skills", "shared"):
        assert needed in text and needed not in ignored, needed
    assert "scripts" not in ignored


def test_env_example_lists_every_variable_the_code_reads():
    import re

    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    used = set()
    for path in (ROOT / "bot").rglob("*.py"):
        used |= set(
            re.findall(r"""env(?:iron)?\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", path.read_text())
        )
        used |= set(re.findall(r"""os\.environ\[["']([A-Z][A-Z0-9_]+)["']\]""", path.read_text()))
    wsgi = {"PATH_INFO", "REQUEST_METHOD", "CONTENT_LENGTH", "CONTENT_TYPE"}  # request keys
    used = {v for v in used if v not in wsgi and not v.startswith("HTTP_")}
    missing = sorted(used - documented)
    assert not missing, f".env.example lacks {missing}"
