"""validate: golden error files, the CLI, and fuzzing that never yields a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atscale_mock.errors import ScenarioError
from atscale_mock.scenario.reading import parse_scenario
from atscale_mock.scenario.reading.steps import EVENT_STEP_KEYS

from .cli_helpers import cli, no_traceback, proc

ROOT = Path(__file__).parent.parent
BAD = sorted((Path(__file__).parent / "scenarios_bad").glob("*.yaml"))
GOOD = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("case", BAD, ids=[c.stem for c in BAD])
def test_invalid_scenario_gives_the_golden_message(case: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(case.read_bytes(), case.name, environ={})
    assert info.value.render() + "\n" == case.with_suffix(".err").read_text()


def test_every_bad_case_has_a_golden_file() -> None:
    errs = sorted((Path(__file__).parent / "scenarios_bad").glob("*.err"))
    assert [e.stem for e in errs] == [c.stem for c in BAD]
    assert len(BAD) >= 20


def test_validate_cli_reports_all_files_and_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parent / "scenarios_bad")
    r = cli("validate", "unknown-event.yaml", "bad-rate.yaml")
    assert r.code == 2
    assert "unknown-event.yaml:4:12" in r.stderr and "bad-rate.yaml:4:30" in r.stderr
    assert "did you mean 'slow-query'?" in r.stderr and "2 of 2 file(s) invalid" in r.stderr


def test_validate_json_is_machine_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parent / "scenarios_bad")
    r = cli("validate", "--json", "duplicate-id.yaml", str(GOOD[0]))
    import json

    report = json.loads(r.stdout)
    assert report[str(GOOD[0])] == []
    assert report["duplicate-id.yaml"][0]["line"] == 5 and r.code == 2


def test_validate_missing_file_is_a_clear_error() -> None:
    r = proc("validate", "no/such/file.yaml")
    assert r.code == 2 and "cannot read the file" in r.stderr
    no_traceback(r)


@pytest.mark.parametrize("case", GOOD, ids=[c.stem for c in GOOD])
def test_example_scenarios_validate(case: Path) -> None:
    assert cli("validate", str(case)).code == 0


def test_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [" + ",".join(["x"] * 50) + "]\n"
    for level in "bcdefgh":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ",".join([f"*{prev}"] * 50) + "]\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(bomb.encode(), "bomb.yaml", environ={})
    assert "alias bomb" in info.value.render()


# -- fuzzing: never anything but a ScenarioError ----------------------------------------


def _must_not_crash(raw: bytes) -> None:
    try:
        parse_scenario(raw, "fuzz.yaml", environ={"RECEIVER_URL": "http://127.0.0.1:1/x"})
    except ScenarioError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        exc.render()


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "slow-query",
            "2s",
            "10/s",
            "${steps.a.status}",
            "${env:X}",
            "${vars.v}",
            "2xx",
            "batch-start",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "steps",
                    "event",
                    "id",
                    "set",
                    "after",
                    "at",
                    "repeat",
                    "count",
                    "rate",
                    "every",
                    "parallel",
                    "expect",
                    "status",
                    "defaults",
                    "to",
                    "vars",
                    "json",
                    "max_latency",
                    "cube_id",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_values)
def test_random_documents_never_crash(doc: object) -> None:
    _must_not_crash(yaml.safe_dump(doc).encode())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(raw: bytes) -> None:
    _must_not_crash(raw)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(GOOD), st.data())
def test_mutated_valid_scenarios_never_crash(case: Path, data: st.DataObject) -> None:
    text = case.read_text()
    cut = data.draw(st.integers(0, len(text)))
    insert = data.draw(
        st.sampled_from(
            [
                "",
                "\t",
                ":",
                "- ",
                "{",
                "]",
                "&a",
                "*a",
                "!!str ",
                "${",
                "\n  - event: x\n",
                "'",
                "#",
                "  ",
            ]
        )
    )
    drop = data.draw(st.integers(0, 10))
    _must_not_crash((text[:cut] + insert + text[cut + drop :]).encode())


step_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(max_size=8),
    st.sampled_from(
        [
            "slow-query",
            "batch-start",
            "1s",
            "-1s",
            "5/s",
            "${steps.a.payload.id}",
            "${steps.a.status}",
            "${vars.v}",
            "${env:HOME}",
            "${bad}",
            "2xx",
            "local",
            "http://127.0.0.1:1/{org_id}",
            "{}",
            "[]",
        ]
    ),
)
step_keys = st.sampled_from([*EVENT_STEP_KEYS, "parallel", "count", "rate", "jitter"])
steps = st.lists(
    st.dictionaries(
        step_keys,
        st.recursive(
            step_values,
            lambda c: st.lists(c, max_size=3) | st.dictionaries(step_keys, c, max_size=3),
            max_leaves=8,
        ),
        max_size=6,
    ),
    max_size=5,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.dictionaries(st.sampled_from(["v", "w"]), step_values, max_size=2))
def test_random_steps_in_a_valid_frame_never_crash(
    step_list: list[object], variables: dict[str, object]
) -> None:
    doc = {"version": 1, "vars": variables, "steps": step_list}
    _must_not_crash(yaml.safe_dump(doc).encode())


def test_a_large_document_without_aliases_is_not_called_an_alias_bomb(tmp_path: Path) -> None:
    """100,000 steps are a big file, not an attack: it loads (positions kept), and a
    problem in the last step still names its line."""
    lines = ["version: 1", "name: many", "steps:"]
    for i in range(100_000):
        lines += [f"  - id: s{i}", "    event: slow-query"]
    lines[-1] = "    event: slow-qury"
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    r = cli("validate", str(path))
    assert r.code == 2
    assert "alias bomb" not in r.stderr and "too large" not in r.stderr
    assert f"many.yaml:{len(lines)}:" in r.stderr and "did you mean 'slow-query'" in r.stderr


def test_validate_no_env_lints_a_scenario_whose_secrets_are_not_set(tmp_path: Path) -> None:
    f = tmp_path / "ci.yaml"
    f.write_text(
        "version: 1\ndefaults:\n  to: ${env:AM_TEST_UNSET_URL:-http://127.0.0.1:9/hooks}\n"
        '  headers: {Authorization: "Bearer ${secret:AM_TEST_UNSET_TOKEN}"}\n'
        "steps:\n  - event: slow-query\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AM_TEST_UNSET")}
    strict = proc("validate", str(f), env=env)
    assert strict.code == 2 and "AM_TEST_UNSET_TOKEN is not set" in strict.stderr
    lint = proc("validate", "--no-env", str(f), env=env)
    assert lint.code == 0, lint.stderr
    # --no-env still finds what is wrong with the file itself
    f.write_text(f.read_text().replace("slow-query", "slow-qery"))
    still = proc("validate", "--no-env", str(f), env=env)
    assert still.code == 2 and "did you mean 'slow-query'" in still.stderr
    # a default that is not a URL is still checked
    f.write_text(f.read_text().replace("http://127.0.0.1:9/hooks", "ftp://x"))
    assert proc("validate", "--no-env", str(f), env=env).code == 2


def test_a_timeline_past_the_year_9999_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """Found by hypothesis (test_fuzz.py::test_scenario_mutations, on Python 3.13): an
    `after` of millennia overflowed the payload clock in a traceback."""
    far = tmp_path / "far.yaml"
    far.write_text("version: 1\nsteps:\n  - event: slow-query\n    after: 251698233600\n")
    r = proc("validate", str(far))
    assert r.code == 2 and "a duration of at most 10 years" in r.stderr
    no_traceback(r)
    # each duration in bounds, the timeline past 9999 all the same: plan says which step
    long = tmp_path / "long.yaml"
    long.write_text(
        "version: 1\nsteps:\n  - id: q\n    event: slow-query\n"
        "    repeat: {count: 1000, every: 87600h}\n"
    )
    assert proc("validate", str(long)).code == 0
    r = proc("plan", str(long))
    assert r.code == 2 and "step 'q' falls" in r.stderr and "past the year 9999" in r.stderr
    no_traceback(r)
