#!/usr/bin/env python3
"""Builds the Grafana "DORA" dashboard (docker/grafana/dashboards/dora.json) with Grafana's
grafana-foundation-sdk, pinned in scripts/python-tools.sh.

    .lakehook/venv/bin/python scripts/grafana-dashboard.py           # print the JSON
    .lakehook/venv/bin/python scripts/grafana-dashboard.py --write   # write docker/grafana/dashboards/dora.json

Every figure comes from dora_report(project, from, to) over the dashboard's time range, as the CLI
and /api/dora compute it; the tables show the rows behind each figure, read from the dora_*
views and functions (docs/DORA.md). The window is [from, to), as dora_report's: the tables say
`>= $__timeFrom() AND < $__timeTo()` rather than $__timeFilter(column), which Grafana expands to
an inclusive BETWEEN. The weekly trends are dora_report per ISO week (Monday 00:00 UTC), not
$__timeGroup(column, '1w'), whose buckets are epoch weeks starting on Thursdays.
Tests/WebhooksTests/GrafanaDashboardTests.swift runs every query here against real data.
"""

import json
import pathlib
import sys
import typing

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard as dashboard_builder
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_model

OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "docker/grafana/dashboards/dora.json"

# The data source provisioned by docker/grafana/provisioning/datasources/lakehook.yaml.
DATASOURCE = dashboard_model.DataSourceRef(type_val="grafana-postgresql-datasource", uid="lakehook-postgres")

# The project variable, quoted as a SQL string: Grafana's SQL data sources put a single-value
# variable in as it is, its quotes doubled (packages/grafana-sql, SqlDatasource.interpolateVariable).
PROJECT = "'${project}'"
WINDOW = f"{PROJECT}, $__timeFrom(), $__timeTo()"


class SQLQuery(cogvariants.Dataquery):
    """A raw SQL query of Grafana's PostgreSQL data source (the SDK has no builder for it)."""

    def __init__(self, ref_id: str, raw_sql: str, format_val: str) -> None:
        self.ref_id = ref_id
        self.raw_sql = raw_sql
        self.format_val = format_val

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE,
            "editorMode": "code",
            "format": self.format_val,
            "rawQuery": True,
            "rawSql": self.raw_sql,
        }


class SQL(cogbuilder.Builder[SQLQuery]):
    def __init__(self, raw_sql: str, format_val: str = "table", ref_id: str = "A") -> None:
        self._internal = SQLQuery(ref_id, dedent(raw_sql), format_val)

    def build(self) -> SQLQuery:
        return self._internal


def dedent(text: str) -> str:
    lines = [line for line in text.strip("\n").split("\n")]
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:].rstrip() for line in lines)


METRICS = [
    # metric, title, unit, decimals
    ("deployment_frequency", "Deployment frequency", "suffix: days/week", 1),
    ("lead_time_for_changes", "Lead time for changes", "h", 1),
    ("change_failure_rate", "Change failure rate", "percentunit", 0),
    ("failed_deployment_recovery_time", "Failed deployment recovery time", "h", 1),
]

# DORA's performance levels, coloured as Grafana's traffic lights.
LEVEL_COLOURS = {"elite": "dark-green", "high": "green", "medium": "orange", "low": "red"}


def level_mappings() -> list[dashboard_model.ValueMapping]:
    return [
        dashboard_model.ValueMap(
            options={
                level: dashboard_model.ValueMappingResult(text=level, color=colour, index=index)
                for index, (level, colour) in enumerate(LEVEL_COLOURS.items())
            }
        )
    ]


def url_link(title: str) -> dashboard_model.DynamicConfigValue:
    """A data link on a column of URLs: the cell opens its own URL."""
    return dashboard_model.DynamicConfigValue(
        id_val="links", value=[{"title": title, "url": "${__value.raw}", "targetBlank": True}]
    )


def headline(metric: str, title: str, unit: str, decimals: int) -> stat.Panel:
    return (
        stat.Panel()
        .title(title)
        .description(f"dora_report('$project', from, to), metric {metric}: its value and DORA level over the time range.")
        .datasource(DATASOURCE)
        .with_target(SQL(f"""
            SELECT value, level, numerator, denominator
            FROM dora_report({WINDOW})
            WHERE metric = '{metric}'
        """))
        .unit(unit)
        .decimals(decimals)
        .no_value("no data")
        .mappings(level_mappings())
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE)
        .reduce_options(common_builder.ReduceDataOptions().values(False).calcs(["lastNotNull"]).fields("/^(value|level)$/"))
        .height(5)
        .span(6)
    )


