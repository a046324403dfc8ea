"""The README's "Moving to ClickHouse": its commands run as written (on chDB instead of
a server), and the Collector configuration it points at feeds the table botanu reads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from click.testing import CliRunner

from botanu import semconv as sc
from botanu.cli import cli
from botanu.engine.ingest import RawSpan

ROOT = Path(__file__).resolve().parents[3]
SECTION = (ROOT / "README.md").read_text().split("## Moving to ClickHouse", 1)[1].split("\n## ")[0]


def test_the_collector_configuration_writes_the_table_botanu_reads():
    config = yaml.safe_load((ROOT / "deploy" / "otel-collector.yaml").read_text())
    assert config["service"]["pipelines"]["traces"] == {
        "receivers": ["otlp"],
        "processors": ["batch"],
        "exporters": ["clickhouse"],
    }
    assert set(config["receivers"]["otlp"]["protocols"]) == {"grpc", "http"}
    exporter = config["exporters"]["clickhouse"]
    assert (exporter["database"], exporter["traces_table_name"]) == ("otel", "otel_traces")
    assert exporter["json"] is False  # botanu reads the Map schema
    assert "deploy/otel-collector.yaml" in SECTION


def test_the_readme_commands_run_as_written(collector):
    (commands,) = re.findall(r"```bash\n(.*?)```", SECTION, re.S)
    lines = [line.split("  #")[0].strip() for line in commands.strip().splitlines()]
    assert lines[0].startswith("export BOTANU_STORE=")
    start = 1_793_491_200_000_000_000 + 3_600 * 10**9  # 2026-11-01T01:00Z
    run = {sc.RUN_ID: "run-1", sc.WORKFLOW: "support", sc.EVENT_ID: "T-1", sc.CUSTOMER_ID: "acme"}
    collector.create_traces()
    collector.export(
        [
            RawSpan(
                f"{1:032x}", f"{1:016x}", None, "botanu.run/support", "internal", start,
                start + 10**6, "unset", {**run, sc.OUTCOME_STATUS: "success"},
                {"service.name": "api"},
            )
        ]
    )  # fmt: skip
    runner = CliRunner(env={"BOTANU_STORE": collector.url})
    outputs = []
    for line in lines[1:]:
        words = shlex.split(line)
        assert words[0] == "botanu"
        if words[1:3] == ["price", "--since"]:
            words[3] = "2026-11-01"  # the README's "2d" is relative to today
        result = runner.invoke(cli, words[1:])
        assert result.exit_code == 0, (line, result.output)
        outputs.append(result.output)
    assert "priced 1 spans over 1 days" in outputs[0]
    assert "acme" in outputs[1]
    assert "support" in outputs[2]
