"""The `deploy=kubernetes` answer: Kustomize manifests that agree with the project.

Rendered with pytest-copie, offline. Every manifest must match the Kubernetes schemas
that kubernetes-validate ships (nothing is downloaded) for the versions below; the
kustomizations must list files that exist and change only what Kustomize fields can;
and the manifests must agree with the rest of the project: the Dockerfile's user and
port, the health routes, the settings, the migration command.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from helpers import CATEGORY, CATEGORY_SERVICE_EDIT, CATEGORY_SERVICE_TEST, git

from apiforge.add import AddOptions, add_resource
from apiforge.gates import GATES, find_python, project_env, run_gates
from apiforge.matrix import build_matrix
from apiforge.pgserver import PostgresServer
from apiforge.template import bundled_template_dir, load_config, load_questions
from apiforge.template import template_environment as environment
from apiforge.tools import find_uv

# The oldest Kubernetes release the manifests support, and the newest whose schemas the
# locked kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.31.0", "1.37.0")
MANIFESTS = ("configmap", "migrate-job", "deployment", "service", "hpa", "pdb")
WORKER_MANIFESTS = ("worker", "scheduler")  # with worker=taskiq
SECRETS = {"SECRET_KEY", "DATABASE_URL"}
# Read by the server (uvicorn) or by OpenTelemetry, not by the settings.
SERVER_VARIABLES = {"WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "OTEL_SERVICE_NAME"}
# With observability: Prometheus scrapes each pod on its own port, with no token.
METRICS_PORT = 9100
# Settings that a deployment leaves unset: a one-off bootstrap (better done with
# `python -m src.cli create-superuser`) and a switch for test suites only.
LEFT_UNSET = {"FIRST_SUPERUSER_EMAIL", "FIRST_SUPERUSER_PASSWORD", "ARGON2_ALLOW_WEAK_PARAMETERS"}
# The fields of a Kustomization that change what the base renders without new manifests.
KUSTOMIZATION_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "images",
    "replicas",
    "patches",
    "labels",
    "commonAnnotations",
}
DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

Render = Callable[..., Path]


@pytest.fixture(scope="module")
def render(copie_session: Any, template_dir: Path) -> Render:
    """Render the template once per set of answers (PostgreSQL and Kubernetes unless given)."""
    cache: dict[tuple[tuple[str, str], ...], Path] = {}

    def make(**answers: str) -> Path:
        answers = {"database": "postgresql", "deploy": "kubernetes", **answers}
        key = tuple(sorted(answers.items()))
        if key not in cache:
            result = copie_session.copy(extra_answers=answers, template_dir=template_dir)
            assert result.exit_code == 0, result.exception
            cache[key] = result.project_dir
        return cache[key]

    return make


@pytest.fixture(
    scope="module",
    params=[("none", "false"), ("taskiq", "false"), ("taskiq", "true")],
    ids=["api", "api+worker", "api+worker+observability"],
)
def project(render: Render, request: pytest.FixtureRequest) -> Path:
    worker, observability = request.param
    # The longest name the question accepts, with the characters a slug turns into '-'.
    name = "Shop_API-" + "x" * 41
    return render(project_name=name, worker=worker, observability=observability)


def _has_worker(project: Path) -> bool:
    return (project / "src" / "worker").is_dir()


def _has_observability(project: Path) -> bool:
    return (project / "src" / "observability").is_dir()


def _secrets(project: Path) -> set[str]:
    """The settings the pods read from the Secret."""
    return (
        SECRETS
        | ({"REDIS_URL"} if _has_worker(project) else set())
        | ({"SENTRY_DSN"} if _has_observability(project) else set())
    )


def _left_unset(project: Path) -> set[str]:
    """Settings the manifests leave unset; the metrics token too, when Prometheus scrapes
    the pods' metrics port instead."""
    return LEFT_UNSET | ({"METRICS_TOKEN"} if _has_observability(project) else set())


def _worker_manifests(project: Path) -> dict[str, dict[str, Any]]:
    """The worker's and the scheduler's Deployments, by file name."""
    return {name: _load(project / "k8s" / "base" / f"{name}.yaml") for name in WORKER_MANIFESTS}


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _manifests(project: Path) -> dict[str, dict[str, Any]]:
    """The base's manifests by kind."""
    documents = [_load(project / "k8s" / "base" / f"{name}.yaml") for name in MANIFESTS]
    return {document["kind"]: document for document in documents}


