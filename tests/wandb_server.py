"""A stand-in for W&B's server, for tests only: the real `wandb` SDK and wandb-core talk to it.

No W&B server can run here, so this one answers, on 127.0.0.1 and a random port, the GraphQL
operations, uploads, downloads and file stream that wandb 0.31 and 0.22 (the Python SDK and
wandb-core) call for a run, its artifacts, `wandb sync`, fetching an artifact (`Api().artifact`, which W&B
Launch's job loader uses) and the launch queue (`wandb launch --queue`). Point `WANDB_BASE_URL`
at `server.url` with any 40-character API key. It keeps what it is sent (runs, artifacts and
their files, queue items) so a test can read what W&B would hold, and records every call.

Answers carry only the fields the SDK reads; an operation it does not know is answered with
`{"data": null}` and recorded, so a test sees it in `calls`.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

API_KEY = "local" + "0" * 35  # wandb checks the length (40), not the value
OPERATION = re.compile(r"\b(?:query|mutation)\s+(\w+)")
# Unnamed queries answered by the named operation that asks the same (wandb 0.22's key check
# sends `query { viewer { id } }`).
ANONYMOUS = re.compile(r"^\s*(?:query\s*)?\{\s*(\w+)")
ANONYMOUS_OPERATIONS = {"viewer": "Viewer"}
# The parts of W&B's GraphQL schema that wandb asks about (`__type(name: ...)`) before it relies
# on them: wandb 0.22's wandb-core for `CreateArtifactInput`, its Python sender (`wandb sync`) for
# the artifact types, its public API for `Project` (Launch fetching a job), `UseArtifactInput` (the
# launched run) and `PushToRunQueueInput` (`launch_add`). Each type's field names, as a current
# W&B server has them; no field's arguments are listed, so wandb 0.22 leaves `Project.artifact`'s
# optional `enableTracking` out.
INTROSPECTION = re.compile(r'(\w+)\s*:\s*__type\s*\(\s*name\s*:\s*(?:"(\w+)"|\$(\w+))\s*\)')
SCHEMA = {
    "Query": ["viewer", "project", "serverInfo"],
    "Mutation": ["upsertBucket", "createRunFiles", "createArtifact", "createArtifactFiles", "commitArtifact"],
    "ServerInfo": [],
    "Project": ["artifact", "artifactType", "artifactCollectionMembership", "runQueues"],
    "ServerSettings": ["serverMessages"],
    "Artifact": ["id", "digest", "state", "aliases", "versionIndex", "ttlIsInherited", "ttlDurationSeconds"],
    "CreateArtifactInput": [
        "entityName",
        "projectName",
        "runName",
        "artifactTypeName",
        "artifactCollectionName",
        "artifactCollectionNames",
        "digest",
        "digestAlgorithm",
        "description",
        "labels",
        "aliases",
        "tags",
        "metadata",
        "historyStep",
        "enableDigestDeduplication",
        "distributedID",
        "clientID",
        "sequenceClientID",
        "ttlDurationSeconds",
        "clientMutationId",
    ],
    "UseArtifactInput": [
        "entityName",
        "projectName",
        "runName",
        "artifactID",
        "usedAs",
        "artifactEntityName",
        "artifactProjectName",
        "clientMutationId",
    ],
    "PushToRunQueueInput": ["queueID", "runSpec", "existingRunID", "templateVariableValues", "priority"],
    "CreateArtifactFileSpecInput": ["artifactID", "name", "md5", "mimetype", "artifactManifestID", "uploadPartsInput"],
}


@dataclass
class Call:
    """One request the SDK made: GraphQL (`operation`, `variables`) or a plain HTTP call."""

    method: str
    path: str
    operation: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Artifact:
    """An artifact version as the server holds it."""

    id: str
    entity: str
    project: str
    name: str  # the collection's name
    type: str
    digest: str
    aliases: list[str]
    run: str | None
    version_index: int
    state: str = "PENDING"
    manifest: bytes | None = None  # the uploaded manifest file
    files: dict[str, bytes] = field(default_factory=dict)  # uploaded files by name
    metadata: str | None = None

    def manifest_json(self) -> dict[str, Any]:
        return json.loads(self.manifest or b"{}")

    def file_bytes(self) -> dict[str, bytes]:
        """Every file of the version by its path in the artifact, as W&B would serve it."""
        by_digest = {_md5_b64(data): data for data in self.files.values()}
        return {path: by_digest[entry["digest"]] for path, entry in self.manifest_json().get("contents", {}).items()}


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def _anonymous(item: dict[str, Any]) -> str:
    """The operation an unnamed query stands for, by its first field; "?" when unknown."""
    first = ANONYMOUS.match(item.get("query", ""))
    return ANONYMOUS_OPERATIONS.get(first.group(1), "?") if first else "?"


def _b64_id(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}:{number}".encode()).decode()


class WandbServer:
    """The server's state and its HTTP front; use as a context manager (`with WandbServer() as s`)."""

    def __init__(self, entity: str = "local-entity") -> None:
        self.entity = entity
        self.calls: list[Call] = []
        self.artifacts: dict[str, Artifact] = {}
        self.runs: dict[tuple[str, str, str], dict[str, Any]] = {}  # (entity, project, run name) -> upserts
        self.run_files: dict[tuple[str, str, str], dict[str, bytes]] = {}
        self.queue_items: list[dict[str, Any]] = []
        self.queues: dict[tuple[str, str], dict[str, Any]] = {}  # (entity, queue name) -> queue
        self._lock = threading.RLock()
        self._counter = 0
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> WandbServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def operations(self) -> list[str]:
        """The GraphQL operations called, in order."""
        return [call.operation for call in self.calls if call.operation]

    def committed(self, type: str | None = None) -> list[Artifact]:
        """The committed artifact versions (of one type), in the order they were created."""
        return [a for a in self.artifacts.values() if a.state == "COMMITTED" and type in (None, a.type)]

    def uncommitted(self) -> list[str]:
        """Artifact versions created but never committed, as `type/name`. wandb 0.22's Python
        `wandb sync` logs a failed artifact upload and still exits 0, leaving the version
        PENDING: a test that syncs checks this is empty."""
        return [f"{a.type}/{a.name}" for a in self.artifacts.values() if a.state != "COMMITTED"]

    def add_queue(self, name: str, entity: str | None = None, project: str = "model-registry") -> None:
        """A launch queue, as an admin would have made it in W&B."""
        entity = entity or self.entity
        self.queues[(entity, name)] = {"id": self._new_id("RunQueue"), "name": name, "project": project}

    def _new_id(self, kind: str) -> str:
        with self._lock:
            self._counter += 1
            return _b64_id(kind, self._counter)

    # --- GraphQL -----------------------------------------------------------------------------

    def introspect(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Answer `alias: __type(name: ...)` queries from `SCHEMA` (a type it lacks is null)."""
        answer: dict[str, Any] = {}
        for alias, literal, variable in INTROSPECTION.findall(query):
            name = literal or variables.get(variable, "")
            fields = [{"name": field} for field in SCHEMA.get(name, [])]
            answer[alias] = {"name": name, "fields": fields, "inputFields": fields} if name in SCHEMA else None
        return answer

    def graphql(self, operation: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        """The `data` answer to one operation."""
        handler: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_op_{operation}", None)
        if handler is None:
            return None
        with self._lock:
            return handler(variables)

    def _op_ServerFeaturesQuery(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {"serverInfo": {"features": [], "latestLocalVersionInfo": None, "cliVersionInfo": {}}}

    def _op_Viewer(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {
            "viewer": {
                "id": _b64_id("User", 1),
                "entity": self.entity,
                "username": self.entity,
                "email": "someone@example.com",
                "flags": "{}",
                "admin": False,
                "teams": {"edges": []},
            }
        }

    _op_GetDefaultEntity = _op_Viewer

    def _op_UpsertBucket(self, v: dict[str, Any]) -> dict[str, Any]:
        entity, project = v.get("entity") or self.entity, v.get("project") or "uncategorized"
        name = v.get("name") or self._new_id("Run")
        key = (entity, project, name)
        self.runs.setdefault(key, {}).update({k: value for k, value in v.items() if value is not None})
        return {
            "upsertBucket": {
                "bucket": {
                    "id": _b64_id("Run", hash(key) & 0xFFFF),
                    "name": name,
                    "displayName": v.get("displayName") or name,
                    "description": v.get("description"),
                    "config": v.get("config") or "{}",
                    "sweepName": None,
                    "project": {
                        "id": _b64_id("Project", hash((entity, project)) & 0xFFFF),
                        "name": project,
                        "entity": {"id": _b64_id("Entity", 1), "name": entity},
                    },
                    "historyLineCount": 0,
                },
                "inserted": True,
            }
        }

    def _op_RunResumeStatus(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"model": None}

    def _op_CreateRunFiles(self, v: dict[str, Any]) -> dict[str, Any]:
        run = (v["entity"], v["project"], v["run"])
        files = [{"name": name, "uploadUrl": f"{self.url}/storage/run/{'/'.join(run)}/{name}"} for name in v["files"]]
        return {"createRunFiles": {"runID": _b64_id("Run", 1), "uploadHeaders": [], "files": files}}

    def _op_MarkRunFilesUploaded(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {"markRunFilesUploaded": {"success": True}}

    def _op_FetchArtifactDigestAlgorithm(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {"project": None}

    def _op_XXHashDigestsEnabled(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {"entity": {"xxhashDigestsEnabled": False}}

    def _op_ClientIDMapping(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {"clientIDMapping": None}

    def _op_OrgFeatureFlags(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {"organization": None}

    def _op_OrganizationCoreWeaveOrganizationID(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {"entity": {"organization": None}}

    def _op_FetchOrgEntityFromEntity(self, _v: dict[str, Any]) -> dict[str, Any]:
        return {"entity": {"organization": None}}

    def _op_CreateArtifact(self, v: dict[str, Any]) -> dict[str, Any]:
        # wandb-core sends one `input`; wandb 0.22's Python sender (`wandb sync`) sends its fields.
        spec = v["input"] if "input" in v else {**v, "artifactCollectionName": v["artifactCollectionNames"][0]}
        entity, project = spec.get("entityName") or self.entity, spec.get("projectName") or "uncategorized"
        name = spec["artifactCollectionName"]
        same = [a for a in self.artifacts.values() if (a.entity, a.project, a.name) == (entity, project, name)]
        existing = next((a for a in same if a.digest == spec["digest"] and a.state == "COMMITTED"), None)
        if existing is not None:  # W&B keeps one version per content; the aliases move to it
            artifact = existing
        else:
            latest = max(same, key=lambda a: a.version_index) if same else None
            artifact = Artifact(
                id=self._new_id("Artifact"),
                entity=entity,
                project=project,
                name=name,
                type=spec["artifactTypeName"],
                digest=spec["digest"],
                aliases=[],
                run=spec.get("runName"),
                version_index=latest.version_index + 1 if latest else 0,
                metadata=spec.get("metadata"),
            )
            self.artifacts[artifact.id] = artifact
        for alias in [a["alias"] for a in spec.get("aliases") or []]:
            self._move_alias(artifact, alias)
        return {
            "createArtifact": {
                "artifact": {
                    "id": artifact.id,
                    "state": artifact.state,
                    "digest": artifact.digest,
                    "versionIndex": artifact.version_index,
                    "artifactSequence": {"id": _b64_id("ArtifactSequence", 1), "latestArtifact": None},
                }
            }
        }

    def _move_alias(self, artifact: Artifact, alias: str) -> None:
        for other in self.artifacts.values():
            if (other.entity, other.project, other.name) == (artifact.entity, artifact.project, artifact.name):
                if alias in other.aliases and other is not artifact:
                    other.aliases.remove(alias)
        if alias not in artifact.aliases:
            artifact.aliases.append(alias)

    def _manifest_answer(self, key: str, artifact_id: str, include_upload: bool) -> dict[str, Any]:
        file: dict[str, Any] = {"id": self._new_id("File")}
        if include_upload:
            file.update(uploadUrl=f"{self.url}/storage/manifest/{artifact_id}", uploadHeaders=[])
        return {key: {"artifactManifest": {"id": _b64_id("ArtifactManifest:" + artifact_id, 0), "file": file}}}

    def _op_CreateArtifactManifest(self, v: dict[str, Any]) -> dict[str, Any]:
        return self._manifest_answer("createArtifactManifest", v["artifactID"], v.get("includeUpload", True))

    def _op_UpdateArtifactManifest(self, v: dict[str, Any]) -> dict[str, Any]:
        artifact_id = base64.b64decode(v["artifactManifestID"]).decode().split(":", 1)[1].rsplit(":", 1)[0]
        return self._manifest_answer("updateArtifactManifest", artifact_id, v.get("includeUpload", True))

    def _op_CreateArtifactFiles(self, v: dict[str, Any]) -> dict[str, Any]:
        edges = []
        files = v["input"]["artifactFiles"] if "input" in v else v["artifactFiles"]  # wandb 0.22: no `input`
        for spec in files:
            artifact_id, name = spec["artifactID"], spec["name"]
            edges.append(
                {
                    "node": {
                        "displayName": name,  # wandb 0.22's Python sender reads the files by it
                        "storagePath": f"{artifact_id}/{name}",
                        "uploadUrl": f"{self.url}/storage/artifact/{artifact_id}/{name}",
                        "uploadHeaders": [],
                        "uploadMultipartUrls": None,
                        "artifact": {"id": artifact_id},
                    }
                }
            )
        return {"createArtifactFiles": {"files": {"edges": edges}}}

    def _op_CommitArtifact(self, v: dict[str, Any]) -> dict[str, Any]:
        artifact = self.artifacts[v["artifactID"]]
        artifact.state = "COMMITTED"
        self._move_alias(artifact, "latest")
        return {"commitArtifact": {"artifact": {"id": artifact.id, "digest": artifact.digest}}}

    def _op_UseArtifact(self, v: dict[str, Any]) -> dict[str, Any]:
        # wandb-core wraps the fields in `input`; the Python SDK's `run.use_artifact` (a run
        # launched from a job) sends them as variables of their own.
        return {"useArtifact": {"artifact": {"id": v.get("input", v).get("artifactID")}}}

    # --- reading artifacts back (Api().artifact, W&B Launch's job loader) ---------------------

    def find(self, entity: str, project: str, name: str) -> Artifact | None:
        """The committed version `name:alias` (or `name:vN`) of a collection."""
        collection, _, alias = name.partition(":")
        alias = alias or "latest"
        for artifact in self.committed():
            if (artifact.entity, artifact.project, artifact.name) != (entity, project, collection):
                continue
            if alias in artifact.aliases or alias == f"v{artifact.version_index}":
                return artifact
        return None

    def _project_json(self, artifact: Artifact) -> dict[str, Any]:
        return {
            "id": _b64_id("Project", 1),
            "internalId": "1",
            "name": artifact.project,
            "entity": {"name": artifact.entity},
            "entityName": artifact.entity,  # wandb 0.22 reads this one
        }

    def _artifact_json(self, artifact: Artifact) -> dict[str, Any]:
        """W&B's `ArtifactFragment` for one version."""
        collection = {"__typename": "ArtifactSequence", "name": artifact.name, "project": self._project_json(artifact)}
        files = artifact.file_bytes() if artifact.manifest else {}
        return {
            "__typename": "Artifact",
            "id": artifact.id,
            "artifactSequence": collection,
            "versionIndex": artifact.version_index,
            "artifactType": {"name": artifact.type},
            "description": None,
            "metadata": artifact.metadata,
            "ttlDurationSeconds": -2,
            "ttlIsInherited": True,
            "tags": [],
            "historyStep": None,
            "state": artifact.state,
            "size": sum(len(data) for data in files.values()),
            "digest": artifact.digest,
            "digestAlgorithm": "MANIFEST_MD5",
            "commitHash": None,
            "fileCount": len(files),
            "createdAt": "2026-01-01T00:00:00",
            "updatedAt": None,
            "aliases": [
                {
                    "__typename": "ArtifactAlias",
                    "id": _b64_id("Alias", i),
                    "alias": alias,
                    "artifactCollection": collection,
                }
                for i, alias in enumerate(artifact.aliases)
            ],
            "currentManifest": {"file": {"directUrl": f"{self.url}/storage/manifest/{artifact.id}"}},
        }

    def _op_ArtifactType(self, v: dict[str, Any]) -> dict[str, Any]:
        artifact = self.find(v.get("entity") or self.entity, v.get("project") or "", v["name"])
        return {"project": {"artifact": {"artifactType": {"name": artifact.type}} if artifact else None}}

    def _op_ArtifactMembershipByName(self, v: dict[str, Any]) -> dict[str, Any]:
        artifact = self.find(v["entity"], v["project"], v["name"])
        if artifact is None:
            return {"project": {"artifactCollectionMembership": None}}
        fragment = self._artifact_json(artifact)
        membership = {
            "__typename": "ArtifactCollectionMembership",
            "id": _b64_id("Membership", 1),
            "versionIndex": artifact.version_index,
            "createdAt": fragment["createdAt"],
            "aliases": [{k: a[k] for k in ("__typename", "id", "alias")} for a in fragment["aliases"]],
            "artifactCollection": fragment["artifactSequence"],
            "artifact": fragment,
        }
        return {"project": {"artifactCollectionMembership": membership}}

    def _op_ArtifactByName(self, v: dict[str, Any]) -> dict[str, Any]:
        # wandb 0.22's `Api().artifact` on a server that lists no features (0.31 asks for the membership).
        artifact = self.find(v["entityName"], v["projectName"], v["name"])
        return {"project": {"artifact": self._artifact_json(artifact) if artifact else None}}

    def _op_ArtifactByID(self, v: dict[str, Any]) -> dict[str, Any]:
        artifact = self.artifacts.get(v["id"])
        return {"artifact": self._artifact_json(artifact) if artifact else None}

    def _op_FetchArtifactManifest(self, v: dict[str, Any]) -> dict[str, Any]:
        return {"artifact": {"currentManifest": {"file": {"directUrl": f"{self.url}/storage/manifest/{v['id']}"}}}}

    def _op_ArtifactManifest(self, v: dict[str, Any]) -> dict[str, Any]:
        return self._op_FetchArtifactManifest({"id": v["artifact_id"]})

    def _file_edges(self, artifact: Artifact, names: list[str]) -> dict[str, Any]:
        edges = [
            {
                "node": {
                    "__typename": "File",
                    "name": name,
                    "directUrl": f"{self.url}/storage/artifact/{artifact.id}/{name}",
                }
            }
            for name in names
        ]
        return {"pageInfo": {"__typename": "PageInfo", "endCursor": None, "hasNextPage": False}, "edges": edges}

    def _op_ArtifactFileURLsByManifestEntries(self, v: dict[str, Any]) -> dict[str, Any]:
        artifact = self.artifacts[v["id"]]
        names = [entry["name"] for entry in v.get("entries") or []]
        return {"artifact": {"filesByManifestEntries": self._file_edges(artifact, names)}}

    def _op_ArtifactFileUrls(self, v: dict[str, Any]) -> dict[str, Any]:
        # wandb 0.22's download, on a server that lists no features.
        artifact = self.artifacts[v["id"]]
        return {"artifact": {"files": self._file_edges(artifact, sorted(artifact.file_bytes()))}}

    def _op_GetArtifactMembershipFileUrls(self, v: dict[str, Any]) -> dict[str, Any]:
        artifact = self.find(v["entity"], v["project"], f"{v['collection']}:{v['alias']}")
        if artifact is None:
            return {"project": None}
        files = self._file_edges(artifact, sorted(artifact.file_bytes()))
        return {
            "project": {
                "artifactCollection": {"__typename": "ArtifactSequence", "artifactMembership": {"files": files}}
            }
        }

    # --- launch queues (`wandb launch --queue`, `launch_add`) -----------------------------------

    def _op_pushToRunQueueByName(self, v: dict[str, Any]) -> dict[str, Any]:
        queue = self.queues.get((v["entityName"], v["queueName"]))
        if queue is None or queue["project"] != v["projectName"]:
            return {"pushToRunQueueByName": None}
        item = {
            "id": self._new_id("RunQueueItem"),
            "queue": v["queueName"],
            "entity": v["entityName"],
            "spec": json.loads(v["runSpec"]),
            "template_variables": v.get("templateVariableValues"),
        }
        self.queue_items.append(item)
        return {"pushToRunQueueByName": {"runQueueItemId": item["id"], "runSpec": v["runSpec"]}}

    def _op_ProjectRunQueues(self, v: dict[str, Any]) -> dict[str, Any]:
        queues = [
            {"id": q["id"], "name": name, "createdBy": entity, "access": "PROJECT"}
            for (entity, name), q in self.queues.items()
            if entity == v["entity"] and q["project"] == v["projectName"]
        ]
        return {"project": {"runQueues": queues}}

    # --- HTTP --------------------------------------------------------------------------------

    def put(self, path: str, body: bytes) -> None:
        """An upload: a run file, an artifact's manifest or one of its files."""
        parts = path.split("/")[2:]  # /storage/<kind>/...
        with self._lock:
            if parts[0] == "run":
                self.run_files.setdefault(tuple(parts[1:4]), {})["/".join(parts[4:])] = body
            elif parts[0] == "manifest":
                self.artifacts[parts[1]].manifest = body
            elif parts[0] == "artifact":
                self.artifacts[parts[1]].files["/".join(parts[2:])] = body

    def get(self, path: str) -> bytes | None:
        """A download: an artifact's manifest or file, by the URL this server handed out."""
        parts = path.split("/")[2:]
        with self._lock:
            if parts[:1] == ["manifest"] and parts[1] in self.artifacts:
                return self.artifacts[parts[1]].manifest
            if parts[:1] == ["artifact"] and parts[1] in self.artifacts:
                return self.artifacts[parts[1]].file_bytes().get("/".join(parts[2:]))
        return None


def _handler(server: WandbServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: object) -> None:  # quiet: the calls are recorded instead
            pass

        def _body(self) -> bytes:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body

        def _send(self, status: int, payload: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            path, body = unquote(urlsplit(self.path).path), self._body()
            if path.endswith("/graphql"):
                for answer in self._graphql(path, body):
                    return self._send(200, answer)
            server.calls.append(Call("POST", path, body=body))
            if path.endswith("/file_stream"):
                return self._send(200, b'{"exitcode": null, "limits": {}}')
            self._send(200, b"{}")  # wandb-core's own telemetry (/sdk/otel/...)

        def _graphql(self, path: str, body: bytes) -> Iterator[bytes]:
            request = json.loads(body)
            requests = request if isinstance(request, list) else [request]
            answers = []
            for item in requests:
                match = OPERATION.search(item.get("query", ""))
                operation = item.get("operationName") or (match.group(1) if match else _anonymous(item))
                variables = item.get("variables") or {}
                server.calls.append(Call("POST", path, operation, variables, body))
                query = item.get("query", "")
                if INTROSPECTION.search(query):
                    answers.append({"data": server.introspect(query, variables)})
                else:
                    answers.append({"data": server.graphql(operation, variables)})
            yield json.dumps(answers if isinstance(request, list) else answers[0]).encode()

        def do_PUT(self) -> None:
            path, body = unquote(urlsplit(self.path).path), self._body()
            server.calls.append(Call("PUT", path, body=body))
            server.put(path, body)
            self._send(200, b"")

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            server.calls.append(Call("GET", path))
            data = server.get(path)
            if data is None:
                return self._send(404, b"not found", "text/plain")
            self._send(200, data, "application/octet-stream")

    return Handler
