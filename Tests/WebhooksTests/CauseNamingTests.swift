import Foundation
import Testing
@testable import Webhooks

/// API.md §9: a cause names the field the client sent, as it spelled it, with its path inside
/// the body. Two deployment causes did not: the date order named `finishedDate`/`startedDate`
/// whatever the client had sent, and the commit id length left out `deploymentCommits[i].`.
@Suite("Causes name the client's fields")
struct CauseNamingTests {
    let server = TestServer.shared

    func causes(_ body: String) throws -> [String] {
        let (connection, key) = try server.newConnection("causes")
        let before = try LakehookDatabase.footprint(of: connection)
        let reply = try server.post("/api/plugins/webhook/\(connection.id)/deployments", body, key: key)
        #expect(reply.status == 400, "\(reply.text)")
        #expect(try LakehookDatabase.footprint(of: connection) == before)
        return reply.causes
    }

    @Test("a single-commit deployment ending before it starts: the cause named finishedDate, not end_time")
    func singleCommitDateOrder() throws {
        let body = #"{"repo_url":"u","commit_sha":"abcdef1","start_time":"2021-06-01T10:00:00Z","end_time":"2021-06-01T09:10:00Z"}"#
        #expect(try causes(body) == ["end_time: is before start_time"])
    }

    @Test("the date order names whichever spelling of each date the v1.0 body used")
    func currentFormDateOrder() throws {
        let commits = #""deploymentCommits":[{"repoUrl":"u","commitSha":"s"}]"#
        #expect(try causes(#"{"id":"d","startedDate":"2021-06-01T10:00:00Z","finishedDate":"2021-06-01T09:00:00Z",\#(commits)}"#)
            == ["finishedDate: is before startedDate"])
        #expect(try causes(#"{"id":"d","start_time":"2021-06-01T10:00:00Z","end_time":"2021-06-01T09:00:00Z",\#(commits)}"#)
            == ["end_time: is before start_time"])
        #expect(try causes(#"{"id":"d","started_date":"2021-06-01T10:00:00Z","end_time":"2021-06-01T09:00:00Z",\#(commits)}"#)
            == ["end_time: is before started_date"])
    }

    @Test("a commit sha too long for its commit id: the cause lacked its deploymentCommits[i]. path")
    func commitIdLengthHasItsPath() throws {
        let id = String(repeating: "d", count: 200)
        let long = String(repeating: "s", count: 28)
        let body = #"{"id":"\#(id)","startedDate":"2021-01-01","finishedDate":"2021-01-01","deploymentCommits":[{"repoUrl":"u","commitSha":"ok"},{"repoUrl":"u","commit_sha":"\#(long)"}]}"#
        let found = try causes(body)
        #expect(found.count == 1 && found[0].hasPrefix("deploymentCommits[1].commit_sha: together with the deployment id is longer"), "\(found)")
        // The single-commit form's sha is a top-level field, without a path.
        let single = #"{"pipeline_id":"\#(id)","repo_url":"u","commit_sha":"\#(long)","start_time":"2021-01-01","end_time":"2021-01-01"}"#
        let top = try causes(single)
        #expect(top.count == 1 && top[0].hasPrefix("commit_sha: together with the deployment id is longer"), "\(top)")
    }
}
