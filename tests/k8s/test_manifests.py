"""The Kubernetes manifests, checked without a cluster: every overlay renders, every object is valid
against the Kubernetes schema of the versions we support, and what a schema cannot see holds too:
pinned images, honest probes, requests and limits, hardened pods, secrets referenced but never
committed, the CloudNativePG cluster, scaling, and wiring (Services, Ingress, configuration)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from services.notify.consent.service import budget_holder
from shared.cli import service_spec
from shared.clients import client_address, networks
from shared.egress import EMBEDDING_IPV4
from shared.settings import SERVICES, Settings, env_name
from tests.k8s.conftest import K8S, ROOT, Obj, containers, is_ours, named, of_kind, our_servers, render, workloads
from tests.support.pages import OPENAPI_DOCUMENT, SCHEMA_UIS

# The oldest Kubernetes we support and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.30", "1.37")
# Kinds the validator has no schema for; each is checked by a test of its own below.
CUSTOM_RESOURCES = {("postgresql.cnpg.io/v1", "Cluster")}

# The secrets an operator creates (docs/kubernetes.md, "Secrets"), by overlay: (name, key).
APP_SECRETS = {
    ("accueil-db-app", "uri"),
    ("accueil-geo", "token-key"),
    ("accueil-inventory", "token-key"),
    ("accueil-notify", "token-key"),
    ("accueil-vapid", "private-key"),
    ("accueil-vapid", "public-key"),
    ("accueil-vapid", "subject"),
    # Optional: native push (APNs, FCM); a missing one turns that channel off.
    ("accueil-apns", "key.p8"),
    ("accueil-apns", "key-id"),
    ("accueil-apns", "team-id"),
    ("accueil-apns", "topic"),
    ("accueil-fcm", "service-account.json"),
    # Optional: the console's single sign-on.
    ("accueil-oidc", "issuer"),
    ("accueil-oidc", "client-id"),
    ("accueil-oidc", "client-secret"),
    ("accueil-oidc", "public-url"),
}
SECRETS = {
    "dev": APP_SECRETS | {("accueil-db-app", "password")},
    "prod": APP_SECRETS | {("accueil-tls", "tls.crt"), ("accueil-tls", "tls.key")},
}

PUBLIC_PATHS = {"/v1", "/schema/openapi.json", "/staff", "/staff-sw.js", "/console", "/shop", "/sdk"}
PUBLIC_PATHS |= {"/privacy", "/.well-known/jwks.json", "/i18n"}
# Connections a pod holds outside its pool (LISTEN needs a session of its own): every service's bus and
# revocation listeners, plus geo's zone-index listener and notify's sender and stream listener. The
# migrations Job holds one connection and no pool.
DEDICATED_CONNECTIONS = {"geo": 3, "inventory": 2, "notify": 3}
JOB_CONNECTIONS = 1
# Kept free for the operator's and an administrator's own sessions.
ADMIN_CONNECTIONS = 10

# ClusterSpec fields of CloudNativePG (api/v1 cluster_types.go): a typo would otherwise pass unseen.
CNPG_SPEC_FIELDS = {
    "affinity", "backup", "bootstrap", "certificates", "description", "enablePDB", "enableSuperuserAccess",
    "env", "envFrom", "externalClusters", "failoverDelay", "imageCatalogRef", "imageName", "imagePullPolicy",
    "imagePullSecrets", "inheritedMetadata", "instances", "logLevel", "managed", "maxSyncReplicas",
    "minSyncReplicas", "monitoring", "nodeMaintenanceWindow", "plugins", "postgresGID", "postgresql",
    "postgresUID", "primaryUpdateMethod", "primaryUpdateStrategy", "priorityClassName", "probes",
    "projectedVolumeTemplate", "replica", "replicationSlots", "resources", "schedulerName", "seccompProfile",
    "serviceAccountTemplate", "smartStopDelay", "startDelay", "stopDelay", "storage", "superuserSecret",
    "switchoverDelay", "tablespaces", "topologySpreadConstraints", "walStorage",
}  # fmt: skip


def where(obj: Obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def quantity(value: str | int) -> float:
    """A Kubernetes quantity as a number: 250m -> 0.25, 128Mi -> 134217728."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    number, unit = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value)).groups()  # type: ignore[union-attr]
    return float(number) * units.get(unit, 1)


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


