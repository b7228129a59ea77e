"""Python types W&B's type JSON as the panel does: `models.type_rows` on the cases that
js/src/__tests__/wbtypes.spec.ts runs through the panel's `typeRows`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_jobs.models import type_rows

CASES = json.loads((Path(__file__).parent / "wb_type_cases.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[case["about"] for case in CASES])
def test_rows_and_labels_match_the_panels(case: dict) -> None:
    assert [list(row) for row in type_rows(case["types"])] == case["rows"]
