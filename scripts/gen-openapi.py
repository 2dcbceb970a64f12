#!/usr/bin/env python3
"""Writes Sources/Webhooks/Resources/openapi.json, the OpenAPI 3.1 document Lakehook serves at
GET /api/openapi.json (byte for byte).

The document lists every path the router knows: each ingest route under the four prefixes and
the three ways of naming a connection (API.md §1), the administration routes under the four
prefixes, and the operations routes. The field rules mirror the `decode` functions of
Sources/Webhooks/Ingest/*.swift and the coercions of Payload/FieldReader*.swift and
Payload/TimestampParser.swift: change them together.

    python3 scripts/gen-openapi.py           # rewrite the document
    python3 scripts/gen-openapi.py --check   # exit 1 when the document is not what this writes
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "Sources" / "Webhooks" / "Resources" / "openapi.json"

PREFIXES = [
    ("/api/plugins/webhook", "Api"),
    ("/api/rest/plugins/webhook", "ApiRest"),
    ("/plugins/webhook", "Plain"),
    ("/rest/plugins/webhook", "Rest"),
]
FORMS = [
    ("/{connectionId}", "ById", "connectionId"),
    ("/connections/{connectionId}", "ByConnectionsId", "connectionId"),
    ("/connections/by-name/{connectionName}", "ByName", "connectionName"),
]

# Widths (Vocabulary.swift `Width`, SCHEMA.md). A client key becomes part of the row id
# `webhook:<connectionId>:<key>` (varchar 255), so it may have 255 - len("webhook:<id>:")
# characters; 227 is that room for the longest possible id (19 digits), so it holds for every
# connection.
KEY = 255
SHORT = 100
CLIENT_KEY = 255 - len("webhook:9223372036854775807:")
# issues.type is varchar(100) and holds the upper-cased type; Unicode upper-casing can turn one
# character into three (U+0390 into U+0399 U+0308 U+0301).
ISSUE_TYPE_ROOM = SHORT // 3
INT64_MIN = -9223372036854775808
INT64_MAX = 9223372036854775807

# ---------------------------------------------------------------------------------------------
# Value schemas: what FieldReader really accepts.

NO_NUL = "^[^\\u0000]*$"
# A number inside a string may have leading zeros ("007"); a JSON number may not.
NUMBER_TEXT = "-?0*(0|[1-9][0-9]{0,15})(\\.[0-9]{1,15})?([eE][+-]?[0-9]{1,2})?"
INTEGER_TEXT = "-?0*(0|[1-9][0-9]{0,17})"
POSITIVE_INTEGER_TEXT = "0*[1-9][0-9]{0,17}"
YEAR = "(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
MONTH_DAY = "((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
TIME = "[Tt ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?([Zz]|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?"
DATE_TEXT = f"{YEAR}-{MONTH_DAY}({TIME})?"
# Epoch milliseconds of 0001-01-01T00:00:00Z and of 10000-01-01T00:00:00Z, the first instant
# past the range (a number is read to the microsecond, truncated toward the past).
EPOCH_MS_MIN = -62135596800000
EPOCH_MS_END = 253402300800000


def ci(word):
    """A regex matching `word` in any ASCII case (JSON Schema patterns have no flags)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


def text(description, required=False, max_length=None):
    """FieldReader.string: a string, or a number or boolean taken as its text; no NUL."""
    schema = {"type": ["string", "number", "boolean"] + ([] if required else ["null"])}
    if required:
        schema["minLength"] = 1
    if max_length is not None:
        # A number counts as its text: bound numbers well inside the width.
        schema["maxLength"] = max_length
        schema["minimum"] = -999_999_999_999_999
        schema["maximum"] = 999_999_999_999_999
    schema["pattern"] = NO_NUL
    schema["description"] = description
    return schema


def number(description, required=False):
    """FieldReader.double: a JSON number, or a string holding one (JSON number grammar)."""
    return {
        "type": ["number", "string"] + ([] if required else ["null"]),
        "minimum": -1e300,
        "maximum": 1e300,
        "pattern": f"^{NUMBER_TEXT}$" if required else f"^({NUMBER_TEXT})?$",
        "description": description
        + " A number, or a string holding one (\"3.5\", leading zeros allowed: \"03\"); \"\" or null is absent.",
    }


def integer(description, required=False, minimum=INT64_MIN, maximum=INT64_MAX):
    """FieldReader.integer: a whole JSON number or numeric string within Int64 (at least `minimum`:
    only 1 is supported for a numeric string, whose pattern cannot compare)."""
    digits = POSITIVE_INTEGER_TEXT if minimum == 1 else INTEGER_TEXT
    return {
        "type": ["integer", "string"] + ([] if required else ["null"]),
        "minimum": minimum,
        "maximum": maximum,
        "pattern": f"^{digits}$" if required else f"^({digits})?$",
        "description": description
        + " A whole number (3, 3.0 and 1e3 are accepted), or a string holding one (\"007\" is 7); \"\" or null is"
        " absent.",
    }


def boolean(description):
    """FieldReader.boolean: true/false, "true"/"false" in any case, "1"/"0", 1/0."""
    return {
        "type": ["boolean", "string", "integer", "null"],
        "pattern": f"^({ci('true')}|{ci('false')}|1|0)?$",
        "minimum": 0,
        "maximum": 1,
        "description": description + " true/false; also \"true\"/\"false\" in any case, \"1\"/\"0\", 1/0; \"\" or null is absent.",
    }


def date(description, required=False):
    """FieldReader.timestamp: a date string of TimestampParser's grammar, or epoch milliseconds."""
    return {
        "type": ["string", "number"] + ([] if required else ["null"]),
        "pattern": f"^{DATE_TEXT}$" if required else f"^({DATE_TEXT})?$",
        "minimum": EPOCH_MS_MIN,
        "exclusiveMaximum": EPOCH_MS_END,
        "description": description
        + " RFC 3339 / ISO 8601 (2020-01-01T12:00:00Z, +05:30 or +0530 offsets, a fraction of 1-9 digits),"
        " `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]` without a zone (read in the connection's time"
        " zone, UTC unless set), or `YYYY-MM-DD` (midnight in that zone); or a JSON number of epoch milliseconds in any notation (1577880000000, 1.57788e12,"
        " 1577880000000.5), read exactly, digits finer than a microsecond truncated toward the past;"
        " a numeric string is not a date. Years 0001-9999 after the offset."
        + ("" if required else " \"\" or null is absent."),
        "examples": ["2020-01-01T12:00:00+00:00", "2020-01-01T12:00:00+0000", 1577880000000],
    }


def enumeration(description, values, required=False):
    """FieldReader.enumeration: one of `values`, in any ASCII case; stored upper-case."""
    alternatives = "|".join(ci(v) for v in values)
    return {
        "type": ["string"] + ([] if required else ["null"]),
        "pattern": f"^({alternatives})$" if required else f"^({alternatives})?$",
        "description": description + f" One of {', '.join(values)}, in any case; stored upper-case."
        + ("" if required else " \"\" or null is absent."),
        "examples": values,
    }


def tool_word(description, canonical, results, required=False):
    """FieldReader.toolWord: one of `canonical` or of the tools' words, in any ASCII case; the stored
    value is the canonical word or the tool word's meaning (ToolVocabulary)."""
    folded = {v.lower() for v in canonical}
    words = [w for w in TOOL_WORDS if w not in folded and not (results and w in TOOL_STATUS_ONLY)]
    alternatives = "|".join(ci(v) for v in canonical + words)
    return {
        "type": ["string"] + ([] if required else ["null"]),
        "pattern": f"^({alternatives})$" if required else f"^({alternatives})?$",
        "description": description + f" One of {', '.join(canonical)}, or a CI/CD tool's word for one (Jenkins,"
        " GitHub Actions, GitLab CI, CircleCI, Bitbucket Pipelines, Azure Pipelines, Argo CD; the table and what"
        " each word becomes are in docs/API-VOCABULARY.md), in any case."
        + ("" if required else " \"\" or null is absent."),
        "examples": canonical,
    }


ISSUE_STATUSES = ["TODO", "IN_PROGRESS", "DONE"]
TASK_RESULTS = ["SUCCESS", "FAILURE", "ABORT", "IN_PROGRESS"]
TASK_STATUSES = ["IN_PROGRESS", "DONE"]
TASK_TYPES = ["TEST", "LINT", "BUILD", "DEPLOYMENT"]
ENVIRONMENTS = ["PRODUCTION", "STAGING", "TESTING", "DEVELOPMENT"]
DEPLOYMENT_RESULTS = ["SUCCESS", "FAILURE", "ABORT"]
DEPLOYMENT_COMMIT_STATUSES = ["DONE", "IN_PROGRESS"]
PULL_REQUEST_STATUSES = ["OPEN", "CLOSED", "MERGED"]