# --- rendering and the schema ---------------------------------------------------------------------


def test_every_object_lands_in_the_overlays_namespace_which_enforces_restricted_pods(objects: tuple) -> None:
    (namespace,) = of_kind(objects, "Namespace")
    name = namespace["metadata"]["name"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert [where(o) for o in objects if o["kind"] != "Namespace" and o["metadata"].get("namespace") != name] == []


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_strict_kubernetes_schema(objects: tuple, version: str) -> None:
    problems = []
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{where(obj)}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{where(obj)}: {obj['apiVersion']} {obj['kind']} is no Kubernetes kind we know")
    assert problems == []


# --- containers and pods --------------------------------------------------------------------------


def images(objects: tuple) -> list[tuple[str, str]]:
    found = [(where(obj), c["image"]) for obj, pod in workloads(objects) for c in containers(pod)]
    found += [(where(c), c["spec"]["imageName"]) for c in of_kind(objects, "Cluster")]
    return found


def test_every_image_is_pinned_to_a_version_never_latest(objects: tuple) -> None:
    found = images(objects)
    assert found
    for place, image in found:
        name, _, digest = image.partition("@")
        tag = name.rsplit("/", 1)[-1].partition(":")[2]
        assert digest or tag not in ("", "latest"), f"{place}: {image} must name a version"


def test_every_long_running_container_has_startup_liveness_and_readiness_probes(objects: tuple) -> None:
    # A Job runs to completion: nothing to probe.
    long_running = [(obj, pod) for obj, pod in workloads(objects) if obj["kind"] != "Job"]
    assert long_running
    for obj, pod in long_running:
        for c in pod["spec"]["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in c, f"{where(obj)}/{c['name']} has no {probe}"


def test_liveness_asks_only_the_process_and_readiness_the_database(objects: tuple) -> None:
    for obj, _, c in our_servers(objects):
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz", where(obj)
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", where(obj)
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", where(obj)


def test_every_container_requests_and_limits_cpu_and_memory(objects: tuple) -> None:
    for obj, pod in workloads(objects):
        for c in containers(pod):
            resources = c.get("resources", {})
            for resource in ("cpu", "memory"):
                request = resources.get("requests", {}).get(resource)
                limit = resources.get("limits", {}).get(resource)
                assert request and limit, f"{where(obj)}/{c['name']} needs a {resource} request and limit"
                assert quantity(request) <= quantity(limit), f"{where(obj)}/{c['name']}: {resource}"


def test_every_pod_is_hardened(objects: tuple) -> None:
    """Non-root, no privilege escalation, no capabilities, seccomp, read-only root with a writable /tmp,
    and no Kubernetes API token (no pod of ours talks to the API server)."""
    for obj, pod in workloads(objects):
        spec = pod["spec"]
        pod_context = spec.get("securityContext", {})
        assert spec.get("automountServiceAccountToken") is False, where(obj)
        for c in containers(pod):
            context = {**pod_context, **c.get("securityContext", {})}
            name = f"{where(obj)}/{c['name']}"
            assert context.get("runAsNonRoot") is True and context.get("runAsUser", 1) != 0, name
            assert context.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
            assert context.get("allowPrivilegeEscalation") is False, name
            assert context.get("readOnlyRootFilesystem") is True, name
            assert context.get("privileged", False) is False, name
            assert context.get("capabilities") == {"drop": ["ALL"]}, name
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            assert "emptyDir" in volumes.get(mounts.get("/tmp", ""), {}), f"{name} needs an emptyDir at /tmp"


def test_every_variable_given_to_a_service_is_a_setting_it_reads(objects: tuple) -> None:
    """A misspelt variable would be ignored without a word; the settings Structs are the list."""
    ours = [(obj, c) for obj, pod in workloads(objects) for c in containers(pod) if is_ours(c)]
    assert ours
    for obj, c in ours:
        fields = set(Settings.__struct_fields__)
        if c["args"][0] == "serve":
            own = service_spec(c["args"][1]).settings_type
            fields |= set(own.__struct_fields__) if own else set()
        given = {e["name"] for e in c.get("env", [])}
        for source in c.get("envFrom", []):
            given |= set(named(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
        assert given - {env_name(f) for f in fields} == set(), where(obj)


def test_the_pods_give_the_process_time_to_stop_gracefully(objects: tuple) -> None:
    for obj, pod, c in our_servers(objects):
        pause = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
        # preStop, then up to 20 s of requests, 15 s of a job, 10 s of the bus batch in hand
        assert pod["spec"]["terminationGracePeriodSeconds"] >= pause + 45, where(obj)


# --- secrets --------------------------------------------------------------------------------------


def secret_refs(objects: tuple) -> set[tuple[str, str]]:
    refs = set()
    for _, pod in workloads(objects):
        for c in containers(pod):
            for var in c.get("env", []):
                if ref := var.get("valueFrom", {}).get("secretKeyRef"):
                    refs.add((ref["name"], ref["key"]))
            assert not any("secretRef" in source for source in c.get("envFrom", [])), "name each key"
        for volume in pod["spec"].get("volumes", []):
            if secret := volume.get("secret"):
                assert secret.get("items"), "a Secret volume names each key it mounts"
                refs |= {(secret["secretName"], item["key"]) for item in secret["items"]}
    for ingress in of_kind(objects, "Ingress"):
        refs |= {(tls["secretName"], key) for tls in ingress["spec"].get("tls", []) for key in ("tls.crt", "tls.key")}
    return refs


def test_the_secrets_referenced_are_the_ones_documented(overlay: str, objects: tuple) -> None:
    assert secret_refs(objects) == SECRETS[overlay]
    guide = (ROOT / "docs" / "kubernetes.md").read_text()
    for name, key in SECRETS[overlay]:
        assert f"`{name}`" in guide and f"`{key}`" in guide, f"docs/kubernetes.md should name {name}/{key}"


# Secrets every pod of ours may hold: the database's URL and the Ingress's certificate.
SHARED_SECRETS = {"accueil-db-app", "accueil-tls"}
NOTIFYS_OWN = {"accueil-vapid", "accueil-apns", "accueil-fcm", "accueil-oidc"}


def test_each_deployment_holds_only_its_own_secret(objects: tuple) -> None:
    """A compromised geo pod holds geo's key alone: it cannot sign for notify, nor read its push keys."""
    for obj, pod in workloads(objects):
        name = obj["metadata"]["name"]
        own = {f"accueil-{name}"} | (NOTIFYS_OWN if name == "notify" else set())
        held = {secret for secret, _ in secret_refs((obj,))} - SHARED_SECRETS
        assert held <= own, f"{name} holds {sorted(held - own)}"
        for c in containers(pod):
            names = {var["name"] for var in c.get("env", [])}
            assert "ACCUEIL_ADMIN_TOKEN" not in names, f"{name} holds the admin token"


def test_secret_files_are_mounted_read_only_and_readable_by_the_pod_alone(objects: tuple) -> None:
    for obj, pod in workloads(objects):
        secret_volumes = {v["name"]: v["secret"] for v in pod["spec"].get("volumes", []) if "secret" in v}
        for c in containers(pod):
            for mount in c.get("volumeMounts", []):
                if mount["name"] in secret_volumes:
                    assert mount.get("readOnly") is True, where(obj)
        for secret in secret_volumes.values():
            assert secret["defaultMode"] & 0o007 == 0, where(obj)  # nothing for "others"
            assert pod["spec"]["securityContext"].get("fsGroup") == pod["spec"]["securityContext"]["runAsGroup"]


def test_no_secret_is_committed_with_data() -> None:
    manifests = sorted(K8S.rglob("*.yaml"))
    assert manifests
    for path in manifests:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            assert doc.get("kind") != "Secret", f"{path.relative_to(ROOT)} defines a Secret"
            assert "secretGenerator" not in doc, f"{path.relative_to(ROOT)} generates a Secret"


# --- PostgreSQL -----------------------------------------------------------------------------------


def test_the_cloudnativepg_cluster_has_what_the_operator_requires() -> None:
    objects = render("prod")
    (cluster,) = of_kind(objects, "Cluster")
    spec = cluster["spec"]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert set(spec) <= CNPG_SPEC_FIELDS, set(spec) - CNPG_SPEC_FIELDS
    assert isinstance(spec["instances"], int) and spec["instances"] >= 3
    assert spec["storage"].get("size") or spec["storage"].get("pvcTemplate")
    initdb = spec["bootstrap"]["initdb"]
    assert initdb.get("database") and initdb.get("owner"), "the operator makes <cluster>-app for the owner"
    # The services read DATABASE_URL from the Secret the operator creates for this cluster.
    assert (f"{cluster['metadata']['name']}-app", "uri") in secret_refs(objects)
    affinity = spec["affinity"]
    assert affinity["enablePodAntiAffinity"] is True and affinity["podAntiAffinityType"] in ("required", "preferred")
    assert affinity["topologyKey"] == "topology.kubernetes.io/zone"
    # The label the network policies give database access by.
    assert spec["inheritedMetadata"]["labels"]["app.kubernetes.io/component"] == "database"


def test_dev_postgres_is_reached_like_the_cloudnativepg_cluster() -> None:
    dev_service = named(render("dev"), "Service", "accueil-db-rw")
    (cluster,) = of_kind(render("prod"), "Cluster")
    assert dev_service["metadata"]["name"] == f"{cluster['metadata']['name']}-rw"
    (postgres,) = of_kind(render("dev"), "StatefulSet")
    assert postgres["spec"]["volumeClaimTemplates"], "the dev database keeps its data on a volume"


# --- replicas and scaling -------------------------------------------------------------------------


def test_dev_runs_one_replica_of_each_service() -> None:
    objects = render("dev")
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in of_kind(objects, "Deployment")}
    assert replicas == dict.fromkeys(SERVICES, 1)
    assert of_kind(objects, "HorizontalPodAutoscaler") == []


def test_prod_scales_each_service_on_cpu_from_three_replicas_spread_across_zones() -> None:
    objects = render("prod")
    deployments = of_kind(objects, "Deployment")
    assert deployments
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns the replica count"
        hpa = named(objects, "HorizontalPodAutoscaler", name)
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["spec"]["minReplicas"] >= 3
        assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
        pdb = named(objects, "PodDisruptionBudget", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(pdb["spec"]["selector"]["matchLabels"], pod_labels)
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        zones = [s for s in spread if s["topologyKey"] == "topology.kubernetes.io/zone"]
        assert zones and zones[0]["whenUnsatisfiable"] == "DoNotSchedule", name
        assert selects(zones[0]["labelSelector"]["matchLabels"], pod_labels)


def test_at_full_scale_the_pods_connections_fit_in_the_database() -> None:
    objects = render("prod")
    pool_max = int(named(objects, "ConfigMap", "accueil-config")["data"]["ACCUEIL_DB_POOL_MAX"])
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    assert autoscalers  # none would count no pods at all
    assert {h["spec"]["scaleTargetRef"]["name"] for h in autoscalers} == set(DEDICATED_CONNECTIONS)
    at_most = JOB_CONNECTIONS + sum(
        h["spec"]["maxReplicas"] * (pool_max + DEDICATED_CONNECTIONS[h["spec"]["scaleTargetRef"]["name"]])
        for h in autoscalers
    )
    (cluster,) = of_kind(objects, "Cluster")
    allowed = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    assert at_most <= allowed - ADMIN_CONNECTIONS


# --- wiring ---------------------------------------------------------------------------------------


def test_every_service_selects_pods_that_listen_on_its_target_port(objects: tuple) -> None:
    for obj, pod in workloads(objects):
        if obj["kind"] != "Job":
            assert selects(obj["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"]), where(obj)
    services = of_kind(objects, "Service")
    assert services
    for service in services:
        pods = [pod for _, pod in workloads(objects) if selects(service["spec"]["selector"], pod["metadata"]["labels"])]
        assert pods, f"{where(service)} selects no pod"
        for port in service["spec"]["ports"]:
            listening = {p.get("name") for pod in pods for c in pod["spec"]["containers"] for p in c.get("ports", [])}
            listening |= {p["containerPort"] for pod in pods for c in pod["spec"]["containers"] for p in c["ports"]}
            assert port["targetPort"] in listening, f"{where(service)}: nothing listens on {port['targetPort']}"


def test_the_services_reach_each_other_through_their_services(objects: tuple) -> None:
    config = named(objects, "ConfigMap", "accueil-config")["data"]
    for name in SERVICES:
        url = re.fullmatch(r"http://([a-z-]+):(\d+)", config[env_name(f"{name}_url")])
        assert url, config[env_name(f"{name}_url")]
        service = named(objects, "Service", url.group(1))
        assert int(url.group(2)) in [p["port"] for p in service["spec"]["ports"]]
        assert selects(service["spec"]["selector"], {"app.kubernetes.io/name": name})


def test_the_ingress_routes_public_paths_to_each_service_and_lets_events_stream(overlay: str, objects: tuple) -> None:
    (ingress,) = of_kind(objects, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    routed = set()
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            assert path["path"] in PUBLIC_PATHS, f"{rule['host']}{path['path']} is not public"
            backend = path["backend"]["service"]
            service = named(objects, "Service", backend["name"])
            assert backend["port"]["name"] in [p["name"] for p in service["spec"]["ports"]]
            routed.add(backend["name"])
    assert routed == set(SERVICES)
    if overlay == "prod":
        hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
        assert hosts <= {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}, "every host over TLS"


def test_the_migrations_job_runs_the_same_image_as_the_services(objects: tuple) -> None:
    job = named(objects, "Job", "accueil-migrate")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["migrate"]
    images = {c["image"] for d in of_kind(objects, "Deployment") for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {migrate["image"]}
    config = named(objects, "ConfigMap", "accueil-config")["data"]
    assert config["ACCUEIL_MIGRATE_ON_START"] == "false", "the Job migrates; the services wait for it"


def test_the_migrations_job_holds_neither_the_admin_token_nor_the_token_key(objects: tuple) -> None:
    job = named(objects, "Job", "accueil-migrate")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    names = {e["name"] for e in migrate.get("env", [])}
    assert "DATABASE_URL" in names
    assert not names & {"ACCUEIL_ADMIN_TOKEN", "ACCUEIL_TOKEN_KEY"}
    assert all("secretRef" not in source for source in migrate.get("envFrom", []))


def test_every_manifest_file_is_part_of_a_kustomization() -> None:
    """kustomize fails on a missing file, but a file left out of every kustomization is silently unused."""
    used: set[Path] = set()
    kustomizations = sorted(K8S.rglob("kustomization.yaml"))
    assert kustomizations
    for kustomization in kustomizations:
        spec = yaml.safe_load(kustomization.read_text())
        for entry in spec.get("resources", []) + [p["path"] for p in spec.get("patches", []) if "path" in p]:
            used.add((kustomization.parent / entry).resolve())
    unused = [p.relative_to(ROOT) for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml" and p not in used]
    assert unused == []


def ingress_routes(ingress: Obj, host_prefix: str, path: str) -> str | None:
    """The service the Ingress sends `path` to, by Kubernetes' rules: Exact matches the whole path, Prefix
    whole segments (`/staff` matches `/staff` and `/staff/x`, never `/staff-sw.js`)."""
    for rule in ingress["spec"]["rules"]:
        if not rule["host"].startswith(host_prefix):
            continue
        for p in rule["http"]["paths"]:
            wanted = p["path"].rstrip("/")
            exact = p["pathType"] == "Exact"
            if path == wanted or (not exact and path.startswith(wanted + "/")):
                return p["backend"]["service"]["name"]
    return None


def test_every_page_notify_serves_to_a_browser_is_routed_to_notify(objects: tuple) -> None:
    from services.notify.app import SPEC

    (ingress,) = of_kind(objects, "Ingress")
    notify_host = next(
        r["host"]
        for r in ingress["spec"]["rules"]
        if any(p["backend"]["service"]["name"] == "notify" for p in r["http"]["paths"])
    )
    pages = [
        path.replace("{name:str}", "file.js")
        for handler in SPEC.route_handlers
        for path in handler.paths
        if not path.startswith("/v1")
    ]
    assert "/staff" in pages and "/staff-sw.js" in pages
    for page in pages:
        assert ingress_routes(ingress, notify_host, page) == "notify", page


def environment_of(objects: tuple, workload: str) -> dict[str, str]:
    """The variables the workload's accueil container is given as plain values (ConfigMaps, then env)."""
    [(_, _, c)] = [(obj, pod, c) for obj, pod, c in our_servers(objects) if obj["metadata"]["name"] == workload]
    given: dict[str, str] = {}
    for source in c.get("envFrom", []):
        given |= named(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
    return given | {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}


def cluster_networks(objects: tuple) -> set[str]:
    """The cluster's own addresses as the manifests define them: what the network policies' internet
    egress excepts (pods, services, nodes, link-local), less the IPv6 prefixes excepted because they
    carry an IPv4 address (NAT64, 6to4...), which are nobody's own."""
    embedding = {ipaddress.ip_network(p) for p in EMBEDDING_IPV4}
    return {
        cidr
        for policy in of_kind(objects, "NetworkPolicy")
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [])
        for cidr in peer.get("ipBlock", {}).get("except", [])
        if ipaddress.ip_network(cidr) not in embedding
    }


def test_notify_believes_the_ingress_controller_so_each_shopper_has_a_budget_of_their_own(objects: tuple) -> None:
    """Behind the Ingress every request comes from the controller's pod: unless its X-Forwarded-For is
    believed, every shopper in the country shares one registration budget."""
    trusted = environment_of(objects, "notify").get(env_name("trusted_proxies"), "")
    proxies = tuple(v.strip() for v in trusted.split(",") if v.strip())
    inside = cluster_networks(objects)
    assert inside, "the network policies name no cluster addresses: nothing to check the proxies against"
    for cidr in inside:  # wherever the controller's pod is given its address, it is believed
        network = ipaddress.ip_network(cidr)
        assert any(network.subnet_of(n) for n in networks(proxies) if n.version == network.version), cidr
    for public in ("203.0.113.7", "8.8.8.8", "2a00:1450:4007::1", "64:ff9b::cb00:7107"):
        assert not any(ipaddress.ip_address(public) in n for n in networks(proxies)), public

    controller = str(next(ipaddress.ip_network(sorted(c for c in inside if ":" not in c)[0]).hosts()))
    shoppers = [f"198.51.100.{i}" for i in range(1, 32)]
    forwarded = [{"client": (controller, 40000), "headers": [(b"x-forwarded-for", s.encode())]} for s in shoppers]
    seen = {budget_holder(client_address(scope, proxies)) for scope in forwarded}
    assert seen == set(shoppers)  # 31 shoppers, 31 budgets: not one shared by all


def test_the_ingress_routes_each_services_openapi_document_and_no_documentation_ui(objects: tuple) -> None:
    (ingress,) = of_kind(objects, "Ingress")
    for rule in ingress["spec"]["rules"]:
        host = rule["host"]
        (service,) = {p["backend"]["service"]["name"] for p in rule["http"]["paths"] if p["path"] == "/v1"}
        assert ingress_routes(ingress, host, OPENAPI_DOCUMENT) == service, host
        assert [page for page in SCHEMA_UIS if ingress_routes(ingress, host, page) is not None] == [], host
