import Foundation
import Testing
@testable import Webhooks
import TestSupport

/// What curl got back: status, headers, body.
struct CurlExchange {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.last { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// Runs curl as a CI job would (no proxy), keeping the answer's headers too.
func curlExchange(_ arguments: [String]) throws -> CurlExchange {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lakehook-curl-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let headerFile = folder.appendingPathComponent("headers").path, bodyFile = folder.appendingPathComponent("body").path
    let run = try PythonTools.run(
        URL(fileURLWithPath: "/usr/bin/curl"),
        ["-sS", "--noproxy", "*", "--max-time", "30", "-D", headerFile, "-o", bodyFile, "-w", "%{http_code}"] + arguments,
        timeout: 40)
    guard run.status == 0 else { throw TestFailure("curl failed (\(run.status)): \(run.output)") }
    let head = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
    let headers = head.components(separatedBy: "\r\n").compactMap { line -> (String, String)? in
        guard let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
    let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
    return CurlExchange(status: Int(run.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, headers: headers, body: body)
}

/// One line of Lakehook's JSON log.
struct LogLine {
    var fields: JSONObject

    func string(_ name: String) -> String? {
        switch fields[name] {
        case .string(let value)?: value
        case .number(let value)?: value
        default: nil
        }
    }

    static func parse(_ log: String) -> [LogLine] {
        log.split(separator: "\n").compactMap { line in
            if case .object(let object)? = try? JSONParser.parse(Array(line.utf8)) { return LogLine(fields: object) }
            return nil
        }
    }
}

extension LakehookProcess {
    var logLines: [LogLine] { LogLine.parse(log) }

    /// The `"msg":"request"` line of the request with this id (the line is written before the
    /// answer is sent; waits up to 3 s all the same).
    func requestLine(id: String) throws -> LogLine {
        var found: LogLine?
        try? waitUntil(timeout: 3) {
            found = self.logLines.first { $0.string("msg") == "request" && $0.string("request_id") == id }
            return found != nil
        }
        guard let found else { throw TestFailure("no request line with request_id \(id) in the log:\n\(log)") }
        return found
    }
}

/// A `/metrics` page as `prometheus_client`'s text parser reads it: every sample by name and
/// labels, and every family's type.
struct MetricsPage {
    struct Key: Hashable, CustomStringConvertible {
        var name: String
        var labels: [String: String]
        var description: String {
            name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
        }
    }

    var samples: [Key: Double]
    var types: [String: String]

    static let parser = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        families = []
        for family in text_string_to_metric_families(sys.stdin.read()):
            families.append({"name": family.name, "type": family.type,
                             "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]})
        print(json.dumps(families))
        """

    /// Parses `text` with the venv's prometheus_client; a parse error fails with its message.
    static func parse(_ text: String) throws -> MetricsPage {
        let run = try PythonTools.run(try PythonTools.tool("python"), ["-c", parser], input: text, timeout: 60)
        guard run.status == 0 else { throw TestFailure("prometheus_client could not parse /metrics (\(run.status)):\n\(run.output)\n--- page:\n\(text)") }
        guard let families = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[String: Any]] else {
            throw TestFailure("unexpected parser output: \(run.output)")
        }
        var page = MetricsPage(samples: [:], types: [:])
        for family in families {
            guard let name = family["name"] as? String, let type = family["type"] as? String,
                  let samples = family["samples"] as? [[String: Any]] else { throw TestFailure("bad family \(family)") }
            page.types[name] = type
            for sample in samples {
                guard let sampleName = sample["name"] as? String, let labels = sample["labels"] as? [String: String],
                      let value = (sample["value"] as? NSNumber)?.doubleValue else { throw TestFailure("bad sample \(sample)") }
                page.samples[Key(name: sampleName, labels: labels)] = value
            }
        }
        return page
    }

    /// What moved from `before` to this page, for samples named `name` (absent counts as 0); zero changes left out.
    func delta(_ name: String, since before: MetricsPage) -> [Key: Double] {
        var moved: [Key: Double] = [:]
        for (key, value) in samples where key.name == name {
            let change = value - (before.samples[key] ?? 0)
            if change != 0 { moved[key] = change }
        }
        for (key, value) in before.samples where key.name == name && samples[key] == nil { moved[key] = -value }
        return moved
    }
}