# ToolVocabulary.words (Sources/Webhooks/Ingest/ToolVocabulary.swift, docs/API-VOCABULARY.md): the CI/CD
# tools' words a result or status field also takes, in any case. Every one is a status word; all but
# TOOL_STATUS_ONLY are result words too. ToolVocabularyTests checks that this list and the table agree.
TOOL_WORDS = [
    "success", "failure", "abort", "in_progress", "done", "failed", "aborted", "unstable", "not_built",
    "not_executed", "cancelled", "timed_out", "startup_failure", "skipped", "neutral", "action_required", "stale",
    "completed", "queued", "waiting", "pending", "requested", "active", "inactive", "error", "destroyed",
    "canceled", "manual", "running", "created", "waiting_for_resource", "preparing", "scheduled", "blocked",
    "undeployed", "failing", "infrastructure_fail", "timedout", "not_run", "terminated-unknown", "retried",
    "unauthorized", "not_running", "on_hold", "successful", "passed", "stopped", "halted", "expired", "paused",
    "building", "ready", "succeeded", "partiallysucceeded", "succeededwithissues", "abandoned", "none",
    "cancelling", "inprogress", "notstarted", "postponed", "terminating", "healthy", "degraded", "missing",
    "progressing", "suspended", "unknown",
]
TOOL_STATUS_ONLY = ["done"]

FOLDING = (
    " Field names match after folding ASCII case and removing `_` (`issue_key`, `issueKey` and"
    " `ISSUEKEY` are one field), so both DevLake generations' spellings are accepted; unknown"
    " fields are ignored; `null` is the same as absent. Every problem is listed in the 400 answer's"
    " `causes`."
)


def body(title, description, properties, required, **extra):
    schema = {"title": title, "description": description + FOLDING, "type": "object"}
    if required:
        schema["required"] = required
    schema.update({k: v for k, v in extra.items() if k != "examples"})
    schema["properties"] = properties
    schema["additionalProperties"] = True
    if "examples" in extra:
        schema["examples"] = extra["examples"]
    return schema


# ---------------------------------------------------------------------------------------------
# Request bodies (Ingest/*.swift `decode`).

ISSUE = body(
    "Issue",
    "An issue or incident (API.md §3, IssueUpsert.decode). Canonical names are classic snake_case.",
    {
        "issue_key": text("Unique within the connection (`issueKey`).", True, CLIENT_KEY),
        "title": text("The issue's title.", True),
        "status": enumeration("Status.", ISSUE_STATUSES, True),
        "original_status": text("The status in the source system (`originalStatus`).", True, SHORT),
        "created_date": date("When the issue was created (`createdDate`).", True),
        "board_key": text("Classic: names a board inside the connection (`boardKey`).", max_length=CLIENT_KEY),
        "url": text("Link to the issue.", max_length=KEY),
        "description": text("Free text."),
        "epic_key": text("Epic key (`epicKey`).", max_length=KEY),
        "type": text(
            "Free text (BUG, INCIDENT, REQUIREMENT, ...), stored upper-case; INCIDENT also writes an incident row."
            " At most 100 characters once upper-cased (a character may upper-case to up to three, as ß to SS);"
            f" bounded here to {ISSUE_TYPE_ROOM} so that any value fits.",
            max_length=ISSUE_TYPE_ROOM,
        ),
        "priority": text("Priority.", max_length=KEY),
        "severity": text("Severity.", max_length=KEY),
        "component": text("Component.", max_length=KEY),
        "story_point": number("Story points (`storyPoint`)."),
        "resolution_date": date("When the issue was resolved (`resolutionDate`); before created_date: 400."),
        "updated_date": date("When the issue was last updated (`updatedDate`)."),
        "lead_time_minutes": integer(
            "Lead time (`leadTimeMinutes`); when absent or 0 and resolution_date is set, the whole minutes"
            " between created_date and resolution_date. Negative: 400."
        ),
        "parent_issue_key": text("Key of the parent issue (`parentIssueKey`).", max_length=CLIENT_KEY),
        "creator_id": text("Creator id (`creatorId`), stored as webhook:<connectionId>:<value>.", max_length=CLIENT_KEY),
        "creator_name": text("Creator name (`creatorName`).", max_length=KEY),
        "assignee_id": text("Assignee id (`assigneeId`), stored as webhook:<connectionId>:<value>.", max_length=CLIENT_KEY),
        "assignee_name": text("Assignee name (`assigneeName`).", max_length=KEY),
        "original_estimate_minutes": integer("Original estimate (`originalEstimateMinutes`)."),
        "time_spent_minutes": integer("Time spent (`timeSpentMinutes`)."),
        "time_remaining_minutes": integer("Time remaining (`timeRemainingMinutes`)."),
    },
    ["issue_key", "title", "status", "original_status", "created_date"],
    examples=[{
        "board_key": "DLK", "url": "", "issue_key": "DLK-1234", "title": "a feature from DLK", "description": "",
        "epic_key": "", "type": "BUG", "status": "TODO", "original_status": "created", "story_point": 0,
        "resolution_date": None, "created_date": "2020-01-01T12:00:00+00:00", "updated_date": None,
        "lead_time_minutes": 0, "parent_issue_key": "DLK-1200", "priority": "", "original_estimate_minutes": 0,
        "time_spent_minutes": 0, "time_remaining_minutes": 0, "creator_id": "user1131",
        "creator_name": "Nick name 1", "assignee_id": "user1132", "assignee_name": "Nick name 2", "severity": "",
        "component": "",
    }],
)

# The task id webhook:<connectionId>:<pipeline_name>:<name> must fit 255 characters: the
# schema bounds both so that any two values it allows fit together.
TASK_NAME_ROOM = (CLIENT_KEY - 1) // 2
TASK = body(
    "CI/CD task",
    "A CI/CD task, creating its pipeline when missing (API.md §4, TaskUpsert.decode). Canonical names are"
    f" classic snake_case. The task id `webhook:<connectionId>:<pipeline_name>:<name>` must fit 255"
    f" characters (400 otherwise); this schema bounds each of the two to {TASK_NAME_ROOM} characters so that"
    " any two values fit. `started_date` is required; DevLake's own sample sends it as `created_date`,"
    " accepted as its alias, read when started_date is absent, null or \"\" (when both carry a date,"
    " `started_date` wins). finished_date must not be before the start (400).",
    {
        "pipeline_name": text("Unique within the connection (`pipelineName`).", True, TASK_NAME_ROOM),
        "name": text("Unique within the pipeline; at most 255 characters on its own.", True, TASK_NAME_ROOM),
        "result": tool_word("Result; original_result keeps the text as posted.", TASK_RESULTS, True, True),
        "status": tool_word("Status; original_status keeps the text as posted.", TASK_STATUSES, False, True),
        "type": enumeration("Type.", TASK_TYPES, True),
        "environment": enumeration("Environment.", ENVIRONMENTS, True),
        "started_date": date("When the task started (`startedDate`).", True),
        "created_date": date("Alias of started_date, used when started_date is absent, null or \"\".", True),
        "finished_date": date("When the task finished (`finishedDate`); not before started_date (400)."),
        "repo_id": text("Any string naming the repository (`repoId`).", True, KEY),
        "branch": text(
            "Branch of the pipeline's commit; absent or \"\" keeps the branch another task of the pipeline and"
            " commit wrote.",
            max_length=KEY,
        ),
        "commit_sha": text("Commit (`commitSha`); when given, links the pipeline to the commit.", max_length=KEY),
    },
    ["pipeline_name", "name", "result", "status", "type", "environment", "repo_id"],
    anyOf=[{"required": ["started_date"]}, {"required": ["created_date"]}],
    examples=[{
        "pipeline_name": "A123", "name": "unit-test", "result": "IN_PROGRESS", "status": "IN_PROGRESS",
        "type": "TEST", "environment": "PRODUCTION", "created_date": "2020-01-01T12:00:00+00:00",
        "finished_date": "2020-01-01T12:59:59+00:00", "repo_id": "devlake", "branch": "main",
        "commit_sha": "015e3d3b480e417aede5a1293bd61de9b0fd051d",
    }],
)

