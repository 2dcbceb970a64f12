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
///
/// A late post (issue 16) — IN_PROGRESS, for a task stored DONE that started at the same time or
/// later — writes nothing and answers `applied: false`; see `statement(checked:guarded:)`.
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
    /// When the request came in: the rows' `created_at` / `updated_at`.
    var arrival: Timestamp

    var durationSeconds: Double? { finishedDate.map { $0.seconds(since: startedDate) } }

    /// `arrival` is when the request came in.
    static func decode(
        _ body: JSONObject, for webhook: DevLakeConnection, arrival: Timestamp = .now()
    ) -> Result<TaskUpsert, WebhookError> {
        var r = FieldReader(body, timeZone: webhook.timeZone)
        let pipelineName = r.key("pipeline_name", in: webhook)
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
        if let pipelineName, let name, webhook.rowId("\(pipelineName):\(name)").unicodeScalars.count > Width.key {
            r.fail("name", "together with pipeline_name is longer than a 255-character task id allows")
        }
        guard r.causes.isEmpty, let pipelineName, let name, let result, let status, let type, let environment,
            let startedDate, let repoId
        else { return .failure(.invalidBody(r.causes)) }
        return .success(TaskUpsert(
            pipelineName: pipelineName, name: name, result: result.value, originalResult: result.posted,
            status: status.value, originalStatus: status.posted, type: type, environment: environment, startedDate: startedDate,
            finishedDate: finishedDate, repoId: repoId, branch: branch, commitSha: commitSha, arrival: arrival))
    }

    /// Only names holding a `:` can give an id that another pipeline's task has: with none, the id
    /// `webhook:<connId>:<pipeline>:<name>` splits one way only. Those tasks get the statement
    /// that checks (`checked`: two more CTEs, which PostgreSQL sets up at every execution); the
    /// others the plain one (`tasks` in `make bench`: 10–20 % less of PostgreSQL's CPU). Only an
    /// IN_PROGRESS post can be late (`guarded`), so only it pays for that check.
    var statement: IngestStatement {
        switch (pipelineName.contains(":") || name.contains(":"), status == "IN_PROGRESS") {
        case (false, false): Self.plainStatement
        case (true, false): Self.checkedStatement
        case (false, true): Self.guardedStatement
        case (true, true): Self.checkedGuardedStatement
        }
    }

    static let plainStatement = statement(checked: false, guarded: false)
    static let checkedStatement = statement(checked: true, guarded: false)
    static let guardedStatement = statement(checked: false, guarded: true)
    static let checkedGuardedStatement = statement(checked: true, guarded: true)

    /// The statement with `taken` and `collision` when `checked`, and the late check when `guarded`.
    ///
    /// A late post (issue 16): the task is stored DONE, started at or after this IN_PROGRESS
    /// post's start (a re-run starts later). `late` finds it in the statement's snapshot, and then
    /// nothing is written, not even the pipeline (as for a finished pipeline, whose 403 comes
    /// first). Should the task become DONE between that snapshot and the pipeline's row lock,
    /// the task upsert's WHERE keeps it, and `collision` fails the statement whole, as for a task
    /// id taken at the same moment: the run once more finds the post late.
    private static func statement(checked: Bool, guarded: Bool) -> IngestStatement {
        var ctes: [String] = []
        var pipelineWhere: [String] = []
        var taskWhere: [String] = []
        if checked {
            ctes.append(taken)
            pipelineWhere.append("NOT EXISTS (SELECT FROM taken)")
            taskWhere.append("cicd_tasks.pipeline_id = EXCLUDED.pipeline_id")
        }
        if guarded {
            ctes.append(late)
            pipelineWhere.append("NOT EXISTS (SELECT FROM late)")
            taskWhere.append(
                "(cicd_tasks.status IS DISTINCT FROM 'DONE' OR cicd_tasks.started_date IS NULL"
                    + " OR cicd_tasks.started_date < EXCLUDED.started_date)")
        }
        func whereClause(_ conditions: [String]) -> String {
            conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        }
        ctes.append("""
            pipeline AS (
                \(pipelineInsert)
                \(whereClause(pipelineWhere))
                \(pipelineConflict)
            ), task AS (
                \(taskInsert)
                \(taskConflict)
                \(whereClause(taskWhere))
                RETURNING 1
            )
            """)
        let collides = checked || guarded
        if collides {
            ctes.append("""
                collision AS (
                    \(taskInsert)
                    WHERE NOT EXISTS (SELECT FROM task)
                    RETURNING 1
                )
                """)
        }
        ctes.append(pipelineCommit)
        let body = """
            SELECT (SELECT count(*) FROM pipeline) AS cicd_pipelines,
                (SELECT count(*) FROM task)\(collides ? " + (SELECT count(*) FROM collision)" : "") AS cicd_tasks,
                (SELECT count(*) FROM pipeline_commit) AS cicd_pipeline_commits,
                \(checked ? "(SELECT name FROM taken)" : "NULL") AS taken_by_task,
                \(checked ? "(SELECT pipeline_name FROM taken)" : "NULL") AS taken_by_pipeline,
                \(guarded ? "(SELECT \(SQLText.utc("started_date")) FROM late)" : "NULL") AS stored_started
            """
        // Accepted unless another pipeline's task has the id (409) or the pipeline is finished (403).
        let written = guarded
            ? "((SELECT cicd_pipelines FROM written) = 1 OR (SELECT stored_started FROM written) IS NOT NULL)"
            : "(SELECT cicd_pipelines FROM written) = 1"
        return IngestStatement(
            ctes: ctes.joined(separator: ", "), body: body,
            accepted: "(SELECT taken_by_pipeline FROM written) IS NULL AND " + written,
            stale: guarded ? "(SELECT stored_started FROM written) IS NOT NULL" : "false")
    }

    /// Another pipeline's task with this id (nothing is written: 409).
    private static let taken = """
        taken AS (
            SELECT t.name, COALESCE(p.name, t.pipeline_id, '') AS pipeline_name
            FROM cicd_tasks t LEFT JOIN cicd_pipelines p ON p.id = t.pipeline_id
            WHERE t.id = $6 AND t.pipeline_id IS DISTINCT FROM $1
        )
        """

    /// This task, stored DONE, started at or after this post's start, of a pipeline not finished.
    private static let late = """
        late AS (
            SELECT t.started_date FROM cicd_tasks t JOIN cicd_pipelines p ON p.id = t.pipeline_id
            WHERE t.id = $6 AND t.pipeline_id = $1 AND t.status = 'DONE' AND t.started_date >= $3::timestamptz
                AND p.status <> 'DONE'
        )
        """

    private static let pipelineInsert = """
        INSERT INTO cicd_pipelines AS p (
                id, name, display_title, url, result, original_result, status, original_status, type,
                environment, created_date, started_date, cicd_scope_id, is_child, _raw_data_table, _raw_data_params,
                created_at, updated_at)
            SELECT $1, $2, $2, '', '', '', 'IN_PROGRESS', 'IN_PROGRESS', '', '',
                $3::timestamptz, $3::timestamptz, $4, false, 'webhook', $5, $19::timestamptz, $19::timestamptz
        """

    private static let pipelineConflict = """
        ON CONFLICT (id) DO UPDATE SET
                created_date = LEAST(p.created_date, EXCLUDED.created_date),
                started_date = LEAST(p.started_date, EXCLUDED.started_date),
                updated_at = EXCLUDED.updated_at
            WHERE p.status <> 'DONE'
            RETURNING p.id
        """

    /// The task row, for the pipeline `pipeline` returned. `collision` runs it without ON CONFLICT
    /// only when `task`'s upsert left the row alone (another pipeline's, or late): the id is
    /// there, so it fails (and should that row be deleted in between, it writes this task, as
    /// `task` would have).
    private static let taskInsert = """
        INSERT INTO cicd_tasks (
                id, name, pipeline_id, result, original_result, status, original_status, type, environment,
                duration_sec, created_date, started_date, finished_date, cicd_scope_id,
                _raw_data_table, _raw_data_params, created_at, updated_at)
            SELECT $6, $7, pipeline.id, $8, $9, $10, $11, $12, $13,
                $14::float8, $3::timestamptz, $3::timestamptz, $15::timestamptz, $4, 'webhook', $5,
                $19::timestamptz, $19::timestamptz
            FROM pipeline
        """

    private static let taskConflict = """
        ON CONFLICT (id) DO UPDATE SET
                name = EXCLUDED.name, result = EXCLUDED.result, original_result = EXCLUDED.original_result,
                status = EXCLUDED.status, original_status = EXCLUDED.original_status, type = EXCLUDED.type,
                environment = EXCLUDED.environment, duration_sec = EXCLUDED.duration_sec,
                created_date = EXCLUDED.created_date, started_date = EXCLUDED.started_date,
                finished_date = EXCLUDED.finished_date, updated_at = EXCLUDED.updated_at
        """

    /// The pipeline's commit row is every task's of that pipeline and commit: a branch not sent
    /// (absent or `""`, bound as NULL) keeps the one another task wrote; `repo_id` is required, so
    /// always sent. (`repo_url` is not a field of DevLake's task body: the column stays `''`.)
    private static let pipelineCommit = """
        pipeline_commit AS (
                INSERT INTO cicd_pipeline_commits (
                    pipeline_id, commit_sha, branch, repo_id, commit_msg, display_title, url, repo_url,
                    _raw_data_table, _raw_data_params, created_at, updated_at)
                SELECT pipeline.id, $16, COALESCE($17::varchar, ''), $18, '', '', '', '', 'webhook', $5,
                    $19::timestamptz, $19::timestamptz
                FROM pipeline WHERE $16::varchar <> ''
                ON CONFLICT (pipeline_id, commit_sha) DO UPDATE SET
                    branch = COALESCE($17::varchar, cicd_pipeline_commits.branch), repo_id = EXCLUDED.repo_id,
                    updated_at = EXCLUDED.updated_at
                RETURNING 1
            )
        """

    func binds(for webhook: DevLakeConnection) -> [String?] {
        [
            webhook.rowId(pipelineName), pipelineName, startedDate.postgresText, // $1–$3
            webhook.scopeId, webhook.rawDataParams,                             // $4–$5
            webhook.rowId("\(pipelineName):\(name)"), name,                     // $6–$7
            result, originalResult, status, originalStatus, type, environment,  // $8–$13
            durationSeconds?.bind, finishedDate.bind,                           // $14–$15
            commitSha, branch.isEmpty ? nil : branch, repoId,                   // $16–$18
            arrival.postgresText,                                               // $19
        ]
    }

    /// 409 when another pipeline's task has the id, 403 when the pipeline is already finished (as
    /// DevLake); either way nothing was written. A late post answers `applied: false`.
    func answer(_ result: PostgresResult, for webhook: DevLakeConnection) throws -> WriteResult {
        let row = result.rows.first
        if let takenBy = row?["taken_by_pipeline"] {
            throw WebhookError(
                status: 409,
                message: "the task id \"\(webhook.rowId("\(pipelineName):\(name)"))\" is already taken by task"
                    + " \"\(row?["taken_by_task"] ?? "")\" of pipeline \"\(takenBy)\" (a task id joins pipeline_name and"
                    + " name with \":\"); give this task or its pipeline another name")
        }
        let data: JSONObject = [
            "id": .string(webhook.rowId("\(pipelineName):\(name)")),
            "pipelineId": .string(webhook.rowId(pipelineName)),
        ]
        if let stored = row?["stored_started"] {
            return .late(data, reason: "the stored task is DONE and started at \(SQLText.storedDate(stored)); this IN_PROGRESS"
                + " post started at \(startedDate.iso8601), not later (a re-run starts later); it is unchanged", tables: Self.tables)
        }
        guard let row, row["cicd_pipelines"] == "1" else {
            throw WebhookError(
                status: 403, message: "pipeline \"\(pipelineName)\" is already finished; it takes no more tasks")
        }
        return WriteResult(data: .object(data), rows: WriteResult.counts(row, Self.tables))
    }

    static let tables = ["cicd_pipelines", "cicd_tasks", "cicd_pipeline_commits"]

    /// The unique violation `collision` raises: the statement wrote nothing, and a run with a
    /// fresh snapshot sees the task it collided with (another pipeline's: 409; or DONE: late).
    func runsAgain(after error: PostgresError) -> Bool {
        error.sqlState == "23505" && error.constraint == "cicd_tasks_pkey"
    }
}
