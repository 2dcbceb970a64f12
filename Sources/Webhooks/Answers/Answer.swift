import HTTP

/// The JSON envelope of every answer (API.md §9):
/// `{"code":0,"success":true,"message":"success","causes":null,"data":null}`, then a newline, so
/// that a shell prompt after `curl` starts on a line of its own (JSON allows the whitespace, and
/// DevLake's clients parse the JSON, not the bytes).
public enum Answer {
    public static func success(_ data: JSONValue = .null) -> HTTPResponse {
        envelope(status: 200, code: 0, success: true, message: "success", causes: nil, data: data)
    }

    public static func failure(_ error: WebhookError) -> HTTPResponse {
        var response = envelope(
            status: error.status, code: error.status, success: false, message: error.message,
            causes: error.causes, data: .null)
        for (name, value) in error.headers.sorted(by: { $0.key < $1.key }) {
            response.headers.add(name: name, value: value)
        }
        return response
    }

    /// A JSON document that is not the envelope (e.g. a DORA report), ending with a newline. (The
    /// OpenAPI document is served as its file is, byte for byte, not through here.)
    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        var body = Array(value.serialized().utf8)
        body.append(UInt8(ascii: "\n"))
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    private static func envelope(
        status: Int, code: Int, success: Bool, message: String, causes: [String]?, data: JSONValue
    ) -> HTTPResponse {
        let object = JSONObject(members: [
            (key: "code", value: .number(String(code))),
            (key: "success", value: .bool(success)),
            (key: "message", value: .string(message)),
            (key: "causes", value: causes.map { .array($0.map(JSONValue.string)) } ?? .null),
            (key: "data", value: data),
        ])
        return json(.object(object), status: status)
    }
}
