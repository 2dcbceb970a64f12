import Testing
@testable import Webhooks

/// Bodies that break an invariant of fuzz/PayloadFuzzer.swift, kept as tests (fuzz/README.md).
@Suite("Payload: fuzzer regressions")
struct PayloadFuzzRegressionTests {
    let connection = DevLakeConnection(id: 1, name: "fuzz", apiKeyHash: "", apiKeyHint: "")

    func object(_ json: String) throws -> JSONObject {
        try #require(try JSONParser.parse(Array(json.utf8)).objectValue)
    }

    // Broke: `type` "ß"×100 passed the 100-character check, then bound upper-cased as "SS"×100, 200 characters.
    @Test("an issue type that grows when upper-cased still fits issues.type varchar(100)")
    func issueTypeGrowingWhenUppercased() throws {
        let body = try object(#"""
            {"issue_key":"A-1","title":"t","status":"TODO","original_status":"open","created_date":"2020-01-01",
             "type":"\#(String(repeating: "ß", count: 100))"}
            """#)
        switch IssueUpsert.decode(body, for: connection) {
        case .success(let issue):
            let type = try #require(issue.binds(for: connection)[14])
            #expect(type.unicodeScalars.count <= 100)
        case .failure(let error):
            #expect(!error.causes.isEmpty)
        }
    }

    // Broke: a commit without `name` took the deployment's 300-character `name` into a varchar(255) column.
    @Test("a deployment commit named after a long deployment name still fits cicd_deployment_commits.name")
    func commitTakingLongDeploymentName() throws {
        let body = try object(#"""
            {"id":"d","name":"\#(String(repeating: "n", count: 300))","startedDate":"2023-01-01",
             "finishedDate":"2023-01-01","deploymentCommits":[{"repoUrl":"r","commitSha":"a"}]}
            """#)
        switch DeploymentUpsert.decode(body, for: connection) {
        case .success(let deployment):
            #expect(deployment.commits.allSatisfy { $0.name.unicodeScalars.count <= 255 })
        case .failure(let error):
            #expect(!error.causes.isEmpty)
        }
    }

    // Broke: the single-commit form's 256-character `display_title` became the commit's name, over varchar(255).
    @Test("a single-commit deployment with a long display_title still fits cicd_deployment_commits.name")
    func singleCommitLongDisplayTitle() throws {
        let body = try object(#"""
            {"repo_url":"r","commit_sha":"a","start_time":"2023-01-01","end_time":"2023-01-01",
             "display_title":"\#(String(repeating: "t", count: 256))"}
            """#)
        switch DeploymentUpsert.decode(body, for: connection) {
        case .success(let deployment):
            #expect(deployment.commits.allSatisfy { $0.name.unicodeScalars.count <= 255 })
        case .failure(let error):
            #expect(!error.causes.isEmpty)
        }
    }

    // Broke: the exponent saturated at 1_000_000 before the 1_000_000 fraction digits were taken off, so 10 read as 1.
    @Test("an integer written with a million fraction digits reads as its exact value")
    func integerWithMillionFractionDigits() throws {
        let literal = "0." + String(repeating: "0", count: 999_999) + "1e1000001"
        var reader = try FieldReader(object(#"{"n":\#(literal)}"#))
        #expect(reader.integer("n") == 10)
        #expect(reader.double("n") == 10)
        #expect(reader.causes.isEmpty)
    }
}
