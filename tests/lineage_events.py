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
    inputs, outputs = list(inputs), list(outputs)

    def input_datasets(counted: bool) -> list[InputDataset]:
        return [InputDataset(namespace=str(item["namespace"]), name=str(item["name"]), facets=item["facets"],
                             inputFacets={"inputStatistics": statistics(rows[str(item["name"])])}
                             if counted and rows and str(item["name"]) in rows else {})
                for item in inputs]

    output_datasets = [OutputDataset(namespace=str(item["namespace"]), name=str(item["name"]),
                                     facets=item["facets"])
                       for item in outputs]
    # as integrations do, the row counts come with the event that ends the run
    for state, time in ((RunState.START, f"{day}T10:00:00Z"), (end, f"{day}T10:30:00Z")):
        client.emit(RunEvent(eventType=state, eventTime=time, producer=PRODUCER,
                             run=Run(runId=run_id, facets=run_facets),
                             job=Job(namespace=namespace, name=name),
                             inputs=input_datasets(counted=state is end), outputs=output_datasets))


def statistics(rows: int) -> input_statistics_input_dataset.InputStatisticsInputDatasetFacet:
    return input_statistics_input_dataset.InputStatisticsInputDatasetFacet(rowCount=rows)


CHAT_MANIFEST = """\
loopscan: 1
pipeline: chat
owner: chat-team
datasets:
  answers: {uri: "s3://chat/answers/", provenance: ai}
models:
  assistant: {uri: "s3://ml/models/assistant/"}
steps:
  answer:
    kind: generate
    job: chat/serve-answers
    inputs: [assistant]
    outputs: [answers]
"""

TRAINING_MANIFEST = """\
loopscan: 1
pipeline: training
owner: ml-team
datasets:
  raw-tickets: {uri: "s3://support/raw/", provenance: human}
  tickets: {uri: "s3://lake/tickets/", provenance: human}
  anchor: {uri: "s3://lake/anchor/", provenance: human, frozen: true}
  train-set: {uri: "s3://lake/train/", provenance: human}
models:
  assistant: {uri: "s3://ml/models/assistant/"}
steps:
  review:
    kind: gate
    method: human-review
    job: support/review-tickets
    inputs: [raw-tickets]
    outputs: [tickets]
  finetune:
    kind: train
    job: ml/train-assistant
    inputs: [train-set, tickets, anchor]
    outputs: [assistant]
    mixing: {max_synthetic: 0.2, anchor: anchor, log: "s3://lake/mix-log/"}
"""
"""Two teams' manifests: the chat team's generate step, and the ML team's gated, capped training."""

RUNS = {job: f"0195a6b2-1000-7000-8000-00000000000{index}" for index, job in enumerate(
    ["chat/serve-answers", "curation/copy-answers", "support/review-tickets", "ml/train-assistant"], start=1)}


def organisation(folder: Path, gate_ran: bool = True, row_counts: bool = True) -> Path:
    """The small organisation of the manifests above, run for one day; its events written by the real client.

    The chat product's answers land under ``s3://chat/answers/``; a curation job that no manifest declares
    copies them into the training set; the declared training step reads that set. The chat job also writes
    feedback its manifest does not list. ``gate_ran=False``: the review gate's job emits no run that day.
    ``row_counts=False``: the training run reports no ``inputStatistics``.
    """
    (folder / "chat.yaml").write_text(CHAT_MANIFEST, "utf-8")
    (folder / "training.yaml").write_text(TRAINING_MANIFEST, "utf-8")
    events = folder / "events" / "openlineage.jsonl"
    events.parent.mkdir()
    client = client_writing_to(events)
    run_job(client, "chat/serve-answers", RUNS["chat/serve-answers"], [dataset("s3://ml", "models/assistant/")],
            [dataset("s3://chat", "answers/2026-03-01/", provenance="ai"),
             dataset("s3://chat", "feedback/2026-03-01/")])
    run_job(client, "curation/copy-answers", RUNS["curation/copy-answers"],
            [dataset("s3://chat", "answers/2026-03-01/")], [dataset("s3://lake", "train/chat/2026-03-01/")])
    if gate_ran:
        run_job(client, "support/review-tickets", RUNS["support/review-tickets"],
                [dataset("s3://support", "raw/")], [dataset("s3://lake", "tickets/")])
    run_job(client, "ml/train-assistant", RUNS["ml/train-assistant"],
            [dataset("s3://lake", "train/chat/2026-03-01/"), dataset("s3://lake", "tickets/"),
             dataset("s3://lake", "anchor/")],
            [dataset("s3://ml", "models/assistant/")],
            rows={"train/chat/2026-03-01/": 600, "tickets/": 300, "anchor/": 100} if row_counts else None)
    return events
