import Postgres

/// `POST {conn}/cicd_tasks` (API.md §4): create or replace a task, creating its pipeline.
///
/// One statement: the pipeline upsert takes the pipeline row's lock (ON CONFLICT DO UPDATE locks
/// the row even when its WHERE keeps it unchanged), so a concurrent finish or task of the same
/// pipeline, on any instance, is serialised; when the pipeline is already DONE the upsert returns
/// no row and nothing else is written.
///
/// The task id joins the pipeline's name and the task's with `:`, which names may contain, so
/// `a:b` + `c` and `a` + `b:c` are one id. A task of another pipeline that already has the id is
/// found first (`taken`) and nothing is written: 409. When that task is being written at the same
/// moment, this statement's snapshot cannot see it; its task insert then waits for it and meets
/// the row, which the upsert's WHERE leaves alone, and `collision` makes the statement fail whole
/// (a unique violation) so that the pipeline row it made is not kept. `runsAgain(after:)` then
/// has it run once more, and the fresh snapshot finds the task: 409 naming its pipeline.
struct TaskUpsert: Equatable, Sendable {
    var pipelineName: String
    var name: String
    var result: String
    var originalResult: String
    var status: String
    var originalStatus: String
    var type: String
    var environment: String
    var startedDate: Timestamp
    var finishedDate: Timestamp?
    var repoId: String
    var branch: String
    var commitSha: String

    var durationSeconds: Double? { finishedDate.map { $0.seconds(since: startedDate) } }

    static func decode(_ body: JSONObject, for connection: WebhookConnection) -> Result<TaskUpsert, WebhookError> {
        var r = FieldReader(body, timeZone: connection.timeZone)
        let pipelineName = r.key("pipeline_name", in: connection)
        let name = r.string("name", required: true, maxLength: Width.key)
        // DevLake's words or a CI/CD tool's (ToolVocabulary); `original_result` / `original_status`
        // keep the posted text (API.md §4).
        let result = r.toolWord("result", as: .taskResult, required: true)
        let status = r.toolWord("status", as: .status, required: true)
        let type = r.enumeration("type", allowed: Vocabulary.taskTypes, required: true)
        let environment = r.enumeration("environment", allowed: Vocabulary.environments, required: true)
        // DevLake's own sample sends `created_date`; `started_date` wins when both are given. The
        // date order's cause names the dates as the client sent them (as a deployment's does).
        let startedField = r.chosen("started_date", alias: "created_date")
        let startedDate = r.timestamp(startedField, required: true)
        let finishedDate = r.timestamp("finished_date")
        if let startedDate, let finishedDate, finishedDate < startedDate {
            r.fail("finished_date", "is before \(r.spelling(of: startedField))")
        }
        let repoId = r.string("repo_id", required: true, maxLength: Width.key)
        let branch = r.string("branch", maxLength: Width.key) ?? ""
        let commitSha = r.string("commit_sha", maxLength: Width.key) ?? ""
        if let pipelineName, let name, connection.rowId("\(pipelineName):\(name)").unicodeScalars.count > Width.key {
            r.fail("name", "together with pipeline_name is longer than a 255-character task id allows")
        }
        guard r.causes.isEmpty, let pipelineName, let name, let result, let status, let type, let environment,
            let startedDate, let repoId
        else { return .failure(.invalidBody(r.causes)) }
        return .success(TaskUpsert(
            pipelineName: pipelineName, name: name, result: result.value, originalResult: result.posted,
            status: status.value, originalStatus: status.posted, type: type, environment: environment, startedDate: startedDate,
            finishedDate: finishedDate, repoId: repoId, branch: branch, commitSha: commitSha))
    }

    /// Only names holding a `:` can give an id that another pipeline's task has: with none, the id
    /// `webhook:<connId>:<pipeline>:<name>` splits one way only. Those tasks get the statement
    /// that checks (`checkedStatement`, two more CTEs, which PostgreSQL sets up at every execution);
    /// the others the plain one (`tasks` in `make bench`: 10–20 % less of PostgreSQL's CPU).
    var statement: IngestStatement {
        pipelineName.contains(":") || name.contains(":") ? Self.checkedStatement : Self.plainStatement
    }

