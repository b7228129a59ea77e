"""Hypothesis against every door a request or a notebook comes in by: the REST API in a real
jupyter_server (bodies, paths, queries) and create_job (notebook shapes). Whatever comes in,
the answer is a job or a one-line error: never a 500, never a traceback."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jupyter_jobs.core import CreateRequest, create_job
from jupyter_jobs.errors import JobError

from .helpers import TRAIN_CELLS, notebook_json

pytest_plugins = ("pytest_jupyter.jupyter_server",)

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
# Text as requests carry it, lone surrogates (which JSON's \ud800 lets in) included.
texts = st.text(max_size=40) | st.text(st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=5)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
numbers = st.integers(min_value=-(2**70), max_value=2**70).map(str) | texts | st.just("2**63")


@pytest.fixture
def raw(
    http_server_client: Any, jp_auth_header: dict, jp_base_url: str, jp_root_dir: Path, tmp_path: Path, monkeypatch
):
    """`raw(path, method, body) -> (status, JSON reply)` with the path sent as given (already
    %-escaped, invalid UTF-8 included), from a hypothesis thread onto the server's loop."""
    monkeypatch.setenv("JUPYTER_JOBS_STORE", str(tmp_path / "fuzz-store"))
    (jp_root_dir / "train.ipynb").write_text(notebook_json(*TRAIN_CELLS))
    loop = asyncio.get_event_loop()

    async def fetch(path: str, method: str, body: bytes | None) -> tuple[int, Any]:
        url = f"{jp_base_url.rstrip('/')}/jupyter-jobs/{path}"
        response = await http_server_client.fetch(
            url, method=method, body=body, headers=jp_auth_header, raise_error=False, request_timeout=120
        )
        return response.code, response.body

    def call(path: str, method: str = "GET", body: bytes | None = None) -> tuple[int, Any]:
        status, reply = asyncio.run_coroutine_threadsafe(fetch(path, method, body), loop).result(timeout=180)
        assert status < 500, (path, body, reply[:300])
        parsed = json.loads(reply)
        if status >= 400:
            assert isinstance(parsed["message"], str) and "\n" not in parsed["message"], parsed
            assert "Traceback" not in parsed["message"]
        return status, parsed

    return call


async def created_job(raw: Any) -> str:
    """The name of the job made from the root's notebook (requested off the server's loop)."""
    body = json.dumps({"path": "train.ipynb", "no_git": True}).encode()
    status, created = await asyncio.get_running_loop().run_in_executor(None, raw, "jobs", "POST", body)
    assert status == 201
    return created["name"]


def quoted(text: str) -> str:
    return urllib.parse.quote(text.encode("utf-8", "surrogatepass"), safe="")


async def test_fuzzed_create_bodies_get_a_job_or_a_4xx(raw: Any) -> None:
    fields = st.sampled_from(["path", "project", "entity", "source", "name", "no_git", "dry_run", "strip_outputs", "x"])
    paths = st.sampled_from(["train.ipynb", "../x.ipynb", "/etc/passwd", ".hidden.ipynb", "a" * 5000 + ".ipynb"])
    bodies = st.dictionaries(fields, json_values | paths, max_size=5).map(lambda b: json.dumps(b).encode())

    @FUZZ
    @given(body=bodies | json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=64))
    @example(body=b"[" * 100_000 + b"]" * 100_000)
    @example(body=json.dumps({"path": "train.ipynb", "project": "\ud800"}).encode())
    @example(body=json.dumps({"path": "\ud800.ipynb"}).encode())
    @example(body=json.dumps({"path": "/".join(["d"] * 3000) + ".ipynb"}).encode())
    @example(body=json.dumps({"path": "train.ipynb", "dry_run": True, "no_git": True}).encode())
    def check(body: bytes) -> None:
        raw("jobs", "POST", body)

    await asyncio.get_running_loop().run_in_executor(None, check)