# A deployment commit's id is webhook:<connectionId>:<id>:<16 hex>:<commitSha> (255 at most):
# the schema bounds the deployment id and the sha so that any two fit.
DEPLOYMENT_ID_ROOM = 100
# The single-commit form's id defaults to the sha itself: 2 * 100 + 18 fits 227 too.
COMMIT_SHA_ROOM = 100
# A commit without its own `name` is named after the deployment's displayTitle or name, and
# cicd_deployment_commits.name is varchar(255): longer ones fail in the database today, so the
# schema bounds them to what always works.
DEPLOYMENT_NAME_ROOM = KEY

DEPLOYMENT_COMMIT = {
    "title": "Deployment commit",
    "description": "One commit of a deployment. A commit's dates default to the deployment's; its result to the"
    " deployment's." + FOLDING,
    "type": "object",
    "required": ["repoUrl", "commitSha"],
    "properties": {
        "repoUrl": text("The repository's URL (`repo_url`).", True, 500),
        "commitSha": text(
            f"The commit (`commit_sha`). Together with the deployment id it must fit the 255-character commit"
            f" row id; this schema bounds it to {COMMIT_SHA_ROOM} characters.",
            True,
            COMMIT_SHA_ROOM,
        ),
        "repoId": text("Repository id.", max_length=KEY),
        "refName": text("Ref name.", max_length=KEY),
        "name": text("Name; defaults to the deployment's displayTitle, then its name.", max_length=KEY),
        "displayTitle": text("Title; defaults to the deployment's displayTitle."),
        "commitMsg": text("Commit message."),
        "result": tool_word(
            "Result; defaults to the deployment's. original_result keeps the text as posted.", DEPLOYMENT_RESULTS, True
        ),
        "status": tool_word(
            "Status; defaults to DONE. original_status keeps the text as posted.", DEPLOYMENT_COMMIT_STATUSES, False
        ),
        "createdDate": date("Defaults to the deployment's createdDate (`create_time`)."),
        "startedDate": date("Defaults to the deployment's startedDate (`start_time`)."),
        "finishedDate": date("Defaults to the deployment's finishedDate (`end_time`)."),
    },
    "additionalProperties": True,
}

DEPLOYMENT_CURRENT = body(
    "Deployment (DevLake v1.0)",
    "A deployment and its commits (API.md §6, DeploymentUpsert.decode): the form chosen when `deploymentCommits`"
    " is present, or when neither `commit_sha` nor `repo_url` is. camelCase names; the aliases"
    " `pipeline_id`, `start_time`, `end_time` and `create_time` are read when the canonical field is absent,"
    " null or \"\" (also inside a commit)."
    " finishedDate must not be before startedDate (400). Re-posting replaces the commit set.",
    {
        "id": text(
            f"The deployment's id, unique within the connection (alias `pipeline_id`). Its row id is"
            f" webhook:<connectionId>:<id>; this schema bounds it to {DEPLOYMENT_ID_ROOM} characters so that it"
            " fits every commit's id.",
            True,
            DEPLOYMENT_ID_ROOM,
        ),
        "pipeline_id": text("Alias of id.", True, DEPLOYMENT_ID_ROOM),
        "name": text(
            "Name; defaults to displayTitle, then id. Also the name of every commit that has neither a name nor"
            " a displayTitle of its own, so at most 255 characters.",
            max_length=DEPLOYMENT_NAME_ROOM,
        ),
        "displayTitle": text(
            "Title; defaults to name. Also the name of every commit that has no name of its own, so at most 255"
            " characters.",
            max_length=DEPLOYMENT_NAME_ROOM,
        ),
        "url": text("Link to the deployment."),
        "result": tool_word(
            "Result; defaults to SUCCESS. original_result keeps the text as posted.", DEPLOYMENT_RESULTS, True
        ),
        "environment": enumeration("Environment; defaults to PRODUCTION.", ENVIRONMENTS),
        "originalEnvironment": text(
            "The environment as the source names it; defaults to environment as posted.", max_length=KEY
        ),
        "createdDate": date("Defaults to startedDate (alias `create_time`)."),
        "create_time": date("Alias of createdDate."),
        "startedDate": date("When the deployment started (alias `start_time`).", True),
        "start_time": date("Alias of startedDate.", True),
        "finishedDate": date("When the deployment finished (alias `end_time`).", True),
        "end_time": date("Alias of finishedDate.", True),
        "deploymentCommits": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/components/schemas/DeploymentCommit"},
            "description": "The commits deployed; at least one. The same repoUrl and commitSha listed twice: the last wins.",
        },
    },
    ["deploymentCommits"],
    allOf=[
        {"anyOf": [{"required": ["id"]}, {"required": ["pipeline_id"]}]},
        {"anyOf": [{"required": ["startedDate"]}, {"required": ["start_time"]}]},
        {"anyOf": [{"required": ["finishedDate"]}, {"required": ["end_time"]}]},
    ],
    examples=[{
        "id": "deploy-42", "displayTitle": "release 1.2", "result": "SUCCESS", "environment": "PRODUCTION",
        "startedDate": "2024-01-01T10:00:00Z", "finishedDate": "2024-01-01T10:05:00Z",
        "deploymentCommits": [{
            "repoUrl": "https://github.com/apache/incubator-devlake",
            "commitSha": "015e3d3b480e417aede5a1293bd61de9b0fd051d", "refName": "main",
        }],
    }],
)

DEPLOYMENT_SINGLE = body(
    "Deployment of one commit (DevLake v0.17-v0.20)",
    "The single-commit form (API.md §6): chosen when `commit_sha` or `repo_url` is present and"
    " `deploymentCommits` is not. The deployment's id is `pipeline_id`, or the commit sha when absent."
    " Both dates are optional, as in DevLake v0.16-v0.20: a missing end_time is when the request arrives"
    " (or start_time when that is later), a missing start_time is the end time. end_time must not be before"
    " start_time (400). Posts under one pipeline_id add their commits to the deployment, as in DevLake"
    " v0.17-v0.20; a post that leaves out display_title, ref_name, repo_id, commit_msg, result or"
    " environment (or sends \"\") keeps what an earlier post wrote into the deployment and the commit, and a"
    " new row takes the default.",
    {
        "repo_url": text("The repository's URL.", True, 500),
        "commit_sha": text(
            f"The commit; with the deployment id it must fit the 255-character commit row id (bounded here to"
            f" {COMMIT_SHA_ROOM}).",
            True,
            COMMIT_SHA_ROOM,
        ),
        "start_time": date("When the deployment started; defaults to end_time."),
        "end_time": date("When the deployment finished; defaults to when the request arrives."),
        "pipeline_id": text(
            f"The deployment's id; defaults to commit_sha (bounded here to {DEPLOYMENT_ID_ROOM}).",
            max_length=DEPLOYMENT_ID_ROOM,
        ),
        "ref_name": text("Ref name.", max_length=KEY),
        "result": tool_word(
            "Result; defaults to SUCCESS. original_result keeps the text as posted.", DEPLOYMENT_RESULTS, True
        ),
        "environment": enumeration(
            "Environment; defaults to PRODUCTION. original_environment keeps the text as posted.", ENVIRONMENTS
        ),
        "repo_id": text("Repository id.", max_length=KEY),
        "commit_msg": text("Commit message."),
        "display_title": text(
            "Title of the deployment and name of its commit, so at most 255 characters.", max_length=DEPLOYMENT_NAME_ROOM
        ),
    },
    ["repo_url", "commit_sha"],
    examples=[{
        "repo_url": "https://github.com/apache/incubator-devlake", "commit_sha": "015e3d3b480e417aede5a1293bd61de9b0fd051d",
        "start_time": "2024-01-01T10:00:00Z", "end_time": "2024-01-01T10:05:00Z", "pipeline_id": "deploy-42",
    }],
)

