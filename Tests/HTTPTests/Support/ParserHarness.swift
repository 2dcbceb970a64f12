@testable import HTTP

/// What a parser produced, in a comparable form.
enum ParseOutcome: Equatable, CustomStringConvertible {
    case request(RequestSummary)
    case failure(Int)

    var description: String {
        switch self {
        case .request(let summary): "request \(summary.method) \(summary.target) (\(summary.body.count) body bytes)"
        case .failure(let status): "failure \(status)"
        }
    }
}

struct RequestSummary: Equatable {
    var method: String
    var target: String
    var path: String
    var query: String?
    var versionMinor: Int
    var headers: [String]
    var body: [UInt8]

    init(_ request: HTTPRequest) {
        method = request.method
        target = request.target
        path = request.path
        query = request.query
        versionMinor = request.versionMinor
        headers = request.headers.map { "\($0.name): \($0.value)" }
        body = request.body
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Feeds `raw` whole or one byte at a time, draining events after each feed. Stops at the
/// first failure. `continues` counts `headComplete(sendContinue: true)` events.
func parse(_ raw: String, oneByteAtATime: Bool = false, limits: ServerLimits = ServerLimits())
    -> (outcomes: [ParseOutcome], continues: Int, leftover: Int)
{
    parse(Array(raw.utf8), oneByteAtATime: oneByteAtATime, limits: limits)
}

func parse(_ bytes: [UInt8], oneByteAtATime: Bool = false, limits: ServerLimits = ServerLimits())
    -> (outcomes: [ParseOutcome], continues: Int, leftover: Int)
{
    var parser = RequestParser(limits: limits)
    var outcomes: [ParseOutcome] = []
    var continues = 0
    let slices: [ArraySlice<UInt8>] = oneByteAtATime
        ? bytes.indices.map { bytes[$0...$0] }
        : [bytes[...]]
    feeding: for slice in slices {
        parser.feed(slice)
        while true {
            switch parser.next() {
            case .needMoreData: continue feeding
            case .headComplete(let sendContinue): if sendContinue { continues += 1 }
            case .request(let request): outcomes.append(.request(RequestSummary(request)))
            case .failure(let error):
                outcomes.append(.failure(error.status))
                break feeding
            }
        }
    }
    return (outcomes, continues, parser.bufferedByteCount)
}

/// Parses both ways and requires identical results.
func parseBothWays(_ raw: String, limits: ServerLimits = ServerLimits()) -> [ParseOutcome] {
    let whole = parse(raw, limits: limits).outcomes
    let byteWise = parse(raw, oneByteAtATime: true, limits: limits).outcomes
    return whole == byteWise ? whole : [.failure(-1)]
}
