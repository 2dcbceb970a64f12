import Foundation
import HTTP
import Postgres
import Testing
@testable import Webhooks
import TestSupport

extension TestServer {
    func admin(_ method: String, _ path: String, _ body: String? = nil) throws -> Reply {
        try request(method, path, body: body, headers: Self.adminHeaders)
    }

    /// Creates a connection through the HTTP administration; returns its id and key.
    func createConnection(_ name: String, project: String?) throws -> DoraConnection {
        let projectField = project.map { #","project":"\#($0)""# } ?? ""
        let reply = try admin("POST", "/api/rest/plugins/webhook/connections", #"{"name":"\#(name)"\#(projectField)}"#)
        guard reply.status == 200, let data = reply.data, case .number(let idText)? = data["id"], let id = Int64(idText),
              case .string(let key)? = data["apiKey"]
        else { throw TestFailure("cannot create connection \(name): \(reply.status) \(reply.text)") }
        return DoraConnection(server: self, id: id, name: name, key: key)
    }
}

/// One connection, and the webhook calls a CI job, a deploy script and an incident tool make.
struct DoraConnection {
    let server: TestServer
    let id: Int64
    let name: String
    let key: String

    func rowId(_ key: String) -> String { "webhook:\(id):\(key)" }

    @discardableResult
    func post(_ route: String, _ body: String?, classic: Bool = false) throws -> Reply {
        let base = classic ? "/api/plugins/webhook/\(id)" : "/api/rest/plugins/webhook/connections/\(id)"
        let reply = try server.request("POST", base + route, body: body, headers: [("Authorization", "Bearer \(key)")])
        guard reply.status == 200 else { throw TestFailure("POST \(route): \(reply.status) \(reply.text)") }
        return reply
    }

    struct Task {
        var name: String
        var type: String
        var environment: String
        var started: String
        var finished: String?
        var result: String = "SUCCESS"
    }

    /// A classic pipeline (DevLake v0.14–v0.16): its tasks on one commit, then, when `finish`,
    /// the finish call that derives its result and dates.
    func pipeline(_ name: String, commit: String, tasks: [Task], finish: Bool = true) throws {
        for task in tasks {
            let finished = task.finished.map { #","finished_date":"\#($0)""# } ?? ""
            try post("/cicd_tasks", #"{"pipeline_name":"\#(name)","name":"\#(task.name)","result":"\#(task.result)","status":"\#(task.finished == nil ? "IN_PROGRESS" : "DONE")","type":"\#(task.type)","environment":"\#(task.environment)","started_date":"\#(task.started)"\#(finished),"repo_id":"shop","branch":"main","commit_sha":"\#(commit)"}"#, classic: true)
        }
        if finish { try post("/cicd_pipeline/\(name)/finish", nil, classic: true) }
    }

    /// A deployment through DevLake v1.0's `deployments` route.
    func deployment(_ id: String, commits: [String], started: String, finished: String, result: String = "SUCCESS", environment: String = "PRODUCTION") throws {
        let list = commits.map { #"{"repoUrl":"https://git.example.com/shop","commitSha":"\#($0)","refName":"main"}"# }.joined(separator: ",")
        try post("/deployments", #"{"id":"\#(id)","displayTitle":"\#(id)","result":"\#(result)","environment":"\#(environment)","startedDate":"\#(started)","finishedDate":"\#(finished)","deploymentCommits":[\#(list)]}"#)
    }

    /// A deployment in the single-commit form of DevLake v0.17–v0.20.
    func singleCommitDeployment(_ id: String, commit: String, started: String, finished: String, result: String = "SUCCESS") throws {
        try post("/deployments", #"{"pipeline_id":"\#(id)","repo_url":"https://git.example.com/shop","commit_sha":"\#(commit)","start_time":"\#(started)","end_time":"\#(finished)","result":"\#(result)","environment":"PRODUCTION"}"#, classic: true)
    }

    func pullRequest(_ key: Int, mergeCommit: String, created: String, merged: String? = nil) throws {
        let mergedField = merged.map { #","mergedDate":"\#($0)""# } ?? ""
        try post("/pull_requests", #"{"pullRequestKey":\#(key),"displayTitle":"PR \#(key)","createdDate":"\#(created)","status":"MERGED","mergeCommitSha":"\#(mergeCommit)"\#(mergedField)}"#)
    }

    /// An incident (an issue of type INCIDENT: Lakehook writes its `issues` and `incidents` rows).
    func incident(_ key: String, created: String, resolved: String? = nil) throws {
        let resolution = resolved.map { #","resolution_date":"\#($0)""# } ?? ""
        try post("/issues", #"{"issue_key":"\#(key)","title":"incident \#(key)","type":"INCIDENT","status":"\#(resolved == nil ? "IN_PROGRESS" : "DONE")","original_status":"open","created_date":"\#(created)"\#(resolution)}"#, classic: true)
    }
}

/// What a test expects of one metric.
struct ExpectedMetric: CustomStringConvertible {
    var metric: String
    var value: Double?
    var unit: String
    var level: String?
    var numerator: Int64
    var denominator: Int64
    var ids: [String]

    var description: String {
        "\(metric)=\(value.map { "\($0)" } ?? "NULL") \(unit) \(level ?? "NULL") \(numerator)/\(denominator) \(ids)"
    }
}

enum DoraCheck {
    /// `dora_report` straight from SQL, as a BI tool runs it.
    static func sql(_ project: String, from: String, to: String) throws -> [ExpectedMetric] {
        try LakehookDatabase.rows(
            "SELECT metric, value, unit, level, numerator, denominator, to_json(ids)::text AS ids FROM dora_report($1, $2, $3)",
            [project, from, to]
        ).map { row in
            var ids: [String] = []
            if case .array(let items)? = try? JSONParser.parse(Array((row["ids"] ?? "[]").utf8)) {
                ids = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
            }
            return ExpectedMetric(
                metric: row["metric"] ?? "", value: row["value"].flatMap(Double.init), unit: row["unit"] ?? "",
                level: row["level"], numerator: row["numerator"].flatMap(Int64.init) ?? -1,
                denominator: row["denominator"].flatMap(Int64.init) ?? -1, ids: ids)
        }
    }

    /// The metrics of a report as the CLI's `--json` and `/api/dora` print it.
    static func metrics(ofJSON object: JSONObject) -> [ExpectedMetric] {
        guard case .array(let items)? = object["metrics"] else { return [] }
        return items.compactMap { item in
            guard case .object(let m) = item else { return nil }
            func string(_ key: String) -> String? { if case .string(let s)? = m[key] { s } else { nil } }
            func number(_ key: String) -> Double? { if case .number(let n)? = m[key] { Double(n) } else { nil } }
            var ids: [String] = []
            if case .array(let list)? = m["ids"] { ids = list.compactMap { if case .string(let s) = $0 { s } else { nil } } }
            return ExpectedMetric(
                metric: string("metric") ?? "", value: number("value"), unit: string("unit") ?? "", level: string("level"),
                numerator: Int64(number("numerator") ?? -1), denominator: Int64(number("denominator") ?? -1), ids: ids)
        }
    }

    static func same(_ actual: [ExpectedMetric], _ expected: [ExpectedMetric], _ source: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, "\(source): \(actual.count) metrics", sourceLocation: sourceLocation)
        for (a, e) in zip(actual, expected) {
            let valuesMatch = switch (a.value, e.value) {
            case (nil, nil): true
            case (let x?, let y?): abs(x - y) < 1e-9
            default: false
            }
            let same = a.metric == e.metric && valuesMatch && a.unit == e.unit && a.level == e.level
                && a.numerator == e.numerator && a.denominator == e.denominator && a.ids == e.ids
            #expect(same, "\(source):\n  got      \(a)\n  expected \(e)", sourceLocation: sourceLocation)
        }
    }

    /// The CLI, in-process: `lakehook dora ARGS` with the test database.
    static func cli(_ arguments: [String], database: PostgresConfig = TestDatabase.config()) throws -> String {
        let configuration = try Configuration.fromEnvironment(["DATABASE_URL": database.conninfo])
        let lines = Shared<[String]>([])
        try DoraCommand.parse(arguments).run(configuration: configuration) { line in lines.withLock { $0.append(line) } }
        return lines.withLock { $0.joined(separator: "\n") }
    }

    static func jsonObject(_ text: String) -> JSONObject? {
        if case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) { return object }
        return nil
    }

    static func unique(_ label: String) -> String { "\(label)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// A 40-hex commit sha made of one repeated digit, easy to tell apart in a failure message.
    static func sha(_ digit: Character) -> String { String(repeating: String(digit), count: 40) }
}