PULL_REQUEST = body(
    "Pull request",
    "A pull request (API.md §7, DevLake v1.0.3 fields, PullRequestUpsert.decode). camelCase names. Without"
    " `status` it is MERGED when mergedDate is given, CLOSED when closedDate is, else OPEN.",
    {
        "pullRequestKey": integer(
            "The pull request's number, unique within the connection; positive (0 or less: 400).", True, minimum=1
        ),
        "displayTitle": text("The title (alias `title`).", True),
        "title": text("Alias of displayTitle, read when displayTitle is absent, null or \"\".", True),
        "createdDate": date("When it was opened.", True),
        "status": enumeration("Status.", PULL_REQUEST_STATUSES),
        "originalStatus": text(
            "The status in the source system; defaults to status as posted, else the derived one.", max_length=SHORT
        ),
        "description": text("Free text."),
        "url": text("Link to the pull request.", max_length=KEY),
        "authorName": text("Author name.", max_length=SHORT),
        "authorId": text("Author id.", max_length=SHORT),
        "mergedByName": text("Merged by (name).", max_length=SHORT),
        "mergedById": text("Merged by (id).", max_length=SHORT),
        "parentPrId": text("Parent pull request id.", max_length=SHORT),
        "mergedDate": date("When it was merged."),
        "closedDate": date("When it was closed."),
        "type": text("Type.", max_length=SHORT),
        "component": text("Component.", max_length=SHORT),
        "mergeCommitSha": text("Merge commit.", max_length=40),
        "headRef": text("Head ref.", max_length=KEY),
        "baseRef": text("Base ref.", max_length=KEY),
        "baseCommitSha": text("Base commit.", max_length=40),
        "headCommitSha": text("Head commit.", max_length=40),
        "headRepoId": text("Head repository id.", max_length=KEY),
        "additions": integer("Lines added."),
        "deletions": integer("Lines deleted."),
        "isDraft": boolean("Whether it is a draft."),
    },
    ["pullRequestKey", "createdDate"],
    allOf=[{"anyOf": [{"required": ["displayTitle"]}, {"required": ["title"]}]}],
    examples=[{
        "pullRequestKey": 17, "displayTitle": "Fix the thing", "createdDate": "2024-01-01T09:00:00Z",
        "status": "MERGED", "mergedDate": "2024-01-02T09:00:00Z", "url": "https://example.com/pr/17",
    }],
)

# Connection names and projects (DevLakeConnectionStore.validateName / validateProject).
CONTROL = "\\u0000-\\u001F\\u007F-\\u009F"
SPACE = "\\u0020\\u00A0\\u1680\\u2000-\\u200A\\u202F\\u205F\\u3000"
NAME_PATTERN = f"^[^{CONTROL}{SPACE}]([^{CONTROL}]*[^{CONTROL}{SPACE}])?$"
PROJECT_PATTERN = f"^[^{CONTROL}]+$"


def connection_name(required):
    return {
        "type": ["string", "number", "boolean"] + ([] if required else ["null"]),
        "minLength": 1,
        "maxLength": 100,
        "pattern": NAME_PATTERN,
        "description": "1-100 characters, no control characters, not starting or ending with a space; unique"
        " (409 when taken)." + ("" if required else " null or absent: unchanged."),
    }


PROJECT = {
    "type": ["string", "number", "boolean", "null"],
    "minLength": 1,
    "maxLength": 255,
    "pattern": PROJECT_PATTERN,
    "description": "The DevLake project the connection belongs to: 1-255 characters, no control characters;"
    " null for none.",
}

# Time zones (Connections/ConnectionTimeZone.swift): an IANA name PostgreSQL knows (pg_timezone_names).
TIME_ZONE = {
    "type": ["string", "null"],
    "minLength": 1,
    "maxLength": 64,
    "description": "The IANA time zone (Europe/Berlin) in which the connection reads dates sent without an"
    " offset, as Jenkins libraries send `yyyy-MM-dd HH:mm:ss` in the JVM's zone; dates with an offset or Z are"
    " unaffected. A name PostgreSQL knows (pg_timezone_names), spelled as it spells it; unknown: 400."
    " null or absent: unchanged (UTC for a new connection).",
}

# A source connection's options (Connections/SourceOptionsChange.swift, docs/SOURCES.md
# "Per-connection options"): environment names (github, gitlab, cdevents) and GitHub's incident
# label; on a devlake connection, or on a source whose mappings do not read the option: 400.
ENVIRONMENTS = ["PRODUCTION", "STAGING", "TESTING", "DEVELOPMENT"]
ENVIRONMENT_VALUE = {
    "type": "string",
    "pattern": "^(" + "|".join("".join(f"[{c}{c.lower()}]" for c in e) for e in ENVIRONMENTS) + ")$",
    "description": "PRODUCTION, STAGING, TESTING or DEVELOPMENT, in any case.",
}


def environment_names(change):
    return {
        "type": ["object", "null"],
        "propertyNames": {"minLength": 1, "maxLength": 255},
        "additionalProperties": {"anyOf": [ENVIRONMENT_VALUE, {"type": "null"}]} if change else ENVIRONMENT_VALUE,
        "description": "A source connection's (github, gitlab, cdevents) own environment names, name (any case) →"
        " DevLake environment, consulted before the built-in names (production, prod, live, staging, ...)."
        + (" Merged into the connection's names; a name set to null is removed." if change else "")
        + " On a devlake or pagerduty connection: 400.",
    }


INCIDENT_LABEL = {
    "type": ["string", "null"],
    "minLength": 1,
    "maxLength": 255,
    "pattern": f"^[^{CONTROL}]+$",
    "description": "A github connection's label that makes an issue an incident (any case; default `incident`);"
    " 1-255 characters, no control characters. On another connection: 400. null or absent: unchanged.",
}

CONNECTION_CREATE = body(
    "New connection",
    "Creates a connection; with `source`, a native source's connection (docs/SOURCES.md).",
    {
        "name": connection_name(True), "project": PROJECT, "timeZone": TIME_ZONE,
        "source": {"enum": ["devlake", "github", "gitlab", "pagerduty", "cdevents"], "description": "Who posts to it (default devlake)."},
        "environments": environment_names(False), "incidentLabel": INCIDENT_LABEL,
    },
    ["name"],
    examples=[
        {"name": "jenkins", "project": "payments"}, {"name": "jenkins-eu", "timeZone": "Europe/Berlin"},
        {"name": "shop-github", "source": "github", "environments": {"eu-live": "PRODUCTION"}, "incidentLabel": "sev1"},
    ],
)
CONNECTION_CHANGE = body(
    "Connection change",
    "Renames a connection and/or changes its project or time zone, or a source connection's options: an absent"
    " field is unchanged; `project: null` removes the project.",
    {
        "name": connection_name(False), "project": PROJECT, "timeZone": TIME_ZONE,
        "environments": environment_names(True), "incidentLabel": INCIDENT_LABEL,
    },
    [],
    examples=[{"name": "jenkins-eu"}, {"project": None}, {"timeZone": "Europe/Berlin"}, {"environments": {"eu-live": "PRODUCTION", "old": None}}],
)

# ---------------------------------------------------------------------------------------------
# Answers (Answers/Answer.swift, CLI/Endpoints.swift).


def success(data_schema, description):
    return {
        "type": "object",
        "required": ["code", "success", "message", "causes", "data"],
        "properties": {
            "code": {"const": 0},
            "success": {"const": True},
            "message": {"const": "success"},
            "causes": {"type": "null"},
            "data": data_schema,
        },
        "description": description,
    }


def data(properties, required=None):
    return {"type": "object", "required": required or list(properties), "properties": properties}


STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
UTC_TEXT = {"type": ["string", "null"], "description": "RFC 3339 in UTC with microseconds, e.g. 2020-01-01T12:00:00.000000Z."}
ENDPOINTS = [
    "postIssuesEndpoint", "closeIssuesEndpoint", "postPipelineTaskEndpoint", "closePipelineEndpoint",
    "postPipelineDeployTaskEndpoint", "postPullRequestsEndpoint",
]
CONNECTION_PROPERTIES = {
    "id": {"type": "integer", "minimum": 1},
    "name": STRING,
    "project": NULLABLE_STRING,
    "apiKeyHint": {"type": "string", "description": "The key's first characters, to tell keys apart."},
    "apiKey": {"type": "string", "description": "The plaintext key: only in the answer that made it, shown this once."},
    "timeZone": {"type": "string", "description": "The IANA zone of the dates it receives without an offset (UTC unless set)."},
    **{name: {"type": "string", "description": "Ready-to-copy URL, as DevLake's Config UI shows it."} for name in ENDPOINTS},
    "source": {"enum": ["github", "gitlab", "pagerduty", "cdevents"], "description": "A native source's connection (docs/SOURCES.md); absent for a DevLake connection."},
    "webhookURL": {"type": "string", "description": "A source connection's URL to paste into the tool."},
    "signingSecret": {"type": "string", "description": "A source connection's signing secret: only in the answer that created or rotated it."},
    "environments": {
        "type": "object", "additionalProperties": {"enum": ENVIRONMENTS},
        "description": "A github, gitlab or cdevents connection's own environment names (lower case) and their DevLake environments.",
    },
    "incidentLabel": {"type": "string", "description": "A github connection's label that makes an issue an incident."},
    "previousSecretAcceptedUntil": {"type": "string", "description": "Until when the secret before the last rotation is still accepted."},
}
CONNECTION = {
    "title": "Connection",
    "type": "object",
    "required": ["id", "name", "project", "apiKeyHint", "timeZone", *ENDPOINTS],
    "properties": CONNECTION_PROPERTIES,
}
CONNECTION_WITH_KEY = {
    "title": "Connection with its new API key",
    "allOf": [{"$ref": "#/components/schemas/Connection"}, {"required": ["apiKey"]}],
}

