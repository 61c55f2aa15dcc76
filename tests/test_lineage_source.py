"""Reading OpenLineage events: the forms real systems write, identity by the naming spec, runs, hostile input."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from openlineage.client.event_v2 import RunState

from loopscan.findings import Location
from loopscan.sources.lineage import Lineage, read_lineage
from tests.lineage_events import DATA, PRODUCER, client_writing_to, dataset, marquez_seed, run_job

RUN_A = "0195a6b2-0000-7000-8000-00000000000a"
RUN_B = "0195a6b2-0000-7000-8000-00000000000b"
RUN_C = "0195a6b2-0000-7000-8000-00000000000c"
BREAKS = "the event breaks the OpenLineage schema:"


def problems(lineage: Lineage) -> list[tuple[str, str, int, str]]:
    return [(item.rule, Path(item.problem.location.file).name, item.problem.location.line, item.problem.message)
            for item in lineage.problems]


def event(job: str = "ns/job", run: str = RUN_A, event_type: str = "COMPLETE", **fields: object) -> dict[str, object]:
    namespace, name = job.split("/")
    return {"eventType": event_type, "eventTime": "2026-03-01T10:00:00Z", "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": run}, "job": {"namespace": namespace, "name": name}, **fields}


def lines(path: Path, *items: object) -> Path:
    path.write_text("".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items), "utf-8")
    return path


def test_the_real_client_file_transport_is_read_event_by_event(tmp_path: Path) -> None:
    client = client_writing_to(tmp_path / "events.jsonl")
    run_job(client, "chat/serve", RUN_A, [dataset("s3://ml", "models/assistant/")],
            [dataset("s3://chat", "answers/2026-03-01/", provenance="ai")])
    run_job(client, "ml/train", RUN_B, [dataset("s3://lake", "train/chat/")], [dataset("s3://ml", "models/assistant/")],
            rows={"train/chat/": 1200}, parent=("ml/nightly", RUN_C))
    lineage = read_lineage([str(tmp_path / "events.jsonl")])
    assert problems(lineage) == []
    assert lineage.events == 4
    assert sorted(lineage.jobs) == ["chat/serve", "ml/train"]
    assert lineage.jobs["ml/train"].group == "ml/nightly"
    assert lineage.jobs["chat/serve"].group == "chat"
    assert lineage.jobs["ml/train"].location == Location(str(tmp_path / "events.jsonl"), 3)
    train = lineage.runs[RUN_B]
    assert (train.job, train.state, train.first.event_type, train.last.event_type) == ("ml/train", "COMPLETE",
                                                                                      "START", "COMPLETE")
    assert list(train.inputs) == ["s3://lake/train/chat/"]
    assert train.inputs["s3://lake/train/chat/"].rows == 1200
    assert train.inputs["s3://lake/train/chat/"].event.location.line == 4  # the COMPLETE event gave the count
    assert list(train.outputs) == ["s3://ml/models/assistant/"]
    assert lineage.datasets["s3://chat/answers/2026-03-01/"].provenance == "ai"
    assert lineage.datasets["s3://ml/models/assistant/"].provenance is None


def test_a_file_per_event_and_the_debug_mode_s_pretty_printed_events_are_read_from_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    run_job(client_writing_to(folder / "ol", append=False), "chat/serve", RUN_A, [], [dataset("s3://chat", "a/")])
    pretty = folder / "ol-debug.json"
    pretty.write_text(json.dumps(event("ns/pretty", RUN_B, outputs=[{"namespace": "file", "name": "/x"}]), indent=2))
    (folder / "notes.txt").write_text("not an event")
    lineage = read_lineage([str(folder)])
    assert problems(lineage) == []
    assert len(lineage.files) == 3
    assert lineage.events == 3
    assert lineage.runs[RUN_A].state == "COMPLETE"
    assert list(lineage.runs[RUN_B].outputs) == ["file:///x"]


def test_a_json_array_a_marquez_export_and_gzip_keep_each_event_s_line(tmp_path: Path) -> None:
    items = [event("ns/one", RUN_A), event("ns/two", RUN_B)]
    array = tmp_path / "array.json"
    array.write_text(json.dumps(items, indent=2))
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"totalCount": 2, "events": items}, indent=1))
    packed = tmp_path / "events.jsonl.gz"
    with gzip.open(packed, "wt") as stream:
        stream.write("\n".join(json.dumps(item) for item in items) + "\n")
    starts = {name: [line for line, text in enumerate(path.read_text().splitlines(), 1) if text.strip() == "{"][-2:]
              for name, path in (("array", array), ("export", export))}
    for path, expected in ((array, starts["array"]), (export, starts["export"][:]), (packed, [1, 2])):
        lineage = read_lineage([str(path)])
        assert problems(lineage) == []
        assert [job.location.line for job in lineage.jobs.values()] == (
            expected if path != export else [line for line in _event_lines(export)])


def _event_lines(path: Path) -> list[int]:
    """The lines on which each event of a pretty-printed export opens (its ``"eventType"`` is the next line)."""
    text = path.read_text().splitlines()
    return [number - 1 for number, line in enumerate(text, 1) if '"eventType"' in line]


def test_the_marquez_seed_metadata_loads_every_job_and_dataset(tmp_path: Path) -> None:
    lineage = read_lineage([str(marquez_seed(tmp_path))])
    assert problems(lineage) == []
    assert (lineage.events, len(lineage.jobs), len(lineage.runs), len(lineage.datasets)) == (26, 13, 13, 13)
    assert all(run.completed for run in lineage.runs.values())
    assert "food_delivery/etl_menus" in lineage.jobs
    assert lineage.jobs["food_delivery/etl_menus"].location.line == 2
    assert "food_delivery:public.menus" in lineage.datasets


def test_the_spark_event_s_symlinks_make_the_hdfs_path_and_the_hive_table_one_dataset(tmp_path: Path) -> None:
    lineage = read_lineage([str(DATA / "spark_dataproc_simple_producer_test-1.json")])
    assert problems(lineage) == []
    hdfs = "hdfs://dataproc-producer-test-m/user/hive/warehouse/t1"
    assert lineage.datasets[hdfs].aliases == ["hive://dataproc-producer-test-m:9083/default.t1"]
    assert lineage.identity("hive://dataproc-producer-test-m:9083/default.t1") == hdfs
    assert sorted(lineage.datasets) == [hdfs, "hdfs://dataproc-producer-test-m/user/hive/warehouse/t2"]


def test_a_symlink_that_names_a_dataset_seen_before_merges_the_two(tmp_path: Path) -> None:
    path = lines(tmp_path / "e.jsonl",
                 event("ns/reader", RUN_A, inputs=[{"namespace": "hive://meta:9083", "name": "db.t"}]),
                 event("ns/writer", RUN_B, outputs=[{"namespace": "hdfs://nn:8020", "name": "/warehouse/t", "facets": {
                     "symlinks": {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/x", "identifiers": [
                         {"namespace": "hive://meta:9083", "name": "db.t", "type": "TABLE"}]}}}]))
    lineage = read_lineage([str(path)])
    assert problems(lineage) == []
    assert sorted(lineage.datasets) == ["hdfs://nn:8020/warehouse/t"]
    assert [lineage.identity(uri) for uri in lineage.runs[RUN_A].inputs] == ["hdfs://nn:8020/warehouse/t"]


def test_the_events_of_one_run_are_one_run_and_only_completed_runs_are_flows(tmp_path: Path) -> None:
    client = client_writing_to(tmp_path / "events.jsonl")
    run_job(client, "ns/ok", RUN_A, [dataset("s3://b", "in/")], [dataset("s3://b", "out/")])
    run_job(client, "ns/broke", RUN_B, [dataset("s3://b", "in/")], [dataset("s3://b", "out/")], end=RunState.FAIL)
    run_job(client, "ns/stopped", RUN_C, [dataset("s3://b", "in/")], [dataset("s3://b", "out/")],
            end=RunState.ABORT)
    lineage = read_lineage([str(tmp_path / "events.jsonl")])
    assert {run.job: run.state for run in lineage.runs.values()} == {"ns/ok": "COMPLETE", "ns/broke": "FAIL",
                                                                     "ns/stopped": "ABORT"}
    assert [run.job for run in lineage.flows()] == ["ns/ok"]
    assert [run.job for run in lineage.flows(include_failed=True)] == ["ns/ok", "ns/broke", "ns/stopped"]


def test_an_event_that_ends_a_run_is_not_undone_by_a_later_running_event(tmp_path: Path) -> None:
    path = lines(tmp_path / "e.jsonl", event(event_type="START"), event(event_type="COMPLETE"),
                 event(event_type="OTHER"))
    assert read_lineage([str(path)]).runs[RUN_A].state == "COMPLETE"


def test_a_broken_line_is_a_finding_at_its_line_and_the_rest_is_still_read(tmp_path: Path) -> None:
    path = lines(tmp_path / "e.jsonl", event("ns/one", RUN_A), '{"eventType": "START", ', "[1, 2]",
                 {"eventType": "COMPLETE"}, "", event("ns/two", RUN_B))
    lineage = read_lineage([str(path)])
    assert sorted(lineage.jobs) == ["ns/one", "ns/two"]
    assert problems(lineage) == [
        ("LS001", "e.jsonl", 2, "not valid JSON: Expecting property name enclosed in double quotes"),
        ("LS002", "e.jsonl", 3, f"{BREAKS} the event: [1, 2] is not of type 'object'"),
        ("LS002", "e.jsonl", 4, f"{BREAKS} the event: 'eventTime' is a required property"),
    ]
    assert lineage.problems[0].problem.location.column == 24


def test_schema_violations_name_the_field(tmp_path: Path) -> None:
    path = lines(tmp_path / "e.jsonl",
                 event(inputs=[{"namespace": "s3://b"}]),
                 event(event_type="FINISHED"),
                 {**event(), "eventTime": "yesterday"},
                 event(run=RUN_B, inputs=[{"namespace": "s3://b", "name": "x", "inputFacets": {"inputStatistics": {
                     "_producer": PRODUCER, "_schemaURL": "https://openlineage.io/x", "rowCount": "many"}}}]))
    lineage = read_lineage([str(path)])
    assert problems(lineage) == [
        ("LS002", "e.jsonl", 1, "the event breaks the OpenLineage schema: inputs.0: 'name' is a required property"),
        ("LS002", "e.jsonl", 2, "the event breaks the OpenLineage schema: eventType: 'FINISHED' is not one of "
                                "['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER']"),
        ("LS002", "e.jsonl", 3, "the event breaks the OpenLineage schema: eventTime: 'yesterday' is not an RFC 3339 "
                                "date-time"),
        ("LS002", "e.jsonl", 4, "a facet breaks its OpenLineage schema, and is not read: "
                                "inputs.0.inputFacets.inputStatistics.rowCount: 'many' is not of type 'integer'"),
    ]
    assert lineage.runs[RUN_B].inputs["s3://b/x"].rows is None  # the broken facet is not read, the flow is


@pytest.mark.parametrize("name", ["a\x1b[31mred", "two\nlines", "bidi\u202eevil"])
def test_control_characters_in_a_name_are_a_finding_shown_escaped(tmp_path: Path, name: str) -> None:
    path = lines(tmp_path / "e.jsonl", event(outputs=[{"namespace": "s3://b", "name": name}]))
    lineage = read_lineage([str(path)])
    assert lineage.runs == {}
    [(rule, _, line, message)] = problems(lineage)
    assert (rule, line) == ("LS002", 1)
    assert "holds control characters" in message
    assert not any(char in message for char in "\x1b\n\u202e")


def test_a_100_mb_line_is_a_finding_and_the_next_line_is_read(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with path.open("w") as stream:
        stream.write('{"eventType": "START", "padding": "' + "x" * 100_000_000 + '"}\n')
        stream.write(json.dumps(event("ns/after", RUN_B)) + "\n")
    lineage = read_lineage([str(path)])
    assert problems(lineage) == [("LS002", "e.jsonl", 1,
                                  "the event is 100,000,037 bytes, over the limit of 16,777,216")]
    assert list(lineage.jobs) == ["ns/after"]


def test_deep_nesting_is_a_finding_never_a_traceback(tmp_path: Path) -> None:
    custom = ('{"custom": {"_producer": "https://x.io/p", "_schemaURL": "https://x.io/s", "deep": '
              + "[" * 1000 + "]" * 1000 + "}}")
    deep = json.dumps(event(run=RUN_B)).replace('"runId"', f'"facets": {custom}, "runId"')
    path = lines(tmp_path / "e.jsonl", event(run=RUN_A), "[" * 100_000 + "]" * 100_000, deep, event(run=RUN_C))
    lineage = read_lineage([str(path)])
    assert problems(lineage) == [("LS002", "e.jsonl", 2, "the event is nested too deeply to read"),
                                 ("LS002", "e.jsonl", 3, "the event is nested too deeply to read")]
    assert sorted(lineage.runs) == [RUN_A, RUN_C]


@pytest.mark.parametrize("line", [
    b'{"a": [1, 2.5, null, true], "b": "\\u00e9t\\u00e9"}\n', b'{"a": 1}', b'{"a": 1} \t\r\n', b'{"a": 1}\x0c\n',
    b'{"a": 1} {"b": 2}\n', b'{"a": 1}\xc2\xa0\n', b'{"a": NaN, "b": -Infinity}\n', b'{"a": "tab\there"}\n',
    b'{"caf\xc3\xa9": "\xe2\x80\xae"}\n', b'{"name": "caf\xe9"}\n', b"\xef\xbb\xbf{\"a\": 1}\n",
    '{"a": 1}'.encode("utf-16-le"), b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", b'{"a" 1}\n', b"{",
    b" {\"a\": 1}\n", b"[1]\n", b'"text"\n',
])
def test_a_line_decodes_to_what_json_loads_makes_of_it(line: bytes) -> None:
    from loopscan.sources.lineage import _Broken, _decode_line

    try:
        expected: object = json.loads(line)
    except RecursionError:
        expected = _Broken("LS002", "the event is nested too deeply to read")
    except ValueError:
        expected = _Broken
    decoded = _decode_line(line)
    if expected is _Broken:
        assert isinstance(decoded, _Broken) and decoded.rule == "LS001"
    elif isinstance(expected, _Broken):
        assert decoded == expected
    else:
        assert json.dumps(decoded) == json.dumps(expected)  # NaN is not equal to itself, its text is


def test_unreadable_files_are_findings(tmp_path: Path) -> None:
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip at all")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"name": "caf\xe9"}\n')
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "broken-array.json").write_text('[\n{"eventType": "START"},\n{"eventType": \n]\n')
    lineage = read_lineage([str(tmp_path / name) for name in ("missing.jsonl", "bad.json.gz", "latin1.jsonl",
                                                              "empty.jsonl", "broken-array.json")])
    found = problems(lineage)
    assert [(rule, file, line) for rule, file, line, _ in found] == [
        ("LS001", "missing.jsonl", 1), ("LS001", "bad.json.gz", 1), ("LS001", "latin1.jsonl", 1),
        ("LS002", "broken-array.json", 2), ("LS001", "broken-array.json", 4)]
    assert found[0][3].endswith("missing.jsonl does not exist")
    assert "Not a gzipped file" in found[1][3]
    assert found[4][3] == "not valid JSON: Expecting value; the rest of the array is not read"


def test_the_marquez_self_loop_event_reads_and_writes_one_dataset(tmp_path: Path) -> None:
    shutil.copy(DATA / "marquez-event_large.json", tmp_path)
    lineage = read_lineage([str(tmp_path / "marquez-event_large.json")])
    assert problems(lineage) == []
    [run] = lineage.runs.values()
    assert list(run.inputs) == list(run.outputs)


def _mutations(item: dict[str, object]) -> list[object]:
    """The event, and copies broken (or not) in the ways events break: keys missing, values of the wrong type."""
    found: list[object] = [item]

    def changed(path: tuple[object, ...], value: object) -> None:
        copy = json.loads(json.dumps(item))
        target = copy
        for part in path[:-1]:
            target = target[part]
        if value is KeyError:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
        found.append(copy)

    for key in list(item):
        changed((key,), KeyError)
        changed((key,), 5)
    changed(("eventType",), "FINISHED")
    changed(("run", "runId"), 5)
    changed(("run", "facets"), {"custom": {"_producer": "https://x"}})
    changed(("run", "facets"), {"custom": "text"})
    changed(("run", "facets"), {"parent": {"_producer": "p", "_schemaURL": "s", "job": {"namespace": "n"}}})
    changed(("job", "name"), None)
    changed(("job", "facets"), [])
    changed(("dataset",), {"namespace": "s3://b", "name": "x"})  # a run event with a dataset
    for block in ("inputs", "outputs"):
        if item.get(block):
            changed((block, 0, "name"), KeyError)
            changed((block, 0, "facets"), {"schema": {"_producer": "p", "_schemaURL": "s", "_deleted": "no"}})
            changed((block, 0, "inputFacets"), {"x": {"_producer": 1, "_schemaURL": "s"}})
            statistics = {"_producer": "p", "_schemaURL": "s", "rowCount": "many"}
            changed((block, 0, "inputFacets"), {"inputStatistics": statistics})
            changed((block, 0, "outputFacets"), {"outputStatistics": statistics})
            changed((block, 0, "facets"), {"symlinks": {"_producer": "p", "_schemaURL": "s",
                                                        "identifiers": [{"namespace": "n", "name": "x"}]}})
            changed((block, 0), "s3://b/x")
    return found


def test_the_compiled_schema_answers_as_jsonschema_does(tmp_path: Path) -> None:
    """The fast path (:mod:`loopscan.sources.validity`) must never call an event valid that jsonschema does not."""
    from loopscan.sources.lineage import _event_predicate, _predicates, _validators

    samples = [json.loads((DATA / name).read_text()) for name in (
        "marquez-event_simple.json", "marquez-event_large.json", "event_full.json",
        "spark_dataproc_simple_producer_test-1.json")]
    samples += json.loads(marquez_seed(tmp_path).read_text())[:4]
    client = client_writing_to(tmp_path / "client.jsonl")
    run_job(client, "ns/job", RUN_A, [dataset("s3://b", "in/")], [dataset("s3://b", "out/", provenance="ai")],
            rows={"in/": 5}, parent=("ns/parent", RUN_B))
    samples += [json.loads(line) for line in (tmp_path / "client.jsonl").read_text().splitlines()]
    outcomes: list[bool] = []
    for sample in samples:
        for candidate in _mutations(sample):
            for name, valid in _predicates().items():
                assert valid is not None, name
                assert valid(candidate) == (not list(_validators()[name].iter_errors(candidate))), (name, candidate)
                outcomes.append(valid(candidate))
            whole = _event_predicate()
            assert whole is not None
            assert whole(candidate) == _valid_with_its_read_facets(candidate), candidate
    assert len(outcomes) > 1000
    assert outcomes.count(False) > 200 and outcomes.count(True) > 200


def _valid_with_its_read_facets(event: object) -> bool:
    """What the reader's one predicate must say: the event is valid, and so is each facet it reads where it sits."""
    from loopscan.sources.lineage import _FACET_SCHEMAS, _validators

    validators = _validators()
    if list(validators["OpenLineage"].iter_errors(event)):
        return False
    assert isinstance(event, dict)
    placed = [("run", (event.get("run") or {}).get("facets"))]
    for block, kind in (("inputs", "input"), ("outputs", "output")):
        for named in event.get(block) or ():
            placed += [("dataset", named.get("facets")), (kind, named.get(f"{kind}Facets"))]
    return all(not list(validators[name].iter_errors(facets)) for where, facets in placed if facets is not None
               for name in _FACET_SCHEMAS[where])
