/// The ready-to-copy URLs of a connection, named as DevLake's Config UI names them.
public struct Endpoints: Sendable {
    public let base: String

    public init(publicURL: String, webhook: DevLakeConnection) {
        base = "\(publicURL)/api/plugins/webhook/\(webhook.id)"
    }

    public var all: [(name: String, url: String)] {
        [
            ("postIssuesEndpoint", "\(base)/issues"),
            ("closeIssuesEndpoint", "\(base)/issue/:issueKey/close"),
            ("postPipelineTaskEndpoint", "\(base)/cicd_tasks"),
            ("closePipelineEndpoint", "\(base)/cicd_pipeline/:pipelineName/finish"),
            ("postPipelineDeployTaskEndpoint", "\(base)/deployments"),
            ("postPullRequestsEndpoint", "\(base)/pull_requests"),
        ]
    }

    /// A connection as the CLI's `--json` and the HTTP administration show it: never the key's
    /// hash; the key itself only right after it was made.
    /// A source connection (issue 17) also has its `source` and `webhookURL`, and its
    /// `signingSecret` only when `secret` is true (the answer that creates or rotates it), and the
    /// options its mappings read: `environments` (github, gitlab, cdevents), `incidentLabel` (github).
    public static func describe(_ webhook: DevLakeConnection, publicURL: String, key: APIKey?, secret: Bool = false) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            (key: "id", value: .integer(webhook.id)),
            (key: "name", value: .string(webhook.name)),
            (key: "project", value: webhook.projectName.map(JSONValue.string) ?? .null),
            (key: "apiKeyHint", value: .string(webhook.apiKeyHint)),
            (key: "timeZone", value: .string(webhook.timeZone.identifier)),
        ]
        if let key { members.append((key: "apiKey", value: .string(key.plaintext))) }
        for endpoint in Endpoints(publicURL: publicURL, webhook: webhook).all {
            members.append((key: endpoint.name, value: .string(endpoint.url)))
        }
        if webhook.source != .devlake {
            members.append((key: "source", value: .string(webhook.source.rawValue)))
            members.append((key: "webhookURL", value: .string(sourceURL(webhook, publicURL: publicURL))))
            if secret, let signingSecret = webhook.signingSecret {
                members.append((key: "signingSecret", value: .string(signingSecret)))
            }
            // Its options, where its source's mappings read them (docs/SOURCES.md, "Per-connection options").
            if SourceOptionsChange.environmentSources.contains(webhook.source),
               case .object(let options) = webhook.sourceOptions.jsonValue {
                members.append((key: "environments", value: options["environments"] ?? .object(JSONObject(members: []))))
            }
            if SourceOptionsChange.incidentLabelSources.contains(webhook.source) {
                members.append((key: "incidentLabel", value: .string(webhook.sourceOptions.incidentLabel)))
            }
            if let expires = webhook.previousSecretExpires {
                members.append((key: "previousSecretAcceptedUntil", value: .string(
                    Timestamp(microsecondsSinceEpoch: Int64(expires * 1_000_000)).iso8601)))
            }
        }
        return .object(JSONObject(members: members))
    }

    /// The URL to paste into a source's webhook settings: `<public URL><prefix>/sources/<kind>/<id>`.
    public static func sourceURL(_ webhook: DevLakeConnection, publicURL: String) -> String {
        "\(publicURL)/api/plugins/webhook/sources/\(webhook.source.rawValue)/\(webhook.id)"
    }

    /// What to set where in the source's own settings, one line each.
    public static func sourceInstructions(_ webhook: DevLakeConnection, publicURL: String) -> [String] {
        let url = sourceURL(webhook, publicURL: publicURL)
        switch webhook.source {
        case .github:
            return [
                "GitHub: repository (or organization) Settings → Webhooks → Add webhook:",
                "  Payload URL:   \(url)", "  Content type:  application/json", "  Secret:        the signing secret above",
                "  Events:        Deployments, Deployment statuses, Issues, Pull requests, Workflow runs (or: Send me everything)",
            ]
        case .gitlab:
            return [
                "GitLab: project (or group) Settings → Webhooks → Add new webhook:",
                "  URL:           \(url)", "  Secret token:  the signing secret above (or set it as the Signing token)",
                "  Trigger:       Deployment, Issues, Merge request, Pipeline events",
            ]
        case .pagerduty:
            return [
                "PagerDuty: Integrations → Generic Webhooks (v3) → New Webhook:",
                "  Webhook URL:   \(url)", "  Event subscription: incident.* events",
                "  PagerDuty then shows its own signing secret: give it to this connection with",
                "  lakehook connections rotate-secret \(webhook.id) --secret <PagerDuty's secret> --grace 0",
            ]
        case .cdevents:
            return [
                "CDEvents (Standard Webhooks) sender:",
                "  URL:           \(url)", "  Secret:        the signing secret above (whsec_…)",
                "  Headers:       webhook-id, webhook-timestamp, webhook-signature (v1,<base64>)",
            ]
        case .devlake:
            return []
        }
    }

    /// One line per route to paste into a shell (bash or zsh), after a first line that sets
    /// `HOOK`, `KEY` and `PIPELINE`: the brief's four sample calls, then a deployment and a pull
    /// request. They can be pasted again (and again after the next `make run`): the pipeline's
    /// name is new each time (`demo-<seconds>-<random>`), since a finished pipeline takes no more tasks
    /// (403), and the other writes are upserts.
    public func sampleCalls(key: String) -> [String] {
        let post = #"curl -sS -X POST -H "Authorization: Bearer $KEY""#
        return [
            "HOOK='\(base)' KEY='\(key)' PIPELINE=demo-$(date +%s)-$RANDOM",
            #"\#(post) "$HOOK/issues" -d '{"board_key":"DLK","url":"","issue_key":"DLK-1234","title":"a feature from DLK","description":"","epic_key":"","type":"BUG","status":"TODO","original_status":"created","story_point":0,"resolution_date":null,"created_date":"2020-01-01T12:00:00+00:00","updated_date":null,"lead_time_minutes":0,"parent_issue_key":"DLK-1200","priority":"","original_estimate_minutes":0,"time_spent_minutes":0,"time_remaining_minutes":0,"creator_id":"user1131","creator_name":"Nick name 1","assignee_id":"user1132","assignee_name":"Nick name 2","severity":"","component":""}'"#,
            #"\#(post) "$HOOK/issue/DLK/DLK-1234/close""#,
            #"\#(post) "$HOOK/cicd_tasks" -d '{"pipeline_name":"'$PIPELINE'","name":"unit-test","result":"IN_PROGRESS","status":"IN_PROGRESS","type":"TEST","environment":"PRODUCTION","created_date":"2020-01-01T12:00:00+00:00","finished_date":"2020-01-01T12:59:59+00:00","repo_id":"devlake","branch":"main","commit_sha":"015e3d3b480e417aede5a1293bd61de9b0fd051d"}'"#,
            #"\#(post) "$HOOK/cicd_pipeline/$PIPELINE/finish""#,
            #"\#(post) "$HOOK/deployments" -d '{"id":"deploy-1","displayTitle":"release 1.0","result":"SUCCESS","environment":"PRODUCTION","startedDate":"2020-01-01T13:00:00+00:00","finishedDate":"2020-01-01T13:10:00+00:00","deploymentCommits":[{"repoUrl":"https://github.com/apache/incubator-devlake","commitSha":"015e3d3b480e417aede5a1293bd61de9b0fd051d"}]}'"#,
            #"\#(post) "$HOOK/pull_requests" -d '{"pullRequestKey":1,"displayTitle":"a feature from DLK","createdDate":"2020-01-01T10:00:00+00:00","mergedDate":"2020-01-01T11:00:00+00:00","mergeCommitSha":"015e3d3b480e417aede5a1293bd61de9b0fd051d"}'"#,
        ]
    }
}
