"""One record per concept: no two classes of the package hold mostly the same fields.

The field sets are read from the source (class-level annotations: dataclasses,
TypedDicts, NamedTuples). Two classes overlap when they share five or more fields and
most of the smaller one's, unless one extends or embeds the other (a field typed with
it). None is allowed: a record that needs another's fields extends or embeds it."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "atscale_mock"


def records(package: Path) -> dict[str, tuple[dict[str, str], list[str]]]:
    """Every class: its public annotated fields (name -> annotation) and its bases."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                fields = {
                    item.target.id: ast.unparse(item.annotation)
                    for item in node.body
                    if isinstance(item, ast.AnnAssign)
                    and isinstance(item.target, ast.Name)
                    and not item.target.id.startswith("_")
                }
                key = f"{path.relative_to(package).as_posix()}:{node.name}"
                found[key] = (fields, [ast.unparse(b) for b in node.bases])
    return found


def overlapping(package: Path = PACKAGE) -> set[frozenset[str]]:
    pairs = set()
    for (a, (fa, ba)), (b, (fb, bb)) in itertools.combinations(records(package).items(), 2):
        name_a, name_b = a.split(":")[1], b.split(":")[1]
        if name_b in ba or name_a in bb:
            continue  # one extends the other
        if any(name_b in t for t in fa.values()) or any(name_a in t for t in fb.values()):
            continue  # one embeds the other
        common = set(fa) & set(fb)
        if len(common) >= 5 and len(common) * 2 > min(len(fa), len(fb)):
            pairs.add(frozenset({a, b}))
    return pairs


def test_no_two_records_hold_mostly_the_same_fields() -> None:
    found = overlapping()
    assert not found, f"records that copy each other's fields: {sorted(map(sorted, found))}"


def test_the_overlap_finder_finds_a_copy_and_spares_an_extension(tmp_path: Path) -> None:
    """The finder itself, on classes written for it: a copy is found, a subclass and an
    embedding are not, and four shared fields are not enough."""
    (tmp_path / "m.py").write_text(
        "class A:\n    a: int\n    b: int\n    c: int\n    d: int\n    e: int\n"
        "class Copy:\n    a: int\n    b: int\n    c: int\n    d: int\n    e: int\n    f: int\n"
        "class Sub(A):\n    a: int\n    b: int\n    c: int\n    d: int\n    e: int\n"
        "class Holds:\n    inner: A\n    a: int\n    b: int\n    c: int\n    d: int\n    e: int\n"
        "class Four:\n    a: int\n    b: int\n    c: int\n    d: int\n    z: int\n"
    )
    found = overlapping(tmp_path)
    assert frozenset({"m.py:A", "m.py:Copy"}) in found
    assert frozenset({"m.py:A", "m.py:Sub"}) not in found
    assert frozenset({"m.py:A", "m.py:Holds"}) not in found
    assert not any("m.py:Four" in pair for pair in found)


def calls_of(name: str, package: Path = PACKAGE) -> set[str]:
    """The modules of the package that call ``name`` (a plain or attribute call)."""
    found = set()
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called == name:
                    found.add(path.relative_to(package).as_posix())
    return found


def test_one_module_makes_the_sender_and_the_dispatch_loops() -> None:
    """send, replay, adeliver, run, check and serve all open a delivery.pipeline.Pipeline:
    nothing else calls the sender factory or builds a dispatch loop."""
    assert calls_of("make_sender") == {"delivery/pipeline.py"}
    assert calls_of("Dispatcher") == {"delivery/pipeline.py"}
    assert calls_of("Pipeline") >= {"api/send_plan.py", "api/scenario.py", "check/prober.py"}
    assert calls_of("Pipeline") <= {
        "api/send_plan.py",
        "api/scenario.py",
        "check/prober.py",
        "serve/state.py",
    }
