"""Observed lineage beside the manifests: steps tied to jobs, observed edges, and ``check --lineage``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loopscan.sources.discover import Candidate
from loopscan.sources.load import load_files
from tests.conftest import Result


def test_a_step_names_its_job_and_a_malformed_job_breaks_the_schema(
        project: Callable[[str, str], Path], run: Callable[..., Result]) -> None:
    path = project("p.yaml", """
        loopscan: 1
        pipeline: p
        datasets:
          raw: {uri: "s3://b/raw/", provenance: human}
        steps:
          clean: {kind: transform, inputs: [raw], job: "airflow-prod/etl.clean_raw"}
          tidy: {kind: transform, inputs: [raw], job: "no-slash"}
        """)
    result = run("check", "p.yaml", "-f", "json", "--select", "LS002")
    assert result.findings() == [("LS002", "p.yaml", 7)]
    assert "steps.tidy.job" in result.json()["findings"][0]["message"]
    loaded = load_files([Candidate(str(path), "p.yaml")])
    steps = loaded.manifests[0].steps
    assert steps["clean"].job == "airflow-prod/etl.clean_raw"
