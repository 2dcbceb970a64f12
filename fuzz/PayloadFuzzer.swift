@testable import Webhooks

/// libFuzzer target for the payload layer (build and run with fuzz/run.sh).
///
/// The input is a request body. Beyond "does not crash", each input is checked for:
/// - `JSONParser`: a refusal points inside the input; a parsed document serializes, re-parses
///   to an equal value and serializes to the same bytes again;
/// - `TimestampParser`: every date it accepts (the input itself when short, every string and
///   number in the document) lies in years 0001–9999 and reads back the same from its own
///   RFC 3339 and PostgreSQL forms;
/// - `FieldReader`: for every member, each reader either returns a value that obeys its rule or
///   adds exactly one cause — never both, never neither;
/// - the four ingest decoders, for a short and a long connection id: deterministic; an accepted
///   body's binds match the statement's placeholders, hold no NUL, fit their columns' widths and
///   are valid text for their types (the deployment's commits travel as JSON, checked the same);
///   a refused body answers 400 with at least one cause.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    PayloadFuzzer.check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

enum PayloadFuzzer {
    static let connections = [
        WebhookConnection(id: 1, name: "fuzz", apiKeyHash: "", apiKeyHint: ""),
        WebhookConnection(
            id: Int64.max, name: String(repeating: "n", count: Width.key), apiKeyHash: "", apiKeyHint: ""),
    ]

    static func check(_ bytes: [UInt8]) {
        if bytes.count <= 64, let text = String(validating: bytes, as: UTF8.self) {
            checkDate(text)
            checkEpochMilliseconds(text)
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            guard (0...bytes.count).contains(error.offset), !error.message.isEmpty else {
                fatalError("JSON refusal \"\(error.message)\" at offset \(error.offset) of \(bytes.count) bytes")
            }
            return
        }
        checkRoundTrip(document)
        walk(document) { value in
            switch value {
            case .string(let text): checkDate(text)
            case .number(let literal): checkNumber(literal)
            default: break
            }
        }
        guard case .object(let body) = document else { return }
        checkFieldReader(body)
        for connection in connections {
            checkDecoder(IssueUpsert.self, body, connection) { $0.binds(for: connection) }
            checkDecoder(TaskUpsert.self, body, connection) { task in
                if let duration = task.durationSeconds, duration < 0 { fatalError("task with duration \(duration) s") }
                return task.binds(for: connection)
            }
            checkDecoder(PullRequestUpsert.self, body, connection) { pullRequest in
                if pullRequest.key < 1 { fatalError("pull request with key \(pullRequest.key)") }
                return pullRequest.binds(for: connection)
            }
            checkDecoder(DeploymentUpsert.self, body, connection) { deployment in
                for commit in deployment.commits {
                    let id = connection.rowId(deployment.id).unicodeScalars.count
                        + DeploymentUpsert.commitIdOverhead + commit.commitSha.unicodeScalars.count
                    if id > Width.key { fatalError("deployment commit id of \(id) characters (\(commit.commitSha))") }
                }
                return deployment.binds(for: connection)
            }
        }
    }

    // MARK: - JSON

    static func checkRoundTrip(_ document: JSONValue) {
        let text = document.serialized()
        let again: JSONValue
        do {
            again = try JSONParser.parse(Array(text.utf8))
        } catch {
            fatalError("serialized document \(text) does not parse: \(error)")
        }
        guard again == document else { fatalError("serialized document \(text) parses to a different value") }
        guard again.serialized() == text else { fatalError("serializing \(text) twice gives different text") }
    }

    static func walk(_ value: JSONValue, _ visit: (JSONValue) -> Void) {
        visit(value)
        switch value {
        case .array(let elements): for element in elements { walk(element, visit) }
        case .object(let object): for member in object.members { visit(.string(member.key)); walk(member.value, visit) }
        default: break
        }
    }

    // MARK: - Numbers and dates

    /// A number literal the JSON parser accepted is a `DecimalLiteral`, and an integral one
    /// converts to the same `Double` whether read as an integer or as a double.
    static func checkNumber(_ literal: String) {
        guard let decimal = DecimalLiteral(literal) else { fatalError("JSON number \(literal) is not a DecimalLiteral") }
        if case .value(let integer) = decimal.int64, decimal.double != Double(integer) {
            fatalError("number \(literal) reads as integer \(integer) but as double \(String(describing: decimal.double))")
        }
        checkEpochMilliseconds(literal)
    }

