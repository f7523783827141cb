"""Every delivery option means the same thing in every command that takes it: repeated
--header, --sign/--secret (checked with the standardwebhooks reference package), URL
placeholders, --duplicates and --retries, across send, run, replay and load (both
engines), against a real server on 127.0.0.1."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from .cli_helpers import cli, proc
from .httpserver import ScriptedServer, Seen

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
COMMON = ["-H", "X-One: 1", "-H", "X-Two: 2", "--sign", "standard-webhooks", "--secret", SECRET]


def _check(seen: list[Seen], minimum: int = 1) -> None:
    """Both headers, a valid signature, the placeholder filled, on every request."""
    assert len(seen) >= minimum
    hook = Webhook(SECRET)
    for s in seen:
        headers = {k.lower(): v for k, v in s.headers.items()}
        assert headers["x-one"] == "1" and headers["x-two"] == "2", headers
        payload = hook.verify(s.body, headers)  # raises if the signature is wrong
        org = payload.get("org_id") or payload.get("context", {}).get("org_id")
        assert s.path == f"/m/{org}", (s.path, org)


def _scenario(tmp_path: Path, url: str, count: int = 4) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(
        f"""version: 1
name: matrix
defaults: {{to: "{url}", seed: 3}}
steps:
  - id: q
    event: slow-query
    repeat: {{count: {count}, every: 1ms}}
"""
    )
    return path


def test_send(srv: ScriptedServer) -> None:
    r = cli("send", "slow-query", "-n", "4", "--to", srv.url + "/m/{org_id}", *COMMON)
    assert r.code == 0, r.stderr
    _check(srv.seen, 4)


def test_run(srv: ScriptedServer, tmp_path: Path) -> None:
    r = cli("run", str(_scenario(tmp_path, srv.url + "/m/{org_id}")), *COMMON[4:])
    assert r.code == 0, r.stdout + r.stderr
    # run takes its headers from the file; --header is send's, replay's and load's
    hook = Webhook(SECRET)
    assert len(srv.seen) == 4
    for s in srv.seen:
        hook.verify(s.body, {k.lower(): v for k, v in s.headers.items()})
        assert s.path.startswith("/m/")


def test_run_takes_timeout_and_headers_over_the_files(srv: ScriptedServer, tmp_path: Path) -> None:
    scenario = tmp_path / "t.yaml"
    scenario.write_text(
        f"""version: 1
defaults: {{to: "{srv.url}/slow/3", timeout: 30s, headers: {{X-A: file, X-B: file}}}}
steps:
  - event: slow-query
