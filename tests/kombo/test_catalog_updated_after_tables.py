"""The catalog reads every row of the spec's ``updated_after`` tables, "n/a" rows included."""

from __future__ import annotations

from gateway.kombo.catalog import CATALOG, NestedChange


def rows(model: str) -> set[tuple[str, bool, bool]]:
    return {(n.path, n.added_removed, n.linked_record) for n in CATALOG[model].nested_changes}


def test_single_record_rows_marked_n_a_are_read_as_linked_records() -> None:
    assert ("application", False, True) in rows("Interview")
    assert ("application", False, True) in rows("Offer")
    assert {("candidate", False, True), ("current_stage", False, True)} <= rows("Application")


def test_every_table_row_of_the_ten_endpoints() -> None:
    assert rows("Interview") == {("interviewers", True, False), ("application", False, True)}
    assert rows("Application") == {
        ("candidate", False, True),
        ("current_stage", False, True),
        ("job", False, False),
        ("interviews", True, True),
        ("offers", True, True),
    }
    assert rows("Candidate") == {("applications", True, True), ("tags", True, False)}
    assert rows("Job") == {
        ("stages", True, False),
        ("screening_questions", True, False),
        ("job_postings", True, True),
        ("hiring_team", True, False),
    }
    assert rows("User") == {("system_role_assignment", True, True)}
    for model in ("Tag", "RejectionReason", "ApplicationStage", "Role"):
        assert CATALOG[model].nested_changes == ()
    assert all(isinstance(n, NestedChange) for m in CATALOG for n in m.nested_changes)
