"""The app's own Kubernetes manifests (deploy/kubernetes; docs/deployment.md). No database.

Every manifest, and the base and the production overlay as rendered, validates offline against
the Kubernetes schemas kubernetes-validate ships (strict: an unknown field is an error); the
references between them hold (Secret and ConfigMap keys, Service selector, probe ports, queues).
The overlay uses only what `render` below implements, so the test needs no kustomize binary; where
kubectl is installed, its `kubectl kustomize` output must equal ours.
"""

from __future__ import annotations

import copy
import json
import os
import re
import runpy
import shlex
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "kubernetes"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"
SECRET_NAME = CONFIG_NAME = "ai-design-review"
K8S_VERSION = kubernetes_validate.latest_version()
WORKLOAD_KINDS = {"Deployment", "Job", "CronJob"}


# --- a small kustomize: resources, namespace, images, replicas, strategic-merge patches ---------

def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def strategic_merge(base: Any, patch: Any) -> Any:
    """Kubernetes' strategic merge for what our patches use: maps merge key by key; lists of maps
    that all carry `name` (containers, env, volumes, volumeMounts, ports) merge item by item on
    `name`; any other value (a command, a scalar) is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = strategic_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    named = lambda items: isinstance(items, list) and all(isinstance(i, dict) and "name" in i for i in items)
    if named(base) and named(patch):
        merged = [copy.deepcopy(item) for item in base]
        added = []
        for item in patch:
            index = next((i for i, old in enumerate(merged) if old["name"] == item["name"]), None)
            if index is None:
                added.append(copy.deepcopy(item))
            else:
                merged[index] = strategic_merge(merged[index], item)
        # kubectl kustomize puts a patch's new items before the base's.
        return added + merged
    return copy.deepcopy(patch)


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if doc["kind"] in WORKLOAD_KINDS:
        return doc["spec"]["template"]["spec"]
    return None


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(doc) or {}
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def render(directory: Path) -> list[dict[str, Any]]:
    """What `kubectl kustomize <directory>` prints, for the fields our kustomizations use (any
    other field is refused, so an overlay cannot silently outgrow this function)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - {"apiVersion", "kind", "namespace", "resources", "images", "replicas", "patches"}
    if unknown:
        raise ValueError(f"{directory}: render() does not implement {sorted(unknown)}")
    docs: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        docs += render(path) if path.is_dir() else load_all(path)
    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise ValueError(f"{directory}: only `- path: <file>` patches are implemented, got {entry}")
        (patch,) = load_all(directory / entry["path"])
        matches = [i for i, doc in enumerate(docs)
                   if (doc["kind"], doc["metadata"]["name"]) == (patch["kind"], patch["metadata"]["name"])]
        assert len(matches) == 1, f"patch {entry['path']} matches {len(matches)} resources"
        docs[matches[0]] = strategic_merge(docs[matches[0]], patch)
    for entry in kustomization.get("replicas", []):
        (doc,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == entry["name"]]
        doc["spec"]["replicas"] = entry["count"]
    for entry in kustomization.get("images", []):
        for doc in docs:
            for container in containers(doc):
                name, _, tag = container["image"].partition(":")
                if name == entry["name"]:
                    container["image"] = f"{entry.get('newName', name)}:{entry.get('newTag', tag)}"
    if "namespace" in kustomization:
        for doc in docs:
            doc["metadata"]["namespace"] = kustomization["namespace"]
    return docs


def gunicorn_settings(**environ: str) -> dict[str, Any]:
    """gunicorn.conf.py's module-level settings as gunicorn reads them, under `environ`."""
    saved = {key: os.environ.pop(key, None) for key in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS")}
    try:
        os.environ.update(environ)
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def by_kind_name(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in docs}


def secret_keys() -> set[str]:
    lines = (PRODUCTION / "secret.example.env").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line.strip() and not line.startswith("#")}


def patch_files() -> set[Path]:
    files = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        files |= {kustomization.parent / p["path"] for p in yaml.safe_load(kustomization.read_text()).get("patches", [])}
    return files


RENDERINGS = {"base": BASE, "production": PRODUCTION}


