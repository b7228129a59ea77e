"""W&B Launch's own job loading, run as a Launch agent runs it: in a process of its own.

    python -m tests.launch_agent JOB OUT.json [--config JSON] [--files JSON] [--resource R] [--run]

JOB is `entity/project/name:alias`. The steps are wandb.sdk.launch's, called as its
`_launch` calls them: `construct_launch_spec` → `LaunchProject.from_spec` →
`fetch_and_validate_project` (which loads `wandb.apis.public.Job`, downloads the job and its
code, or fetches its git commit and converts its notebook) → `BuildContextManager` (the
Dockerfile Launch would build) and, with `--run`, Launch's `LocalProcessRunner`, which runs the
entry point with the environment Launch computes (`WANDB_CONFIG`, `WANDB_LAUNCH_FILE_OVERRIDES`
from `--files`, and friends). What it saw is
written to OUT.json. Nothing of wandb is replaced: the server it talks to is the one
`WANDB_BASE_URL` names, and git fetches what the git configuration says.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from wandb.apis.public import Api
from wandb.sdk.launch._project_spec import LaunchProject
from wandb.sdk.launch.builder.context_manager import BuildContextManager
from wandb.sdk.launch.runner.local_process import LocalProcessRunner
from wandb.sdk.launch.utils import PROJECT_SYNCHRONOUS, construct_launch_spec, validate_launch_spec_source

# The API `wandb launch` hands Launch: `LaunchApi` in current releases, wandb's internal `Api`
# in those before it (0.22.x), whose `_launch` makes that one.
try:
    from wandb.sdk.launch.api import LaunchApi
except ImportError:
    from wandb.apis.internal import Api as LaunchApi  # type: ignore[assignment]


def load(job: str, config: dict[str, Any], files: dict[str, Any], resource: str, run: bool) -> dict[str, Any]:
    """Load (and optionally run) `job` as Launch does; the facts a test checks. `files` are
    config-file overrides (`{path: {key: value}}`), as the Launch drawer sends them."""
    api = LaunchApi()
    launch_config = {"overrides": {"run_config": config, **({"files": files} if files else {})}}
    spec = construct_launch_spec(
        None, job, api, None, None, None, None, resource, None, None, None, launch_config, None, None, None
    )
    validate_launch_spec_source(spec)
    project = LaunchProject.from_spec(spec, api)
    project.fetch_and_validate_project()
    source_type, source_info = job_source(project)
    seen: dict[str, Any] = {
        "entity": project.target_entity,
        "run_id": project.run_id,
        "source_type": source_type,
        "source_info": source_info,
        "docker_image": project.docker_image,
        "project_dir": project.project_dir,
        "files": sorted(str(p.relative_to(project.project_dir)) for p in Path(project.project_dir).rglob("*")),
    }
    entry_point = project.get_job_entry_point()
    if entry_point is None:  # an image job: Launch runs the image, there is nothing to build
        return seen
    seen["entrypoint"] = entry_point.command
    context, image_tag = BuildContextManager(project).create_build_context("docker")
    seen["dockerfile"] = Path(context, "Dockerfile.wandb").read_text()
    seen["image_tag"] = image_tag
    if run:
        runner = LocalProcessRunner(api, {PROJECT_SYNCHRONOUS: True})
        submitted = asyncio.run(runner.run(project, ""))
        seen["exit_code"] = submitted._command_proc.returncode
        seen["log"] = asyncio.run(submitted.get_logs())
    return seen


def job_source(project: LaunchProject) -> tuple[str | None, dict[str, Any]]:
    """Where Launch took the job's code from: the project keeps it in current releases. wandb
    0.22.x keeps only the job artifact, so its `wandb-job.json` is read and the code artifact
    resolved by the same `Job._get_code_artifact` Launch called."""
    if hasattr(project, "job_source_type"):
        return project.job_source_type, project.job_source_info
    job = Api().job(project.job)
    source = job._job_info.get("source", {})
    if job._job_info["source_type"] == "artifact":
        return "artifact", {"artifact_string": job._get_code_artifact(source["artifact"]).qualified_name}
    if job._job_info["source_type"] == "repo":
        return "repo", {"git_remote": source["git"]["remote"], "git_commit": source["git"]["commit"]}
    return job._job_info["source_type"], {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("job")
    parser.add_argument("out", type=Path)
    parser.add_argument("--config", type=json.loads, default={})
    parser.add_argument("--files", type=json.loads, default={})
    parser.add_argument("--resource", default="local-process")
    parser.add_argument("--run", action="store_true")
    args = parser.parse_args()
    seen = load(args.job, args.config, args.files, args.resource, args.run)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(seen, indent=1))
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
