"""Credentials in git remote URLs never reach a name, a spec, a widget, a log or a REST reply.

A token often stands where a user name would (`https://<token>:x-oauth-basic@host/...`), and no
rule can tell the two apart, so `strip_credentials` drops all user info, the query and the
fragment of every remote; only scp-like remotes keep SSH's conventional `git@`. For remotes
without any of those, names stay the SDK's (`wandb.sdk.lib.gitlib.remote_url_without_password`).
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from wandb.sdk.lib import gitlib

from jupyter_jobs.models import decode_record
from jupyter_jobs.source import check_sources, choose_source, strip_credentials
from jupyter_jobs.widget import render_html, render_text

from .cases import REMOTE_FORMS, REMOTE_TOKEN, commit_notebook_with_token_alias
from .helpers import run_cli

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM = LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

schemes = st.sampled_from(["https", "http", "ssh", "git", "git+https", "git+ssh"])
labels = st.text(LOWER_ALNUM, min_size=1, max_size=12)
hosts = st.lists(labels, min_size=1, max_size=4).map(".".join) | st.sampled_from(["[::1]", "[2001:db8::7]"])
ports = st.none() | st.integers(min_value=1, max_value=65535)
segments = st.text(ALNUM + "._-", min_size=1, max_size=12)
paths = st.lists(segments, max_size=4).map(lambda parts: "".join(f"/{part}" for part in parts))
users = st.text(ALNUM + "._-", min_size=1, max_size=16)
# Userinfo may hold sub-delimiters, ':' (a password is everything after the first one), '@' (the
# host starts after the last one), %-encoded bytes such as %40 for '@', and — written by hand —
# even '?' or '#', which must not pass for the start of a query or fragment.
token_pieces = st.sampled_from(list(ALNUM + "-._~!$&'()*+,;=:@?#")) | st.sampled_from(["%40", "%3A", "%2F", "%25"])
tokens = st.lists(token_pieces, min_size=8, max_size=40).map("".join)
userinfos = st.one_of(
    tokens.map(lambda t: f"{t}@"),
    st.builds(lambda u, t: f"{u}:{t}@", users, tokens),
    tokens.map(lambda t: f"{t}:x-oauth-basic@"),
)
queries = st.builds(lambda k, t: f"?{k}={t}", st.sampled_from(["private_token", "access_token", "ref"]), tokens)


def url(scheme: str, userinfo: str, host: str, port: int | None, path: str) -> str:
    return f"{scheme}://{userinfo}{host}{f':{port}' if port else ''}{path}"


def sdk_strip(remote: str) -> str:
    """The installed SDK's stripping of a remote.

    wandb 0.28 and later have it as `remote_url_without_password`; before, the same code is inside
    the `GitRepo.remote_url` property, which is run here on a repository whose remote is `remote`.
    """
    if hasattr(gitlib, "remote_url_without_password"):
        return gitlib.remote_url_without_password(remote)
    repo = types.SimpleNamespace(_remote_url=None, remote=types.SimpleNamespace(url=remote))
    return gitlib.GitRepo.remote_url.fget(repo)


@given(scheme=schemes, userinfo=userinfos, host=hosts, port=ports, path=paths)
@example(scheme="https", userinfo="ghp%40tok%3Aen:x-oauth-basic@", host="github.com", port=8443, path="/x.git")
def test_all_user_info_goes_and_host_port_path_stay(
    scheme: str, userinfo: str, host: str, port: int | None, path: str
) -> None:
    assert strip_credentials(url(scheme, userinfo, host, port, path)) == url(scheme, "", host, port, path)


@given(scheme=schemes, host=hosts, port=ports, path=paths, query=queries | st.just(""), fragment=tokens)
def test_query_and_fragment_go(scheme: str, host: str, port: int | None, path: str, query: str, fragment: str) -> None:
    assume("@" not in query + fragment)
    remote = url(scheme, "", host, port, path) + query + f"#{fragment}"

    assert strip_credentials(remote) == url(scheme, "", host, port, path)


@given(user=users, token=tokens.filter(lambda t: "/" not in t), host=hosts, path=paths)
def test_scp_like_keeps_only_the_git_user(user: str, token: str, host: str, path: str) -> None:
    repo = path.lstrip("/") or "repo.git"
    assume(user != "git" and not host.startswith("["))

    assert strip_credentials(f"{user}:{token}@{host}:{repo}") == f"{host}:{repo}"
    assert strip_credentials(f"{token}@{host}:{repo}") == f"{host}:{repo}"
    assert strip_credentials(f"git@{host}:{repo}") == f"git@{host}:{repo}"


@pytest.mark.wandb_facing
@given(scheme=schemes, host=hosts, port=ports, path=paths)
def test_url_without_credentials_is_unchanged_and_named_as_the_sdk_names_it(
    scheme: str, host: str, port: int | None, path: str
) -> None:
    remote = url(scheme, "", host, port, path)

    assert strip_credentials(remote) == remote
    if not host.startswith("["):  # the SDK drops an IPv6 host's brackets
        assert strip_credentials(remote) == sdk_strip(remote)


remotes = st.builds(url, schemes, userinfos | st.just(""), hosts, ports, paths)


@given(remote=remotes | st.text(max_size=60))
def test_stripping_twice_changes_nothing(remote: str) -> None:
    once = strip_credentials(remote)

    assert strip_credentials(once) == once


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("https://user:token@github.com/acme/ml.git", "https://github.com/acme/ml.git"),
        ("https://ghp_tok3n@github.com/acme/ml.git", "https://github.com/acme/ml.git"),
        ("https://ghp_tok3n:x-oauth-basic@github.com/acme/ml.git", "https://github.com/acme/ml.git"),
        ("https://u:p@git.acme.io:8443/x.git", "https://git.acme.io:8443/x.git"),
        ("ssh://user:pass@git.acme.io:22/x.git", "ssh://git.acme.io:22/x.git"),
        ("https://u:abc%40def@host.io/x.git", "https://host.io/x.git"),
        ("https://u:p@ss@host.io/x.git", "https://host.io/x.git"),
        ("https://u:ab#cd@host.io/x.git", "https://host.io/x.git"),
        ("https://oauth2:glpat-abc@gitlab.com/g/p.git?ref=main#top", "https://gitlab.com/g/p.git"),
        ("https://gitlab.com/g/p.git?private_token=glpat-abc", "https://gitlab.com/g/p.git"),
        ("https://u:tok@host.io:99999/x.git", "https://host.io:99999/x.git"),
        ("https://u:tok@[::1]:8080/x.git", "https://[::1]:8080/x.git"),
        ("https://GitHub.com/Acme/ML.git", "https://github.com/Acme/ML.git"),
        ("ssh://git@github.com/org/repo.git", "ssh://github.com/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("deploy:s3cret@git.acme.io:org/repo.git", "git.acme.io:org/repo.git"),
        ("deploy:s3/cret@git.acme.io:org/repo.git", "git.acme.io:org/repo.git"),
        ("file:///srv/git/ml.git", "file:///srv/git/ml.git"),
        ("/srv/git/ml.git", "/srv/git/ml.git"),
        ("", ""),
    ],
)
def test_concrete_remotes(remote: str, expected: str) -> None:
    assert strip_credentials(remote) == expected


@pytest.mark.parametrize(("remote", "expected"), REMOTE_FORMS)
def test_the_source_records_the_real_remote_without_its_token(git_repo, remote, expected) -> None:
    decision = choose_source(check_sources(commit_notebook_with_token_alias(git_repo(remote=remote))))

    assert (decision.git.remote if decision.git else None) == expected
    assert REMOTE_TOKEN not in repr(decision)


@pytest.mark.parametrize(("remote", "expected"), REMOTE_FORMS)
def test_the_token_reaches_no_store_file_output_or_widget(
    git_repo, store_dir: Path, remote: str, expected: str
) -> None:
    path = commit_notebook_with_token_alias(git_repo(remote=remote))
    created = run_cli("create", str(path), "--store", str(store_dir), "--entity", "acme", "--json")
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    outputs = [
        created,
        run_cli("show", record["name"], "--store", str(store_dir)),
        run_cli("list", "--store", str(store_dir)),
    ]

    assert (record["git"]["remote"] if record["git"] else None) == expected
    assert all(o.returncode == 0 for o in outputs), [o.stderr for o in outputs]
    assert not any(REMOTE_TOKEN in o.stdout + o.stderr for o in outputs)
    assert not [p for p in store_dir.rglob("*") if p.is_file() and REMOTE_TOKEN.encode() in p.read_bytes()]
    job = decode_record(created.stdout)
    assert REMOTE_TOKEN not in render_html(job) + render_text(job)