"""
    )
    r = cli("run", str(scenario), "--timeout", "500ms", "-H", "X-A: cli", "--json")
    assert r.code == 1, r.stdout + r.stderr
    assert json.loads(r.stdout)["errors"] == {"timeout": 1}, r.stdout
    assert {k.lower(): v for k, v in srv.seen[-1].headers.items()}["x-a"] == "cli"
    assert {k.lower(): v for k, v in srv.seen[-1].headers.items()}["x-b"] == "file"


def test_trigger_takes_slow_threshold(srv: ScriptedServer) -> None:
    import httpx

    from atscale_mock.serve import EngineServer

    with EngineServer() as engine:
        httpx.post(engine.url + "/_mock/webhooks", json={"url": srv.url + "/ok"})
        r = cli(
            "trigger", "slow-query", "--server", engine.url, "--slow-threshold", "1h",
            "--seed", "1", "--wait", "10s",
        )  # fmt: skip
        assert r.code == 0, r.stderr
        bad = httpx.post(engine.url + "/_mock/events/slow-query", json={"slow_threshold": -1})
        assert bad.status_code == 422 and bad.json()["field"] == "slow_threshold"
    assert json.loads(srv.seen[-1].body)["time_taken"] >= 3600


def test_replay_takes_the_fault_options(srv: ScriptedServer, tmp_path: Path) -> None:
    """replay --duplicates 0.5: each copy is its original again (bytes and webhook-id),
    as a receiver that deduplicates by webhook-id needs; the same seed, the same copies."""
    log = tmp_path / "sent.jsonl"
    assert cli("send", "slow-query", "-n", "8", "--to", srv.url + "/m/{org_id}", *COMMON,
               "--log", str(log)).code == 0  # fmt: skip
    runs = []
    for _ in range(2):
        srv.clear()
        r = cli("replay", str(log), "--to", srv.url + "/m/default", "--duplicates", "0.5",
                "--seed", "3", *COMMON, "--json")  # fmt: skip
        assert r.code == 0, r.stderr
        ids = [s.headers["webhook-id"] for s in srv.seen]
        bodies = {s.headers["webhook-id"]: s.body for s in srv.seen}
        copies = Counter(ids)
        assert len(copies) == 8 and sum(copies.values()) > 8  # some sent twice
        for s in srv.seen:  # a copy carries the same bytes as its original
            assert bodies[s.headers["webhook-id"]] == s.body
        _check(srv.seen, 8)
        runs.append(ids)
        assert json.loads(r.stdout)["duplicates"] == sum(copies.values()) - 8
    assert runs[0] == runs[1]  # the same seed, the same duplicates in the same order


def test_replay_signs_again_and_keeps_the_ids(srv: ScriptedServer, tmp_path: Path) -> None:
    log = tmp_path / "sent.jsonl"
    url = srv.url + "/m/{org_id}"
    assert cli("send", "batch-start", "-n", "3", "--to", url, *COMMON, "--log", str(log)).code == 0
    first = [dict(s.headers) for s in srv.seen]
    srv.clear()
    r = cli("replay", str(log), "--to", srv.url + "/m/default", *COMMON)
    assert r.code == 0, r.stderr
    _check(srv.seen, 3)
    ids = [{k.lower(): v for k, v in h.items()}["webhook-id"] for h in first]
    assert [s.headers["webhook-id"] for s in srv.seen] == ids
    srv.clear()
    r = cli("replay", str(log), "--to", srv.url + "/m/default", *COMMON, "--new-ids")
    assert r.code == 0 and not {s.headers["webhook-id"] for s in srv.seen} & set(ids)
    _check(srv.seen, 3)


def test_replay_without_signing_says_what_it_could_not_replay(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    log = tmp_path / "sent.jsonl"
    cli("send", "unpublish", "--to", srv.url + "/ok", *COMMON, "--log", str(log))
    srv.clear()
    r = cli("replay", str(log), "--to", srv.url + "/ok")
    assert r.code == 0 and "webhook-signature was redacted" in r.stderr
    assert "webhook-signature" not in {k.lower() for k in srv.seen[0].headers}


def test_load_builtin(srv: ScriptedServer) -> None:
    r = cli(
        "load", "--to", srv.url + "/m/{org_id}", "--rate", "40", "-d", "1s", "-q", "--json",
        "--mix", "slow-query=3,batch-start=1,unpublish=1", *COMMON,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["statuses"] == {"200": data["completed"]} and data["completed"] >= 30
    _check(srv.seen, 30)


def test_load_locust(srv: ScriptedServer) -> None:
    r = proc(
        "load", "--generator", "locust", "--to", srv.url + "/m/{org_id}", "--rate", "20",
        "-d", "3s", "-c", "2", "--json", "--mix", "slow-query=3,prune-result=1", *COMMON,
        timeout=120,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert json.loads(r.stdout)["sent"] >= 10
    _check(srv.seen, 10)


def test_duplicates_mean_the_same_in_send_run_and_load(srv: ScriptedServer, tmp_path: Path) -> None:
    r = cli("send", "slow-query", "-n", "5", "--duplicates", "1", "--to", srv.url + "/ok")
    assert r.code == 0 and len(srv.seen) == 10
    assert set(Counter(s.body for s in srv.seen).values()) == {2}
    srv.clear()
    r = cli("run", str(_scenario(tmp_path, srv.url + "/ok", 5)), "--duplicates", "1")
    assert r.code == 0 and len(srv.seen) == 10
    assert set(Counter(s.body for s in srv.seen).values()) == {2}
    srv.clear()
    r = cli("load", "--to", srv.url + "/ok", "--rate", "40", "-d", "1s", "-q", "--json",
            "--duplicates", "1")  # fmt: skip
    data = json.loads(r.stdout)
    assert data["faults"]["duplicate"] > 0
    assert max(Counter(s.body for s in srv.seen).values()) == 2


def test_retries_mean_the_same_in_send_run_and_replay(srv: ScriptedServer, tmp_path: Path) -> None:
    r = cli("send", "unpublish", "--retries", "2", "--to", srv.url + "/flaky/2/a", "--json")
    assert r.code == 0 and json.loads(r.stdout)["attempts"] == 3
    path = _scenario(tmp_path, srv.url + "/flaky/2/b", 1)
    r = cli("run", str(path), "--retries", "2", "--json")
    assert r.code == 0 and json.loads(r.stdout)["attempts"] == 3
    log = tmp_path / "one.jsonl"
    cli("send", "unpublish", "--to", srv.url + "/ok", "--log", str(log))
    r = cli("replay", str(log), "--retries", "2", "--to", srv.url + "/flaky/2/c", "--json")
    assert r.code == 0 and json.loads(r.stdout)["attempts"] == 3


def test_drop_and_malformed_mean_the_same_in_send_run_and_load(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    scenario = str(_scenario(tmp_path, srv.url + "/ok", 4))
    send = ["send", "slow-query", "-n", "4", "--to", srv.url + "/ok"]
    load = ["load", "--to", srv.url + "/ok", "--rate", "40", "-d", "0.5s", "-q", "--json"]
    for args in (send, ["run", scenario]):
        srv.clear()
        cli(*args, "--drop", "1")
        assert srv.seen == [], args  # generated, never sent
    srv.clear()
    data = json.loads(cli(*load, "--drop", "0.5").stdout)
    assert data["faults"]["dropped"] > 0 and len(srv.seen) == data["completed"]
    r = cli(*load, "--drop", "1")
    assert r.code == 2 and "drop must be below 1" in r.stderr
    for args in (send, ["run", scenario], load):
        srv.clear()
        cli(*args, "--malformed", "invalid-json")
        assert srv.seen, args
        for s in srv.seen:
            with pytest.raises(ValueError):
                json.loads(s.body)


def test_timeout_is_one_deadline_per_attempt_in_send_replay_and_load(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    slow = srv.url + "/slow/2"
    r = cli("send", "unpublish", "--timeout", "0.3", "--to", slow, "--json")
    assert json.loads(r.stdout)["errors"] == {"timeout": 1}
    log = tmp_path / "one.jsonl"
    cli("send", "unpublish", "--to", srv.url + "/ok", "--log", str(log))
    r = cli("replay", str(log), "--timeout", "0.3", "--to", slow, "--json")
    assert json.loads(r.stdout)["errors"] == {"timeout": 1}
    r = cli("load", "--to", slow, "--rate", "5", "-d", "0.5s", "--timeout", "0.3", "-q", "--json")
    assert set(json.loads(r.stdout)["errors"]) == {"timeout"}


def test_load_refuses_a_placeholder_an_event_of_its_mix_lacks(srv: ScriptedServer) -> None:
    r = cli("load", "--to", srv.url + "/m/{org_id}", "--rate", "10", "-d", "1s",
            "--mix", "slow-query=1,schema-publish=1")  # fmt: skip
    assert r.code == 2 and "schema-publish" in r.stderr and srv.seen == []


# -- generated from the one table (atscale_mock/cli/option_table.py) -----------------

from atscale_mock.cli.option_table import COMMANDS, DELIVERY_OPTIONS, REFUSED  # noqa: E402

HELP = {c: cli(c, "--help").stdout for c in COMMANDS}


@pytest.mark.parametrize("option", DELIVERY_OPTIONS)
@pytest.mark.parametrize("command", COMMANDS)
def test_every_delivery_option_is_taken_or_refused_by_name(command: str, option: str) -> None:
    """Each delivering command lists each delivery option in its --help, or the table
    refuses it: `atscale-mock COMMAND OPTION` then says which option and why."""
    import re

    taken = re.search(rf"(?m)^\s+(-\w, )?{re.escape(option)}\b", HELP[command]) is not None
    why = REFUSED.get((command, option))
    if why is None:
        assert taken, f"{command} neither takes {option} nor refuses it in the table"
        return
    assert not taken, f"{command} takes {option} although the table refuses it"
    r = cli(command, "--to", "local", option, "1")
    assert r.code == 2
    assert f"error: {command} does not take {option}" in r.stderr and why in r.stderr


def test_the_table_names_only_delivering_commands_and_delivery_options() -> None:
    assert {c for c, _ in REFUSED} <= set(COMMANDS)
    assert {o for _, o in REFUSED} <= set(DELIVERY_OPTIONS)


def test_delivery_option_groups_are_declared_once_and_stacked() -> None:
    """--duplicates ... and --sign ... are declared in cli/option_groups.py alone; each
    command that takes them gets them from the group (and a record, not seven values)."""
    import inspect
    from pathlib import Path

    from atscale_mock.cli import option_groups
    from atscale_mock.cli.root import app

    cli_dir = Path(option_groups.__file__).parent
    for path in cli_dir.glob("*.py"):
        if path.name == "option_groups.py":
            continue
        text = path.read_text()
        for param in ("    duplicates: Duplicates", "    sign: Sign", "    malformed: Malformed"):
            assert param not in text, f"{path.name} declares {param.strip()} again"
    commands = {c.callback.__name__: c.callback for c in app.registered_commands if c.callback}
    for name in ("send", "run", "replay", "load"):
        params = inspect.signature(commands[name]).parameters
        assert {"duplicates", "malformed_rate", "sign", "secret"} <= set(params), name
    assert {"bad_signature", "stale_timestamp"} <= set(
        inspect.signature(commands["run"]).parameters
    )
    assert "sign" in inspect.signature(commands["check"]).parameters

    with pytest.raises(TypeError, match="must take 'faults'"):
        option_groups.fault_options(lambda x: x)

    seen = []

    @option_groups.fault_options
    def command(name: str, faults: object = None) -> None:
        seen.append((name, faults))

    command("x", duplicates=0.5, reorder=3)
    (got,) = seen
    assert got[0] == "x" and got[1].duplicates == 0.5 and got[1].reorder == 3