def _pod_specs(manifests: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield manifests["Deployment"]["spec"]["template"]["spec"]
    yield manifests["Job"]["spec"]["template"]["spec"]


def _containers(manifests: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for pod in _pod_specs(manifests):
        yield from pod.get("initContainers", [])
        yield from pod["containers"]


def _dockerfile(project: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (project / "Dockerfile").read_text(encoding="utf-8"))
    pairs = []
    for line in text.splitlines():
        keyword, _, args = line.strip().partition(" ")
        if keyword and not keyword.startswith("#"):
            pairs.append((keyword.upper(), args.strip()))
    return pairs


# --- Which projects get manifests -------------------------------------------------


@pytest.mark.parametrize("deploy", ["compose", "kubernetes"])
def test_only_the_kubernetes_answer_renders_manifests(render: Render, deploy: str) -> None:
    project = render(deploy=deploy)
    assert (project / "k8s").exists() == (deploy == "kubernetes")
    assert (project / "compose.yaml").is_file()  # local development keeps compose
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert ("## Deploy on Kubernetes" in readme) == (deploy == "kubernetes")


def test_the_default_is_compose() -> None:
    [question] = [q for q in load_questions(bundled_template_dir()) if q.name == "deploy"]
    assert question.default == "compose"
    assert tuple(question.choices) == ("compose", "kubernetes")


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"database": "sqlite"}, "answer database=postgresql"),
        ({"project_name": "shop-"}, "ends with one"),
        ({"project_name": "s" * 51}, "at most 50 characters"),
    ],
)
def test_kubernetes_refuses_sqlite_and_names_it_cannot_use(
    copie_session: Any, template_dir: Path, answers: dict[str, str], message: str
) -> None:
    result = copie_session.copy(
        extra_answers={"database": "postgresql", "deploy": "kubernetes", **answers},
        template_dir=template_dir,
    )
    assert result.exit_code != 0
    assert message in str(result.exception)


def test_the_pairwise_matrix_varies_deploy_and_reports_sqlite_as_refused() -> None:
    folder = bundled_template_dir()
    matrix = build_matrix(load_questions(folder), "pairwise", env=environment(load_config(folder)))
    assert "deploy" in [axis.name for axis in matrix.axes]
    valid = {(c.answers["database"], c.answers["deploy"]) for c in matrix.valid}
    assert ("postgresql", "kubernetes") in valid
    assert ("sqlite", "compose") in valid
    refused = [c for c in matrix.invalid if c.answers.get("deploy") == "kubernetes"]
    assert refused, "the refused pair sqlite+kubernetes should be reported"
    assert all(c.answers["database"] == "sqlite" for c in refused)


# --- Schemas and Kustomize -----------------------------------------------------------


def _schema_errors(project: Path, version: str) -> list[str]:
    """What the Kubernetes schemas of *version* (strict: no unknown fields) find wrong."""
    errors = []
    base = project / "k8s" / "base"
    for name in _load(base / "kustomization.yaml")["resources"]:
        document = _load(base / name)
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{name} at {'.'.join(map(str, exc.path))}: {exc.message}")
    return errors


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_matches_the_kubernetes_schemas(project: Path, version: str) -> None:
    assert _schema_errors(project, version) == []


