import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// API.md amendments (2026-12-03), issue 15: `result` and `status` take the words CI/CD tools
/// send, mapped as DevLake's plugins map them (docs/API-VOCABULARY.md). Broke: Jenkins'
/// `ABORTED`, GitLab's `failed`, Argo CD's `Succeeded`… answered 400.
@Suite("Tool vocabularies for result and status")
struct ToolVocabularyTests {
    let server = TestServer.shared

    func stored(_ word: String, as field: ToolVocabulary.Field) -> String? {
        ToolVocabulary.meaning(of: word).flatMap(field.value(of:))
    }

    /// word, task result, deployment result, status — one or more rows per tool, from its DevLake plugin.
    static let samples: [(word: String, task: String?, deployment: String?, status: String)] = [
        // Jenkins (plugins/jenkins/tasks/build_cicd_convertor.go, stage_convertor.go)
        ("SUCCESS", "SUCCESS", "SUCCESS", "DONE"), ("UNSTABLE", "", "", "DONE"), ("FAILURE", "FAILURE", "FAILURE", "DONE"),
        ("NOT_BUILT", "", "", "DONE"), ("ABORTED", "ABORT", "ABORT", "DONE"), ("FAILED", "FAILURE", "FAILURE", "DONE"),
        // GitHub Actions (plugins/github/tasks/cicd_run_convertor.go, cicd_job_convertor.go)
        ("success", "SUCCESS", "SUCCESS", "DONE"), ("failure", "FAILURE", "FAILURE", "DONE"),
        ("cancelled", "ABORT", "ABORT", "DONE"), ("timed_out", "FAILURE", "FAILURE", "DONE"),
        ("skipped", "", "", "DONE"), ("neutral", "", "", "DONE"), ("action_required", "", "", "DONE"),
        ("stale", "", "", "DONE"), ("startup_failure", "FAILURE", "FAILURE", "DONE"),
        ("completed", "SUCCESS", "SUCCESS", "DONE"), ("in_progress", "IN_PROGRESS", "", "IN_PROGRESS"),
        ("queued", "IN_PROGRESS", "", "IN_PROGRESS"), ("waiting", "IN_PROGRESS", "", "IN_PROGRESS"),
        // GitLab CI (plugins/gitlab/tasks/pipeline_detail_convertor.go, job_convertor.go)
        ("failed", "FAILURE", "FAILURE", "DONE"), ("canceled", "ABORT", "ABORT", "DONE"),
        ("manual", "", "", "IN_PROGRESS"), ("running", "IN_PROGRESS", "", "IN_PROGRESS"),
        ("pending", "IN_PROGRESS", "", "IN_PROGRESS"), ("created", "IN_PROGRESS", "", "IN_PROGRESS"),
        ("waiting_for_resource", "IN_PROGRESS", "", "IN_PROGRESS"),
        // CircleCI (plugins/circleci/tasks/job_converter.go, workflow_converter.go)
        ("failing", "FAILURE", "FAILURE", "DONE"), ("error", "FAILURE", "FAILURE", "DONE"),
        ("not_run", "", "", "DONE"), ("on_hold", "", "", "IN_PROGRESS"), ("infrastructure_fail", "FAILURE", "FAILURE", "DONE"),
        // Bitbucket Pipelines (plugins/bitbucket/tasks/pipeline_convertor.go, deployment_convertor.go)
        ("SUCCESSFUL", "SUCCESS", "SUCCESS", "DONE"), ("STOPPED", "ABORT", "ABORT", "DONE"),
        ("HALTED", "", "", "DONE"), ("PAUSED", "", "", "IN_PROGRESS"), ("BUILDING", "IN_PROGRESS", "", "IN_PROGRESS"),
        // Azure Pipelines (plugins/azuredevops_go/tasks/shared.go)
        ("succeeded", "SUCCESS", "SUCCESS", "DONE"), ("partiallySucceeded", "SUCCESS", "SUCCESS", "DONE"),
        ("succeededWithIssues", "SUCCESS", "SUCCESS", "DONE"), ("abandoned", "FAILURE", "FAILURE", "DONE"),
        ("inProgress", "IN_PROGRESS", "", "IN_PROGRESS"), ("notStarted", "IN_PROGRESS", "", "IN_PROGRESS"),
        // Argo CD (plugins/argocd/tasks/sync_operation_convertor.go; health: Argo CD's documentation)
        ("Succeeded", "SUCCESS", "SUCCESS", "DONE"), ("Failed", "FAILURE", "FAILURE", "DONE"),
        ("Terminating", "FAILURE", "FAILURE", "IN_PROGRESS"), ("Degraded", "FAILURE", "FAILURE", "DONE"),
        ("Healthy", "SUCCESS", "SUCCESS", "DONE"), ("Progressing", "IN_PROGRESS", "", "IN_PROGRESS"),
        // DevLake's own
        ("ABORT", "ABORT", "ABORT", "DONE"), ("DONE", nil, nil, "DONE"),
    ]