def report_table() -> table.Panel:
    return (
        table.Panel()
        .title("DORA report")
        .description("dora_report over the time range: each figure, its level, and what it is based on (numerator of denominator).")
        .datasource(DATASOURCE)
        .with_target(SQL(f"""
            SELECT metric, value, unit, level, numerator, denominator, array_to_string(ids, ', ') AS ids
            FROM dora_report({WINDOW})
        """))
        .override_by_name("level", [dashboard_model.DynamicConfigValue(id_val="mappings", value=level_mappings())])
        .height(7)
        .span(24)
    )


def weekly_trend(metric: str, title: str, unit: str) -> timeseries.Panel:
    return (
        timeseries.Panel()
        .title(f"{title}, weekly")
        .description(
            f"dora_report per ISO week (Monday 00:00 UTC) of the weeks the time range overlaps, metric {metric}."
        )
        .datasource(DATASOURCE)
        .with_target(SQL(f"""
            SELECT week AT TIME ZONE 'UTC' AS "time", r.value AS "{title}"
            FROM generate_series(date_trunc('week', $__timeFrom()::timestamptz AT TIME ZONE 'UTC'),
                                 $__timeTo()::timestamptz AT TIME ZONE 'UTC' - interval '1 microsecond',
                                 interval '1 week') AS week,
                 LATERAL dora_report({PROJECT}, week AT TIME ZONE 'UTC', (week + interval '1 week') AT TIME ZONE 'UTC') AS r
            WHERE r.metric = '{metric}'
            ORDER BY 1
        """, format_val="time_series"))
        .unit(unit)
        .span_nulls(True)
        .point_size(6)
        .show_points(common.VisibilityMode.ALWAYS)
        .height(7)
        .span(12)
    )


def deployments_table() -> table.Panel:
    return (
        table.Panel()
        .title("Deployments")
        .description(
            "Finished production deployments in the time range (dora_deployments). Successful ones count "
            "towards deployment frequency; SUCCESS and FAILURE ones towards change failure rate, "
            "failed when FAILURE or when they caused an incident. A FAILURE one is recovered by the next "
            "successful production deployment (dora_failed_deployments): its recovery time counts towards "
            "failed deployment recovery time."
        )
        .datasource(DATASOURCE)
        .with_target(SQL(f"""
            SELECT d.finished_date, d.deployment_id, d.source, d.result, d.name, d.started_date,
                   d.deployment_id = ANY ((SELECT ids FROM dora_report({WINDOW}) WHERE metric = 'change_failure_rate')::varchar[])
                       AS change_failure,
                   (SELECT string_agg(c.incident_id, ', ' ORDER BY c.incident_created_date)
                    FROM dora_incident_causes c
                    WHERE c.project_name = d.project_name AND c.deployment_id = d.deployment_id
                      AND c.deployment_source = d.source) AS caused_incidents,
                   f.recovery_deployment_id AS recovered_by, f.recovery_hours,
                   CASE d.source
                       WHEN 'deployments' THEN (SELECT x.url FROM cicd_deployments x WHERE x.id = d.deployment_id)
                       ELSE (SELECT x.url FROM cicd_pipelines x WHERE x.id = d.deployment_id)
                   END AS url
            FROM dora_deployments d
            LEFT JOIN dora_failed_deployments f
                   ON f.project_name = d.project_name AND f.deployment_id = d.deployment_id AND f.source = d.source
            WHERE d.project_name = {PROJECT} AND d.finished_date >= $__timeFrom() AND d.finished_date < $__timeTo()
            ORDER BY d.finished_date DESC, d.deployment_id
        """))
        .override_by_name("url", [url_link("Open the deployment")])
        .height(9)
        .span(24)
    )


