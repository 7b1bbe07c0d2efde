"""The image, checked without a Docker engine: the Dockerfile's stages, the build context that
.dockerignore lets through, and the package built from exactly that context, which must carry every
file the services load at run time (migrations, static files)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.k8s.conftest import OVERLAYS, ROOT, containers, is_ours, render, workloads

PACKAGES = ("shared", "services")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, args = line.partition(" ")
            found.append((op.upper(), args.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    """The instructions of each stage (the first list holds what comes before the first FROM)."""
    split: list[list[tuple[str, str]]] = [[]]
    for op, args in instructions():
        if op == "FROM":
            split.append([])
        split[-1].append((op, args))
    return split


def base_images() -> list[str]:
    defaults = dict(a.split("=", 1) for op, a in stages()[0] if op == "ARG" and "=" in a)
    refs = [args.split()[0] for op, args in instructions() if op == "FROM"]
    return [re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], ref) for ref in refs]


def final_user() -> tuple[int, int]:
    user = [args for op, args in stages()[-1] if op == "USER"][-1]
    uid, _, gid = user.partition(":")
    return int(uid), int(gid)


def test_the_image_is_built_in_two_stages_from_a_pinned_slim_python() -> None:
    images = base_images()
    assert len(images) >= 2, "build in one stage, run in another"
    for image in images:
        repository, _, tag = image.partition(":")
        assert repository == "python" and "slim" in tag and not tag.startswith("latest"), image


def test_the_final_stage_copies_the_build_and_runs_accueil_without_root_or_build_tools() -> None:
    final = stages()[-1]
    runs = " ".join(args for op, args in final if op == "RUN")
    for tool in ("apt-get", "apk ", "pip ", "gcc", "build-essential", "make "):
        assert tool not in runs, f"the final stage runs {tool.strip()}"
    assert all(args.startswith("--from=") for op, args in final if op in ("COPY", "ADD"))
    uid, gid = final_user()
    assert uid > 0 and gid > 0, "numeric, so the kubelet can check runAsNonRoot"
    assert [args for op, args in final if op == "ENTRYPOINT"] == ['["accueil"]']


def test_pods_run_as_the_images_user_and_listen_on_the_ports_it_exposes() -> None:
    uid, gid = final_user()
    exposed = {int(p) for op, args in instructions() if op == "EXPOSE" for p in args.split()}
    assert exposed
    ours = [
        (obj, pod, c)
        for overlay in OVERLAYS
        for obj, pod in workloads(render(overlay))
        for c in containers(pod)
        if is_ours(c)
    ]
    assert ours
    for obj, pod, c in ours:
        context = {**pod["spec"]["securityContext"], **c.get("securityContext", {})}
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid), obj["metadata"]["name"]
        assert {p["containerPort"] for p in c.get("ports", [])} <= exposed


def _regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern: `**` spans directories, `*` and `?` stay within one."""
    out = ""
    for token in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
        out += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token))
    return re.compile(out)


def _ignore_rules() -> list[tuple[bool, str, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keep = line.startswith("!")
            pattern = line.lstrip("!").strip("/")
            rules.append((keep, pattern, _regex(pattern)))
    return rules


def _ignored(path: str, rules: list[tuple[bool, str, re.Pattern[str]]]) -> bool:
    """As Docker decides: the last pattern matching the path or one of its parent folders wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for keep, _, regex in rules:
        if any(regex.fullmatch(c) for c in candidates):
            ignored = not keep
    return ignored


def build_context() -> set[str]:
    """The files `docker build .` sends to the builder."""
    rules = _ignore_rules()
    kept_below = [pattern for keep, pattern, _ in rules if keep]
    files = set()
    for folder, dirs, names in os.walk(ROOT):
        rel = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if rel == "." else f"{rel}/"
        # Skip a folder ignored as a whole unless a `!` pattern could bring something inside back.
        dirs[:] = [
            d
            for d in dirs
            if not _ignored(prefix + d, rules) or any(p.startswith((f"{prefix}{d}/", "**")) for p in kept_below)
        ]
        files |= {prefix + n for n in names if not _ignored(prefix + n, rules)}
    return files


def package_files() -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for p in (ROOT / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_build_context_holds_the_package_and_nothing_else() -> None:
    context = build_context()
    assert {path.split("/")[0] for path in context} == {"pyproject.toml", "README.md", *PACKAGES}
    assert package_files() <= context
    sources = [
        s for op, args in instructions() if op == "COPY" and not args.startswith("--from=") for s in args.split()[:-1]
    ]
    assert sources, "the build stage copies the context in"
    for source in sources:
        assert any(f == source.rstrip("/") or f.startswith(source) for f in context), source


def test_the_package_built_from_the_context_carries_every_file_the_services_load(tmp_path: Path) -> None:
    """The image installs the package (not in editable mode, as a checkout does): a migration or a
    static file missing from it would only show in a container."""
    source = tmp_path / "context"
    context = build_context()
    assert context
    for path in context:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, source / path)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist")]
    built = subprocess.run([*pip_wheel, str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("accueil-*.whl")
    packed = {name for name in zipfile.ZipFile(wheel).namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert packed == package_files()