    @Test("each tool's words map as DevLake's plugin for that tool maps them", arguments: 0..<samples.count)
    func mapping(_ index: Int) {
        let sample = Self.samples[index]
        for word in [sample.word, sample.word.uppercased(), sample.word.lowercased()] {
            #expect(stored(word, as: .taskResult) == sample.task, "\(word) as a task result")
            #expect(stored(word, as: .deploymentResult) == sample.deployment, "\(word) as a deployment result")
            #expect(stored(word, as: .status) == sample.status, "\(word) as a status")
        }
    }

    @Test("the table holds each word once, lower-case, and nothing beyond ASCII case folds into a word")
    func tableIsWellFormed() {
        let words = ToolVocabulary.words.map(\.word)
        #expect(Set(words).count == words.count)
        #expect(words.allSatisfy { $0 == $0.lowercased() && $0.utf8.allSatisfy { $0 < 0x80 } })
        // The Kelvin sign lower-cases to "k" in Unicode; matching folds ASCII only.
        #expect(ToolVocabulary.meaning(of: "bloc\u{212A}ed") == nil)
        #expect(ToolVocabulary.meaning(of: "maybe") == nil && ToolVocabulary.meaning(of: "") == nil)
    }

    @Test("docs/API-VOCABULARY.md lists every word of the table")
    func documented() throws {
        let doc = try String(contentsOf: PythonTools.projectRoot.appendingPathComponent("docs/API-VOCABULARY.md"), encoding: .utf8)
            .lowercased()
        for word in ToolVocabulary.words.map(\.word) {
            #expect(doc.contains("`\(word)`"), "\(word) is not in docs/API-VOCABULARY.md")
        }
    }

    /// The words a schema's pattern `^([Ss][Uu]...|...)$` accepts, lower-case.
    static func words(in pattern: String) -> Set<String> {
        var body = pattern
        for affix in ["^(", ")?$", ")$"] { body = body.replacingOccurrences(of: affix, with: "") }
        return Set(body.split(separator: "|").map { alternative in
            var word = "", rest = Substring(alternative)
            while let first = rest.first {
                if first == "[", rest.count >= 4 { word.append(rest[rest.index(rest.startIndex, offsetBy: 2)]); rest = rest.dropFirst(4) }
                else { word.append(first); rest = rest.dropFirst() }
            }
            return word.lowercased()
        })
    }

