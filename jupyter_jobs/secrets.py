"""Credentials in a notebook's code and outputs, found before they are uploaded.

A job carries the exported script and the original notebook (with its outputs) to W&B, where
anyone with access to the project can read them. An API key pasted into a cell, or printed by
one, would leak with it, so `core` blocks the upload when `scan` finds one.

The detectors are detect-secrets' plugins, called in-process on each line, with a plugin set
chosen for notebooks: the high-entropy plugins are left out (hashes, ids and base64 blobs are
everywhere in ML code and outputs), and the keyword plugin's candidates are judged by the name
they are bound to. Added here is what detect-secrets misses: W&B, Anthropic, new-style OpenAI,
Hugging Face, fine-grained GitHub and Google keys, secret-looking names it does not know
(`token`, `credential`, `auth`, any `*_KEY` environment variable), and the unquoted forms of
`%env`, `export` and printed `NAME=value` lines.

Findings name the cell, the line and the kind of secret, never the value.

The notebook's cells come from the export, which has read them already. Outputs are judged one
cell's block at a time and the findings of each block are remembered by the block's text, so a
warm kernel's repeated `%wandb_job` re-reads only the outputs that changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from .errors import JobError

if TYPE_CHECKING:
    from detect_secrets.plugins.base import BasePlugin

    from .export import ExportResult

_GENERIC = "assigned to a literal"
_MAX_LISTED = 5

# Findings per output block: (length, hash of its JSON text) -> ((kind, line), ...), least
# recently used first. The built-in string hash is keyed per process (SipHash), so a block
# could only borrow another's findings by a 64-bit collision; length and hash are all that is
# kept, never the text. Bounded: a few large notebooks' worth of cells.
_OUTPUT_FINDINGS: dict[tuple[int, int], tuple[tuple[str, int], ...]] = {}
_OUTPUT_FINDINGS_MAX = 16_384

# Kinds of detect-secrets' plugins, in our words; the others keep detect-secrets' own name.
_PLUGIN_KINDS = {
    "OpenAI Token": "OpenAI API key",
    "Private Key": "private key block",
    "Basic Auth Credentials": "password in a URL",
    "Stripe Access Key": "Stripe secret key",
    "Slack Token": "Slack token",
    "GitHub Token": "GitHub token",
    "GitLab Token": "GitLab token",
}
_AWS_KEY_ID = re.compile(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}")

# Formats detect-secrets does not know (or knows only in an older shape).
_FORMATS = (
    ("W&B API key", re.compile(r"\bwandb_v1_\w{40,}")),
    ("W&B API key", re.compile(r"\blocal-[0-9a-f]{40}\b")),
    ("Anthropic API key", re.compile(r"\bsk-ant-[\w-]{20,}")),
    ("OpenAI API key", re.compile(r"\bsk-(?:proj|svcacct|admin)-[\w-]{20,}|\bsk-[A-Za-z0-9]{48}\b")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("GitHub token", re.compile(r"\bgithub_pat_\w{22,}")),
    ("Google API key", re.compile(r"\bAIza[\w-]{35}")),
    ("private key block", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")),
)

_WANDB_LOGIN = re.compile(r"\bwandb(?:\.|\s+)login\b")
_WANDB_LEGACY_KEY = re.compile(r"(?<![\w-])(?:[a-z]+-)?[0-9a-f]{40}(?![\w-])")

# A quoted literal, with an optional string prefix (f, r, b, u).
_LITERAL = r"""(?:\b[rRbBuUfF]{1,2})?(?P<q>['"`])(?P<value>[^'"`\n]*)(?P=q)"""
# `name = "v"`, `name: str = "v"`, `f(name="v")`. A name starts only where no name character is
# before it, and is taken whole (an atomic group written as a lookahead and its backreference):
# with `\b` and a backtracking `[\w.]*`, a long dotted word cost time quadratic in its length.
_ASSIGNED = re.compile(
    r"(?<![\w.])(?=(?P<name>[A-Za-z_][\w.]*))(?P=name)\s*(?::\s*[\w\[\]., |]+)?(?<![=!<>])=(?!=)\s*" + _LITERAL
)
# `{"name": "v"}`, `os.environ["NAME"] = "v"`, `os.environ.get("NAME", "v")`.
_KEYED = re.compile(r"""(?P<nq>['"])(?P<name>[\w.-]{1,64})(?P=nq)\s*(?P<sep>\]\s*=|:|,)\s*""" + _LITERAL)
# `%env NAME=v`, `%env NAME v`, `%set_env NAME v`, `export NAME=v`.
_SHELL_ASSIGNED = re.compile(r"(?:%(?:set_)?env|\bexport)\s+(?P<name>[A-Za-z_]\w*)(?:\s*=\s*|\s+)(?P<value>[^\s;&|]+)")
# `os.environ[`, `os.getenv(`, `os.environ.setdefault(` ... just before a quoted name (searched
# in the 32 characters before it: a search from the line's start would be quadratic).
_ENV_ACCESS = re.compile(r"(?:environ|getenv|putenv|setdefault|environ\.get)\W*$")
# Printed `NAME=value` / `name: value` lines (env dumps, config files shown in outputs).
_PRINTED_ASSIGNED = re.compile(r"^\s*(?P<name>[A-Za-z_][\w.-]*)\s*[=:]\s*(?P<value>[^\s,;]+)\s*$")
# `NAME=value command` in a shell line (`!WANDB_API_KEY=... python train.py`) or a printed one.
_SHELL_ENV = re.compile(r"(?:^|(?<=[\s!;&|(]))(?P<name>[A-Za-z_]\w*)=(?P<value>[^\s;&|'\"`)]+)")
# A `.netrc` line (`cat ~/.netrc`, a `%%writefile ~/.netrc` cell): `[machine h] [login u] password p`.
_NETRC = re.compile(r"^\s*(?:machine\s+\S+\s+)?(?:login\s+\S+\s+)?password\s+(?P<value>\S+)\s*$")
# A URL's query parameter (`http://127.0.0.1:8888/lab?token=...`, `?private_token=...`).
_QUERY_PARAMETER = re.compile(r"[?&](?P<name>[A-Za-z_][\w.-]{0,63})=(?P<value>[^&#\s'\"`<>]+)")
# `scheme://user:password@host`, the password holding any character but blanks, quotes, `/` and `@`.
_URL_PASSWORD = re.compile(r"://[^\s:@/'\"`]*:(?P<value>[^\s@/'\"`]+)@[\w\[]")
# Credentials in an HTTP Authorization header: any `Bearer <token>`, and `Basic`/`token` after the header's name.
_BEARER = re.compile(r"\bbearer\s+(?P<value>[A-Za-z0-9._~+/-]{16,}=*)", re.IGNORECASE)
_AUTHORIZATION = re.compile(
    r"\bauthorization\W{1,4}(?:basic|token)\s+(?P<value>[A-Za-z0-9._~+/-]{12,}=*)", re.IGNORECASE
)

# detect-secrets' plugins for fixed token formats that make sense in notebooks, each with what
# its patterns cannot match without (lower-case). Left out: the high-entropy plugins (hashes and
# ids are everywhere in ML code), IP addresses (not secrets), and formats that match ordinary ids
# or base64 (Artifactory, Discord, Twilio SIDs).
_PLUGIN_ANCHORS = {
    "aws.AWSKeyDetector": r"akia|asia|abia|acca|a3t|aws",
    "azure_storage_key.AzureStorageKeyDetector": r"accountkey=",
    "basic_auth.BasicAuthDetector": r"://\S*@",
    "github_token.GitHubTokenDetector": r"gh[pousr]_",
    "gitlab_token.GitLabTokenDetector": r"gl[a-z]+-|gr1348941",
    "jwt.JwtTokenDetector": r"eyj",
    "mailchimp.MailchimpDetector": r"-us\d",
    "npm.NpmDetector": r"_authtoken",
    "openai.OpenAIDetector": r"t3blbkfj",
    "private_key.PrivateKeyDetector": r"private key|putty",
    "pypi_token.PypiTokenDetector": r"pypi-",
    "sendgrid.SendGridDetector": r"sg\.",
    "slack.SlackDetector": r"xox|hooks\.slack",
    "stripe.StripeDetector": r"k_live_",
}
# The keyword plugin's words, and ours (formats above and secret-sounding names).
_KEYWORD_ANCHOR = r"key|pass|pwd|secret|contrase"
_OWN_ANCHOR = r"token|cred|auth|bearer|wandb|local-|sk-|hf_|github_pat_|aiza|private key"


def _by_first_character(alternatives: list[str]) -> str:
    """The same alternation, with the alternatives that start with the same plain character
    grouped under it (`a(?:kia|sia|...)|k(?:ey|_live_)|...`): the regex engine then tries a
    dozen first characters at each position instead of three dozen branches, which makes a
    search of megabytes of output text about twice as fast."""
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        first = alternative[0] if alternative[0].isalnum() or alternative[0] in "-_:" else ""
        groups.setdefault(first, []).append(alternative[1:] if first else alternative)
    return "|".join(
        f"{re.escape(first)}(?:{'|'.join(rests)})" if first else "|".join(rests) for first, rests in groups.items()
    )


# A line with none of these holds no secret we can find: one search (on the lower-cased line,
# ten times faster than IGNORECASE) skips the many lines of ordinary code and logs. The anchors
# are plain alternations (no nested `|`), so splitting on `|` lists the alternatives.
_MAY_HOLD_SECRET = re.compile(
    _by_first_character("|".join([*_PLUGIN_ANCHORS.values(), _KEYWORD_ANCHOR, _OWN_ANCHOR]).split("|"))
)
# What each group of detectors cannot match without, so a line that merely mentions a key, a token
# or a password (a log line, say) costs one search per group instead of a few dozen: the format
# plugins' anchors; our formats' prefixes; and the keyword plugin's shapes, which all put an
# operator near the word (`word = / : / := / != / => / ( / [`, `'v' == word`, `word ... 'v';`).
# Every repetition is bounded or stops at the next word, so a long line stays linear.
_MAY_MATCH_PLUGIN = re.compile(_by_first_character("|".join(_PLUGIN_ANCHORS.values()).split("|")))
_FORMAT_PREFIXES = ("wandb_v1_", "local-", "sk-", "hf_", "github_pat_", "aiza", "private key")
_KEYWORD_WORD = r"(?:key|pass|pwd|secret|contrase)"
_MAY_HOLD_KEYWORD = re.compile(
    rf"{_KEYWORD_WORD}(?:\w{{0,40}}(?:[\]'\"`]{{0,2}}\s{{0,40}}[:=!(\[]|\.assign\()"
    rf"|\S{{0,60}}\s{{0,40}}['\"`][^'\"`\n]{{0,400}}['\"`];)"
    rf"|[=!]=\s{{0,40}}\w{{0,40}}?{_KEYWORD_WORD}"
)
_QUOTES = ("'", '"', "`")
# Where following values through the code can find more than the lines do, so that the syntax
# tree (a second or more on a large notebook) is walked only then: a secret-sounding name, a
# login call or an environment variable handed a name rather than a literal, or literals
# joined (`"a" + "b"`, `"a" "b"`).
_MAY_FLOW = re.compile(
    r"""(?:key|token|passw\w*|pwd|secret|auth\w*|cred\w*)['"]?\]?\s*[=:]\s*(?![\s'"\d]|None\b|True\b|False\b)[A-Za-z_(]"""
    r"""|login\s*\(\s*(?:\w+\s*=\s*)?[A-Za-z_]|environ\[[^\]\n]+\]\s*=\s*[A-Za-z_(]|(?:setdefault|putenv)\s*\("""
    r"""|['"]\s*\+\s*[rRbBuU]?['"]|['"](?:[ \t]+|[ \t]*\n[ \t]*)[rRbBuU]?['"][^'"\n,)]""",
    re.IGNORECASE,
)
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")
_NAME_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")

# Name parts that make a secret-sounding name something else: `token_path`, `secret_name`,
# `private_key_id`, `pad_token`, `dataset_sha256`, `commit` ...
_NOT_SECRET_PARTS = frozenset(
    """name names id ids path paths file filename dir url uri endpoint host type kind length len
    size count num max min limit env var field header prompt hint label template format fmt
    pattern regex sha sha1 sha256 md5 hash digest checksum commit revision rev public pub
    fingerprint pad bos eos unk sep cls mask special tokenizer tokens expires expiry ttl timeout
    scope scopes method mode provider policy location column col index idx version region""".split()
)
_PASSWORD_PARTS = frozenset({"password", "passwd", "passphrase"})  # not `pwd`, the working directory
_CREDENTIAL_PARTS = frozenset({"credential", "credentials", "creds", "auth"})
_KEY_OWNER_PARTS = frozenset({"access", "client", "service", "account", "db", "database", "signing", "master"})
# Secrets that machines make: a value that does not look generated is a label or a placeholder
# (`token = "hello"`, `api_key = "OPENAI API KEY"`, `api_key = "sk-foo"`). Passwords are made by
# people and exempt.
_MACHINE_MADE_WORDS = frozenset({"W&B", "AWS", "API key", "secret", "token", "credential", "key"})

_PLACEHOLDER_WORDS = (
    "your", "example", "placeholder", "dummy", "changeme", "change_me", "change-me", "replace",
    "redacted", "insert", "fake", "sample", "xxx", "***", "...", "todo", "secret_here",
)  # fmt: skip
_PLACEHOLDER_VALUES = frozenset({"none", "null", "true", "false", "password", "secret", "token", "test", "pass", "key"})


@dataclass(frozen=True)
class SecretFinding:
    """One secret: where it is and what kind it is. The value is deliberately not kept."""

    kind: str  # "W&B API key", "AWS access key ID", "password assigned to a literal", ...
    cell: int | None  # 1-based notebook cell (all cell types counted); None for a .py script
    line: int  # 1-based line inside the cell's source or output text (or the script)
    where: str  # "code", "output", or "markdown" / "raw" for the text of those cells, "file" for a data file
    file: str | None = None  # a file the job carries beside its script (a local module, a config)

    @property
    def location(self) -> str:
        """`cell 3, line 2`, `cell 5 output, line 1`, `helper.py, line 4`, or `line 12` for a script."""
        if self.file is not None:
            return f"{self.file}, line {self.line}"
        if self.where in ("notebook metadata", "diff.patch"):
            return f"{self.where}, line {self.line}"
        if self.cell is None:
            return f"line {self.line}"
        if self.where in ("output", "cell metadata", "attachment"):
            return f"cell {self.cell} {self.where.removeprefix('cell ')}, line {self.line}"
        return f"cell {self.cell}, line {self.line}"

    def describe(self) -> str:
        """One line for warnings and logs, e.g. `cell 3, line 2: W&B API key in code`."""
        return f"{self.location}: {self.kind} in {self.where}"


def scan(export: ExportResult, notebook_text: str | bytes | None, *, exported: bool = False) -> list[SecretFinding]:
    """Secrets in the exported script and, when the notebook travels too (`notebook_text`,
    the copy that is uploaded, as text or its UTF-8 bytes), in all its cells and outputs.
    `exported`: that copy is the very text `export` was made from (its outputs not stripped),
    so the export's notebook holds its outputs, and the copy is not read again.

    Both are scanned because both are uploaded: the script is the job's code, the notebook
    travels with it, markdown and raw cells included. A secret seen in both the script and its
    cell is reported once, at its cell and line.
    """
    findings = set(_script_findings(export)) | set(_flow_findings(export))
    if notebook_text is not None:
        findings.update(_cell_findings(export))
        findings.update(_output_findings(export, None if exported and export.notebook else notebook_text))
        if export.is_notebook:
            findings.update(_metadata_findings(notebook_text))
    return _without_generic_duplicates(findings)


def scan_files(files: Mapping[str, bytes]) -> list[SecretFinding]:
    """Secrets in the files a job carries beside its script (local modules, configs), named by
    file and line. Python is read as code, other text as printed lines (`api_key: ...` in a
    YAML file); binary files (a NUL byte) are skipped."""
    findings = set()
    for name, data in files.items():
        if b"\0" in data:
            continue
        code, text = name.endswith(".py"), data.decode("utf-8", errors="replace")
        found = [*_text_kinds(text, printed=not code), *(_flow_kinds(text) if code else ())]
        for line, kind in found:
            findings.add(SecretFinding(kind, None, line, "code" if code else "file", file=name))
    return _without_generic_duplicates(findings)


def blocking_error(findings: Sequence[SecretFinding]) -> JobError:
    """The one-line refusal that names every secret's place and kind, and how to fix it."""
    listed = "; ".join(f"{finding.location} ({finding.kind})" for finding in findings[:_MAX_LISTED])
    more = f"; and {len(findings) - _MAX_LISTED} more" if len(findings) > _MAX_LISTED else ""
    if all(finding.where == "output" for finding in findings):
        hint = "they are only in outputs: clear those outputs and save, or strip outputs (--strip-outputs)"
    elif all(finding.where == "diff.patch" for finding in findings):
        hint = "they are in uncommitted changes that diff.patch would carry: discard them, or pass --allow-secrets"
    elif all(finding.where.endswith(("metadata", "attachment")) for finding in findings):
        hint = "remove them from the metadata or attachments (stripping outputs keeps those), or pass --allow-secrets"
    else:
        hint = "read them from the environment, e.g. os.environ['WANDB_API_KEY'], or pass --allow-secrets"
    return JobError(f"Secrets found: {listed}{more}", hint=hint)


def scan_diff(diff: str) -> list[SecretFinding]:
    """Secrets in the lines a git job's diff.patch adds (any file: read as printed text, which
    also takes code's forms); located by their line in diff.patch."""
    added = "\n".join(
        line[1:] if line.startswith("+") and not line.startswith("+++") else "" for line in diff.splitlines()
    )
    findings = {SecretFinding(kind, None, line, "diff.patch") for line, kind in _text_kinds(added, printed=True)}
    return _without_generic_duplicates(findings)


def _script_findings(export: ExportResult) -> Iterator[SecretFinding]:
    """Findings in the script, placed at the notebook cell and line each script line came from."""
    for index, text in enumerate(export.script.splitlines()):
        for kind in _kinds_in_line(text, printed=False):
            yield SecretFinding(kind, *_script_place(export, index), "code")


def _script_place(export: ExportResult, index: int) -> tuple[int | None, int]:
    """(cell, line) of the notebook that the script's line `index` (0-based) came from."""
    origin = export.line_origins[index] if index < len(export.line_origins) else None
    cell = origin[0] if origin and export.is_notebook else None
    return cell, origin[1] if origin else index + 1


def _flow_findings(export: ExportResult) -> Iterator[SecretFinding]:
    """Literals that reach a credential through a variable, a concatenation or a call (see
    secret_flow), judged by the name they reach as a literal bound to it on one line is."""
    for line, kind in _script_flow_kinds(export.script):
        yield SecretFinding(kind, *_script_place(export, line - 1), "code")


@lru_cache(maxsize=8)
def _script_flow_kinds(script: str) -> tuple[tuple[int, str], ...]:
    """`_flow_kinds` of an exported script, remembered by its text: even the search that skips
    the syntax tree reads the whole script, and a warm kernel's `%wandb_job` on an unchanged
    notebook exports the same script again."""
    return tuple(_flow_kinds(script))


def _flow_kinds(script: str) -> Iterator[tuple[int, str]]:
    """(1-based line, kind) of each literal in `script` that reaches a credential."""
    if not _MAY_FLOW.search(script):
        return
    from .secret_flow import reached_credentials

    for reached in reached_credentials(script):
        binding = _Binding(reached.name, reached.value, reached.env_like)
        word = "W&B" if reached.login and reached.name == "key" else _secret_word(binding)
        kinds = {kind for kind in (_named_kind(binding, word),) if kind}
        if any(prefix in reached.value.lower() for prefix in _FORMAT_PREFIXES):
            kinds |= _format_kinds(reached.value)
        for kind in kinds:
            yield reached.line, kind


def _metadata_findings(notebook_text: str | bytes) -> Iterator[SecretFinding]:
    """Findings in the notebook's and the cells' metadata and in markdown attachments: they
    travel with the notebook copy, outputs stripped or not."""
    from .notebook import metadata_texts

    for number, where, text in metadata_texts(notebook_text):
        for line, kind in _text_kinds(text, printed=True):
            yield SecretFinding(kind, number, line, where)


def _cell_findings(export: ExportResult) -> Iterator[SecretFinding]:
    """Findings in the cells as written: code (magics included) as Python, markdown and raw
    cells as text (a key pasted into prose leaks with the notebook just the same)."""
    for number, kind, source in export.cells:
        if kind in ("code", "markdown", "raw"):
            for line, found in _text_kinds(source, printed=kind != "code"):
                yield SecretFinding(found, number, line, kind)


def _output_findings(export: ExportResult, notebook_text: str | bytes | None) -> Iterator[SecretFinding]:
    """Findings in the code cells' outputs, judged block by block (one cell's outputs). The
    reader left them undecoded; they are decoded here, only the blocks not judged before."""
    from .notebook import code_cell_outputs, read_notebook

    notebook = export.notebook if notebook_text is None else read_notebook(notebook_text, export.source_name)
    if notebook is None:  # a script has no outputs
        return
    for number, block in code_cell_outputs(notebook):
        for kind, line in _block_findings(block):
            yield SecretFinding(kind, number, line, "output")


def _block_findings(block: bytes) -> tuple[tuple[str, int], ...]:
    """(kind, line) of each secret in one cell's outputs (`block`, their JSON text), from the
    cache when the same text was judged before."""
    from .notebook import outputs_text

    key = (len(block), hash(block))
    found = _OUTPUT_FINDINGS.pop(key, None)
    if found is None:
        found = tuple((kind, line) for line, kind in _text_kinds(outputs_text(block), printed=True))
        if len(_OUTPUT_FINDINGS) >= _OUTPUT_FINDINGS_MAX:  # drop the least recently used; pop, not
            _OUTPUT_FINDINGS.pop(next(iter(_OUTPUT_FINDINGS), key), None)  # del: a thread may be first
    _OUTPUT_FINDINGS[key] = found  # re-inserted: now the most recently used
    return found


def _text_kinds(text: str, *, printed: bool) -> Iterator[tuple[int, str]]:
    """(1-based line, kind) of each secret in `text`. One search of the whole lower-cased text
    first: most blocks have no line that could hold a secret, and then no line is visited."""
    if not _MAY_HOLD_SECRET.search(text.lower()):
        return
    for number, line in enumerate(text.splitlines(), start=1):
        for kind in _kinds_in_line(line, printed=printed):
            yield number, kind


def _without_generic_duplicates(findings: set[SecretFinding]) -> list[SecretFinding]:
    """Drop `... assigned to a literal` where a line already has a specific kind, then sort.

    `api_key = "sk-proj-..."` is one secret: "OpenAI API key" says more than "API key assigned
    to a literal", and listing both would make one secret look like two.
    """
    specific = {(f.file, f.cell, f.where, f.line) for f in findings if not f.kind.endswith(_GENERIC)}
    kept = [f for f in findings if not (f.kind.endswith(_GENERIC) and (f.file, f.cell, f.where, f.line) in specific)]
    return sorted(kept, key=lambda f: (f.file or "", f.cell or 0, f.where != "code", f.line, f.kind))


def _kinds_in_line(line: str, *, printed: bool) -> set[str]:
    """The kinds of secret on one line; `printed` lines are output text, not Python."""
    if "base64," in line:
        line = _DATA_URI.sub("", line)
    lowered = line.lower()
    if not _MAY_HOLD_SECRET.search(lowered):
        return set()
    bindings = list(_bindings(line, printed=printed))
    named = {kind for binding in bindings if (kind := _named_kind(binding, _secret_word(binding)))}
    keyword = _keyword_kinds(line, bindings) if _MAY_HOLD_KEYWORD.search(lowered) else set()
    formats = _format_kinds(line) if any(prefix in lowered for prefix in _FORMAT_PREFIXES) else set()
    headers = _header_kinds(line) if "bearer" in lowered or "authorization" in lowered else set()
    urls = _url_password_kinds(line) if "://" in line else set()
    return _plugin_kinds(line, lowered) | formats | _wandb_login_kinds(line) | named | keyword | headers | urls


def _url_password_kinds(line: str) -> set[str]:
    """A password in a URL that detect-secrets' URL plugin passes over because it holds a
    character a URL should have escaped (`postgresql://ml:pa#ss@db/runs`, as people write
    connection strings): what sits between `user:` and `@host` is the password."""
    values = [match["value"] for match in _URL_PASSWORD.finditer(line)]
    return {"password in a URL"} if any(not _is_placeholder(value) for value in values) else set()


def _header_kinds(line: str) -> set[str]:
    """A machine-made credential in an Authorization header (or any `Bearer` one)."""
    values = [match["value"] for pattern in (_BEARER, _AUTHORIZATION) for match in pattern.finditer(line)]
    found = any(_looks_generated(value) and not _is_placeholder(value) for value in values)
    return {"credential in an Authorization header"} if found else set()


def _plugin_kinds(line: str, lowered: str) -> set[str]:
    """Kinds found by detect-secrets' format plugins, each run only where its anchor is."""
    if not _MAY_MATCH_PLUGIN.search(lowered):
        return set()
    return {
        _plugin_kind(plugin, value)
        for plugin, anchor in _format_plugins()
        if anchor.search(lowered)
        for value in plugin.analyze_string(line)
        if not _is_plugin_placeholder(plugin, value)
    }


def _is_plugin_placeholder(plugin: BasePlugin, value: str) -> bool:
    """Is a plugin's match a stand-in rather than a secret?

    The URL plugin yields a password (`http://a:b@localhost`), judged like any literal; the
    others yield a token or, through a capture group, only its prefix (`ghp`), so only an
    example value can be told apart.
    """
    if plugin.secret_type == "Basic Auth Credentials":
        return _is_placeholder(value)
    return _is_example(value)


def _plugin_kind(plugin: BasePlugin, value: str) -> str:
    if plugin.secret_type == "AWS Access Key":
        return "AWS access key ID" if _AWS_KEY_ID.fullmatch(value) else "AWS secret access key"
    return _PLUGIN_KINDS.get(plugin.secret_type, plugin.secret_type)


def _format_kinds(line: str) -> set[str]:
    return {kind for kind, pattern in _FORMATS for match in pattern.finditer(line) if not _is_example(match[0])}


def _wandb_login_kinds(line: str) -> set[str]:
    """A legacy W&B key (40 hex, maybe `host-` prefixed) given to `wandb.login(...)` or `wandb login`."""
    login = _WANDB_LOGIN.search(line) if "login" in line else None
    if not login:
        return set()
    keys = _WANDB_LEGACY_KEY.findall(line, login.end())
    return {"W&B API key"} if any(not _is_example(key) for key in keys) else set()


def _keyword_kinds(line: str, bindings: list[_Binding]) -> set[str]:
    """detect-secrets' keyword plugin, with each candidate judged by the name it is bound to.

    The plugin flags any quoted value after a secret-sounding word (`secret_name = "prod"`
    included). Where we can see the name, it decides (a kind, or nothing for `*_name`,
    `*_id`, `*_path`, ...); where we cannot, the plugin's word stands as a plain "secret".
    Its `is_likely_id_string` filter is not used: it drops every value on a line that has an
    `_id` before it, `client_secret` included in `{"client_id": ..., "client_secret": ...}`.
    """
    kinds: set[str] = set()
    by_value: dict[str, list[_Binding]] = {}
    for binding in bindings:  # looked up by value: a line of many candidates stays linear
        by_value.setdefault(binding.value, []).append(binding)
    for value in set(_keyword_plugin().analyze_string(line)):
        if _is_placeholder(value):
            continue
        named = by_value.get(value, [])
        if not named:
            kinds.add(f"secret {_GENERIC}")
        kinds.update(kind for binding in named if (kind := _named_kind(binding, _secret_word(binding) or "secret")))
    return kinds


class _Binding(NamedTuple):
    """A literal bound to a name on one line; `env_like` when the name is an environment variable."""

    name: str
    value: str
    env_like: bool


def _bindings(line: str, *, printed: bool) -> Iterator[_Binding]:
    """The (name, literal) pairs on a line, in the forms code and outputs use. Each form is
    looked for only when the line has the characters it cannot do without."""
    quoted = any(quote in line for quote in _QUOTES)
    for match in _ASSIGNED.finditer(line) if quoted and "=" in line else ():
        yield _Binding(match["name"].rsplit(".", 1)[-1], match["value"], False)
    for match in _KEYED.finditer(line) if quoted else ():
        env_access = _ENV_ACCESS.search(line, max(0, match.start() - 32), match.start()) is not None
        if env_access or match["sep"] != ",":  # `("user", "password", "host")` binds nothing
            yield _Binding(match["name"], match["value"], env_access)
    shell = "env" in line or "export" in line
    for pattern in (_SHELL_ASSIGNED,) * shell + (_PRINTED_ASSIGNED,) * printed:
        for match in pattern.finditer(line):
            yield _Binding(match["name"], match["value"].strip("'\"`"), True)
    if "=" in line and (printed or line.lstrip().startswith("!")):
        for match in _SHELL_ENV.finditer(line):
            yield _Binding(match["name"], match["value"], True)
    if "=" in line and ("?" in line or "&" in line):
        for match in _QUERY_PARAMETER.finditer(line):
            yield _Binding(match["name"], match["value"], True)
    if "password" in line:  # the netrc form reads the same in code (a file written) and in outputs
        netrc = _NETRC.match(line)
        if netrc:
            yield _Binding("password", netrc["value"], True)


def _named_kind(binding: _Binding, word: str | None) -> str | None:
    """The kind of secret a binding is, or None when its name or value says it is not one."""
    name, value = binding.name, binding.value
    if word is None or _names_something_else(name) or _is_placeholder(value) or _is_reference(value, name):
        return None
    if word in _MACHINE_MADE_WORDS and not _looks_generated(value):
        return None
    if word == "password" and _WANDB_LEGACY_KEY.fullmatch(value):  # W&B's key is its .netrc password
        return "W&B API key"
    return {"W&B": "W&B API key", "AWS": "AWS secret access key"}.get(word) or f"{word} {_GENERIC}"


def _secret_word(binding: _Binding) -> str | None:
    """The secret a name speaks of: `WANDB_API_KEY` → W&B, `db_password` → password."""
    parts = _name_parts(binding.name)
    has_key = "key" in parts or "apikey" in parts
    pairs = set(zip(parts, parts[1:], strict=False))
    if "wandb" in parts and has_key:
        return "W&B"
    if "aws" in parts and "secret" in parts:
        return "AWS"
    if _PASSWORD_PARTS & set(parts):
        return "password"
    if "apikey" in parts or ("api", "key") in pairs:
        return "API key"
    if {("private", "key"), ("priv", "key")} & pairs:
        return "private key"
    if "secret" in parts:
        return "secret"
    if "token" in parts:
        return "token"
    if _CREDENTIAL_PARTS & set(parts):
        return "credential"
    if has_key and (binding.env_like or any((owner, "key") in pairs for owner in _KEY_OWNER_PARTS)):
        return "key"
    return None


def _name_parts(name: str) -> list[str]:
    """`openaiApiKey` → openai, api, key; `WANDB_API_KEY` → wandb, api, key."""
    return [part.lower() for part in _NAME_PARTS.findall(name)]


def _names_something_else(name: str) -> bool:
    return bool(_NOT_SECRET_PARTS & set(_name_parts(name)))


def _is_example(value: str) -> bool:
    """Documentation values: `AKIAIOSFODNN7EXAMPLE`, `sk-proj-xxxx...`, `<key>`, `user:password@`."""
    from detect_secrets.filters.heuristic import is_templated_secret

    lowered = value.lower()
    return (
        lowered in _PLACEHOLDER_VALUES
        or any(word in lowered for word in _PLACEHOLDER_WORDS)
        or is_templated_secret(value)
    )


def _is_placeholder(value: str) -> bool:
    """Values that stand for a secret without being one: examples, templates, empty strings."""
    from detect_secrets.filters.heuristic import is_not_alphanumeric_string, is_sequential_string

    stripped = value.strip()
    return (
        len(stripped) < 4
        or len(set(stripped.lower())) == 1
        or "{" in stripped
        or stripped.startswith("$")
        or _is_example(stripped)
        or is_sequential_string(stripped)
        or is_not_alphanumeric_string(stripped)
    )


def _is_reference(value: str, name: str) -> bool:
    """A value that names where a secret lives rather than being it: an env var, a path, a URL."""
    return (
        bool(_ENV_NAME.fullmatch(value))
        or value.lower() == name.lower()
        or value.startswith(("/", "./", "../", "~/"))
        or "://" in value
    )


def _looks_generated(value: str) -> bool:
    """Tokens and keys are machine-made: 8+ characters, no spaces, letters and digits mixed."""
    has_digit = any(char.isdigit() for char in value)
    has_letter = any(char.isalpha() for char in value)
    return len(value) >= 8 and has_digit and has_letter and not any(char.isspace() for char in value)


@lru_cache(maxsize=1)
def _format_plugins() -> tuple[tuple[BasePlugin, re.Pattern[str]], ...]:
    """Each chosen detect-secrets plugin, instantiated once, with its anchor."""
    from importlib import import_module

    plugins = []
    for path, anchor in _PLUGIN_ANCHORS.items():
        module_name, class_name = path.rsplit(".", 1)
        plugin_type = getattr(import_module(f"detect_secrets.plugins.{module_name}"), class_name)
        plugins.append((plugin_type(), re.compile(anchor)))
    return tuple(plugins)


@lru_cache(maxsize=1)
def _keyword_plugin() -> BasePlugin:
    from detect_secrets.plugins.keyword import KeywordDetector

    return KeywordDetector()