SCHEMAS = {
    "Issue": ISSUE,
    "CicdTask": TASK,
    "Deployment": {
        "title": "Deployment",
        "description": "Either body form of POST deployments.",
        "anyOf": [
            {"$ref": "#/components/schemas/DeploymentCurrent"},
            {"$ref": "#/components/schemas/DeploymentSingleCommit"},
        ],
    },
    "DeploymentCurrent": DEPLOYMENT_CURRENT,
    "DeploymentCommit": DEPLOYMENT_COMMIT,
    "DeploymentSingleCommit": DEPLOYMENT_SINGLE,
    "PullRequest": PULL_REQUEST,
    "ConnectionCreate": CONNECTION_CREATE,
    "ConnectionChange": CONNECTION_CHANGE,
    "Connection": CONNECTION,
    "ConnectionWithKey": CONNECTION_WITH_KEY,
    "Error": {
        "title": "Error",
        "description": "Every refusal: `code` is the HTTP status, `message` one line for a person, `causes` every"
        " problem found (\"<field>: <what is wrong>\"), possibly none.",
        "type": "object",
        "required": ["code", "success", "message", "causes", "data"],
        "properties": {
            "code": {"type": "integer", "minimum": 400, "maximum": 599},
            "success": {"const": False},
            "message": STRING,
            "causes": {"type": "array", "items": STRING},
            "data": {"type": "null"},
        },
    },
}


def ok(data_schema, description):
    return {
        "description": description,
        "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
        "content": {"application/json": {"schema": success(data_schema, description)}},
    }


def refusal(description, headers=None):
    response = {"description": description, "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}}
    response["headers"].update(headers or {})
    response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return response


RESPONSES = {
    "BadRequest": refusal(
        "A missing or invalid field (every one listed in `causes`), malformed JSON, an empty body or one that is"
        " not an object, a bad path parameter (a connection id that is not a positive whole number, a bad"
        " percent-encoding), or bad HTTP framing."
    ),
    "Unauthorized": refusal(
        "No credentials.",
        {"WWW-Authenticate": {"schema": STRING, "required": True, "description": "Bearer realm=\"lakehook\" (or \"lakehook-admin\")."}},
    ),
    "Forbidden": refusal("Credentials that are not valid here."),
    "NotFound": refusal("Unknown route, connection, or row."),
    "Conflict": refusal("Another connection already has this name."),
    "TaskIdTaken": refusal(
        "A task of another pipeline already has this task's id: the id joins pipeline_name and name with `:`,"
        " which names may contain (`a:b` + `c` and `a` + `b:c` are one id). The message names that task and its"
        " pipeline; nothing is written. Or: a request with the same Idempotency-Key is still being written"
        " (with Retry-After: 1)."
    ),
    "IdempotencyInFlight": refusal(
        "A request with the same Idempotency-Key (or webhook-id) on this connection is still being written, here or"
        " on another instance: retry when it has its answer. Nothing is written.",
        {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True, "description": "Seconds."}},
    ),
    "IdempotencyKeyReused": refusal(
        "This Idempotency-Key (or webhook-id) was used on this connection in the last 24 hours for another request"
        " (route, path parameters or body). Nothing is written."
    ),
    "RequestTimeout": refusal("The request was not received within the read timeout; the connection is closed."),
    "ContentTooLarge": refusal("The body is larger than the body limit (default 1 MiB)."),
    "HeadersTooLarge": refusal("The request's headers are larger than the server's limit."),
    "Unavailable": refusal(
        "The database is unreachable (or not migrated, for readiness), every database connection stayed busy past"
        " the wait limit, or the server is at its connection limit.",
        {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True, "description": "Seconds."}},
    ),
    "InternalError": refusal("A bug: logged with the request id; the message says only \"internal error\" and the id."),
}
HEADERS = {
    "X-Request-ID": {
        "description": "The id of the request in the server's log: the client's own X-Request-ID when it sent one of"
        " 1-128 visible ASCII characters, else a new one (absent on errors the HTTP layer answers itself).",
        "schema": STRING,
    }
}


def refusals(*statuses):
    names = {
        400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 408: "RequestTimeout",
        409: "Conflict", 413: "ContentTooLarge", 431: "HeadersTooLarge", 500: "InternalError", 503: "Unavailable",
    }
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in sorted(statuses)}


# Every request can meet the HTTP layer's own answers and the database's absence.
TRANSPORT = (400, 408, 413, 431, 500, 503)

PARAMETERS = {
    "connectionId": {
        "name": "connectionId", "in": "path", "required": True,
        "description": "The connection's id: a positive whole number (400 otherwise); unknown: 403, as a wrong key (docs/API-DECISIONS.md).",
        "schema": {"type": "integer", "minimum": 1, "maximum": INT64_MAX},
    },
    "connectionName": {
        "name": "connectionName", "in": "path", "required": True,
        "description": "The connection's name, percent-encoded; unknown: 403, as a wrong key (docs/API-DECISIONS.md).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    },
    "issueKey": {
        "name": "issueKey", "in": "path", "required": True,
        "description": "The issue's key, percent-decoded once (`%2F` is a `/` inside the key).",
        "schema": {"type": "string", "minLength": 1},
    },
    "boardKey": {
        "name": "boardKey", "in": "path", "required": True,
        "description": "Classic DevLake's board key: accepted, not needed.",
        "schema": {"type": "string", "minLength": 1},
    },
    "pipelineName": {
        "name": "pipelineName", "in": "path", "required": True,
        "description": "The pipeline's name, percent-decoded once.",
        "schema": {"type": "string", "minLength": 1},
    },
    "dryRun": {
        "name": "dryRun", "in": "query", "required": False,
        "description": "`true` or `1` (or `?dryRun` alone): validate and run the write in a transaction that is rolled"
        " back, and answer what it would write (`dryRun`, `wouldWrite`, `rows`); nothing is written or journaled."
        " Anything else: an ordinary write.",
        "schema": {"type": "string"},
        "examples": {"dryRun": {"value": "true"}},
    },
    "Idempotency-Key": {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "IETF draft \"The Idempotency-Key HTTP Header Field\": 1-255 visible ASCII characters (400"
        " otherwise), bare or as a quoted string. The same key and request on this connection within 24 hours"
        " answers the first answer again (Idempotent-Replayed: true) and writes nothing; with another request: 422;"
        " while the first is still being written: 409. Only a 200 is kept (docs/JOURNAL.md).",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
    },
    "webhook-id": {
        "name": "webhook-id", "in": "header", "required": False,
        "description": "Standard Webhooks' message id: the idempotency key when Idempotency-Key is absent.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
    },
    "purge": {
        "name": "purge", "in": "query", "required": False,
        "description": "`true`, `1` or `yes` (any case; or `?purge` alone): also delete every row the connection wrote,"
        " in one transaction. Anything else: keep them.",
        "schema": {"type": "string"},
        "examples": {"purge": {"value": "true"}},
    },
}


def param(name):
    return {"$ref": f"#/components/parameters/{name}"}


# The journal's events (Journal/JournalEvent.swift `json`), as `lakehook events --json` prints them.
EVENT_PROPERTIES = {
    "id": {"type": "integer", "minimum": 1},
    "receivedAt": {"type": "string", "description": "When the request came in: RFC 3339 in UTC, to the microsecond."},
    "connectionId": {"type": "integer", "minimum": 1},
    "connectionName": {"type": ["string", "null"], "description": "null when the connection was deleted since."},
    "route": {"type": "string", "description": "The route below the connection, as its pattern: `deployments`, `issue/:issueKey/close`."},
    "params": {"type": "object", "additionalProperties": STRING, "description": "The path parameters below the connection."},
    "requestId": STRING,
    "clientAddress": STRING,
    "userAgent": STRING,
    "contentType": STRING,
    "body": {"description": "The body as posted, when it was JSON that PostgreSQL's jsonb takes (key order and spacing are jsonb's); else null."},
    "bodyText": {"type": ["string", "null"], "description": "The body as text when it was not such JSON; else null."},
    "status": {"type": "integer", "minimum": 100, "maximum": 599},
    "message": {"type": "string", "description": "A refusal's message; empty for a 200."},
    "causes": {"type": ["array", "null"], "items": STRING, "description": "A refusal's causes; null for a 200."},
    "durationUs": {"type": "integer", "minimum": 0},
    "idempotencyKey": NULLABLE_STRING,
    "outcome": {"enum": ["applied", "stale", "duplicate", "refused"]},
}
SCHEMAS["Event"] = {
    "title": "Journal event",
    "description": "One ingest request that passed authentication, as it came, with its answer (docs/JOURNAL.md).",
    "type": "object",
    "required": list(EVENT_PROPERTIES),
    "properties": EVENT_PROPERTIES,
}
EVENT_QUERY = [param(name) for name in ["since", "status", "route", "limit"]]
PARAMETERS.update({item["name"]: item for item in [
    {"name": "since", "in": "query", "required": False, "schema": STRING,
     "description": "Events from then on: a time before now (`90s`, `30m`, `1h`, `7d`, `2w`; at most 3650 days) by the"
                    " database's clock, or an instant (RFC 3339, or a date: UTC midnight). Anything else: 400."},
    {"name": "status", "in": "query", "required": False,
     "schema": {"type": "string", "pattern": "^([1-5][0-9][0-9]|[1-5][xX][xX])$"},
     "description": "One status (`400`) or a class of them (`4xx`). Anything else: 400."},
    {"name": "route", "in": "query", "required": False, "schema": {"type": "string", "minLength": 1, "maxLength": 64},
     "description": "A route as the journal names it (`deployments`, `issue/:issueKey/close`) or its start (`issue`)."},
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
     "description": "The most recent this many events that match (default 50); more than 1000: 400."},
]})


