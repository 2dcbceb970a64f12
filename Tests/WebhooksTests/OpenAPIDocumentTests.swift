import Foundation
import Testing
@testable import Webhooks
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The OpenAPI document: served as kept, valid, complete, and in agreement with the server.
@Suite("The OpenAPI document")
struct OpenAPIDocumentTests {
    let server = TestServer.shared

    static func load() throws -> [String: Any] {
        let data = try Data(contentsOf: PythonTools.document)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func paths() throws -> [String: [String: Any]] {
        try #require(try load()["paths"] as? [String: [String: Any]])
    }

    @Test("GET /api/openapi.json answers 200, application/json, exactly the bytes of Resources/openapi.json")
    func servedByteForByte() throws {
        let reply = try server.request("GET", "/api/openapi.json")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "application/json")
        let kept = try [UInt8](Data(contentsOf: PythonTools.document))
        #expect(reply.body == kept, "served \(reply.body.count) bytes, the file has \(kept.count)")
    }

    @Test("openapi-spec-validator finds the document a valid OpenAPI 3.1 document")
    func validPerSpecValidator() throws {
        let run = try PythonTools.run(
            PythonTools.tool("openapi-spec-validator"), [PythonTools.document.path], timeout: 120)
        #expect(run.status == 0, "\(run.output)")
        #expect(try Self.load()["openapi"] as? String == "3.1.0")
    }

    @Test("the document is what scripts/gen-openapi.py writes")
    func generatorInSync() throws {
        let script = PythonTools.projectRoot.appendingPathComponent("scripts/gen-openapi.py")
        let run = try PythonTools.run(PythonTools.tool("python"), [script.path, "--check"], timeout: 60)
        #expect(run.status == 0, "\(run.output)")
    }

    static let ingestSuffixes = [
        "/issues", "/issue/{issueKey}/close", "/issue/{boardKey}/{issueKey}/close", "/cicd_tasks",
        "/cicd_pipeline/{pipelineName}/finish", "/deployments", "/pull_requests",
    ]

    /// What the router serves, method by path, built from the service's own prefixes and forms.
    static func routerPaths() -> [String: Set<String>] {
        func template(_ pattern: String) -> String {
            pattern.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        }
        var paths: [String: Set<String>] = [:]
        for prefix in WebhookService.prefixes {
            for form in WebhookService.connectionForms {
                for suffix in ingestSuffixes { paths[template(prefix + form) + suffix] = ["post"] }
            }
            paths[prefix + "/connections"] = ["get", "post"]
            for form in ["/{connectionId}", "/by-name/{connectionName}"] {
                paths[prefix + "/connections" + form] = ["get", "patch", "delete"]
                paths[prefix + "/connections" + form + "/api-key"] = ["post"]
                paths[prefix + "/connections" + form + "/events"] = ["get"]
                paths[prefix + "/connections" + form + "/rotate-secret"] = ["post"]
            }
            for kind in ["github", "gitlab", "pagerduty", "cdevents"] { paths[prefix + "/sources/\(kind)/{connectionId}"] = ["post"] }
        }
        for path in ["/livez", "/readyz", "/healthz", "/metrics", "/api/openapi.json", "/api/dora", "/dora"] { paths[path] = ["get"] }
        return paths
    }

