"""`make deploy` against a stub `gcloud` on PATH that records every call (and what it was fed).

The stub answers like gcloud where the script reads an answer (a project number, an account, the
service's URL) and says "missing" to every describe, unless told that everything exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.app_server import ROOT

PROJECT, NUMBER, REGION = "demo-proj", "123456789012", "europe-west1"
URL = f"https://reelscope-{NUMBER}.{REGION}.run.app"
SA = f"reelscope-run@{PROJECT}.iam.gserviceaccount.com"
STUB = textwrap.dedent(
    f"""\
    #!{sys.executable}
    import json, os, sys
    args = sys.argv[1:]
    call = {{"args": args}}
    if "--data-file=-" in args:
        call["stdin"] = sys.stdin.read()
    for arg in args:
        if arg.startswith("--cors-file="):
            call["cors"] = json.load(open(arg.split("=", 1)[1]))
    with open(os.environ["GCLOUD_STUB_LOG"], "a") as log:
        log.write(json.dumps(call) + "\\n")
    if args[:2] == ["projects", "describe"]:
        print("{NUMBER}")
    elif args[:3] == ["config", "get-value", "account"]:
        print("dev@example.com")
    elif args[:3] == ["run", "services", "describe"]:
        print("{URL}")
    elif "describe" in args and not os.environ.get("GCLOUD_STUB_ALL_EXIST"):
        sys.exit(1)
    """
)


def deploy(tmp_path: Path, **settings: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """`make deploy` with these settings; what it printed, and the gcloud calls it made."""
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir(exist_ok=True)
    (stub_dir / "gcloud").write_text(STUB)
    (stub_dir / "gcloud").chmod(0o755)
    log = tmp_path / "gcloud-calls.jsonl"
    log.unlink(missing_ok=True)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("GOOGLE_CLOUD_PROJECT", "REGION", "SERVICE", "DRY_RUN", "IAP_MEMBERS")
        and not name.startswith("MAKE")
    }
    env.update(PATH=f"{stub_dir}{os.pathsep}{env['PATH']}", GCLOUD_STUB_LOG=str(log), **settings)
    ended = subprocess.run(
        ["make", "--no-print-directory", "deploy"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return ended, calls


def call(calls: list[dict], *prefix: str) -> list[str]:
    found = [c["args"] for c in calls if c["args"][: len(prefix)] == list(prefix)]
    assert len(found) == 1, f"{' '.join(prefix)}: {len(found)} calls"
    return found[0]


def printed_deploy(stdout: str) -> list[str]:
    lines = [line for line in stdout.splitlines() if line.startswith("+ gcloud beta run deploy ")]
    assert len(lines) == 1, stdout
    return lines[0].split()


WHAT_STREAMLIT_NEEDS = [
    "--session-affinity",
    "--timeout=3600",  # Cloud Run's longest: the websocket lives that long, then reconnects
    "--min-instances=1",
    "--no-allow-unauthenticated",
    "--iap",
    f"--service-account={SA}",
    f"--add-cloudsql-instances={PROJECT}:{REGION}:reelscope",
    "--source=.",
    "--no-cpu-throttling",
    "--max-instances=4",  # the stores are shared: more instances are one studio
]


def test_without_a_project_it_stops_and_says_what_to_set(tmp_path):
    ended, calls = deploy(tmp_path)
    assert ended.returncode != 0
    assert "GOOGLE_CLOUD_PROJECT is not set" in ended.stderr
    assert "export GOOGLE_CLOUD_PROJECT=" in ended.stderr
    assert calls == [], "nothing may be created in whatever project gcloud happens to use"


def test_a_dry_run_prints_every_command_and_runs_none(tmp_path):
    ended, calls = deploy(tmp_path, GOOGLE_CLOUD_PROJECT=PROJECT, REGION=REGION, DRY_RUN="1")
    assert ended.returncode == 0, ended.stderr
    assert calls == []
    flags = printed_deploy(ended.stdout)
    for flag in WHAT_STREAMLIT_NEEDS:
        assert flag in flags
    assert "--set-secrets=REELSCOPE_DATABASE_URL=reelscope-database-url:latest" in flags
    for step in (
        "gcloud services enable",
        "gcloud iam service-accounts create reelscope-run",
        f"gcloud storage buckets create gs://{PROJECT}-reelscope",
        "gcloud sql instances create reelscope",
        "gcloud secrets create reelscope-database-url",
        "gcloud beta services identity create --service=iap.googleapis.com",
        "gcloud beta iap web add-iam-policy-binding --resource-type=cloud-run",
        f"gcloud storage buckets update gs://{PROJECT}-reelscope --cors-file=",
    ):
        assert f"+ {step}" in ended.stdout, step


def test_a_deploy_makes_these_calls(tmp_path):
    ended, calls = deploy(
        tmp_path,
        GOOGLE_CLOUD_PROJECT=PROJECT,
        REGION=REGION,
        IAP_MEMBERS="group:team@example.com,user:ada@example.com",
        CORS_ORIGINS="https://reelscope.example.com",
    )
    assert ended.returncode == 0, ended.stderr

    deployed = call(calls, "beta", "run", "deploy")
    assert deployed[3] == "reelscope"
    for flag in WHAT_STREAMLIT_NEEDS:
        assert flag in deployed
    env_vars = dict(
        pair.split("=", 1)
        for flag in deployed
        if flag.startswith("--set-env-vars=")
        for pair in flag.removeprefix("--set-env-vars=").split(",")
    )
    assert env_vars == {
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "REELSCOPE_BUCKET": f"{PROJECT}-reelscope",
        "REELSCOPE_AUTH": "iap",
        "REELSCOPE_IAP_AUDIENCE": f"/projects/{NUMBER}/locations/{REGION}/services/reelscope",
    }

    # The service account: these roles and no others.
    project_roles = sorted(
        arg.removeprefix("--role=")
        for c in calls
        if c["args"][:2] == ["projects", "add-iam-policy-binding"]
        for arg in c["args"]
        if arg.startswith("--role=")
    )
    assert project_roles == ["roles/aiplatform.user", "roles/cloudsql.client"]
    bucket_grant = call(calls, "storage", "buckets", "add-iam-policy-binding")
    assert {f"--member=serviceAccount:{SA}", "--role=roles/storage.objectUser"} <= set(bucket_grant)
    secret_grant = call(calls, "secrets", "add-iam-policy-binding")
    assert "--role=roles/secretmanager.secretAccessor" in secret_grant

    # IAP calls the service as its service agent; the listed members may pass IAP.
    invoker = call(calls, "run", "services", "add-iam-policy-binding")
    assert f"--member=serviceAccount:service-{NUMBER}@gcp-sa-iap.iam.gserviceaccount.com" in invoker
    assert "--role=roles/run.invoker" in invoker
    passing = [
        c["args"]
        for c in calls
        if c["args"][:4] == ["beta", "iap", "web", "add-iam-policy-binding"]
    ]
    assert sorted(a for args in passing for a in args if a.startswith("--member=")) == [
        "--member=group:team@example.com",
        "--member=user:ada@example.com",
    ]

    # The database URL goes into Secret Manager on stdin: in no command line and not printed.
    secret = next(c for c in calls if c["args"][:2] == ["secrets", "create"])
    url = secret["stdin"]
    assert url.startswith("postgresql+psycopg://reelscope:")
    assert url.endswith(f"@/reelscope?host=/cloudsql/{PROJECT}:{REGION}:reelscope")
    password = url.split(":", 2)[2].split("@", 1)[0]
    assert len(password) == 48
    # gcloud takes a user's password only as an argument or at a prompt: that one call has it.
    holding = [c["args"][:3] for c in calls if password in json.dumps(c["args"])]
    assert holding == [["sql", "users", "create"]]
    assert password not in ended.stdout + ended.stderr

    # CORS: the service's URL (as gcloud reports it) and the extra origin may upload.
    cors = next(c["cors"] for c in calls if "cors" in c)
    assert cors[0]["origin"] == [URL, "https://reelscope.example.com"]
    assert "PUT" in cors[0]["method"]


def test_the_password_is_on_no_printed_line(tmp_path):
    ended, calls = deploy(tmp_path, GOOGLE_CLOUD_PROJECT=PROJECT)
    assert ended.returncode == 0, ended.stderr
    user = call(calls, "sql", "users", "create")
    password = next(a for a in user if a.startswith("--password=")).removeprefix("--password=")
    assert password and password != "GENERATED"
    assert password not in ended.stdout + ended.stderr
    assert "--password=********" in ended.stdout


def test_the_default_member_is_gcloud_s_account(tmp_path):
    _ended, calls = deploy(tmp_path, GOOGLE_CLOUD_PROJECT=PROJECT)
    passing = call(calls, "beta", "iap", "web", "add-iam-policy-binding")
    assert "--member=user:dev@example.com" in passing


def test_without_a_database_no_cloud_sql_role_or_connection(tmp_path):
    ended, calls = deploy(tmp_path, GOOGLE_CLOUD_PROJECT=PROJECT, SQL_INSTANCE="none")
    assert ended.returncode == 0, ended.stderr
    deployed = call(calls, "beta", "run", "deploy")
    assert not any(
        flag.startswith(("--add-cloudsql-instances", "--set-secrets")) for flag in deployed
    )
    assert not any(c["args"][0] in ("sql", "secrets") for c in calls)
    assert all("--role=roles/cloudsql.client" not in c["args"] for c in calls)
    assert "--max-instances=1" in deployed  # each instance would keep records of its own


@pytest.mark.parametrize("region", ["us-central1", "asia-northeast1"])
def test_a_second_deploy_creates_nothing_again(tmp_path, monkeypatch, region):
    monkeypatch.setenv("GCLOUD_STUB_ALL_EXIST", "1")
    ended, calls = deploy(tmp_path, GOOGLE_CLOUD_PROJECT=PROJECT, REGION=region)
    assert ended.returncode == 0, ended.stderr
    created = [c["args"] for c in calls if "create" in c["args"][:4]]
    # Only the IAP service agent's "create", which gcloud answers with the existing one.
    assert created == [
        [
            "beta",
            "services",
            "identity",
            "create",
            "--service=iap.googleapis.com",
            f"--project={PROJECT}",
        ]
    ]
    call(calls, "beta", "run", "deploy")  # the service is still updated
    assert f"--region={region}" in call(calls, "beta", "run", "deploy")
