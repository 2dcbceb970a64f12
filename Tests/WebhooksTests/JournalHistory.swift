import Foundation
import Testing
@testable import Webhooks

/// A mixed history recorded through the real server (the event loops and pipelined connections
/// of `lakehook serve`) on a database of its own: issues with boards, an incident, closes in both
/// forms, a type change; CI/CD tasks and a pipeline finish that aborts a running task; deployments
/// in both body forms (one without `end_time`, dated by its arrival) and a re-post that replaces a
/// commit; pull requests, one sent twice under an Idempotency-Key; a second connection addressed
/// by name; and refusals (400, 403, 404).
enum JournalHistory {
    /// The connections' names, in the order they were created (ids 1, 2 in a fresh database).
    static func record(on database: ScratchDatabase) throws -> [String] {
        let server = try PipelineServer(pipeline: true, conninfo: database.conninfo)
        defer { server.stop() }
        let (shop, shopKey) = try server.newConnection("shop")
        let (api, apiKey) = try server.newConnection("api")
        let base = "/api/plugins/webhook/\(shop.id)"
        let byName = "/api/rest/plugins/webhook/connections/by-name/\(api.name)"
        func post(_ path: String, _ body: String? = nil, key: String = shopKey, expect status: Int = 200, headers: [(String, String)] = []) throws {
            let reply = try server.post(path, body, key: key, headers: headers)
            #expect(reply.status == status, "POST \(path): \(reply.text)")
        }

        // Issues: a board key, an incident with its assignee, a re-post, a type change, closes.
        try post("\(base)/issues", RoutesTests.issue("I-1", extra: #","board_key":"B1","assignee_id":"u1","assignee_name":"Ann","story_point":3"#))
        try post("\(base)/issues", RoutesTests.issue("I-2", type: "INCIDENT", extra: #","assignee_id":"u2","assignee_name":"Bo","severity":"HIGH""#))
        try post("\(base)/issues", RoutesTests.issue("I-3", type: "INCIDENT"))
        try post("\(base)/issues", #"{"issue_key":"I-1","title":"renamed","status":"IN_PROGRESS","original_status":"doing","created_date":"2024-01-01T00:00:00Z","type":"BUG","board_key":"B1"}"#)
        try post("\(base)/issues", RoutesTests.issue("I-3", type: "BUG"))
        try post("\(base)/issue/I-2/close")
        try post("\(base)/issue/B1/I-1/close")
        try post("\(base)/issue/NOPE/close", expect: 404)
        try post("\(base)/issues", #"{"issue_key":"I-4","status":"TODO","original_status":"open","created_date":"2024-01-01T00:00:00Z"}"#, expect: 400)

        // CI/CD: a task with a commit, a running task, the finish (which aborts it), a late task.
        try post("\(base)/cicd_tasks", #"{"pipeline_name":"P1","name":"build","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-02T10:00:00Z","finished_date":"2024-01-02T10:05:00Z","repo_id":"shop","branch":"main","commit_sha":"abc123"}"#)
        try post("\(base)/cicd_tasks", #"{"pipeline_name":"P1","name":"test","result":"IN_PROGRESS","status":"IN_PROGRESS","type":"TEST","environment":"STAGING","started_date":"2024-01-02T10:01:00Z","repo_id":"shop"}"#)
        try post("\(base)/cicd_tasks", #"{"pipeline_name":"P2","name":"lint","result":"FAILURE","status":"DONE","type":"LINT","environment":"TESTING","created_date":"2024-01-02T11:00:00Z","finished_date":"2024-01-02T11:01:00Z","repo_id":"shop"}"#)
        try post("\(base)/cicd_pipeline/P1/finish")
        try post("\(base)/cicd_tasks", #"{"pipeline_name":"P1","name":"late","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2024-01-02T10:09:00Z","repo_id":"shop"}"#, expect: 403)
        try post("\(base)/cicd_pipeline/NOPE/finish", expect: 404)

        // Deployments: the current form, the single-commit form without end_time, a re-post.
        try post("\(base)/deployments", #"{"id":"D1","displayTitle":"release 1","result":"SUCCESS","environment":"PRODUCTION","startedDate":"2024-01-03T09:00:00Z","finishedDate":"2024-01-03T09:10:00Z","deploymentCommits":[{"repoUrl":"https://github.com/example/shop","commitSha":"abc123","refName":"main"},{"repoUrl":"https://github.com/example/api","commitSha":"def456"}]}"#)
        try post("\(base)/deployments", #"{"repo_url":"https://github.com/example/shop","commit_sha":"fff999","start_time":"2024-01-03T11:00:00Z","pipeline_id":"D2","result":"FAILURE","ref_name":"main"}"#)
        try post("\(base)/deployments", #"{"id":"D1","displayTitle":"release 1","result":"SUCCESS","environment":"PRODUCTION","startedDate":"2024-01-03T09:00:00Z","finishedDate":"2024-01-03T09:12:00Z","deploymentCommits":[{"repoUrl":"https://github.com/example/shop","commitSha":"abc123","refName":"main"},{"repoUrl":"https://github.com/example/web","commitSha":"aaa111"}]}"#)
        try post("\(base)/deployments", #"{"id":"D3","result":"MAYBE","startedDate":"2024-01-03T09:00:00Z","finishedDate":"2024-01-03T09:10:00Z","deploymentCommits":[{"repoUrl":"u","commitSha":"s"}]}"#, expect: 400)

        // Pull requests: one posted twice under one Idempotency-Key (the second a duplicate), a re-post.
        try post("\(base)/pull_requests", #"{"pullRequestKey":1,"displayTitle":"Add x","createdDate":"2024-01-04T00:00:00Z","status":"OPEN","url":"https://example.com/pr/1"}"#)
        let merged = #"{"pullRequestKey":2,"displayTitle":"Fix y","createdDate":"2024-01-04T01:00:00Z","status":"MERGED","mergedDate":"2024-01-04T02:00:00Z","additions":5,"deletions":1}"#
        try post("\(base)/pull_requests", merged, headers: [("Idempotency-Key", "pr-2")])
        try post("\(base)/pull_requests", merged, headers: [("Idempotency-Key", "pr-2")])
        try post("\(base)/pull_requests", #"{"pullRequestKey":1,"displayTitle":"Add x","createdDate":"2024-01-04T00:00:00Z","status":"CLOSED","closedDate":"2024-01-05T00:00:00Z"}"#)

        // The second connection, by name: the same issue key and deployment id as the first's.
        try post("\(byName)/issues", RoutesTests.issue("I-1", type: "INCIDENT"), key: apiKey)
        try post("\(byName)/deployments", #"{"id":"D1","startedDate":"2024-01-06T09:00:00Z","finishedDate":"2024-01-06T09:01:00Z","deploymentCommits":[{"repoUrl":"https://github.com/example/api","commitSha":"bbb222"}]}"#, key: apiKey)
        try post("\(byName)/issues", "{", key: apiKey, expect: 400)

        let outcomes = Dictionary(uniqueKeysWithValues: try database.rows("SELECT outcome, count(*) FROM webhook_events GROUP BY outcome").map {
            ($0[0] ?? "", Int($0[1] ?? "0") ?? 0)
        })
        #expect(outcomes == ["applied": 19, "refused": 6, "duplicate": 1], "the journal holds the history: \(outcomes)")
        return [shop.name, api.name]
    }
}