INGEST_SECURITY = [{"apiKey": []}, {"apiKeyBasic": []}]
ADMIN_SECURITY = [{"adminToken": []}]
INGEST_REFUSALS = {
    **refusals(*TRANSPORT, 401, 403, 404),
    "409": {"$ref": "#/components/responses/IdempotencyInFlight"},
    "422": {"$ref": "#/components/responses/IdempotencyKeyReused"},
}
# Refusals only some ingest routes give, by route suffix.
ROUTE_REFUSALS = {"/cicd_tasks": {"409": {"$ref": "#/components/responses/TaskIdTaken"}}}

# A late event's answer (issue 16; docs/API-DECISIONS.md "Late events"): the route's `data` and these two.
LATE_PROPERTIES = {
    "applied": {
        "const": False,
        "description": "Only in the answer to a late event: the stored row is newer than the post, by the dates it"
        " carries, and nothing was written (journaled `stale`). An applied write's answer has no `applied`.",
    },
    "reason": {
        "type": "string",
        "description": "Only with `applied: false`: why, naming the stored and the posted dates or statuses.",
    },
}


def late(schema, rule):
    """A route's answer data that may also be a late event's, and the sentence for its description."""
    answered = dict(schema)
    answered["properties"] = {**schema["properties"], **LATE_PROPERTIES}
    return answered, f" A late event ({rule}) changes nothing and answers 200 with `applied: false` and a `reason`."


ISSUE_LATE = late(data({"id": STRING}), "the stored issue's `updated_date` is later than the post's")
TASK_LATE = late(
    data({"id": STRING, "pipelineId": STRING}),
    "the task is stored DONE and this IN_PROGRESS post started at the same time or earlier; a re-run starts later",
)
DEPLOYMENT_LATE = late(
    data({"id": STRING, "commitIds": {"type": "array", "items": STRING}}),
    "the stored deployment finished later than the post; a single-commit post is late when its commit did too",
)
PULL_REQUEST_LATE = late(
    data({"id": STRING}),
    "the pull request is stored MERGED or CLOSED and this OPEN post has its `createdDate` and no later merge or close date",
)

# (suffix, operation verb, tag, summary, description, path parameters, request schema, answer data)
INGEST_ROUTES = [
    (
        "/issues", "upsertIssue", "issues", "Create or update an issue or incident",
        "Writes the issue webhook:<connectionId>:<issue_key>, its board links and, for type INCIDENT, its incident"
        " rows, in one transaction (API.md §3). Re-posting the same key replaces the issue's fields." + ISSUE_LATE[1],
        [], "Issue", ISSUE_LATE[0],
    ),
    (
        "/issue/{issueKey}/close", "closeIssue", "issues", "Close an issue",
        "Status DONE, a resolution date when it had none, the lead time when it was 0; the same on its incident"
        " row (API.md §8). Unknown issue: 404. Closing twice is harmless. A body is ignored.",
        ["issueKey"], None,
        data({
            "id": STRING, "status": STRING, "resolutionDate": UTC_TEXT,
            "leadTimeMinutes": {"type": ["integer", "null"]},
        }),
    ),
    (
        "/issue/{boardKey}/{issueKey}/close", "closeBoardIssue", "issues", "Close an issue (classic, with a board key)",
        "As closing an issue; the board key is accepted and not needed (API.md §8). A body is ignored.",
        ["boardKey", "issueKey"], None,
        data({
            "id": STRING, "status": STRING, "resolutionDate": UTC_TEXT,
            "leadTimeMinutes": {"type": ["integer", "null"]},
        }),
    ),
    (
        "/cicd_tasks", "upsertTask", "cicd", "Create or update a CI/CD task",
        "Writes the task webhook:<connectionId>:<pipeline_name>:<name>, creating its pipeline when missing, in one"
        " transaction with the pipeline row locked (API.md §4). A task of a pipeline already finished: 403, nothing"
        " written. A task whose id a task of another pipeline already has: 409, nothing written." + TASK_LATE[1],
        [], "CicdTask", TASK_LATE[0],
    ),
    (
        "/cicd_pipeline/{pipelineName}/finish", "finishPipeline", "cicd", "Finish a pipeline",
        "Closes the pipeline's tasks (IN_PROGRESS ones become ABORT) and derives the pipeline's result, type,"
        " environment and dates from them, in one transaction (API.md §5). Unknown pipeline: 404; already DONE: 200"
        " and nothing changes. A body is ignored.",
        ["pipelineName"], None,
        data({
            "id": STRING, "name": NULLABLE_STRING, "result": NULLABLE_STRING, "status": NULLABLE_STRING,
            "type": NULLABLE_STRING, "environment": NULLABLE_STRING, "createdDate": UTC_TEXT,
            "startedDate": UTC_TEXT, "finishedDate": UTC_TEXT, "durationSec": {"type": ["number", "null"]},
        }),
    ),
    (
        "/deployments", "upsertDeployment", "deployments", "Record a deployment and its commits",
        "Writes cicd_deployments webhook:<connectionId>:<id> and one cicd_deployment_commits row per commit, in one"
        " transaction (API.md §6)." + DEPLOYMENT_LATE[1],
        [], "Deployment", DEPLOYMENT_LATE[0],
    ),
    (
        "/pull_requests", "upsertPullRequest", "pull requests", "Create or update a pull request",
        "Writes pull_requests webhook:<connectionId>:<pullRequestKey> (API.md §7)." + PULL_REQUEST_LATE[1],
        [], "PullRequest", PULL_REQUEST_LATE[0],
    ),
]


SUCCESS_RESPONSES = {}
REQUEST_BODIES = {}


def shared_ok(name, data_schema, description):
    """A 200 answer kept once in components.responses; returns its reference."""
    SUCCESS_RESPONSES[name] = ok(data_schema, description)
    return {"$ref": f"#/components/responses/{name}"}


def shared_body(schema_name, description=None):
    """A JSON request body kept once in components.requestBodies; returns its reference."""
    REQUEST_BODIES[schema_name] = {
        "required": True,
        "description": description
        or "A JSON object, whatever the Content-Type (curl -d sends form-urlencoded: still JSON).",
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }
    return {"$ref": f"#/components/requestBodies/{schema_name}"}


def dry_run(data_schema):
    """The answer's data with ?dryRun=true: the write's own data, and the rows it would write per table."""
    return data({
        "dryRun": {"const": True},
        "wouldWrite": data_schema,
        "rows": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
    })