@pytest.fixture(scope="module", params=sorted(RENDERINGS))
def rendered(request) -> list[dict[str, Any]]:
    return render(RENDERINGS[request.param])


def workload(docs, name: str) -> dict[str, Any]:
    return by_kind_name(docs)[("Deployment", f"ai-design-review-{name}")]


def main_container(doc: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod_spec(doc)["containers"]
    return container


# --- validity ---------------------------------------------------------------------------------

def test_it_validates_every_manifest_file_strictly():
    files = sorted(set(K8S.rglob("*.yaml")) - set(K8S.rglob("kustomization.yaml")) - patch_files())
    assert len(files) >= 7, files
    for path in files:
        for doc in load_all(path):
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_it_validates_the_rendered_base_and_overlay_strictly(rendered):
    kinds = {doc["kind"] for doc in rendered}
    assert {"ConfigMap", "Deployment", "Service", "Job", "CronJob"} <= kinds
    for doc in rendered:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_strict_validation_rejects_an_unknown_field():
    """The check above can fail: a misspelt field is an error, not ignored."""
    doc = copy.deepcopy(workload(render(BASE), "web"))
    main_container(doc)["readinesProbe"] = main_container(doc)["readinessProbe"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="no kubectl here; render() alone is checked")
@pytest.mark.parametrize("name", sorted(RENDERINGS))
def test_render_matches_kubectl_kustomize(name):
    out = subprocess.run(["kubectl", "kustomize", str(RENDERINGS[name])], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    assert by_kind_name([d for d in yaml.safe_load_all(out) if d]) == by_kind_name(render(RENDERINGS[name]))


def test_the_overlay_sets_images_replicas_namespace_and_patches():
    docs = render(PRODUCTION)
    assert {doc["metadata"]["namespace"] for doc in docs} == {"ai-design-review"}
    assert workload(docs, "web")["spec"]["replicas"] == 3
    assert workload(docs, "worker")["spec"]["replicas"] == 2
    images = {c["image"] for doc in docs for c in containers(doc)}
    assert images == {"registry.example.com/ai-design-review:0.1.0", "registry.example.com/ai-design-review-gpu:0.1.0"}
    web = main_container(workload(docs, "web"))
    # The patch added the worker count and replaced resources, and kept what it did not name.
    assert {"name": "WEB_CONCURRENCY", "value": "4"} in web["env"]
    assert gunicorn_settings(WEB_CONCURRENCY="4")["workers"] == 4
    assert web["command"] == main_container(workload(render(BASE), "web"))["command"]
    assert web["resources"]["limits"]["memory"] == "2Gi"
    assert {"readinessProbe", "livenessProbe", "startupProbe", "env"} <= set(web)
    config = by_kind_name(docs)[("ConfigMap", CONFIG_NAME)]["data"]
    assert config["ALLOWED_HOSTS"] == "review.example.com,localhost"
    assert config["DJANGO_ENV"] == "production"  # from the base, untouched by the patch
    ingress = by_kind_name(docs)[("Ingress", "ai-design-review")]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = by_kind_name(docs)[("Service", backend["name"])]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


# --- references -------------------------------------------------------------------------------

def test_no_secret_is_committed():
    for path in K8S.rglob("*.yaml"):
        assert all(doc.get("kind") != "Secret" for doc in load_all(path)), path
    assert not (PRODUCTION / "secret.env").exists() or "secret.env" in (ROOT / ".gitignore").read_text()


def test_every_secret_and_config_reference_names_an_existing_key(rendered):
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in rendered if d["kind"] == "ConfigMap"}
    keys = secret_keys()
    used_secret_keys = set()
    for doc in rendered:
        for container in containers(doc):
            for source in container.get("envFrom", []):
                assert set(source) == {"configMapRef"}, "secrets are read key by key, never wholesale"
                assert source["configMapRef"]["name"] in configmaps
            for env in container.get("env", []):
                ref = env.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    assert ref["secretKeyRef"]["name"] == SECRET_NAME
                    assert ref["secretKeyRef"]["key"] in keys, env
                    assert ref["secretKeyRef"]["key"] == env["name"], env
                    used_secret_keys.add(env["name"])
                if "configMapKeyRef" in ref:
                    assert ref["configMapKeyRef"]["key"] in configmaps[ref["configMapKeyRef"]["name"]], env
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= used_secret_keys
    assert used_secret_keys == keys, "secret.example.env lists exactly the keys the manifests read"


def test_every_setting_is_a_documented_variable(rendered):
    documented = set(re.findall(r"^\| `([A-Z_]+)`", (ROOT / "docs" / "configuration.md").read_text(), re.M))
    documented |= {name for row in re.findall(r"^\| `([A-Z_]+)` / `([A-Z_]+)`", (ROOT / "docs" / "configuration.md").read_text(), re.M) for name in row}
    (config,) = [d for d in rendered if d["kind"] == "ConfigMap"]
    assert set(config["data"]) - documented == set()
    assert secret_keys() - documented == set()


def test_the_service_selects_the_web_pods_and_only_them(rendered):
    service = by_kind_name(rendered)[("Service", "ai-design-review-web")]
    selector = service["spec"]["selector"].items()
    for doc in rendered:
        if doc["kind"] == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items()
            assert (selector <= labels.items()) == (doc["metadata"]["name"] == "ai-design-review-web")
    ports = {p["name"]: p["containerPort"] for p in main_container(workload(rendered, "web"))["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(ports)
    assert main_container(workload(rendered, "web"))["command"] == ["gunicorn", "--config", "gunicorn.conf.py"]
    assert gunicorn_settings()["bind"] == f"0.0.0.0:{ports['http']}"


def test_the_probes_hit_healthz_on_the_container_port_with_an_allowed_host(rendered):
    (config,) = [d for d in rendered if d["kind"] == "ConfigMap"]
    allowed_hosts = config["data"]["ALLOWED_HOSTS"].split(",")
    web = main_container(workload(rendered, "web"))
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(web)
    probes = 0
    for doc in rendered:
        for container in containers(doc):
            ports = {p["name"] for p in container.get("ports", [])} | {p["containerPort"] for p in container.get("ports", [])}
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                http = container.get(kind, {}).get("httpGet")
                if http is None:
                    continue
                probes += 1
                assert http["path"] == "/healthz"
                assert http["port"] in ports, (container["name"], kind)
                # Django answers 400 to a Host outside ALLOWED_HOSTS: the kubelet's pod-IP Host would.
                hosts = [h["value"] for h in http.get("httpHeaders", []) if h["name"] == "Host"]
                assert hosts and hosts[0] in allowed_hosts, (container["name"], kind)
    assert probes == 3


def queues_consumed(container: dict[str, Any]) -> set[str]:
    command = container["command"]
    return set(command[command.index("-Q") + 1].split(","))


def test_each_worker_consumes_its_queue_and_the_gpu_worker_holds_one_gpu(rendered):
    from django.conf import settings

    worker = main_container(workload(rendered, "worker"))
    gpu = workload(rendered, "gpu-worker")
    gpu_container = main_container(gpu)
    assert queues_consumed(worker) == {"default"}
    assert queues_consumed(gpu_container) == {"gpu"}
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == {"default", "gpu"}
    assert settings.CELERY_TASK_ROUTES["reviewapp.benchmarks.tasks.*"]["queue"] == "gpu" == settings.BENCHMARK_QUEUE
    # One benchmark at a time on one GPU.
    command = gpu_container["command"]
    assert command[command.index("-P") + 1] == "solo" and command[command.index("--concurrency") + 1] == "1"
    assert gpu_container["resources"]["limits"]["nvidia.com/gpu"] == 1
    spec = pod_spec(gpu)
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert "nvidia.com/gpu" not in worker["resources"].get("limits", {})
    # Only the gpu worker runs the PyTorch image.
    for doc in rendered:
        for container in containers(doc):
            wants_gpu_image = doc is gpu
            assert container["image"].split(":")[0].endswith("-gpu") == wants_gpu_image, container["name"]


def dockerfile_uid() -> int:
    return int(re.search(r"useradd [^\n]*--uid (\d+)", (ROOT / "Dockerfile").read_text()).group(1))


def test_every_pod_runs_as_the_images_non_root_user_on_a_read_only_root(rendered):
    uid = dockerfile_uid()
    for doc in rendered:
        spec = pod_spec(doc)
        if spec is None:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == uid
        assert spec["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in containers(doc):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], (doc["metadata"]["name"], container["name"])
            assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


def test_migrations_run_in_the_job_and_the_pods_wait_for_them(rendered):
    job = by_kind_name(rendered)[("Job", "ai-design-review-migrate")]
    assert main_container(job)["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker", "gpu-worker"):
        doc = workload(rendered, name)
        (init,) = pod_spec(doc)["initContainers"]
        assert "migrate --check" in " ".join(init["command"])
        assert init["image"] == main_container(doc)["image"]
        assert "migrate" not in main_container(doc)["command"]
    cron = by_kind_name(rendered)[("CronJob", "ai-design-review-reap-benchmarks")]
    assert main_container(cron)["command"][-1] == "reap_benchmarks"
    assert (ROOT / "reviewapp/benchmarks/management/commands/reap_benchmarks.py").exists()


def test_the_commands_match_the_dockerfile_and_compose():
    """The manifests run the commands the images and docker-compose run."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    docs = render(BASE)
    assert queues_consumed(main_container(workload(docs, "worker"))) == queues_consumed(
        {"command": shlex.split(compose["worker"]["command"])})
    assert main_container(workload(docs, "gpu-worker"))["command"] == shlex.split(compose["gpu-worker"]["command"])
    # One place for gunicorn's settings: every deploy path runs it with gunicorn.conf.py alone.
    web = main_container(workload(docs, "web"))["command"]
    assert web == ["gunicorn", "--config", "gunicorn.conf.py"]
    assert " ".join(web) in compose["web"]["command"]
    assert f"CMD {json.dumps(web)}" in (ROOT / "Dockerfile").read_text()
    assert compose["gpu-worker"]["build"]["target"] == "gpu" and compose["web"]["build"]["target"] == "app"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM \S+ AS app$", dockerfile, re.M) and re.search(r"^FROM app AS gpu$", dockerfile, re.M)


def test_the_overlays_settings_pass_djangos_deployment_check(tmp_path):
    """The production ConfigMap is a configuration Django accepts for production as it is; only
    the placeholders of secret.example.env are replaced (its SECRET_KEY is too short to start)."""
    (config,) = [d for d in render(PRODUCTION) if d["kind"] == "ConfigMap"]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO", "DATABASE", "CELERY"))}
    env.update(config["data"], SECRET_KEY=secrets.token_urlsafe(50), DATA_DIR=str(tmp_path),
               DATABASE_URL=f"sqlite:///{tmp_path / 'check.sqlite3'}")
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    placeholder = dict(line.split("=", 1) for line in (PRODUCTION / "secret.example.env").read_text().splitlines()
                       if line.strip() and not line.startswith("#"))
    refused = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                             env={**env, "SECRET_KEY": placeholder["SECRET_KEY"]}, timeout=120)
    assert refused.returncode != 0 and "SECRET_KEY must be your own" in refused.stderr


def test_gunicorn_trusts_forwarded_headers_from_nobody_unless_told():
    """gunicorn's own default trusts X-Forwarded-Proto from 127.0.0.1; ours trusts only the
    addresses FORWARDED_ALLOW_IPS names (issue 27, item 9), as gunicorn itself parses them."""
    from gunicorn.config import Config

    for environ, trusted in (({}, []), ({"FORWARDED_ALLOW_IPS": "10.0.0.0/8,192.0.2.7"}, ["10.0.0.0/8", "192.0.2.7"])):
        config = Config()
        config.set("forwarded_allow_ips", gunicorn_settings(**environ)["forwarded_allow_ips"])
        assert config.forwarded_allow_ips == trusted
    settings = gunicorn_settings()
    assert settings["worker_class"] == "gthread" and settings["wsgi_app"] == "reviewapp.wsgi"


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed")
def test_the_compose_file_validates():
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(50)}
    done = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
