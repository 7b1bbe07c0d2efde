"""The network policies, evaluated as a cluster would: everything is denied unless both the sender's
egress and the receiver's ingress allow it, and what is allowed is exactly what the services need."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pytest

from shared.egress import EMBEDDING_IPV4
from tests.k8s.conftest import OVERLAYS, Obj, of_kind, render, workloads

INGRESS_CONTROLLER = "ingress-nginx"
MONITORING = "monitoring"
PORTS = {"geo": 8001, "inventory": 8002, "notify": 8003}


@dataclass(frozen=True)
class Peer:
    """A pod (namespace and labels) or an address outside the cluster (ip)."""

    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    ip: str | None = None


def matches(selector: Obj, labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        present, value = expr["key"] in labels, labels.get(expr["key"])
        ok = {
            "In": present and value in expr.get("values", []),
            "NotIn": not present or value not in expr.get("values", []),
            "Exists": present,
            "DoesNotExist": not present,
        }[expr["operator"]]
        if not ok:
            return False
    return True


def peer_matches(rule_peer: Obj, policy_namespace: str, peer: Peer) -> bool:
    if "ipBlock" in rule_peer:
        if peer.ip is None:
            return False
        address = ipaddress.ip_address(peer.ip)
        block = rule_peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if peer.namespace is None:
        return False
    if "namespaceSelector" in rule_peer:
        if not matches(rule_peer["namespaceSelector"], {"kubernetes.io/metadata.name": peer.namespace}):
            return False
    elif peer.namespace != policy_namespace:
        return False
    return matches(rule_peer.get("podSelector", {}), peer.labels)


def port_matches(ports: list[Obj] | None, port: int, protocol: str) -> bool:
    return not ports or any(p.get("protocol", "TCP") == protocol and p.get("port", port) == port for p in ports)


def allows(policies: list[Obj], subject: Peer, other: Peer, port: int, protocol: str, direction: str) -> bool:
    """Does `subject`'s side let the connection through? Isolated only if some policy selects it."""
    key, peers = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    selecting = [
        p
        for p in policies
        if p["metadata"]["namespace"] == subject.namespace
        and direction in p["spec"].get("policyTypes", ["Ingress"])
        and matches(p["spec"]["podSelector"], subject.labels)
    ]
    if not selecting:
        return True
    return any(
        port_matches(rule.get("ports"), port, protocol)
        and (not rule.get(peers) or any(peer_matches(q, p["metadata"]["namespace"], other) for q in rule[peers]))
        for p in selecting
        for rule in p["spec"].get(key, [])
    )


def can_connect(policies: list[Obj], source: Peer, target: Peer, port: int, protocol: str = "TCP") -> bool:
    return allows(policies, source, target, port, protocol, "Egress") and allows(
        policies, target, source, port, protocol, "Ingress"
    )


