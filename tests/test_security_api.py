"""Schemathesis against the district server's own OpenAPI: no 5xx, no schema violations.

A real server process on 127.0.0.1 (SQLite) with a registered kiosk; every
operation gets generated valid and invalid requests, with the kiosk's token.
Bounded: ``MAX_EXAMPLES`` per operation and phase, so the run takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.core.result import Err

from sync.server import db
from sync.testing import ServerProcess

MAX_EXAMPLES = 30


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    work: Path = tmp_path_factory.mktemp("district")
    srv = ServerProcess(f"sqlite:///{work / 'district.db'}", work)
    engine = db.open_engine(srv.db_url)
    token = db.add_kiosk(engine, "fuzz-kiosk")
    engine.dispose()
    yield srv, token
    srv.stop()


@pytest.mark.slow
def test_api_no_server_errors_no_schema_violations(district: tuple[ServerProcess, str]) -> None:
    srv, token = district
    # Schemathesis' pytest plugin does not load under pytest 9 (Function._nodeid), so the
    # operations are driven here with plain Hypothesis.
    api = schemathesis.openapi.from_url(f"{srv.url}/openapi.json")
    checked = []
    for result in api.get_all_operations():
        assert not isinstance(result, Err), result
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                base_url=srv.url,
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            )

        run()
        checked.append(operation.label)
    assert len(checked) >= 6, checked
    print(f"\nFIGURE schemathesis: {len(checked)} operations x {MAX_EXAMPLES} examples: {checked}")