    /// Accepted unless another pipeline's task has the id (409) or the pipeline is finished (403).
    private static let accepted = "(SELECT taken_by_pipeline FROM written) IS NULL AND (SELECT cicd_pipelines FROM written) = 1"

    static let plainStatement = IngestStatement(ctes: plainCTEs, body: plainBody, accepted: accepted)
    static let checkedStatement = IngestStatement(ctes: checkedCTEs, body: checkedBody, accepted: accepted)

    private static let plainCTEs = """
        pipeline AS (
            \(Self.pipelineInsert)
            \(Self.pipelineConflict)
        ), task AS (
            \(Self.taskInsert)
            \(Self.taskConflict)
            RETURNING 1
        ), \(Self.pipelineCommit)
        """

    private static let plainBody = """
        SELECT (SELECT count(*) FROM pipeline) AS cicd_pipelines, (SELECT count(*) FROM task) AS cicd_tasks,
            (SELECT count(*) FROM pipeline_commit) AS cicd_pipeline_commits,
            NULL AS taken_by_task, NULL AS taken_by_pipeline
        """

    /// `taken` finds another pipeline's task with this id (nothing is written: 409); `collision`
    /// makes the statement fail whole when that task is being written at the same moment (see
    /// the type's comment).
    private static let checkedCTEs = """
        taken AS (
            SELECT t.name, COALESCE(p.name, t.pipeline_id, '') AS pipeline_name
            FROM cicd_tasks t LEFT JOIN cicd_pipelines p ON p.id = t.pipeline_id
            WHERE t.id = $6 AND t.pipeline_id IS DISTINCT FROM $1
        ), pipeline AS (
            \(Self.pipelineInsert)
            WHERE NOT EXISTS (SELECT FROM taken)
            \(Self.pipelineConflict)
        ), task AS (
            \(Self.taskInsert)
            \(Self.taskConflict)
            WHERE cicd_tasks.pipeline_id = EXCLUDED.pipeline_id
            RETURNING 1
        ), collision AS (
            \(Self.taskInsert)
            WHERE NOT EXISTS (SELECT FROM task)
            RETURNING 1
        ), \(Self.pipelineCommit)
        """

    private static let checkedBody = """
        SELECT (SELECT count(*) FROM pipeline) AS cicd_pipelines,
            (SELECT count(*) FROM task) + (SELECT count(*) FROM collision) AS cicd_tasks,
            (SELECT count(*) FROM pipeline_commit) AS cicd_pipeline_commits,
            (SELECT name FROM taken) AS taken_by_task, (SELECT pipeline_name FROM taken) AS taken_by_pipeline
        """

    private static let pipelineInsert = """
        INSERT INTO cicd_pipelines AS p (
                id, name, display_title, url, result, original_result, status, original_status, type,
                environment, created_date, started_date, cicd_scope_id, is_child, _raw_data_table, _raw_data_params)
            SELECT $1, $2, $2, '', '', '', 'IN_PROGRESS', 'IN_PROGRESS', '', '',
                $3::timestamptz, $3::timestamptz, $4, false, 'webhook', $5
        """

    private static let pipelineConflict = """
        ON CONFLICT (id) DO UPDATE SET
                created_date = LEAST(p.created_date, EXCLUDED.created_date),
                started_date = LEAST(p.started_date, EXCLUDED.started_date),
                updated_at = now()
            WHERE p.status <> 'DONE'
            RETURNING p.id
        """