    static func checkDate(_ text: String) {
        guard let instant = TimestampParser.parse(text) else { return }
        checkInstant(instant, source: text)
    }

    static func checkEpochMilliseconds(_ literal: String) {
        guard let instant = TimestampParser.fromEpochMilliseconds(literal) else { return }
        checkInstant(instant, source: literal)
    }

    static func checkInstant(_ instant: Timestamp, source: String) {
        guard instant >= TimestampParser.earliest, instant <= TimestampParser.latest else {
            fatalError("date \(source) reads as \(instant.microsecondsSinceEpoch) µs, outside years 0001–9999")
        }
        guard TimestampParser.parse(instant.iso8601) == instant else {
            fatalError("date \(source) formats as \(instant.iso8601), which does not read back the same")
        }
        guard isTimestampBind(instant.postgresText) else {
            fatalError("date \(source) binds as \(instant.postgresText), which does not read back")
        }
    }

    /// `YYYY-MM-DD HH:MM:SS[.f]+00` naming an instant in years 0001–9999.
    static func isTimestampBind(_ text: String) -> Bool {
        guard text.hasSuffix("+00"), text.utf8.count > 13 else { return false }
        var iso = Array(text.utf8.dropLast(3))
        guard iso[10] == UInt8(ascii: " ") else { return false }
        iso[10] = UInt8(ascii: "T")
        return TimestampParser.parse(String(decoding: iso + [UInt8(ascii: "Z")], as: UTF8.self)) != nil
    }

    // MARK: - FieldReader

    /// Every reader, for every member, either returns a value within its rule or adds exactly one cause.
    static func checkFieldReader(_ body: JSONObject) {
        var reader = FieldReader(body)
        for key in body.members.map(\.key) {
            func expect<Value>(_ name: String, _ read: (inout FieldReader) -> Value?, valid: (Value) -> Bool) {
                let before = reader.causes.count
                let value = read(&reader)
                let added = reader.causes.count - before
                if let value {
                    if added != 0 || !valid(value) {
                        fatalError("\(name)(\"\(key)\") returned \(value) and added \(added) causes: \(reader.causes)")
                    }
                } else if added != 1 {
                    fatalError("\(name)(\"\(key)\") returned nil and added \(added) causes: \(reader.causes)")
                }
            }
            expect("string", { $0.string(key, required: true, maxLength: 10) }) { text in
                !text.isEmpty && !text.utf8.contains(0) && text.unicodeScalars.count <= 10
            }
            expect("double", { $0.double(key, required: true) }) { $0.isFinite }
            expect("boolean", { $0.boolean(key, required: true) }) { _ in true }
            expect("timestamp", { $0.timestamp(key, required: true) }) { instant in
                checkInstant(instant, source: "member \(key)")
                return true
            }
            expect("enumeration", { $0.enumeration(key, allowed: ["DONE", "TODO"], required: true) }) {
                $0 == "DONE" || $0 == "TODO"
            }
            let before = reader.causes.count
            if let integer = reader.integer(key, required: true) {
                if let double = reader.double(key), double != Double(integer) {
                    fatalError("\"\(key)\" reads as integer \(integer) but as double \(double)")
                }
                if reader.causes.count != before { fatalError("integer(\"\(key)\") returned a value and a cause") }
            } else if reader.causes.count != before + 1 {
                fatalError("integer(\"\(key)\") returned nil and added \(reader.causes.count - before) causes")
            }
        }
    }

    // MARK: - Decoders

