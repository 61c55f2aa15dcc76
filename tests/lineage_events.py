"""OpenLineage events for the tests: the Marquez seed made loadable, and events written by the real Python client."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    input_statistics_input_dataset,
    parent_run,
    tags_dataset,
)
from openlineage.client.transport.file import FileConfig, FileTransport

DATA = Path(__file__).parent / "data" / "openlineage"
PRODUCER = "https://github.com/loopscan/loopscan/tests"


def marquez_seed(folder: Path) -> Path:
    """Marquez's seed metadata with its time placeholders filled in, as Marquez's ``docker/seed.sh`` does.

    The placeholders sit one per line, so every event keeps the line it has in the original file.
    """

    def time(match: re.Match[str]) -> str:
        minutes = int(match.group(1) or 0)
        return f"2026-02-22T22:{minutes:02d}:00.000Z"

    text = (DATA / "metadata.template.json").read_text("utf-8")
    text = re.sub(r"\{\{RUN_(?:START_TIME|END_TIME_AFTER_(\d+)_MINUTES)\}\}", time, text)
    path = folder / "marquez-seed.json"
    path.write_text(text, "utf-8")
    return path


def client_writing_to(path: Path, append: bool = True) -> OpenLineageClient:
    """The real client with its file transport: one event per line in ``path`` (append), else a file per event."""
    return OpenLineageClient(transport=FileTransport(FileConfig(log_file_path=str(path), append=append)))


def dataset(namespace: str, name: str, provenance: str | None = None) -> dict[str, object]:
    facets: dict[str, object] = {}
    if provenance is not None:
        facets["tags"] = tags_dataset.TagsDatasetFacet(
            tags=[tags_dataset.TagsDatasetFacetFields(key="provenance", value=provenance, source="USER")])
    return {"namespace": namespace, "name": name, "facets": facets}


def run_job(client: OpenLineageClient, job: str, run_id: str, inputs: Iterable[dict[str, object]] = (),
            outputs: Iterable[dict[str, object]] = (), end: RunState = RunState.COMPLETE,
            day: str = "2026-03-01", parent: tuple[str, str] | None = None,
            rows: dict[str, int] | None = None) -> None:
    """Emit the START and the end event of one run of ``job`` (``namespace/name``).

    ``rows`` gives the ``inputStatistics`` row count of inputs by name; ``parent`` the parent job and run id.
    """
    namespace, name = job.split("/", 1)
    run_facets: dict[str, object] = {}
    if parent is not None:
        parent_namespace, parent_name = parent[0].split("/", 1)
        run_facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent[1]), job=parent_run.Job(namespace=parent_namespace, name=parent_name))
    input_datasets = [
        InputDataset(namespace=str(item["namespace"]), name=str(item["name"]), facets=item["facets"],
                     inputFacets={"inputStatistics": input_statistics_input_dataset.InputStatisticsInputDatasetFacet(
                         rowCount=rows[str(item["name"])])} if rows and str(item["name"]) in rows else {})
        for item in inputs]
    output_datasets = [OutputDataset(namespace=str(item["namespace"]), name=str(item["name"]),
                                     facets=item["facets"])
                       for item in outputs]
    for state, time in ((RunState.START, f"{day}T10:00:00Z"), (end, f"{day}T10:30:00Z")):
        client.emit(RunEvent(eventType=state, eventTime=time, producer=PRODUCER,
                             run=Run(runId=run_id, facets=run_facets),
                             job=Job(namespace=namespace, name=name),
                             inputs=input_datasets, outputs=output_datasets))
