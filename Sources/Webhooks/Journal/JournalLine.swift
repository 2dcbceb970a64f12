/// One request as a line of NDJSON, the shape `lakehook import` reads and `lakehook export` writes:
///
///     {"route": "deployments", "params": {}, "body": {...}, "connectionId": 3, "receivedAt": "2026-01-02T03:04:05.123456Z"}
///
/// `route` is the journal's route name (`deployments`, `issue/:issueKey/close`); `params` the
/// path parameters below the connection; `body` the request's JSON body (absent for routes that
/// read none). `connectionId` and `receivedAt` are optional on import (`--connection`, now).
/// A body the journal kept as text (JSON that PostgreSQL's jsonb refuses) travels as
/// `"bodyText"`, a string of the body's bytes.
struct JournalLine: Equatable, Sendable {
    var route: String
    var params: [String: String]
    /// The body's bytes as the request carried them (empty: no body).
    var body: [UInt8]
    /// `body` parsed already (nil for `bodyText` or no body), so it is not parsed twice.
    var parsedBody: JSONValue?
    var connectionId: Int64?
    var receivedAt: Timestamp?

    /// Reads one line; the error says what is wrong with it, field by field.
    static func parse(_ bytes: some Collection<UInt8>) throws(WebhookError) -> JournalLine {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw WebhookError.badRequest("the line is not JSON: \(error)")
        }
        guard case .object(let object) = value else { throw WebhookError.badRequest("the line is not a JSON object") }
        var problems: [String] = []
        var route = ""
        switch object["route"] {
        case .string(let name) where !name.isEmpty: route = name
        case nil, .null: problems.append("route: is required (a route name such as \"deployments\")")
        default: problems.append("route: must be a route name such as \"deployments\"")
        }
        var params: [String: String] = [:]
        switch object["params"] {
        case nil, .null: break
        case .object(let members):
            for (name, value) in members.members {
                switch value {
                case .string(let text): params[name] = text
                case .number(let text): params[name] = text
                default: problems.append("params.\(name): must be a string")
                }
            }
        default: problems.append("params: must be an object of path parameters")
        }
        var body: [UInt8] = []
        var parsedBody: JSONValue?
        switch (object["body"], object["bodyText"]) {
        case (nil, nil), (.null?, nil), (nil, .null?): break
        case (let value?, nil):
            body = Array(value.serialized().utf8)
            parsedBody = value
        case (nil, .string(let text)?): body = Array(text.utf8)
        case (nil, _?): problems.append("bodyText: must be a string")
        case (_?, _?): problems.append("body, bodyText: give one of them, not both")
        }
        var connectionId: Int64?
        switch object["connectionId"] {
        case nil, .null: break
        case .number(let text), .string(let text):
            if case .id(let id)? = DevLakeConnectionReference.parseId(text) {
                connectionId = id
            } else {
                problems.append("connectionId: must be a positive whole number")
            }
        default: problems.append("connectionId: must be a positive whole number")
        }
        var receivedAt: Timestamp?
        switch object["receivedAt"] {
        case nil, .null: break
        case .string(let text):
            if let instant = TimestampParser.parse(text) {
                receivedAt = instant
            } else {
                problems.append("receivedAt: must be an RFC 3339 instant such as 2026-01-02T03:04:05Z")
            }
        default: problems.append("receivedAt: must be an RFC 3339 instant such as 2026-01-02T03:04:05Z")
        }
        guard problems.isEmpty else {
            throw WebhookError.badRequest("the line has \(problems.count == 1 ? "an invalid field" : "invalid fields")", causes: problems)
        }
        return JournalLine(
            route: route, params: params, body: body, parsedBody: parsedBody, connectionId: connectionId, receivedAt: receivedAt)
    }

    /// The line for a journaled event, without its newline. `jsonBody` is the journal's `body`
    /// column as PostgreSQL prints jsonb: valid JSON on one line, copied as it is.
    static func render(
        route: String, params: [String: String], jsonBody: String?, textBody: String?, connectionId: Int64, receivedAt: Timestamp
    ) -> String {
        let paramsJSON = JSONValue.object(JSONObject(members: params.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        var line = #"{"route":"# + JSONValue.string(route).serialized() + #","params":"# + paramsJSON.serialized()
        if let jsonBody {
            line += #","body":"# + jsonBody
        } else if let textBody {
            // Text that is JSON after all (jsonb refused only a value in it) stays JSON.
            if let value = try? JSONParser.parse(Array(textBody.utf8)) {
                line += #","body":"# + value.serialized()
            } else {
                line += #","bodyText":"# + JSONValue.string(textBody).serialized()
            }
        }
        line += #","connectionId":\#(connectionId),"receivedAt":"# + JSONValue.string(receivedAt.iso8601).serialized() + "}"
        return line
    }
}
