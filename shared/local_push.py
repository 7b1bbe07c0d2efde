"""`accueil run --push-standins`: a local APNs and a local FCM for native apps on a laptop.

The stand-ins are the test suite's (tests/support/push_standins.py: real TLS and HTTP/2, the JWTs and
the OAuth grant checked as Apple and Google check them), so this works from a source checkout only,
never from an installed package or the image. Each runs as a child of the launcher with its keys and
test PKI in ACCUEIL_DATA_DIR/push-standins/<kind>, made anew each run; once it serves it writes `standin.json` there
(its URL, its CA, its APNs key or service account) and prints its URL. notify is then given the
variables a retailer gives it for Apple and Google, pointing at the stand-ins; `accueil demo
--native` reads the same file to see what a phone was sent.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from shared.errors import ConfigError

KINDS = ("apns", "fcm")
DESCRIPTION = "standin.json"
"""What a stand-in writes in its directory while it serves (removed when it stops)."""
READY_TIMEOUT_S = 30
CHECKOUT = Path(__file__).resolve().parents[1]
MODULE = "tests.support.push_standins"


def directory_of(data_dir: Path, kind: str) -> Path:
    return data_dir / "push-standins" / kind


def description(data_dir: Path, kind: str) -> dict[str, str] | None:
    """What the running stand-in of this kind wrote about itself; None when none serves from `data_dir`."""
    try:
        described: dict[str, str] = json.loads((directory_of(data_dir, kind) / DESCRIPTION).read_text())
    except FileNotFoundError:
        return None
    return described


def start(data_dir: Path, preexec: Callable[[], None]) -> dict[str, subprocess.Popen[bytes]]:
    """Both stand-ins, started at once (wait for them with `wait_ready`)."""
    if not (CHECKOUT / MODULE.replace(".", "/")).with_suffix(".py").is_file():
        raise ConfigError(
            "--push-standins needs a source checkout: the APNs and FCM stand-ins are test code "
            f"({MODULE.replace('.', '/')}.py), not part of an installed accueil. Run it from a clone "
            "(`make run-native`), or configure the real APNs and FCM (ACCUEIL_APNS_*, ACCUEIL_FCM_*)."
        )
    path = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))
    children = {}
    for kind in KINDS:
        # Fresh keys and certificates each run: the test CA's certificates last 30 days, a data dir
        # longer, and nothing of the last run is needed (notify is given the new ones).
        directory = directory_of(data_dir, kind)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        children[kind] = subprocess.Popen(
            [sys.executable, "-m", MODULE, "serve", kind, "--dir", str(directory)],
            cwd=CHECKOUT,
            env={**os.environ, "PYTHONPATH": path},
            stdout=subprocess.PIPE,
            preexec_fn=preexec,
        )
    return children


def wait_ready(data_dir: Path, children: Mapping[str, subprocess.Popen[bytes]]) -> dict[str, dict[str, str]]:
    """Each stand-in's description once it has printed its URL; ConfigError if one exits or is late
    (its own error went to the launcher's stderr)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    described = {}
    for kind, child in children.items():
        assert child.stdout is not None
        readable, _, _ = select.select([child.stdout], [], [], max(0.0, deadline - time.monotonic()))
        line = child.stdout.readline() if readable else b""
        found = description(data_dir, kind)
        if not line.startswith(b"https://") or found is None:
            state = "took too long" if child.poll() is None else f"exited with code {child.returncode}"
            raise ConfigError(f"the {kind} stand-in did not start ({state}): see its error above")
        described[kind] = found
    return described


def notify_env(data_dir: Path, described: Mapping[str, Mapping[str, str]], push_hosts: str) -> dict[str, str]:
    """The variables that point notify at the stand-ins, as a retailer's would at Apple and Google.
    `push_hosts`: ACCUEIL_PUSH_HOSTS as set, which the stand-ins' hosts join."""
    apns, fcm = described["apns"], described["fcm"]
    # One file for ACCUEIL_PUSH_CA_FILE: each stand-in has its own test CA.
    bundle = data_dir / "push-standins" / "ca.pem"
    bundle.write_text("".join(Path(d["ca_file"]).read_text() for d in (apns, fcm)))
    hosts = [h for h in push_hosts.split(",") if h.strip()]
    hosts += [d["url"].removeprefix("https://") for d in (apns, fcm)]
    return {
        "ACCUEIL_APNS_KEY_FILE": apns["key_file"],
        "ACCUEIL_APNS_KEY_ID": apns["key_id"],
        "ACCUEIL_APNS_TEAM_ID": apns["team_id"],
        "ACCUEIL_APNS_TOPIC": apns["topic"],
        "ACCUEIL_APNS_URL": apns["url"],
        "ACCUEIL_APNS_SANDBOX_URL": apns["url"],  # a development build's tokens go to the same stand-in
        "ACCUEIL_FCM_SERVICE_ACCOUNT_FILE": fcm["service_account_file"],
        "ACCUEIL_FCM_URL": fcm["url"],
        "ACCUEIL_PUSH_CA_FILE": str(bundle),
        "ACCUEIL_PUSH_HOSTS": ",".join(hosts),
    }
