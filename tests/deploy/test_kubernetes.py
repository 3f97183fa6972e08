"""deploy/kubernetes/: every manifest validates against pinned Kubernetes schemas, keeps the
hardening and probes the README promises, and configures only what the gateway reads.

``kubernetes-validate`` (a dev extra) ships the Kubernetes JSON schemas: no network is used.
Strict mode rejects unknown fields, so a misspelt key fails here rather than being dropped by
the API server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.auth import MIN_SECRET_BYTES
from gateway.config import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
GATEWAY_SOURCES = ROOT / "gateway"

# The oldest Kubernetes the manifests support and the newest schema kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

# Optional manifests, not applied by `kubectl apply -k` until enabled in kustomization.yaml.
OPTIONAL = {"redis.yaml"}

# The preStop pause, and the time left after the grace period to close the upstream client.
PRESTOP_SECONDS = 5
CLOSE_SECONDS = 5

GATEWAY_LABELS = {
    "app.kubernetes.io/name": "kombo-gateway",
    "app.kubernetes.io/component": "gateway",
}


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in manifest_files():
        for doc in load(path):
            yield f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc


ALL = dict(documents())


def the(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in ALL.values() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"one {kind} {name}, found {len(found)}"
    return found[0]


DEPLOYMENT = the("Deployment", "kombo-gateway")
POD = DEPLOYMENT["spec"]["template"]["spec"]
(CONTAINER,) = POD["containers"]
CONFIGMAP = the("ConfigMap", "kombo-gateway-config")
SECRET = the("Secret", "kombo-gateway-secrets")


# --- schemas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", sorted(ALL))
def test_manifest_validates_against_the_kubernetes_schema(name: str, version: str) -> None:
    try:
        kubernetes_validate.validate(ALL[name], version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{name} against Kubernetes {version}: {path}: {exc.message}")


def test_the_validator_rejects_a_misspelt_field() -> None:
    """The control: strict validation is on, so a typo cannot slip through."""
    broken = yaml.safe_load(yaml.safe_dump(DEPLOYMENT))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "readOnlyRootFilesystm"
    ] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_applies_every_manifest_but_the_optional_ones() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    resources = kustomization["resources"]
    assert len(resources) == len(set(resources))
    assert set(resources) == {p.name for p in manifest_files()} - OPTIONAL
    assert (MANIFESTS / "kustomization.yaml").read_text().count("# - redis.yaml") == 1
    images = {i["name"] for i in kustomization["images"]}
    assert CONTAINER["image"].split(":")[0] in images


# --- the Deployment ---------------------------------------------------------------------------


def port_number(name_or_number: str | int) -> int:
    if isinstance(name_or_number, int):
        return name_or_number
    (port,) = [p["containerPort"] for p in CONTAINER["ports"] if p["name"] == name_or_number]
    return int(port)


def plain_env() -> dict[str, str]:
    return {e["name"]: e["value"] for e in CONTAINER.get("env", []) if "value" in e}


def test_probes_ask_healthz_and_readyz_on_the_gateway_port() -> None:
    port = int(plain_env()["PORT"])
    expected = {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    for probe, path in expected.items():
        get = CONTAINER[probe]["httpGet"]
        assert get["path"] == path, probe
        assert port_number(get["port"]) == port, probe
    # Start-up gets its own budget, so liveness can be strict without killing slow starts.
    startup = CONTAINER["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30


def test_listens_where_the_service_sends_traffic() -> None:
    env = plain_env()
    assert env["HOST"] == "0.0.0.0"
    service = the("Service", "kombo-gateway")
    (port,) = service["spec"]["ports"]
    assert port_number(port["targetPort"]) == int(env["PORT"])
    assert service["spec"]["selector"] == GATEWAY_LABELS


def test_selectors_match_the_pods() -> None:
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"] == GATEWAY_LABELS
    assert GATEWAY_LABELS.items() <= labels.items()
    pdb = the("PodDisruptionBudget", "kombo-gateway")
    assert pdb["spec"]["selector"]["matchLabels"] == GATEWAY_LABELS
    for constraint in POD["topologySpreadConstraints"]:
        assert constraint["labelSelector"]["matchLabels"] == GATEWAY_LABELS


def hardened(pod: dict[str, Any], container: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] != 0
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context.get("privileged", False) is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod["automountServiceAccountToken"] is False


def test_gateway_runs_hardened() -> None:
    hardened(POD, CONTAINER)
    # The image's USER, so the numeric check of runAsNonRoot and the image agree.
    assert CONTAINER["securityContext"]["runAsUser"] == 10001
    assert POD["securityContext"]["runAsUser"] == 10001


def test_every_workload_runs_hardened() -> None:
    workloads = [d for d in ALL.values() if d["kind"] == "Deployment"]
    assert len(workloads) >= 2  # the gateway and the optional Redis
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        for container in pod["containers"]:
            hardened(pod, container)
            assert container["resources"]["limits"]["memory"]


def test_tmp_is_the_only_writable_path() -> None:
    volumes = {v["name"]: v for v in POD["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in CONTAINER["volumeMounts"]}
    assert set(mounts) == {"/tmp"}
    tmp = volumes[mounts["/tmp"]]
    assert "emptyDir" in tmp and tmp["emptyDir"]["sizeLimit"]


QUANTITY = re.compile(r"(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?")
FACTORS = {None: 1, "m": 0.001, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


def quantity(text: str | int) -> float:
    match = QUANTITY.fullmatch(str(text))
    assert match, f"not a Kubernetes quantity we use: {text!r}"
    return float(match.group(1)) * FACTORS[match.group(2)]


def test_resources_fit_one_worker() -> None:
    requests = CONTAINER["resources"]["requests"]
    limits = CONTAINER["resources"]["limits"]
    # One worker stays under 150 MB RSS; the limit leaves headroom, and is no more than that.
    assert 150 * 10**6 < quantity(limits["memory"]) <= 256 * 1024**2
    assert quantity(requests["memory"]) <= quantity(limits["memory"])
    assert 0 < quantity(requests["cpu"]) <= quantity(limits["cpu"])
    # The pod runs one worker: more would need more memory than the limit allows.
    assert CONFIGMAP["data"]["GATEWAY_WORKERS"] == "1"


# Measured with `python -m bench.hostile.memory` (README "Sizing memory"): a warm worker's RSS,
# and the RSS each estimated interview in flight adds at the peak, rounded up (7.2 KB by
# tracemalloc on the all-fields selection; 16 and 32 concurrent requests of 4,810 interviews
# peaked at 598 MiB unbounded, i.e. ~6.5 KB each over the baseline, and at 142-171 MiB with the
# default budget).
WARM_WORKER_BYTES = 110 * 1024**2
BYTES_PER_INTERVIEW = 7_500
# What the rest of a worker may hold besides its admitted requests: request bodies being read,
# answers being sent, the response cache and the APQ store (their own bounds, below).
HEADROOM_BYTES = 24 * 1024**2


def test_the_memory_budget_fits_the_container_limit() -> None:
    settings = Settings.from_env(pod_env(filled_secret()))
    limit = quantity(CONTAINER["resources"]["limits"]["memory"])
    budget = settings.max_inflight_cost
    assert budget >= settings.limits.max_cost  # every allowed request can be admitted
    in_flight = budget * BYTES_PER_INTERVIEW
    caches = settings.response_cache.max_bytes * settings.response_cache.enabled
    # Every connection may hold an unfinished head of the largest allowed size (README
    # "Connections"): the cap times the head limit.
    connections = settings.connections
    assert connections.max_connections is not None, "the manifest sets GATEWAY_MAX_CONNECTIONS"
    heads = connections.max_connections * connections.max_head_bytes
    needed = WARM_WORKER_BYTES + in_flight + caches + heads + HEADROOM_BYTES
    assert needed <= limit, (
        f"GATEWAY_MAX_INFLIGHT_COST={budget} needs ~{needed / 1024**2:.0f} MiB, "
        f"over the container's {limit / 1024**2:.0f} Mi"
    )
    # The README's sizing example is this arithmetic.
    readme = (ROOT / "README.md").read_text()
    assert f"{BYTES_PER_INTERVIEW:,} bytes" in readme


def test_termination_leaves_time_to_drain_and_finish() -> None:
    pre_stop = CONTAINER["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop == ["sleep", str(PRESTOP_SECONDS)]
    settings = Settings.from_env(pod_env(filled_secret()))
    # Kubelet counts preStop inside the period, then SIGTERM starts the gateway's drain and
    # grace; SIGKILL must not come before they are over.
    needed = PRESTOP_SECONDS + settings.drain_seconds + settings.shutdown_grace + CLOSE_SECONDS
    assert POD["terminationGracePeriodSeconds"] >= needed
    # A request in flight at SIGTERM can use its whole upstream deadline and still finish.
    assert settings.shutdown_grace >= settings.resilience.request_timeout
    strategy = DEPLOYMENT["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0


def test_replicas_spread_and_scale() -> None:
    topologies = {c["topologyKey"] for c in POD["topologySpreadConstraints"]}
    assert {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= topologies
    hpa = the("HorizontalPodAutoscaler", "kombo-gateway")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": DEPLOYMENT["metadata"]["name"],
    }
    assert hpa["minReplicas"] >= 2
    assert hpa["maxReplicas"] > hpa["minReplicas"]
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # The HPA owns the count: a `replicas` here would reset it on every apply.
    assert "replicas" not in DEPLOYMENT["spec"]
    assert the("PodDisruptionBudget", "kombo-gateway")["spec"]["maxUnavailable"] == 1


# --- configuration: only what the gateway reads -----------------------------------------------


class RecordingEnv(Mapping[str, str]):
    """An environment that remembers every name asked for."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def secret_refs() -> dict[str, dict[str, Any]]:
    """env name → secretKeyRef, for the container's valueFrom entries."""
    return {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in CONTAINER["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def pod_env(secret_values: Mapping[str, str]) -> dict[str, str]:
    """The environment the container gets, with the Secret's keys set to ``secret_values``."""
    env = plain_env()
    for source in CONTAINER.get("envFrom", []):
        assert source["configMapRef"]["name"] == CONFIGMAP["metadata"]["name"]
        env.update(CONFIGMAP["data"])
    for name, ref in secret_refs().items():
        if ref["key"] in secret_values:
            env[name] = secret_values[ref["key"]]
    return env


def committed_secret() -> dict[str, str]:
    return dict(SECRET.get("stringData", {}))


def filled_secret() -> dict[str, str]:
    """What an operator puts in: an API key and an HS256 secret (not the public key too)."""
    return {
        "KOMBO_API_KEY": "kombo-live-key-for-the-test",
        "GATEWAY_JWT_SECRET": "s" * MIN_SECRET_BYTES,
    }


def names_the_gateway_reads() -> set[str]:
    asked: set[str] = set()
    for values in ({}, pod_env(filled_secret())):
        env = RecordingEnv(values)
        Settings.from_env(env)
        asked |= env.asked
    return asked


def test_every_configured_name_is_read_by_the_gateway() -> None:
    configured = (
        set(plain_env())
        | set(CONFIGMAP["data"])
        | set(committed_secret())
        | set(SECRET.get("data", {}))
        | set(secret_refs())
    )
    assert any(n.startswith("GATEWAY_") for n in configured)
    assert any(n.startswith("KOMBO_") for n in configured)
    read = names_the_gateway_reads()
    assert {"KOMBO_API_KEY", "GATEWAY_AUTH"} <= read  # the recording works
    sources = "\n".join(p.read_text() for p in GATEWAY_SOURCES.rglob("*.py"))
    unread = {
        name
        for name in configured - read
        # GATEWAY_*/KOMBO_* are Settings' alone; another name may be read elsewhere in the
        # gateway (a logging or tracing variable), but it must be read somewhere.
        if name.startswith(("GATEWAY_", "KOMBO_")) or f'"{name}"' not in sources
    }
    assert not unread, f"configured but never read by gateway/config/: {sorted(unread)}"


def commented_names() -> set[str]:
    """Settings named in a ``# NAME: value`` comment of the ConfigMap: deliberately unset."""
    text = (MANIFESTS / "configmap.yaml").read_text()
    return set(re.findall(r"^\s*#\s*((?:GATEWAY|KOMBO)_[A-Z0-9_]+):", text, re.MULTILINE))


def test_every_setting_the_gateway_reads_is_configured_or_named() -> None:
    """The other direction: a new GATEWAY_*/KOMBO_* variable in gateway/config/ shows up
    in deploy/kubernetes/, set or (when left at its default) named in a comment."""
    configured = set(plain_env()) | set(CONFIGMAP["data"]) | set(secret_refs())
    read = {n for n in names_the_gateway_reads() if n.startswith(("GATEWAY_", "KOMBO_"))}
    missing = read - configured - commented_names()
    assert not missing, (
        f"gateway/config/ reads {sorted(missing)}: add each to deploy/kubernetes/"
        "configmap.yaml (or secret.yaml), or name it there in a comment if it stays unset"
    )
    stale = commented_names() - read
    assert not stale, f"configmap.yaml names variables the gateway no longer reads: {stale}"


def test_the_commented_redis_url_points_at_redis_yaml() -> None:
    text = (MANIFESTS / "configmap.yaml").read_text()
    (url,) = re.findall(r'^\s*#\s*GATEWAY_REDIS_URL:\s*"([^"]+)"', text, re.MULTILINE)
    settings = Settings.from_env(pod_env(filled_secret()) | {"GATEWAY_REDIS_URL": url})
    assert settings.redis_url == url
    service = the("Service", "kombo-gateway-redis")
    (port,) = service["spec"]["ports"]
    assert url.startswith(f"redis://{service['metadata']['name']}:{port['port']}/")
    # The NetworkPolicy lets the gateway's pods in.
    policy = the("NetworkPolicy", "kombo-gateway-redis")
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": GATEWAY_LABELS}}]
    assert rule["ports"][0]["port"] == port["port"]


# Kombo's concurrency limit assumed in configmap.yaml and the README's example; raising
# maxReplicas or GATEWAY_UPSTREAM_CONCURRENCY past it must be a decision, not an accident.
KOMBO_CONCURRENCY_BUDGET = 24


def test_replicas_times_upstream_concurrency_stays_within_kombos_limit() -> None:
    settings = Settings.from_env(pod_env(filled_secret()))
    max_replicas = the("HorizontalPodAutoscaler", "kombo-gateway")["spec"]["maxReplicas"]
    per_replica = settings.resilience.upstream_concurrency * settings.workers
    assert max_replicas * per_replica <= KOMBO_CONCURRENCY_BUDGET


def test_secret_keys_and_refs_agree() -> None:
    keys = set(committed_secret()) | set(SECRET.get("data", {}))
    for name, ref in secret_refs().items():
        assert ref["name"] == SECRET["metadata"]["name"], name
        assert ref["key"] in keys or ref.get("optional") is True, name
    assert {ref["key"] for ref in secret_refs().values()} >= keys, "a Secret key nothing reads"
    # Secrets never sit in the ConfigMap.
    assert not {"KOMBO_API_KEY", "GATEWAY_JWT_SECRET", "GATEWAY_CURSOR_SECRET"} & set(
        CONFIGMAP["data"]
    )


def test_committed_secret_holds_no_value() -> None:
    assert "data" not in SECRET
    assert committed_secret() and all(v == "" for v in committed_secret().values())


def test_the_manifests_configure_a_gateway_that_starts() -> None:
    settings = Settings.from_env(pod_env(filled_secret()))
    assert settings.auth == "jwt"
    assert settings.host == "0.0.0.0"
    assert settings.port == port_number("http")
    assert settings.workers == 1
    assert not settings.sandbox
    assert settings.cors_origins
    assert settings.resilience.upstream_concurrency == int(
        CONFIGMAP["data"]["GATEWAY_UPSTREAM_CONCURRENCY"]
    )


def test_an_unfilled_secret_refuses_to_start() -> None:
    """Empty values count as unset: GATEWAY_AUTH=jwt with no key stops the gateway at start
    (a crash loop with a clear message) instead of trusting a placeholder."""
    with pytest.raises(SettingsError, match="GATEWAY_AUTH=jwt needs exactly one"):
        Settings.from_env(pod_env(committed_secret()))


def test_no_service_links_in_the_environment() -> None:
    """Kubernetes would otherwise add KOMBO_GATEWAY_PORT=tcp://... and friends to the env."""
    assert POD["enableServiceLinks"] is False
