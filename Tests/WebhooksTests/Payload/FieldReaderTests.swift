import Testing
@testable import Webhooks

/// A reader of a JSON object body written as text.
func fieldReader(_ json: String, path: String = "") throws -> FieldReader {
    let value = try JSONParser.parse(Array(json.utf8))
    return FieldReader(try #require(value.objectValue), path: path)
}

@Suite("Field reader: names, causes and nesting")
struct FieldReaderTests {
    @Test("matches a field whatever its case and underscores", arguments: [
        "issue_key", "issueKey", "ISSUEKEY", "Issue_Key", "ISSUE_KEY", "issuekey", "_issue__key_",
    ])
    func folding(spelling: String) throws {
        var reader = try fieldReader(#"{"\#(spelling)": "DLK-1"}"#)
        #expect(reader.string("issueKey") == "DLK-1")
        #expect(reader.string("issue_key") == "DLK-1")
        #expect(reader.has("issueKey"))
        #expect(reader.causes.isEmpty)
    }

    @Test("folds only ASCII letters, so the Kelvin sign is not a k")
    func asciiOnlyFolding() throws {
        var reader = try fieldReader(#"{"\u212Aey": "x"}"#)
        #expect(reader.string("key") == nil)
        #expect(!reader.has("key"))
    }

    @Test("causes name the field as the client spelled it")
    func causesUseClientSpelling() throws {
        var reader = try fieldReader(#"{"ISSUE_KEY": [], "Story_Point": "many", "Created_Date": null}"#)
        _ = reader.string("issueKey", required: true)
        _ = reader.double("storyPoint")
        _ = reader.timestamp("createdDate", required: true)
        _ = reader.string("title", required: true)
        #expect(reader.causes == [
            "ISSUE_KEY: must be a string",
            "Story_Point: must be a number",
            "Created_Date: is required",
            "title: is required",
        ])
    }

    @Test("the last of several spellings of one field wins, and names it")
    func lastDuplicateWins() throws {
        var reader = try fieldReader(#"{"issue_key": "A", "issueKey": "B", "story_point": 1, "storyPoint": "x"}"#)
        #expect(reader.string("issueKey") == "B")
        #expect(reader.double("story_point") == nil)
        #expect(reader.causes == ["storyPoint: must be a number"])
    }

    @Test("collects every problem of a body, in the order read")
    func collectsEveryProblem() throws {
        var reader = try fieldReader(#"""
            {"pipeline_name": {}, "result": "OK", "status": "DONE", "started_date": "yesterday",
             "type": 7, "environment": "", "repo_id": "devlake"}
            """#)
        _ = reader.string("pipelineName", required: true)
        _ = reader.string("name", required: true)
        _ = reader.enumeration("result", allowed: ["SUCCESS", "FAILURE", "ABORT", "IN_PROGRESS"], required: true)
        _ = reader.enumeration("status", allowed: ["IN_PROGRESS", "DONE"], required: true)
        _ = reader.enumeration("type", allowed: ["TEST", "LINT", "BUILD", "DEPLOYMENT"], required: true)
        _ = reader.enumeration("environment", allowed: ["PRODUCTION"], required: true)
        _ = reader.timestamp("startedDate", required: true)
        _ = reader.string("repoId", required: true)
        #expect(reader.causes == [
            "pipeline_name: must be a string",
            "name: is required",
            "result: must be one of SUCCESS, FAILURE, ABORT, IN_PROGRESS",
            "type: must be one of TEST, LINT, BUILD, DEPLOYMENT",
            "environment: is required",
            "started_date: is not a valid date (expected RFC 3339, e.g. 2020-01-01T12:00:00+00:00)",
        ])
    }

    @Test("fail names the client's spelling with the path")
    func failUsesSpellingAndPath() throws {
        var reader = try fieldReader(#"{"finished_date": "2020-01-01"}"#, path: "deploymentCommits[2].")
        reader.fail("finishedDate", "must not be before startedDate")
        reader.fail("startedDate", "is required")
        #expect(reader.causes == [
            "deploymentCommits[2].finished_date: must not be before startedDate",
            "deploymentCommits[2].startedDate: is required",
        ])
        #expect(reader.path == "deploymentCommits[2].")
    }

    @Test("has is false for absent and null, true for any other value")
    func has() throws {
        let reader = try fieldReader(#"{"a": null, "b": "", "c": 0, "d": false, "e": []}"#)
        #expect(!reader.has("a"))
        #expect(reader.has("b"))
        #expect(reader.has("c"))
        #expect(reader.has("d"))
        #expect(reader.has("e"))
        #expect(!reader.has("f"))
    }

    @Test("nested objects get paths with their index, and their causes are absorbed")
    func nestedObjects() throws {
        var reader = try fieldReader(#"""
            {"id": "d1", "deployment_commits": [
                {"repoUrl": "https://x/r", "commitSha": "abc"},
                {"repo_url": "https://x/r", "commit_sha": 12, "Result": "maybe"},
                "not an object",
                {}
            ]}
            """#)
        let readers = reader.objects("deploymentCommits", required: true)
        let commits = try #require(readers)
        #expect(commits.count == 3)
        for var commit in commits {
            _ = commit.string("repoUrl", required: true)
            _ = commit.string("commitSha", required: true)
            _ = commit.enumeration("result", allowed: ["SUCCESS", "FAILURE"])
            reader.absorb(commit)
        }
        #expect(reader.causes == [
            "deployment_commits[2]: must be an object",
            "deployment_commits[1].Result: must be one of SUCCESS, FAILURE",
            "deployment_commits[3].repoUrl: is required",
            "deployment_commits[3].commitSha: is required",
        ])
    }

    @Test("an array of objects must be an array, and a required one must not be empty", arguments: [
        (#"{}"#, "deploymentCommits: is required"),
        (#"{"deploymentCommits": null}"#, "deploymentCommits: is required"),
        (#"{"deploymentCommits": []}"#, "deploymentCommits: must not be empty"),
        (#"{"deploymentCommits": {}}"#, "deploymentCommits: must be an array of objects"),
        (#"{"deploymentCommits": "abc"}"#, "deploymentCommits: must be an array of objects"),
    ])
    func objectArrays(json: String, cause: String) throws {
        var reader = try fieldReader(json)
        #expect(reader.objects("deploymentCommits", required: true) == nil)
        #expect(reader.causes == [cause])
    }

    @Test("an optional array of objects may be absent or empty")
    func optionalObjectArrays() throws {
        var reader = try fieldReader(#"{"b": []}"#)
        #expect(reader.objects("a") == nil)
        #expect(reader.objects("b")?.isEmpty == true)
        #expect(reader.causes.isEmpty)
    }

    @Test("unknown fields are ignored")
    func unknownFields() throws {
        var reader = try fieldReader(#"{"title": "t", "whatever": {"deep": [1]}}"#)
        #expect(reader.string("title") == "t")
        #expect(reader.causes.isEmpty)
    }
}