    /// The task row, for the pipeline `pipeline` returned. `collision` runs it without ON CONFLICT
    /// only when `task`'s upsert left another pipeline's row alone: the id is there, so it fails
    /// (and should that row be deleted in between, it writes this task, as `task` would have).
    private static let taskInsert = """
        INSERT INTO cicd_tasks (
                id, name, pipeline_id, result, original_result, status, original_status, type, environment,
                duration_sec, created_date, started_date, finished_date, cicd_scope_id,
                _raw_data_table, _raw_data_params)
            SELECT $6, $7, pipeline.id, $8, $9, $10, $11, $12, $13,
                $14::float8, $3::timestamptz, $3::timestamptz, $15::timestamptz, $4, 'webhook', $5
            FROM pipeline
        """

    private static let taskConflict = """
        ON CONFLICT (id) DO UPDATE SET
                name = EXCLUDED.name, result = EXCLUDED.result, original_result = EXCLUDED.original_result,
                status = EXCLUDED.status, original_status = EXCLUDED.original_status, type = EXCLUDED.type,
                environment = EXCLUDED.environment, duration_sec = EXCLUDED.duration_sec,
                created_date = EXCLUDED.created_date, started_date = EXCLUDED.started_date,
                finished_date = EXCLUDED.finished_date, updated_at = now()
        """

    /// The pipeline's commit row is every task's of that pipeline and commit: a branch not sent
    /// (absent or `""`, bound as NULL) keeps the one another task wrote; `repo_id` is required, so
    /// always sent. (`repo_url` is not a field of DevLake's task body: the column stays `''`.)
    private static let pipelineCommit = """
        pipeline_commit AS (
                INSERT INTO cicd_pipeline_commits (
                    pipeline_id, commit_sha, branch, repo_id, commit_msg, display_title, url, repo_url,
                    _raw_data_table, _raw_data_params)
                SELECT pipeline.id, $16, COALESCE($17::varchar, ''), $18, '', '', '', '', 'webhook', $5
                FROM pipeline WHERE $16::varchar <> ''
                ON CONFLICT (pipeline_id, commit_sha) DO UPDATE SET
                    branch = COALESCE($17::varchar, cicd_pipeline_commits.branch), repo_id = EXCLUDED.repo_id,
                    updated_at = now()
                RETURNING 1
            )
        """

    func binds(for connection: WebhookConnection) -> [String?] {
        [
            connection.rowId(pipelineName), pipelineName, startedDate.postgresText, // $1–$3
            connection.scopeId, connection.rawDataParams,                        // $4–$5
            connection.rowId("\(pipelineName):\(name)"), name,                  // $6–$7
            result, originalResult, status, originalStatus, type, environment,  // $8–$13
            durationSeconds?.bind, finishedDate.bind,                           // $14–$15
            commitSha, branch.isEmpty ? nil : branch, repoId,                   // $16–$18
        ]
    }

    /// 409 when another pipeline's task has the id, 403 when the pipeline is already finished (as
    /// DevLake); either way nothing was written.
    func answer(_ result: PostgresResult, for connection: WebhookConnection) throws -> WriteResult {
        let row = result.rows.first
        if let takenBy = row?["taken_by_pipeline"] {
            throw WebhookError(
                status: 409,
                message: "the task id \"\(connection.rowId("\(pipelineName):\(name)"))\" is already taken by task"
                    + " \"\(row?["taken_by_task"] ?? "")\" of pipeline \"\(takenBy)\" (a task id joins pipeline_name and"
                    + " name with \":\"); give this task or its pipeline another name")
        }
        guard let row, row["cicd_pipelines"] == "1" else {
            throw WebhookError(
                status: 403, message: "pipeline \"\(pipelineName)\" is already finished; it takes no more tasks")
        }
        return WriteResult(
            data: .object([
                "id": .string(connection.rowId("\(pipelineName):\(name)")),
                "pipelineId": .string(connection.rowId(pipelineName)),
            ]),
            rows: WriteResult.counts(row, ["cicd_pipelines", "cicd_tasks", "cicd_pipeline_commits"]))
    }

    /// The unique violation `collision` raises: the statement wrote nothing, and a run with a
    /// fresh snapshot sees the task it collided with.
    func runsAgain(after error: PostgresError) -> Bool {
        error.sqlState == "23505" && error.constraint == "cicd_tasks_pkey"
    }
}