class Cluster:
    """The pods of one rendered overlay, by name, and its policies."""

    def __init__(self, overlay: str) -> None:
        objects = render(overlay)
        (namespace,) = of_kind(objects, "Namespace")
        self.namespace = namespace["metadata"]["name"]
        self.policies = of_kind(objects, "NetworkPolicy")
        assert self.policies, f"{overlay} renders no NetworkPolicy: every pod would be open"
        self.pods = {
            obj["metadata"]["name"]: Peer(self.namespace, pod["metadata"]["labels"]) for obj, pod in workloads(objects)
        }
        for cluster in of_kind(objects, "Cluster"):  # CloudNativePG labels its instances with the cluster's name
            labels = {**cluster["spec"]["inheritedMetadata"]["labels"], "cnpg.io/cluster": cluster["metadata"]["name"]}
            self.pods[cluster["metadata"]["name"]] = Peer(self.namespace, labels)
        self.database = next(
            name for name, pod in self.pods.items() if pod.labels["app.kubernetes.io/component"] == "database"
        )

    def expectations(self) -> list[tuple[str, Peer, Peer, int, str, bool]]:
        pods, db = self.pods, self.pods[self.database]
        ingress = Peer(INGRESS_CONTROLLER, {"app.kubernetes.io/name": "ingress-nginx"})
        prometheus = Peer(MONITORING, {"app.kubernetes.io/name": "prometheus"})
        stranger = Peer("default", {"app": "anything"})
        dns = Peer("kube-system", {"k8s-app": "kube-dns"})
        push_service = Peer(ip="142.250.74.10")
        cases = [
            ("geo calls inventory", pods["geo"], pods["inventory"], 8002, "TCP", True),
            ("geo calls notify", pods["geo"], pods["notify"], 8003, "TCP", True),
            ("notify calls inventory", pods["notify"], pods["inventory"], 8002, "TCP", True),
            ("notify calls geo", pods["notify"], pods["geo"], 8001, "TCP", True),
            ("notify sends Web Push over HTTPS", pods["notify"], push_service, 443, "TCP", True),
            ("notify sends Web Push over IPv6", pods["notify"], Peer(ip="2a00:1450:4007::5f"), 443, "TCP", True),
            ("inventory calls no one", pods["inventory"], pods["geo"], 8001, "TCP", False),
            ("inventory calls no one", pods["inventory"], pods["notify"], 8003, "TCP", False),
            ("geo sends nothing outside", pods["geo"], push_service, 443, "TCP", False),
            ("notify sends no plain HTTP outside", pods["notify"], push_service, 80, "TCP", False),
            ("notify reaches no private address", pods["notify"], Peer(ip="10.0.0.7"), 443, "TCP", False),
            ("notify reaches no private IPv6 address", pods["notify"], Peer(ip="fd00::7"), 443, "TCP", False),
            *(
                (f"notify reaches no IPv4 address through {ip}", pods["notify"], Peer(ip=ip), 443, "TCP", False)
                for ip in ("64:ff9b::a00:7", "64:ff9b:1::a00:7", "2002:a00:7::1", "2001:0:a00:7::1", "::ffff:a00:7")
            ),
            ("the migrations Job calls no service", pods["accueil-migrate"], pods["geo"], 8001, "TCP", False),
            ("the database calls no service", db, pods["notify"], 8003, "TCP", False),
            ("another namespace cannot call a service", stranger, pods["inventory"], 8002, "TCP", False),
            ("another namespace cannot reach the database", stranger, db, 5432, "TCP", False),
            ("the ingress controller cannot reach the database", ingress, db, 5432, "TCP", False),
            ("a service is reached on its port only", pods["notify"], pods["inventory"], 5432, "TCP", False),
        ]
        for name, port in PORTS.items():
            cases += [
                (f"the ingress controller reaches {name}", ingress, pods[name], port, "TCP", True),
                (f"Prometheus scrapes {name}", prometheus, pods[name], port, "TCP", True),
                (f"{name} uses the database", pods[name], db, 5432, "TCP", True),
                (f"{name} resolves names", pods[name], dns, 53, "UDP", True),
            ]
        cases.append(("the migrations Job uses the database", pods["accueil-migrate"], db, 5432, "TCP", True))
        return cases


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_traffic_the_services_need_is_allowed(overlay: str) -> None:
    cluster = Cluster(overlay)
    wrong = [
        f"{what}: expected {'allowed' if expected else 'denied'}"
        for what, source, target, port, protocol, expected in cluster.expectations()
        if can_connect(cluster.policies, source, target, port, protocol) != expected
    ]
    assert wrong == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_isolated_by_a_default_deny_policy(overlay: str) -> None:
    cluster = Cluster(overlay)
    deny = [
        p
        for p in cluster.policies
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "a policy selecting every pod and allowing nothing"
    stranger = Peer("default", {})
    for name, pod in cluster.pods.items():  # an unknown port of any pod is closed
        assert not can_connect(cluster.policies, stranger, pod, 9999), name


def test_the_cloudnativepg_instances_replicate_and_answer_the_operator() -> None:
    cluster = Cluster("prod")
    db = cluster.pods[cluster.database]
    operator = Peer("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"})
    assert can_connect(cluster.policies, db, db, 5432), "streaming replication"
    assert can_connect(cluster.policies, operator, db, 8000), "the operator asks each instance's status"
    assert can_connect(cluster.policies, db, Peer(ip="203.0.113.1"), 6443), "the instance manager uses the API"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_egress_to_the_internet_excepts_every_prefix_notify_refuses_for_carrying_an_ipv4_address(overlay: str) -> None:
    """The NetworkPolicy and notify's own check refuse the same translated addresses (shared.egress)."""
    blocks = [
        peer["ipBlock"]
        for policy in of_kind(render(overlay), "NetworkPolicy")
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [])
        if "ipBlock" in peer and ipaddress.ip_network(peer["ipBlock"]["cidr"]).version == 6
    ]
    assert blocks
    for block in blocks:
        excepted = {ipaddress.ip_network(e) for e in block.get("except", [])}
        assert set(EMBEDDING_IPV4) <= excepted, block