    @Test("the OpenAPI document's result and status patterns accept exactly the table's words")
    func openAPIAgrees() throws {
        let schemas = try #require((try OpenAPIDocumentTests.load()["components"] as? [String: Any])?["schemas"] as? [String: Any])
        func pattern(_ schema: String, _ field: String) throws -> Set<String> {
            let properties = try #require((schemas[schema] as? [String: Any])?["properties"] as? [String: Any])
            return Self.words(in: try #require((properties[field] as? [String: Any])?["pattern"] as? String))
        }
        let all = Set(ToolVocabulary.words.map(\.word))
        let results = Set(ToolVocabulary.words.filter { $0.meaning.result != nil }.map(\.word))
        #expect(try pattern("CicdTask", "result") == results)
        #expect(try pattern("CicdTask", "status") == all)
        #expect(try pattern("DeploymentCurrent", "result") == results)
        #expect(try pattern("DeploymentSingleCommit", "result") == results)
        #expect(try pattern("DeploymentCommit", "result") == results)
        #expect(try pattern("DeploymentCommit", "status") == all)
    }

    @Test("a task posted in Jenkins' and GitHub's words stores DevLake's and keeps the posted ones")
    func taskRows() throws {
        let (connection, key) = try server.newConnection("vocab-task")
        let cases: [(name: String, result: String, status: String, stored: (String, String))] = [
            ("jenkins", "ABORTED", "completed", ("ABORT", "DONE")),
            ("github", "timed_out", "COMPLETED", ("FAILURE", "DONE")),
            ("gitlab", "running", "Running", ("IN_PROGRESS", "IN_PROGRESS")),
            ("unstable", "UNSTABLE", "done", ("", "DONE")),
        ]
        for c in cases {
            let body = #"{"pipeline_name":"p","name":"\#(c.name)","result":"\#(c.result)","status":"\#(c.status)","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r"}"#
            let reply = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", body, key: key)
            #expect(reply.status == 200, "\(c.name): \(reply.text)")
            let row = try #require(try LakehookDatabase.rows(
                "SELECT result, status, original_result, original_status FROM cicd_tasks WHERE id = $1",
                [connection.rowId("p:\(c.name)")]).first)
            #expect(row["result"] == c.stored.0 && row["status"] == c.stored.1, "\(c.name)")
            #expect(row["original_result"] == c.result && row["original_status"] == c.status, "\(c.name)")
        }
        // The finish turns the running task into ABORT; the unstable one, without a result, fails nothing.
        let finish = try server.post("/api/plugins/webhook/\(connection.id)/cicd_pipeline/p/finish", "", key: key)
        #expect(finish.status == 200 && finish.data?["result"] == .string("ABORT"), "\(finish.text)")
    }

    @Test("deployments posted in Argo CD's, GitLab's and Bitbucket's words store DevLake's and keep the posted ones")
    func deploymentRows() throws {
        let (connection, key) = try server.newConnection("vocab-deploy")
        let current = #"{"id":"argo-1","result":"Degraded","startedDate":"2024-01-01T00:00:00Z","finishedDate":"2024-01-01T00:05:00Z","deploymentCommits":[{"repoUrl":"u","commitSha":"a1"},{"repoUrl":"u","commitSha":"a2","result":"canceled","status":"Running"}]}"#
        let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)/deployments", current, key: key)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(try LakehookDatabase.value(
            "SELECT result || ' ' || original_result FROM cicd_deployments WHERE id = $1", [connection.rowId("argo-1")]) == "FAILURE Degraded")
        let commits = try LakehookDatabase.rows("""
            SELECT commit_sha, result, original_result, status, original_status FROM cicd_deployment_commits
            WHERE cicd_deployment_id = $1 ORDER BY commit_sha
            """, [connection.rowId("argo-1")])
        #expect(commits.map { "\($0["commit_sha"]!) \($0["result"]!) \($0["original_result"]!) \($0["status"]!) \($0["original_status"]!)" }
            == ["a1 FAILURE Degraded DONE DONE", "a2 ABORT canceled IN_PROGRESS Running"])

        let single = #"{"repo_url":"u","commit_sha":"b1","start_time":"2024-01-01T00:00:00Z","end_time":"2024-01-01T00:01:00Z","pipeline_id":"bb-1","result":"STOPPED"}"#
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/deployments", single, key: key).status == 200)
        #expect(try LakehookDatabase.value(
            "SELECT result || ' ' || original_result FROM cicd_deployments WHERE id = $1", [connection.rowId("bb-1")]) == "ABORT STOPPED")
        // Not finished: a deployment has no result yet, as DevLake's plugins give such words none.
        let running = #"{"repo_url":"u","commit_sha":"b2","pipeline_id":"bb-2","result":"IN_PROGRESS"}"#
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/deployments", running, key: key).status == 200)
        #expect(try LakehookDatabase.value(
            "SELECT '[' || result || '] ' || original_result FROM cicd_deployments WHERE id = $1", [connection.rowId("bb-2")]) == "[] IN_PROGRESS")
    }

    @Test("a word in no vocabulary is a 400 whose cause names DevLake's words and the table, and nothing is written")
    func unknownWord() throws {
        let (connection, key) = try server.newConnection("vocab-bad")
        let before = try LakehookDatabase.footprint(of: connection)
        let task = #"{"pipeline_name":"p","name":"t","result":"GREAT","status":"SOON","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-01T00:00:00Z","repo_id":"r"}"#
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", task, key: key)
        #expect(reply.status == 400)
        let tools = "or a CI/CD tool's word for one (Jenkins, GitHub Actions, GitLab CI, CircleCI, Bitbucket, Azure Pipelines, Argo CD: docs/API-VOCABULARY.md)"
        #expect(reply.causes == [
            "result: must be one of SUCCESS, FAILURE, ABORT, IN_PROGRESS, \(tools)",
            "status: must be one of IN_PROGRESS, DONE, \(tools)",
        ], "\(reply.causes)")
        // DONE is a status, not a result.
        let done = try server.post("/api/plugins/webhook/\(connection.id)/deployments", #"{"repo_url":"u","commit_sha":"c","result":"done"}"#, key: key)
        #expect(done.status == 400 && done.causes == ["result: must be one of SUCCESS, FAILURE, ABORT, \(tools)"], "\(done.text)")
        #expect(try LakehookDatabase.footprint(of: connection) == before)
    }
}