def changes_table() -> table.Panel:
    return (
        table.Panel()
        .title("Changes")
        .description(
            "Changes (commits) that a successful production deployment finished in the time range shipped "
            "(dora_project_changes): each one's first deployment, start and lead time. Those without a start "
            "do not count towards the median."
        )
        .datasource(DATASOURCE)
        .with_target(SQL(f"""
            SELECT c.deployed_date, c.commit_sha, c.deployment_id, c.deployment_source, c.start_date, c.start_source,
                   c.lead_time_hours,
                   (SELECT r.url
                    FROM dora_project_connections p
                    JOIN pull_requests r ON r.base_repo_id = p.scope_id
                    WHERE p.project_name = {PROJECT} AND r.merge_commit_sha = c.commit_sha
                    ORDER BY r.created_date, r.id
                    LIMIT 1) AS pull_request_url,
                   CASE c.deployment_source
                       WHEN 'deployments' THEN (SELECT x.url FROM cicd_deployments x WHERE x.id = c.deployment_id)
                       ELSE (SELECT x.url FROM cicd_pipelines x WHERE x.id = c.deployment_id)
                   END AS deployment_url
            FROM dora_project_changes({WINDOW}) c
            ORDER BY c.deployed_date DESC, c.commit_sha
        """))
        .override_by_name("pull_request_url", [url_link("Open the pull request")])
        .override_by_name("deployment_url", [url_link("Open the deployment")])
        .height(9)
        .span(24)
    )


def incidents_table() -> table.Panel:
    return (
        table.Panel()
        .title("Incidents and their causes")
        .description(
            "Incidents created in the time range (dora_incident_causes). The deployment that caused each (the "
            "latest successful production deployment within the project's incident window before it) makes "
            "change failure rate; the resolved ones with a cause count towards failed deployment recovery time "
            "(with the failed deployments of the Deployments table). An incident without a cause is listed, "
            "not counted."
        )
        .datasource(DATASOURCE)
        .with_target(SQL(f"""
            SELECT c.incident_created_date, c.incident_id, c.incident_source, c.incident_resolution_date,
                   extract(epoch FROM c.incident_resolution_date - c.incident_created_date) / 3600 AS recovery_hours,
                   c.deployment_id AS caused_by, c.deployment_source, c.deployment_finished_date,
                   CASE c.incident_source
                       WHEN 'incidents' THEN (SELECT x.url FROM incidents x WHERE x.id = c.incident_id)
                       ELSE (SELECT x.url FROM issues x WHERE x.id = c.incident_id)
                   END AS url
            FROM dora_incident_causes c
            WHERE c.project_name = {PROJECT}
              AND c.incident_created_date >= $__timeFrom() AND c.incident_created_date < $__timeTo()
            ORDER BY c.incident_created_date DESC, c.incident_id
        """))
        .override_by_name("url", [url_link("Open the incident")])
        .height(9)
        .span(24)
    )


def project_variable() -> dashboard_builder.QueryVariable:
    return (
        dashboard_builder.QueryVariable("project")
        .label("Project")
        .description("A project: its connections' --project, or a connection without one (dora_project_connections).")
        .datasource(DATASOURCE)
        .query("SELECT DISTINCT project_name FROM dora_project_connections ORDER BY 1")
        .refresh(dashboard_model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dashboard_model.VariableSort.ALPHABETICAL_ASC)
    )


def build() -> dashboard_builder.Dashboard:
    board = (
        dashboard_builder.Dashboard("DORA")
        .uid("lakehook-dora")
        .description("Lakehook's DORA metrics (docs/DORA.md), generated by scripts/grafana-dashboard.py.")
        .tags(["lakehook", "dora"])
        .timezone("utc")
        .week_start("monday")
        .time("now-30d", "now")
        .readonly()
        .with_variable(project_variable())
    )
    for metric, title, unit, decimals in METRICS:
        board = board.with_panel(headline(metric, title, unit, decimals))
    board = board.with_panel(report_table())
    board = board.with_row(dashboard_builder.Row("Weekly trends"))
    for metric, title, unit, _ in METRICS:
        board = board.with_panel(weekly_trend(metric, title, unit))
    board = board.with_row(dashboard_builder.Row("The rows behind the figures"))
    board = board.with_panel(deployments_table()).with_panel(changes_table()).with_panel(incidents_table())
    return board


def render() -> str:
    return json.dumps(build().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main(arguments: typing.Sequence[str]) -> int:
    text = render()
    if arguments == ["--write"]:
        OUTPUT.write_text(text, encoding="utf-8")
    elif not arguments:
        sys.stdout.write(text)
    else:
        sys.stderr.write("usage: scripts/grafana-dashboard.py [--write]\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