async def test_fuzzed_paths_and_queries_get_an_answer_or_a_4xx(raw: Any) -> None:
    name = await created_job(raw)
    names = st.just(name) | texts.filter(bool) | st.sampled_from(["\ud800", "x" * 5000, "/".join(["a"] * 3000)])
    queries = st.dictionaries(st.sampled_from(["limit", "offset", "ref", "before", "x"]), numbers, max_size=3)
    tails = st.sampled_from(
        ["", "/runs", "/compare", "/files/requirements.frozen.txt", "/files/..%2F..%2Findex.sqlite"]
    )

    @FUZZ
    @given(name=names, tail=tails, query=queries)
    @example(name=name, tail="", query={"ref": "v99999999999999999999999"})
    @example(name=name, tail="/compare", query={"before": "v99999999999999999999999"})
    @example(name=name, tail="/runs", query={"limit": str(2**63)})
    @example(name="", tail="", query={"offset": str(2**63)})
    def check(name: str, tail: str, query: dict[str, str]) -> None:
        encoded = urllib.parse.urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
        path = f"jobs/{quoted(name)}{tail}" if name else "jobs"
        raw(f"{path}?{encoded}")

    await asyncio.get_running_loop().run_in_executor(None, check)


async def test_fuzzed_run_requests_get_an_outcome_or_a_4xx(raw: Any) -> None:
    name = await created_job(raw)
    configs = st.lists(st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["epochs", "learning_rate", "x"]), texts))

    @settings(FUZZ, max_examples=5)
    @given(body=st.fixed_dictionaries({}, optional={"ref": texts | st.none(), "config": configs}))
    @example(body={"config": ["learning_rate=" + "1" * 131_072]})
    @example(body={"ref": "v99999999999999999999999"})
    def check(body: dict) -> None:
        raw(f"jobs/{quoted(name)}/runs", "POST", json.dumps(body).encode())

    await asyncio.get_running_loop().run_in_executor(None, check)


# Notebook shapes: what a damaged or hand-edited notebook may hold where nbformat expects a type.
sources = st.text(max_size=30) | st.lists(st.text(max_size=10), max_size=3) | json_values
outputs = st.lists(
    st.fixed_dictionaries(
        {"output_type": st.sampled_from(["stream", "error", "display_data", "execute_result", "x"]) | json_values},
        optional={
            "text": sources,
            "name": json_values,
            "ename": json_values,
            "evalue": json_values,
            "traceback": json_values,
            "data": st.dictionaries(st.sampled_from(["text/plain", "application/json", "image/png"]), json_values)
            | json_values,
        },
    )
    | json_values,
    max_size=3,
)
cells = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw"]) | json_values, "source": sources},
    optional={"outputs": outputs | json_values, "metadata": json_values, "attachments": json_values},
)
notebooks = st.fixed_dictionaries(
    {"cells": st.lists(cells, max_size=4) | json_values},
    optional={"nbformat": st.sampled_from([4, 3, 5, "4"]) | json_values, "metadata": json_values},
)


@FUZZ
@given(notebook=notebooks, strip=st.booleans())
@example(notebook={"nbformat": 4, "cells": [{"cell_type": "code", "source": "x = '\ud800'"}]}, strip=False)
@example(
    notebook={
        "nbformat": 4,
        "cells": [{"cell_type": "code", "source": "x=1", "outputs": [{"output_type": "error", "traceback": [1, 2]}]}],
    },
    strip=True,
)
@example(
    notebook={
        "nbformat": 4,
        "cells": [{"cell_type": "code", "source": "x=1", "outputs": [{"output_type": "stream", "text": None}]}],
    },
    strip=False,
)
def test_fuzzed_notebooks_get_a_job_or_a_one_line_error(tmp_path: Path, notebook: dict, strip: bool) -> None:
    path = tmp_path / "fuzzed.ipynb"
    path.write_bytes(json.dumps(notebook).encode())
    request = CreateRequest(path=path, project="p", no_git=True, strip_outputs=strip, store=tmp_path / "store")
    try:
        create_job(request)
    except JobError as error:
        assert "\n" not in error.line and error.line


def test_a_deeply_nested_notebook_gets_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.ipynb"
    path.write_text('{"nbformat": 4, "cells": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}")

    with pytest.raises(JobError, match="nested too deeply"):
        create_job(CreateRequest(path=path, no_git=True, store=tmp_path / "store"))