def ingest_operation(prefix, prefix_tag, form, form_tag, conn_param, route):
    suffix, verb, tag, summary, description, params, request, data_schema = route
    operation = {
        "operationId": f"{verb}{prefix_tag}{form_tag}",
        "tags": [tag],
        "summary": summary,
        "description": description,
        "security": INGEST_SECURITY,
        "parameters": [param(conn_param)] + [param(p) for p in params]
        + [param("dryRun"), param("Idempotency-Key"), param("webhook-id")],
    }
    if request:
        operation["requestBody"] = shared_body(request)
    name = verb[0].upper() + verb[1:] + "Done"
    answered = {"anyOf": [data_schema, dry_run(data_schema)]}
    responses = {"200": shared_ok(
        name, answered,
        "Written and committed: visible to SQL at once. The same for a retry under an Idempotency-Key, with"
        " Idempotent-Replayed: true. With ?dryRun=true: what would be written; nothing was.")}
    responses.update(INGEST_REFUSALS)
    responses.update(ROUTE_REFUSALS.get(suffix, {}))
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def admin_operations(prefix, prefix_tag):
    paths = {}
    connections = prefix + "/connections"
    paths[connections] = {
        "get": {
            "operationId": f"listConnections{prefix_tag}", "tags": ["administration"], "summary": "List connections",
            "description": "Every connection, by id; never a key.", "security": ADMIN_SECURITY,
            "responses": dict(sorted({
                "200": shared_ok("ConnectionList", {"type": "array", "items": {"$ref": "#/components/schemas/Connection"}}, "The connections."),
                **refusals(*TRANSPORT, 401, 403),
            }.items())),
        },
        "post": {
            "operationId": f"createConnection{prefix_tag}", "tags": ["administration"], "summary": "Create a connection",
            "description": "Answers the connection with its plaintext API key, shown this once, and its endpoint URLs.",
            "security": ADMIN_SECURITY,
            "requestBody": shared_body("ConnectionCreate", "A JSON object."),
            "responses": dict(sorted({
                "200": shared_ok("ConnectionCreated", {"$ref": "#/components/schemas/ConnectionWithKey"}, "The new connection and its key."),
                **refusals(*TRANSPORT, 401, 403, 409),
            }.items())),
        },
    }
    for form, form_tag, conn_param in [("/{connectionId}", "ById", "connectionId"), ("/by-name/{connectionName}", "ByName", "connectionName")]:
        one = connections + form
        paths[one] = {
            "get": {
                "operationId": f"getConnection{prefix_tag}{form_tag}", "tags": ["administration"], "summary": "Read a connection",
                "security": ADMIN_SECURITY, "parameters": [param(conn_param)],
                "responses": dict(sorted({
                    "200": shared_ok("ConnectionFound", {"$ref": "#/components/schemas/Connection"}, "The connection (never its key)."),
                    **refusals(*TRANSPORT, 401, 403, 404),
                }.items())),
            },
            "patch": {
                "operationId": f"changeConnection{prefix_tag}{form_tag}", "tags": ["administration"],
                "summary": "Rename a connection or change its project or time zone", "security": ADMIN_SECURITY,
                "parameters": [param(conn_param)],
                "requestBody": shared_body("ConnectionChange", "A JSON object."),
                "responses": dict(sorted({
                    "200": shared_ok("ConnectionChanged", {"$ref": "#/components/schemas/Connection"}, "The connection as changed."),
                    **refusals(*TRANSPORT, 401, 403, 404, 409),
                }.items())),
            },
            "delete": {
                "operationId": f"deleteConnection{prefix_tag}{form_tag}", "tags": ["administration"], "summary": "Delete a connection",
                "description": "Deletes the connection and its scope rows; its domain rows stay unless `purge` is given.",
                "security": ADMIN_SECURITY, "parameters": [param(conn_param), param("purge")],
                "responses": dict(sorted({
                    "200": shared_ok("ConnectionDeleted", data({"id": {"type": "integer"}, "name": STRING, "purged": {"type": "boolean"}}), "Deleted."),
                    **refusals(*TRANSPORT, 401, 403, 404),
                }.items())),
            },
        }
        paths[one + "/api-key"] = {
            "post": {
                "operationId": f"rotateKey{prefix_tag}{form_tag}", "tags": ["administration"], "summary": "Rotate a connection's API key",
                "description": "A new key, returned this once; the old one stops working (at once here, within 5 s on"
                " every instance). A body is ignored.",
                "security": ADMIN_SECURITY, "parameters": [param(conn_param)],
                "responses": dict(sorted({
                    "200": shared_ok("KeyRotated", {"$ref": "#/components/schemas/ConnectionWithKey"}, "The connection and its new key."),
                    **refusals(*TRANSPORT, 401, 403, 404),
                }.items())),
            },
        }
        paths[one + "/rotate-secret"] = {
            "post": {
                "operationId": f"rotateSecret{prefix_tag}{form_tag}", "tags": ["administration"],
                "summary": "Rotate a source connection's signing secret",
                "description": "A new signing secret, returned this once; the previous one is still accepted until the grace"
                " ends (`grace`, default 24h). A DevLake connection has no secret: 400 (docs/SOURCES.md).",
                "security": ADMIN_SECURITY, "parameters": [param(conn_param)],
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {
                            "grace": {"type": "string", "description": "24h, 30m, 90s, 2d or seconds."},
                            "secret": {"type": "string", "description": "The tool's own secret (PagerDuty shows its own); else a fresh one."},
                        },
                    }}},
                },
                "responses": dict(sorted({
                    "200": shared_ok("SecretRotated", {"$ref": "#/components/schemas/Connection"}, "The connection and its new signing secret."),
                    **refusals(*TRANSPORT, 401, 403, 404),
                }.items())),
            },
        }
        paths[one + "/events"] = {
            "get": {
                "operationId": f"listEvents{prefix_tag}{form_tag}", "tags": ["journal"],
                "summary": "What the connection's clients sent: its journal",
                "description": "The most recent events of the connection that match, oldest first: what"
                " `lakehook events --connection C --json` prints, as the envelope's `data` (docs/JOURNAL.md).",
                "security": ADMIN_SECURITY, "parameters": [param(conn_param), *EVENT_QUERY],
                "responses": dict(sorted({
                    "200": shared_ok("EventList", {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}, "The events, oldest first."),
                    **refusals(*TRANSPORT, 401, 403, 404),
                }.items())),
            },
        }
    return paths


SOURCE_KINDS = [("github", "GitHub", "`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`"),
                ("gitlab", "GitLab", "`X-Gitlab-Token` equal to the secret, or GitLab's signing token's Standard Webhooks headers"),
                ("pagerduty", "PagerDuty", "`X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the body>` (several allowed)"),
                ("cdevents", "CDEvents", "Standard Webhooks: `webhook-id`, `webhook-timestamp` (within 5 minutes), `webhook-signature: v1,<base64>`")]


def source_operations(prefix, prefix_tag):
    """Issue 17: each native source's own signed webhooks (docs/SOURCES.md)."""
    paths = {}
    for kind, title, rule in SOURCE_KINDS:
        paths[f"{prefix}/sources/{kind}/{{connectionId}}"] = {
            "post": {
                "operationId": f"source{title}{prefix_tag}", "tags": ["sources"],
                "summary": f"Receive {title}'s own signed webhook",
                "description": f"Signed with the connection's signing secret: {rule}. Checked before the body is parsed; a bad"
                " or missing signature is a 401, nothing written or journaled. A mapped event is written (200), an unmapped"
                " one answered 202 and journaled `ignored`, a ping answered 200.",
                "security": [],
                "parameters": [param("connectionId")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": dict(sorted({
                    "200": ok({}, "The event was written (its rows' data), or a ping."),
                    "202": ok(data({"ignored": STRING}), "An event Lakehook does not map: nothing written; journaled `ignored`."),
                    **refusals(*TRANSPORT, 401, 403, 404),
                }.items())),
            },
        }
    return paths