def test_the_schemas_find_a_field_kubernetes_does_not_have(project: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(project / "k8s", broken / "k8s")
    service = broken / "k8s" / "base" / "service.yaml"
    service.write_text(service.read_text().replace("  type: ClusterIP", "  kind: ClusterIP"))
    assert [error.split(" at ")[0] for error in _schema_errors(broken, "1.31.0")] == [
        "service.yaml"
    ]


def test_the_base_lists_every_manifest_and_nothing_else(project: Path) -> None:
    base = project / "k8s" / "base"
    kustomization = _load(base / "kustomization.yaml")
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    assert set(kustomization) <= KUSTOMIZATION_FIELDS
    on_disk = sorted(path.name for path in base.iterdir() if path.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == on_disk
    assert len(kustomization["resources"]) == len(set(kustomization["resources"]))


def test_the_overlay_changes_only_kustomization_fields_of_what_the_base_has(
    project: Path,
) -> None:
    overlay = project / "k8s" / "overlays" / "production"
    assert [path.name for path in overlay.iterdir()] == ["kustomization.yaml"]
    kustomization = _load(overlay / "kustomization.yaml")
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    assert set(kustomization) <= KUSTOMIZATION_FIELDS
    for resource in kustomization["resources"]:
        assert (overlay / resource / "kustomization.yaml").is_file(), resource
    assert DNS_LABEL.match(kustomization["namespace"])

    manifests = _manifests(project)
    images = {container["image"] for container in _containers(manifests)}
    for image in kustomization["images"]:
        assert image["name"] in images
        assert set(image) <= {"name", "newName", "newTag", "digest"}
        assert isinstance(image.get("newTag", ""), str)
    for patch in kustomization["patches"]:
        target = patch["target"]
        document = manifests[target["kind"]]
        assert document["metadata"]["name"] == target["name"]
        for operation in yaml.safe_load(patch["patch"]):
            assert operation["op"] == "replace"
            node = document
            for part in operation["path"].strip("/").split("/"):
                assert part in node, f"{target['kind']} has no {operation['path']}"
                node = node[part]
            assert type(node) is type(operation["value"])


def test_names_fit_kubernetes_and_every_reference_finds_its_object(project: Path) -> None:
    manifests = _manifests(project)
    deployment = manifests["Deployment"]
    for document in manifests.values():
        name = document["metadata"]["name"]
        assert DNS_LABEL.match(name), name
        assert len(name) <= 63, name
        for value in document["metadata"]["labels"].values():
            assert DNS_LABEL.match(value), value
            assert len(value) <= 63, value

    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == pod_labels
    assert manifests["Service"]["spec"]["selector"] == pod_labels
    assert manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == pod_labels
    job_labels = manifests["Job"]["spec"]["template"]["metadata"]["labels"]
    assert not set(pod_labels.items()) <= set(job_labels.items())  # the Service skips it
    target = manifests["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count

    config = manifests["ConfigMap"]["metadata"]["name"]
    secret_names = set()
    for container in _containers(manifests):
        assert container["envFrom"] == [{"configMapRef": {"name": config}}]
        references = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in container["env"]}
        assert SECRETS <= set(references) <= _secrets(project)  # the Job needs no Redis
        assert all(reference["key"] == name for name, reference in references.items())
        # Only what the service can do without is optional.
        optional = {name for name, reference in references.items() if reference.get("optional")}
        assert optional <= {"SENTRY_DSN"}
        secret_names |= {reference["name"] for reference in references.values()}
    assert len(secret_names) == 1
    assert "Secret" not in manifests  # secrets are only referred to, never shipped


# --- Agreement with the rest of the project -------------------------------------------


def test_pods_run_as_the_images_user_on_its_port_and_probe_its_health_routes(
    project: Path,
) -> None:
    dockerfile = _dockerfile(project)
    [user] = [args for keyword, args in dockerfile if keyword == "USER"]
    uid, gid = (int(part) for part in user.split(":"))
    [exposed] = [int(args) for keyword, args in dockerfile if keyword == "EXPOSE"]
    [command] = [args for keyword, args in dockerfile if keyword == "CMD"]
    assert f"--port {exposed}" in command
    assert "alembic" not in command  # the image serves only; migrations run in the Job

    manifests = _manifests(project)
    for pod in _pod_specs(manifests):
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid)
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        mounts = {volume["name"]: volume for volume in pod.get("volumes", [])}
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            for mount in container.get("volumeMounts", []):
                assert "emptyDir" in mounts[mount["name"]]
    for container in _containers(manifests):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert set(container["resources"]) == {"requests", "limits"}
        assert set(container["resources"]["limits"]) == {"cpu", "memory"}

    [api] = manifests["Deployment"]["spec"]["template"]["spec"]["containers"]
    http = {"name": "http", "containerPort": exposed, "protocol": "TCP"}
    metrics = {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}
    assert api["ports"] == ([http, metrics] if _has_observability(project) else [http])
    routes = _health_routes(project)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert api[probe]["httpGet"]["port"] == "http"
        assert api[probe]["httpGet"]["path"] in routes
    assert api["readinessProbe"]["httpGet"]["path"] == "/api/health/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/api/health"
    assert manifests["Service"]["spec"]["ports"][0]["targetPort"] == "http"


def _health_routes(project: Path) -> set[str]:
    """The paths of src/api/routes/health.py, as served under the API's prefix."""
    routes = (project / "src" / "api" / "routes" / "__init__.py").read_text(encoding="utf-8")
    [api] = re.findall(r'APIRouter\(prefix="([^"]*)"\)', routes)
    health = (project / "src" / "api" / "routes" / "health.py").read_text(encoding="utf-8")
    [prefix] = re.findall(r'APIRouter\(prefix="([^"]*)"', health)
    return {api + prefix + path for path in re.findall(r'@router\.get\("([^"]*)"', health)}


def test_the_configmap_holds_every_setting_but_the_secrets(project: Path) -> None:
    config = (project / "src" / "core" / "config.py").read_text(encoding="utf-8")
    body = config.split("class Settings(BaseSettings):", 1)[1].split("\n    @", 1)[0]
    settings = {name.upper() for name in re.findall(r"^    ([a-z_0-9]+): ", body, re.M)}
    secrets, left_unset = _secrets(project), _left_unset(project)
    assert settings >= secrets | left_unset

    data = _manifests(project)["ConfigMap"]["data"]
    assert all(isinstance(value, str) for value in data.values())
    assert set(data) - SERVER_VARIABLES <= settings, "the ConfigMap sets unknown settings"
    assert not set(data) & (secrets | left_unset)
    missing = settings - secrets - left_unset - set(data)
    assert not missing, f"add these settings to k8s/base/configmap.yaml: {sorted(missing)}"


def test_migrations_run_once_in_a_job_and_pods_wait_for_them(project: Path) -> None:
    manifests = _manifests(project)
    job = manifests["Job"]["spec"]
    assert (job["parallelism"], job["completions"]) == (1, 1)
    assert job["podReplacementPolicy"] == "Failed"  # never two migrating pods at once
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    [migrate] = job["template"]["spec"]["containers"]
    assert migrate["command"] == ["alembic", "upgrade", "head"]

    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    assert all("alembic" not in container.get("command", []) for container in pod["containers"])
    [wait] = pod["initContainers"]
    assert wait["command"][:4] == ["python", "-m", "src.cli", "wait-for-migrations"]
    assert wait["image"] == migrate["image"] == pod["containers"][0]["image"]
    cli = (project / "src" / "cli.py").read_text(encoding="utf-8")
    assert '"wait-for-migrations"' in cli
    timeout = float(wait["command"][wait["command"].index("--timeout") + 1])
    assert timeout <= job["activeDeadlineSeconds"]
    strategy = manifests["Deployment"]["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0  # old pods serve until new ones are ready


def test_readme_explains_the_secret_and_a_release(project: Path) -> None:
    readme = (project / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deploy on Kubernetes", 1)[1].split("\n## ", 1)[0]
    secret = _manifests(project)["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    secret_name = secret["env"][0]["valueFrom"]["secretKeyRef"]["name"]
    commands = [
        shlex.split(line.strip())
        for line in section.splitlines()
        if line.strip().startswith("kubectl ")
    ]
    created = [c for c in commands if c[:3] == ["kubectl", "create", "secret"]]
    assert created
    assert secret_name in created[0]
    required = _secrets(project) - {"SENTRY_DSN"}
    assert all(any(f"--from-literal={key}=" in w for w in created[0]) for key in required)
    assert ("`SENTRY_DSN` key" in section) == _has_observability(project)
    assert any(c[:3] == ["kubectl", "delete", "job"] for c in commands)
    assert any(c[:3] == ["kubectl", "apply", "-k"] for c in commands)
    for command in commands:
        for word in command:
            if word.startswith("k8s/"):
                assert (project / word).exists(), word


# --- Turning it on later ------------------------------------------------------------

# Run in the project: the ConfigMap's values (as the pods' environment) are valid settings.
LOAD_CONFIGMAP = """
import os, sys, yaml
os.environ.update(yaml.safe_load(open("k8s/base/configmap.yaml"))["data"])
from src.core.config import load_settings
settings = load_settings()
print(settings.password_hash_concurrency, settings.db_pool_size)
"""


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.usefixtures("git_identity")
def test_an_existing_project_turns_kubernetes_on_with_update_and_stays_green(
    tmp_path: Path, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiforge.new import NewOptions, create_project
    from apiforge.update import UpdateOptions, update_project

    urls = {
        "DATABASE_URL": postgres.create_database("shop_k8s"),
        "TEST_DATABASE_URL": postgres.create_database("shop_k8s_test"),
    }
    for name, url in urls.items():
        monkeypatch.setenv(name, url)
    project = create_project(
        NewOptions(target=tmp_path / "shop", data={"database": "postgresql"})
    ).path
    add_resource(AddOptions(name="category", fields=CATEGORY, project=project))
    service = project / "src/services/category.py"
    service.write_text(service.read_text() + CATEGORY_SERVICE_EDIT)
    (project / "tests/test_services/test_category_describe.py").write_text(CATEGORY_SERVICE_TEST)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team: describe categories")
    assert not (project / "k8s").exists()

    result = update_project(UpdateOptions(project=project, data={"deploy": "kubernetes"}))

    assert result.committed
    assert result.conflicts == []
    assert result.findings.problems == []
    assert git(project, "status", "--porcelain") == ""
    assert "deploy: kubernetes" in (project / ".copier-answers.yml").read_text()
    assert "def describe()" in service.read_text()
    assert (project / "src/api/routes/categories.py").is_file()
    assert "## Deploy on Kubernetes" in (project / "README.md").read_text()
    for version in KUBERNETES_VERSIONS:
        assert _schema_errors(project, version) == []

    python = find_python((project / ".python-version").read_text().strip())
    env = project_env(urls, python=python)
    results = run_gates(project, env=env, gates=GATES)
    failed = [gate for gate in results if not gate.ok]
    assert not failed, "\n\n".join(f"[{gate.name}] {gate.output[-4000:]}" for gate in failed)
    loaded = subprocess.run(
        [find_uv(), "run", "--no-sync", "python", "-c", LOAD_CONFIGMAP],
        cwd=project,
        env={**env, "SECRET_KEY": "k8s-test-7f3a9c1e5b2d8f4a6c0e9b3d7a1f5c8e2b6d"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["1", "10"]

    head = git(project, "rev-parse", "HEAD")
    again = update_project(UpdateOptions(project=project))
    assert again.up_to_date
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain") == ""


def test_the_worker_and_the_scheduler_run_as_compose_runs_them(project: Path) -> None:
    if not _has_worker(project):
        assert not any((project / "k8s" / "base" / f"{n}.yaml").exists() for n in WORKER_MANIFESTS)
        return
    compose = _load(project / "compose.yaml")["services"]
    api = _manifests(project)["Deployment"]["spec"]["template"]["spec"]
    for name, deployment in _worker_manifests(project).items():
        spec = deployment["spec"]
        pod = spec["template"]["spec"]
        assert spec["selector"]["matchLabels"] == spec["template"]["metadata"]["labels"]
        assert spec["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == name
        [container] = pod["containers"]
        assert container["command"] == compose[name]["command"]
        assert container["image"] == api["containers"][0]["image"]
        # No HTTP, so no Service selects them; the worker's metrics are scraped per pod.
        ports = [port["name"] for port in container.get("ports", [])]
        assert ports == (["metrics"] if name == "worker" and _has_observability(project) else [])
        assert pod["securityContext"] == api["securityContext"]
        assert container["securityContext"] == api["containers"][0]["securityContext"]
        [wait] = pod["initContainers"]
        assert wait["command"] == api["initContainers"][0]["command"]
        references = {item["name"] for item in container["env"]}
        # The scheduler runs no task, so reports no error.
        assert references == _secrets(project) - ({"SENTRY_DSN"} if name == "scheduler" else set())
    scheduler = _worker_manifests(project)["scheduler"]["spec"]
    assert scheduler["replicas"] == 1  # two would send every periodic task twice
    assert scheduler["strategy"] == {"type": "Recreate"}


def test_prometheus_scrapes_every_pod_on_the_metrics_port_outside_the_service(
    project: Path,
) -> None:
    manifests = _manifests(project)
    deployments = [manifests["Deployment"]]
    if _has_worker(project):
        deployments.append(_worker_manifests(project)["worker"])
    data = manifests["ConfigMap"]["data"]
    service_ports = {port["port"] for port in manifests["Service"]["spec"]["ports"]}
    if not _has_observability(project):
        assert "METRICS_PORT" not in data
        for deployment in deployments:
            assert "annotations" not in deployment["spec"]["template"]["metadata"]
        return
    assert (data["METRICS_PORT"], data["METRICS_HOST"]) == (str(METRICS_PORT), "0.0.0.0")
    assert METRICS_PORT not in service_ports
    for deployment in deployments:
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(METRICS_PORT),
            "prometheus.io/path": "/metrics",
        }
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert METRICS_PORT in {port["containerPort"] for port in container["ports"]}
    if _has_worker(project):
        [worker] = _worker_manifests(project)["worker"]["spec"]["template"]["spec"]["containers"]
        command = worker["command"]
        assert command[command.index("--workers") + 1] == "1"  # one port per pod