    /// The arrival every decoder is given: fixed, so that two decodings of one body are equal.
    static let arrival = Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000)

    static func checkDecoder<Operation: Equatable>(
        _ type: Operation.Type, _ body: JSONObject, _ connection: WebhookConnection,
        binds: (Operation) -> [String?]
    ) where Operation: DecodableOperation {
        let outcome = Operation.decode(body, for: connection, arrival: Self.arrival)
        guard outcome == Operation.decode(body, for: connection, arrival: Self.arrival) else {
            fatalError("\(type) decoded the same body twice to different results")
        }
        switch outcome {
        case .success(let operation):
            let values = binds(operation)
            let columns = operation.columns
            guard values.count == columns.count, values.count == placeholderCount(operation.sql) else {
                fatalError("\(type) has \(values.count) binds for \(placeholderCount(operation.sql)) placeholders")
            }
            for (index, (value, column)) in zip(values, columns).enumerated() {
                if let problem = column.problem(with: value) {
                    fatalError("\(type) bind $\(index + 1) \(problem): \(String(reflecting: value))")
                }
            }
        case .failure(let error):
            guard error.status == 400, !error.causes.isEmpty,
                  error.causes.allSatisfy({ $0.contains(": ") })
            else { fatalError("\(type) refused a body with \(error.status) and causes \(error.causes)") }
        }
    }

    /// The highest `$n` in a statement.
    static func placeholderCount(_ sql: String) -> Int {
        var highest = 0
        var number: Int?
        for byte in sql.utf8 + [0] {
            if let current = number, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                number = current * 10 + Int(byte - UInt8(ascii: "0"))
            } else {
                if let current = number { highest = max(highest, current) }
                number = byte == UInt8(ascii: "$") ? 0 : nil
            }
        }
        return highest
    }
}

/// What a bind's column holds (sql/migrations/0001_domain_tables.sql).
struct Column: Sendable {
    enum Kind: Sendable {
        /// `varchar(n)` (n characters, i.e. Unicode scalars) or `text` (nil).
        case text(width: Int?)
        case timestamp
        /// RFC 3339, as the deployment's commits carry dates to jsonb_to_recordset.
        case rfc3339
        case float8
        case bigint
        case boolean
        /// The deployment's commits, a JSON array of objects of these columns.
        case commits([String: Column])
    }

    var kind: Kind
    var nullable = false

    static func varchar(_ width: Int) -> Column { Column(kind: .text(width: width)) }
    static let text = Column(kind: .text(width: nil))
    static let timestamp = Column(kind: .timestamp)
    static let optionalTimestamp = Column(kind: .timestamp, nullable: true)
    static let float8 = Column(kind: .float8)
    static let bigint = Column(kind: .bigint)
    static let boolean = Column(kind: .boolean)

    /// Why `value` cannot go into this column, or nil when it can.
    func problem(with value: String?) -> String? {
        guard let value else { return nullable ? nil : "is NULL for a NOT NULL value" }
        if value.utf8.contains(0) { return "contains NUL" }
        switch kind {
        case .text(let width):
            if let width, value.unicodeScalars.count > width {
                return "has \(value.unicodeScalars.count) characters for varchar(\(width))"
            }
        case .timestamp:
            if !PayloadFuzzer.isTimestampBind(value) { return "is not a timestamp in years 0001–9999" }
        case .rfc3339:
            if TimestampParser.parse(value) == nil { return "is not an RFC 3339 date in years 0001–9999" }
        case .float8:
            if !(Double(value)?.isFinite ?? false) { return "is not a finite float8" }
        case .bigint:
            if Int64(value) == nil { return "is not a bigint" }
        case .boolean:
            if value != "true" && value != "false" { return "is not a boolean" }
        case .commits(let columns):
            // jsonb refuses \u0000 in strings even though JSON allows it.
            if value.contains("\\u0000") { return "holds \\u0000, which jsonb refuses" }
            guard case .array(let commits)? = try? JSONParser.parse(Array(value.utf8)) else {
                return "is not a JSON array"
            }
            for commit in commits {
                guard case .object(let fields) = commit else { return "holds a commit that is not an object" }
                for (name, column) in columns {
                    guard case .string(let text)? = fields[name] else { return "has no string \(name)" }
                    if let problem = column.problem(with: text) { return "has \(name) that \(problem)" }
                }
            }
        }
        return nil
    }
}

/// The ingest operations checked here: how each decodes, and the column behind each bind.
protocol DecodableOperation: Equatable {
    static func decode(_ body: JSONObject, for connection: WebhookConnection, arrival: Timestamp) -> Result<Self, WebhookError>
    /// The statement this very operation runs (IssueUpsert picks one by the issue's type).
    var sql: String { get }
    /// The column behind each bind of this very operation (a deployment's two forms differ).
    var columns: [Column] { get }
}