    @Test("the document lists every route under the four prefixes and three connection forms, and nothing else")
    func everyRouteListed() throws {
        let documented = try Self.paths().mapValues { Set($0.keys.filter { $0 != "parameters" }) }
        let expected = Self.routerPaths()
        // ingest, administration, operations, DORA, events, rotate-secret, sources
        let routeCount: Int = 4 * 3 * 7 + 4 * 5 + 5 + 2 + 4 * 2 + 4 * 2 + 4 * 4
        #expect(documented.count == routeCount)
        for (path, methods) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(documented[path] == methods, "\(path): documented \(documented[path] ?? []), routed \(methods)")
        }
        for path in documented.keys where expected[path] == nil {
            Issue.record("documented but not routed: \(path)")
        }
        for known in [
            "/api/plugins/webhook/{connectionId}/issues", "/api/rest/plugins/webhook/connections/{connectionId}/cicd_tasks",
            "/rest/plugins/webhook/connections/by-name/{connectionName}/issue/{boardKey}/{issueKey}/close",
            "/plugins/webhook/connections/{connectionId}/api-key", "/api/openapi.json",
        ] {
            #expect(documented[known] != nil, "\(known) is missing")
        }
    }

    @Test("every documented path is routed: another method answers 405 whose Allow names the documented methods")
    func everyPathRouted() throws {
        let samples = [
            "connectionId": "7", "connectionName": "openapi-probe", "issueKey": "KEY-1", "boardKey": "BOARD",
            "pipelineName": "build",
        ]
        for (template, item) in try Self.paths().sorted(by: { $0.key < $1.key }) {
            var path = template
            for (name, value) in samples { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
            #expect(!path.contains("{"), "unknown parameter in \(template)")
            let methods = item.keys.filter { $0 != "parameters" }.map { $0.uppercased() }.sorted()
            let reply = try server.request("PUT", path)
            #expect(reply.status == 405, "PUT \(path): \(reply.status) \(reply.text)")
            let allow = reply.header("Allow")?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.sorted()
            #expect(allow == methods, "\(template): Allow \(reply.header("Allow") ?? "none"), documented \(methods)")
        }
    }

    @Test("every operation documents its 200 and its refusals, all in the JSON envelope")
    func everyAnswerDocumented() throws {
        for (path, item) in try Self.paths() {
            for (method, value) in item where method != "parameters" {
                let operation = try #require(value as? [String: Any])
                let responses = try #require(operation["responses"] as? [String: Any])
                var statuses: Set<String> = ["200", "400", "408", "413", "431", "500", "503"]
                if path.hasSuffix("/connections") || path.contains("/connections/") || path.contains("}/") {
                    statuses.formUnion(["401", "403"])
                }
                if path.contains("{") { statuses.insert("404") }
                if path.hasSuffix("dora") { statuses.formUnion(["401", "403", "404"]) }
                #expect(statuses.isSubset(of: Set(responses.keys)), "\(method) \(path): \(responses.keys.sorted())")
                #expect(operation["security"] != nil, "\(method) \(path) says nothing about security")
            }
        }
        let document = try Self.load()
        let components = try #require(document["components"] as? [String: Any])
        let schemes = try #require(components["securitySchemes"] as? [String: [String: Any]])
        #expect(schemes["apiKey"]?["scheme"] as? String == "bearer")
        #expect(schemes["apiKeyBasic"]?["scheme"] as? String == "basic")
        #expect(schemes["adminToken"]?["scheme"] as? String == "bearer")
        let responses = try #require(components["responses"] as? [String: [String: Any]])
        let unavailableHeaders = try #require(responses["Unavailable"]?["headers"] as? [String: Any])
        #expect(unavailableHeaders["Retry-After"] != nil)
    }

    /// Bodies in their canonical spelling, with whether the service takes them. The document's
    /// schema and the service must agree on each.
    static let bodies: [(route: String, schema: String, body: String, valid: Bool)] = [
        ("/issues", "Issue", #"{"board_key":"DLK","url":"","issue_key":"DLK-1234","title":"a feature from DLK","description":"","epic_key":"","type":"BUG","status":"TODO","original_status":"created","story_point":0,"resolution_date":null,"created_date":"2020-01-01T12:00:00+00:00","updated_date":null,"lead_time_minutes":0,"parent_issue_key":"DLK-1200","priority":"","original_estimate_minutes":0,"time_spent_minutes":0,"time_remaining_minutes":0,"creator_id":"user1131","creator_name":"Nick name 1","assignee_id":"user1132","assignee_name":"Nick name 2","severity":"","component":""}"#, true),
        ("/issues", "Issue", #"{"issue_key":1234,"title":true,"status":"in_progress","original_status":"open","created_date":"2020-01-01 12:00","resolution_date":1577880000000,"story_point":"3.5","lead_time_minutes":"12","type":"incident","x":{"y":[1]}}"#, true),
        ("/issues", "Issue", #"{"issue_key":"K-3","title":"t","status":"DONE","original_status":"o","created_date":"2020-01-01T12:00:00.123456789-0800","updated_date":"","story_point":"","severity":null}"#, true),
        ("/issues", "Issue", #"{"issue_key":"K-4","status":"TODO","original_status":"o","created_date":"2020-01-01"}"#, false),
        ("/issues", "Issue", #"{"issue_key":"K-5","title":"t","status":"OPEN","original_status":"o","created_date":"2020-01-01"}"#, false),
        ("/issues", "Issue", #"{"issue_key":"K-6","title":"t","status":"TODO","original_status":"o","created_date":"2020-13-01"}"#, false),
        ("/issues", "Issue", #"{"issue_key":"K-7","title":"t","status":"TODO","original_status":"o","created_date":"2020-01-01T12:00:00.1234567890Z"}"#, false),
        ("/issues", "Issue", #"{"issue_key":"K-8","title":"t","status":"TODO","original_status":"o","created_date":"2020-01-01","story_point":"abc"}"#, false),
        ("/issues", "Issue", #"{"issue_key":"K\u0000","title":"t","status":"TODO","original_status":"o","created_date":"2020-01-01"}"#, false),
        ("/issues", "Issue", #"{"issue_key":"","title":"t","status":"TODO","original_status":"o","created_date":"2020-01-01"}"#, false),
        ("/issues", "Issue", #"{"issue_key":"K-9","title":"t","status":"TODO","original_status":"o","created_date":"2020-01-01","lead_time_minutes":1.5}"#, false),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"A123","name":"unit-test","result":"IN_PROGRESS","status":"IN_PROGRESS","type":"TEST","environment":"PRODUCTION","created_date":"2020-01-01T12:00:00+00:00","finished_date":"2020-01-01T12:59:59+00:00","repo_id":"devlake","branch":"main","commit_sha":"015e3d3b480e417aede5a1293bd61de9b0fd051d"}"#, true),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"A124","name":"jenkins","result":"UNSTABLE","status":"completed","type":"TEST","environment":"PRODUCTION","started_date":"2020-01-01T12:00:00+00:00","repo_id":"devlake"}"#, true),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"A125","name":"x","result":"GREAT","status":"queued","type":"TEST","environment":"PRODUCTION","started_date":"2020-01-01T12:00:00+00:00","repo_id":"devlake"}"#, false),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"A126","name":"x","result":"success","status":"SOON","type":"TEST","environment":"PRODUCTION","started_date":"2020-01-01T12:00:00+00:00","repo_id":"devlake"}"#, false),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"B1","name":"build","result":"success","status":"done","type":"build","environment":"staging","started_date":1577880000000,"repo_id":42}"#, true),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"B5","name":"build","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":1.5e12,"finished_date":1500000000000.0015,"repo_id":"r"}"#, true),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"B6","name":"build","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":2.534023008e14,"repo_id":"r"}"#, false),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"B2","name":"build","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","started_date":"2020-01-01"}"#, false),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"B3","name":"build","result":"SUCCESS","status":"DONE","type":"DEPLOY","environment":"PRODUCTION","started_date":"2020-01-01","repo_id":"r"}"#, false),
        ("/cicd_tasks", "CicdTask", #"{"pipeline_name":"B4","name":"build","result":"SUCCESS","status":"DONE","type":"BUILD","environment":"PRODUCTION","repo_id":"r"}"#, false),
        ("/deployments", "Deployment", #"{"id":"deploy-42","displayTitle":"release 1.2","result":"failure","environment":"staging","startedDate":"2024-01-01T10:00:00Z","finishedDate":"2024-01-01T10:05:00Z","deploymentCommits":[{"repoUrl":"https://example.com/r.git","commitSha":"015e3d3b480e417aede5a1293bd61de9b0fd051d","refName":"main","status":"in_progress"}]}"#, true),
        ("/deployments", "Deployment", #"{"repo_url":"https://example.com/r.git","commit_sha":"abc123","start_time":"2024-01-01T10:00:00Z","end_time":"2024-01-01T10:05:00Z","pipeline_id":"p-7","environment":"testing"}"#, true),
        ("/deployments", "Deployment", #"{"repo_url":"https://example.com/r.git","commit_sha":"abc124","start_time":"2024-01-01T10:00:00Z"}"#, true),
        ("/deployments", "Deployment", #"{"repo_url":"https://example.com/r.git","commit_sha":"abc125"}"#, true),
        ("/deployments", "Deployment", #"{"id":"d-1","startedDate":"2024-01-01T10:00:00Z","finishedDate":"2024-01-01T10:05:00Z","deploymentCommits":[]}"#, false),
        ("/deployments", "Deployment", #"{"id":"d-2","startedDate":"2024-01-01T10:00:00Z","finishedDate":"2024-01-01T10:05:00Z","deploymentCommits":[{"repoUrl":"r"}]}"#, false),
        ("/deployments", "Deployment", #"{"id":"d-3","startedDate":"2024-01-01T10:00:00Z","deploymentCommits":[{"repoUrl":"r","commitSha":"abc"}]}"#, false),
        ("/deployments", "Deployment", #"{"id":"d-4","result":"MAYBE","startedDate":"2024-01-01T10:00:00Z","finishedDate":"2024-01-01T10:05:00Z","deploymentCommits":[{"repoUrl":"r","commitSha":"abc"}]}"#, false),
        ("/deployments", "Deployment", #"{"id":"d-5","result":"Degraded","startedDate":"2024-01-01T10:00:00Z","finishedDate":"2024-01-01T10:05:00Z","deploymentCommits":[{"repoUrl":"r","commitSha":"abc","result":"canceled","status":"Running"}]}"#, true),
        ("/deployments", "Deployment", #"{"repo_url":"r","commit_sha":"abc126","result":"FAILED"}"#, true),
        ("/deployments", "Deployment", #"{"repo_url":"r","commit_sha":"abc127","result":"DONE"}"#, false),
        ("/pull_requests", "PullRequest", #"{"pullRequestKey":17,"displayTitle":"Fix","createdDate":"2024-01-01T09:00:00Z","status":"merged","mergedDate":"2024-01-02T09:00:00Z","isDraft":"TRUE","additions":"10","deletions":3.0}"#, true),
        ("/pull_requests", "PullRequest", #"{"pullRequestKey":"18","displayTitle":"Fix","createdDate":"2024-01-01","isDraft":0}"#, true),
        ("/pull_requests", "PullRequest", #"{"pullRequestKey":"007","displayTitle":"Fix","createdDate":"2024-01-01","additions":"0012"}"#, true),
        ("/pull_requests", "PullRequest", #"{"pullRequestKey":"abc","displayTitle":"Fix","createdDate":"2024-01-01"}"#, false),
        ("/pull_requests", "PullRequest", #"{"pullRequestKey":19,"title":"Fix","createdDate":"2024-01-01"}"#, true),
        ("/pull_requests", "PullRequest", #"{"pullRequestKey":20,"createdDate":"2024-01-01"}"#, false),
        ("/pull_requests", "PullRequest", #"{"pullRequestKey":19,"createdDate":"2024-01-01"}"#, false),
        ("/pull_requests", "PullRequest", #"{"pullRequestKey":20,"displayTitle":"Fix","createdDate":"2024-01-01","isDraft":"maybe"}"#, false),
    ]

    @Test("the document's request schemas and the service agree on which bodies are valid")
    func schemasAgreeWithService() throws {
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator
            document = json.load(open(sys.argv[1]))
            verdicts = []
            for schema, body in json.load(sys.stdin):
                validator = Draft202012Validator({**document, "$ref": "#/components/schemas/" + schema})
                verdicts.append(validator.is_valid(json.loads(body)))
            print(json.dumps(verdicts))
            """
        let input = String(decoding: try JSONSerialization.data(withJSONObject: Self.bodies.map { [$0.schema, $0.body] }), as: UTF8.self)
        let run = try PythonTools.run(
            PythonTools.tool("python"), ["-c", script, PythonTools.document.path], input: input, timeout: 60)
        #expect(run.status == 0, "\(run.output)")
        let line = run.output.split(separator: "\n").last.map(String.init) ?? ""
        let verdicts = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Bool], "\(run.output)")
        try #require(verdicts.count == Self.bodies.count)

        let (connection, key) = try server.newConnection("openapi-bodies")
        for (index, sample) in Self.bodies.enumerated() {
            #expect(verdicts[index] == sample.valid, "the document says \(verdicts[index]) for \(sample.body)")
            let reply = try server.post("/api/rest/plugins/webhook/connections/\(connection.id)\(sample.route)", sample.body, key: key)
            #expect(reply.status == (sample.valid ? 200 : 400), "\(sample.body): \(reply.status) \(reply.text)")
        }
    }
}