def operations_paths():
    readiness = data({"status": {"const": "ready"}, "schemaVersion": {"type": "integer"}})
    paths = {
        "/livez": ("livez", "The process is up.", shared_ok("Live", data({"status": {"const": "up"}}), "Up."), ()),
        "/readyz": ("readyz", "The database is reachable and migrated (503 otherwise).", shared_ok("Ready", readiness, "Ready."), ()),
        "/healthz": ("healthz", "Alias of /readyz.", shared_ok("Ready", readiness, "Ready."), ()),
    }
    result = {}
    for path, (name, summary, answer, _) in paths.items():
        result[path] = {"get": {
            "operationId": name, "tags": ["operations"], "summary": summary, "security": [],
            "responses": dict(sorted({"200": answer, **refusals(*TRANSPORT)}.items())),
        }}
    result["/metrics"] = {"get": {
        "operationId": "metrics", "tags": ["operations"], "summary": "Metrics in Prometheus text format",
        "security": [],
        "responses": dict(sorted({
            "200": {
                "description": "Request, row, database-pool and process metrics.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            **refusals(*TRANSPORT),
        }.items())),
    }}
    window = [
        {"name": "project", "in": "query", "required": False, "schema": STRING,
         "description": "A project (a connection's --project, or a connection's name). Absent: every project (an array)."},
        {"name": "from", "in": "query", "required": False, "schema": STRING,
         "description": "Start of the window [from, to): a date (UTC midnight) or an RFC 3339 timestamp; default: 30 days"
                        " before `to`. The window may span at most 731 days (LAKEHOOK_DORA_MAX_WINDOW_DAYS); longer: 400."},
        {"name": "to", "in": "query", "required": False, "schema": STRING,
         "description": "End of the window; default: now. After `from`, at most the cap (731 days by default) after it."},
    ]
    metric = {
        "type": "object",
        "required": ["metric", "value", "unit", "level", "numerator", "denominator", "ids"],
        "properties": {
            "metric": {"enum": ["deployment_frequency", "lead_time_for_changes", "change_failure_rate",
                                "failed_deployment_recovery_time"]},
            "value": {"type": ["number", "null"]},
            "unit": {"type": "string"},
            "level": {"enum": ["elite", "high", "medium", "low", None]},
            "numerator": {"type": ["integer", "null"]},
            "denominator": {"type": ["integer", "null"]},
            "ids": {"type": "array", "items": {"type": "string"}},
        },
    }
    report = {
        "type": "object", "required": ["project", "from", "to", "metrics"],
        "properties": {"project": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"},
                       "metrics": {"type": "array", "items": metric}},
    }
    result["/api/dora"] = {"get": {
        "operationId": "doraReport", "tags": ["dora"], "summary": "The four DORA metrics of a project, or of each",
        "description": "What `lakehook dora --json` prints, as the envelope's `data` (docs/DORA.md).",
        "security": ADMIN_SECURITY, "parameters": window,
        "responses": dict(sorted({
            "200": {
                "description": "The report: one object for a project, an array without `project`.",
                "content": {"application/json": {"schema": {
                    "type": "object", "required": ["code", "success", "message", "causes", "data"],
                    "properties": {"code": {"const": 0}, "success": {"const": True}, "message": {"type": "string"},
                                   "causes": {"type": "null"},
                                   "data": {"oneOf": [report, {"type": "array", "items": report}]}},
                }}},
            },
            **refusals(*TRANSPORT, 401, 403, 404),
        }.items())),
    }}
    result["/dora"] = {"get": {
        "operationId": "doraPage", "tags": ["dora"], "summary": "The DORA page: four metrics, levels, 12-week charts",
        "description": "HTML with server-side SVG charts, no JavaScript. The admin token is taken as Bearer or as the"
                       " password of HTTP Basic (so a browser can ask for it); errors are HTML pages too.",
        "security": ADMIN_SECURITY, "parameters": window,
        # The page's own answers are HTML; the HTTP layer's (bad framing, 408, 413, 431) stay JSON.
        "responses": dict(sorted({
            **refusals(*TRANSPORT),
            **{
                str(status): {"description": description, "content": {
                    "text/html": {"schema": STRING}, "application/json": {"schema": {"type": "object"}}}}
                for status, description in [(400, "A bad window (a bad date, `from` not before `to`, or longer than"
                                                   " the cap), or bad HTTP framing (JSON)."), (401, "No token."),
                                             (403, "A wrong token, or administration over HTTP off."),
                                             (404, "Unknown project."), (503, "The database is unavailable.")]
            },
            "200": {"description": "The page.", "content": {"text/html": {"schema": STRING}}},
        }.items())),
    }}
    result["/api/openapi.json"] = {"get": {
        "operationId": "openapi", "tags": ["operations"], "summary": "This document",
        "security": [],
        "responses": dict(sorted({
            "200": {
                "description": "The OpenAPI 3.1 document of the API, as kept in the repository.",
                "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "info", "paths"]}}},
            },
            **refusals(*TRANSPORT),
        }.items())),
    }}
    return result


def document():
    paths = {}
    for prefix, prefix_tag in PREFIXES:
        for form, form_tag, conn_param in FORMS:
            for route in INGEST_ROUTES:
                paths.setdefault(prefix + form + route[0], {})["post"] = ingest_operation(
                    prefix, prefix_tag, form, form_tag, conn_param, route)
    for prefix, prefix_tag in PREFIXES:
        paths.update(admin_operations(prefix, prefix_tag))
        paths.update(source_operations(prefix, prefix_tag))
    paths.update(operations_paths())
    responses = dict(SUCCESS_RESPONSES)
    responses.update(RESPONSES)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lakehook",
            "version": "0.1.0",
            "summary": "Apache DevLake's incoming-webhook API as a standalone service on PostgreSQL.",
            "description": (
                "Accepts both generations of DevLake's webhook API (classic v0.14-v0.16 snake_case bodies and current"
                " v1.0+ camelCase bodies) and writes DevLake's domain tables.\n\n"
                "**Paths.** Every ingest route exists under four prefixes (`/api/plugins/webhook`,"
                " `/api/rest/plugins/webhook`, `/plugins/webhook`, `/rest/plugins/webhook`) and three ways of naming a"
                " connection (`/{connectionId}`, `/connections/{connectionId}`, `/connections/by-name/{connectionName}`);"
                " each combination is listed. Administration is under the four prefixes. A trailing slash is tolerated;"
                " query strings are ignored on ingest routes. Another method on a listed path: 405 with `Allow`.\n\n"
                "**Authentication.** Ingest: the connection's API key as `Authorization: Bearer <key>` or as the"
                " password of HTTP Basic (any user name); missing 401, wrong 403. Administration: the admin token"
                " (`LAKEHOOK_ADMIN_TOKEN`) as Bearer; without it configured administration over HTTP answers 403.\n\n"
                "**Bodies.** A JSON object whatever the Content-Type. Field names fold case and `_`; unknown fields are"
                " ignored; a number or boolean where text is expected is its text; numeric strings are numbers;"
                " enumerations ignore case; `null` is absent.\n\n"
                "**Operations.** `/livez`, `/readyz`, `/healthz`, `/metrics` and this document need no credentials.\n\n"
                "**Answers.** Always the JSON envelope `{code, success, message, causes, data}` (but for this document"
                " and `/metrics`), then a newline; a 200 means committed."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/", "description": "The Lakehook that served this document."}],
        "tags": [
            {"name": "issues", "description": "Issues and incidents (API.md §3, §8)."},
            {"name": "cicd", "description": "CI/CD tasks and pipelines (API.md §4, §5)."},
            {"name": "deployments", "description": "Deployments and their commits (API.md §6)."},
            {"name": "pull requests", "description": "Pull requests (API.md §7)."},
            {"name": "administration", "description": "Connections and their keys (API.md §1)."},
            {"name": "operations", "description": "Liveness, readiness, metrics, this document."},
            {"name": "dora", "description": "DORA metrics from the stored rows (admin token)."},
            {"name": "journal", "description": "What clients sent: the event journal (admin token)."},
            {"name": "sources", "description": "GitHub's, GitLab's, PagerDuty's and CDEvents' own signed webhooks (docs/SOURCES.md)."},
        ],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": responses,
            "requestBodies": REQUEST_BODIES,
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "The connection's API key: `Authorization: Bearer <key>`."},
                "apiKeyBasic": {"type": "http", "scheme": "basic", "description": "The connection's API key as the password of HTTP Basic; any user name."},
                "adminToken": {
                    "type": "http", "scheme": "bearer",
                    "description": "LAKEHOOK_ADMIN_TOKEN: `Authorization: Bearer <token>` (the password of HTTP Basic is"
                    " accepted too). Without the variable set, administration over HTTP answers 403.",
                },
            },
        },
    }


def render(value, indent=0, column=0, width=120):
    """JSON indented by two, with objects and arrays that fit the line on one line: readable,
    diffable and small (the document is compiled into the binary as a byte array, and its size
    costs compile time). `column` is where the value starts on its line."""
    flat = json.dumps(value, ensure_ascii=True, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or not value or column + len(flat) <= width:
        return flat
    inner = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            head = f"{inner}{json.dumps(key, ensure_ascii=True)}: "
            items.append(head + render(item, indent + 2, len(head), width))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [inner + render(item, indent + 2, len(inner), width) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def main():
    text_out = render(document()) + "\n"
    if sys.argv[1:] == ["--check"]:
        if OUTPUT.read_text() != text_out:
            print(f"{OUTPUT.relative_to(ROOT)} is not what scripts/gen-openapi.py writes; run it", file=sys.stderr)
            sys.exit(1)
        return
    OUTPUT.write_text(text_out)


if __name__ == "__main__":
    main()