extension IssueUpsert: DecodableOperation {
    var columns: [Column] { Self.columns }
    static let columns: [Column] = [
        .varchar(255), .varchar(255), .varchar(255), .varchar(255),          // $1–$4
        Column(kind: .text(width: 255), nullable: true), .varchar(255),      // $5–$6
        .varchar(255), .text, .varchar(100), .varchar(100),                  // $7–$10
        .timestamp, .varchar(255), .text, .varchar(255),                     // $11–$14
        .varchar(100), .varchar(500), .varchar(255), .varchar(255), .varchar(255), // $15–$19
        .float8, .optionalTimestamp, .optionalTimestamp,                     // $20–$22
        .bigint, .varchar(255),                                              // $23–$24
        .varchar(255), .varchar(255), .varchar(255), .varchar(255),          // $25–$28
        .bigint, .bigint, .bigint,                                           // $29–$31
        .timestamp,                                                          // $32, the arrival
    ]
}

extension TaskUpsert: DecodableOperation {
    var columns: [Column] { Self.columns }
    static let columns: [Column] = [
        .varchar(255), .text, .timestamp,                                    // $1–$3
        .varchar(255), .varchar(255),                                        // $4–$5
        .varchar(255), .varchar(255),                                        // $6–$7
        .varchar(100), .varchar(100), .varchar(100), .varchar(100), .varchar(100), .varchar(255), // $8–$13
        Column(kind: .float8, nullable: true), .optionalTimestamp,           // $14–$15
        .varchar(255), Column(kind: .text(width: 255), nullable: true), .varchar(255), // $16–$18 (a branch not sent: NULL)
        .timestamp,                                                          // $19, the arrival
    ]
}

extension DeploymentUpsert: DecodableOperation {
    /// cicd_deployment_commits, as read back by jsonb_to_recordset.
    static let commitColumns: [String: Column] = [
        "repo_url": .varchar(500), "commit_sha": .varchar(255), "repo_id": .varchar(255),
        "ref_name": .varchar(255), "name": .varchar(255),
        "display_title": .text, "commit_msg": .text,
        "result": .varchar(100), "original_result": .varchar(100), "status": .varchar(100),
        "original_status": .varchar(100), "created_date": Column(kind: .rfc3339),
        "started_date": Column(kind: .rfc3339), "finished_date": Column(kind: .rfc3339),
    ]

    var columns: [Column] { sent == nil ? Self.columns : Self.mergeColumns }

    static let columns: [Column] = [
        .varchar(255), .varchar(255), .text, .text, .text, .varchar(100), .varchar(255), // $1–$7
        .varchar(255), .timestamp, .timestamp,                               // $8–$10
        .timestamp, .varchar(255), Column(kind: .commits(commitColumns)),    // $11–$13
        .varchar(100), .timestamp,                                           // $14–$15 (the arrival)
    ]

    /// The single-commit form (`mergeSQL`): NULL is a value not sent.
    static let mergeColumns: [Column] = [
        .varchar(255), .varchar(255), .varchar(255),                         // $1–$3
        Column(kind: .text(width: nil), nullable: true), .text, Column(kind: .text(width: nil), nullable: true), // $4–$6
        Column(kind: .text(width: 100), nullable: true), Column(kind: .text(width: 100), nullable: true), // $7–$8
        Column(kind: .text(width: 255), nullable: true), Column(kind: .text(width: 255), nullable: true), // $9–$10
        .timestamp, .timestamp, .varchar(500), .varchar(255),                // $11–$14
        Column(kind: .text(width: 255), nullable: true), Column(kind: .text(width: 255), nullable: true), // $15–$16
        Column(kind: .text(width: nil), nullable: true), Column(kind: .text(width: 255), nullable: true), // $17–$18
        .timestamp,                                                          // $19, the arrival
    ]
}

extension PullRequestUpsert: DecodableOperation {
    var columns: [Column] { Self.columns }
    static let columns: [Column] = [
        .varchar(255), .varchar(255), .varchar(255), .varchar(100), .varchar(100), .text, // $1–$6
        .text, .varchar(255), .varchar(100), .varchar(100), .varchar(100), .varchar(100), .varchar(100), // $7–$13
        .bigint, .timestamp, .optionalTimestamp, .optionalTimestamp, .varchar(100), .varchar(100), // $14–$19
        .varchar(40), .varchar(40), .varchar(40), .varchar(255), .varchar(255), // $20–$24
        .bigint, .bigint, .boolean, .varchar(255),                           // $25–$28
        .timestamp,                                                          // $29, the arrival
    ]
}
