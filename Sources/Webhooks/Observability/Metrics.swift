import Postgres
import Concurrency
import HTTP

/// Prometheus metrics of one instance, rendered in the text exposition format at `/metrics`.
/// Names follow Prometheus's rules: `lakehook_` prefix, base units (seconds, bytes), `_total`
/// on counters.
public final class Metrics: Sendable {
    /// Upper bounds of the request-latency histogram, in seconds.
    static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private struct RequestKey: Hashable { var method: String; var route: String; var status: Int }
    private struct Histogram {
        var buckets = [UInt64](repeating: 0, count: Metrics.latencyBuckets.count)
        var count: UInt64 = 0
        var sum: Double = 0
    }
    private struct State {
        var requests: [RequestKey: UInt64] = [:]
        var latency: [String: Histogram] = [:]
        var rows: [String: UInt64] = [:]
        var databaseErrors: [String: UInt64] = [:]
        var writesViaPipeline: UInt64 = 0
        var writesViaPool: UInt64 = 0
        var poolFallbacks: [PipelineState.PoolReason: UInt64] = [:]
        var journal: [String: UInt64] = [:]
        var unauthenticated: UInt64 = 0
        var refusals: [HTTPRefusal.Reason: UInt64] = [:]
    }

    /// Methods that get a label of their own; any other token is counted as `OTHER`, so a client
    /// inventing methods cannot add series (each one used to be a series, kept forever).
    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"]

    /// The method's label: itself when known, else `OTHER`.
    static func methodLabel(_ method: String) -> String {
        knownMethods.contains(method) ? method : "OTHER"
    }

    /// The status's label: a real HTTP status, else 0 (never reached: statuses are the app's own).
    static func statusLabel(_ status: Int) -> Int {
        (100...599).contains(status) ? status : 0
    }

    private let state = Locked(State())
    /// The DORA gauges' last snapshot (Metrics+Dora.swift).
    let dora = Locked(DoraState())

    public init() {}

    /// One answered request: its route pattern (not the raw path, so labels stay few), status and duration.
    public func recordRequest(method: String, route: String, status: Int, seconds: Double) {
        state.withLock { state in
            let key = RequestKey(method: Self.methodLabel(method), route: route, status: Self.statusLabel(status))
            state.requests[key, default: 0] += 1
            var histogram = state.latency[route] ?? Histogram()
            for (i, bound) in Self.latencyBuckets.enumerated() where seconds <= bound { histogram.buckets[i] += 1 }
            histogram.count += 1
            histogram.sum += seconds
            state.latency[route] = histogram
        }
    }

    public func recordRows(_ rows: [String: Int]) {
        guard !rows.isEmpty else { return }
        state.withLock { state in
            for (table, count) in rows where count > 0 { state.rows[table, default: 0] += UInt64(count) }
        }
    }

    /// A request or connection the HTTP layer refused by itself.
    public func recordRefusal(_ reason: HTTPRefusal.Reason) {
        state.withLock { $0.refusals[reason, default: 0] += 1 }
    }

    /// An ingest write sent to the database: through the loop's pipeline, or on the pool.
    func recordWrite(pipelined: Bool) {
        state.withLock { state in
            if pipelined { state.writesViaPipeline += 1 } else { state.writesViaPool += 1 }
        }
    }

    /// An ingest request's journal row: its outcome (applied, stale, duplicate, refused), or
    /// `failed` when a refusal's row could not be written.
    func recordJournal(_ outcome: String) {
        state.withLock { $0.journal[outcome, default: 0] += 1 }
    }

    /// An ingest request refused before authentication passed (401, 403, 404 of the connection):
    /// it is not journaled, only counted.
    func recordUnauthenticated() {
        state.withLock { $0.unauthenticated += 1 }
    }

    /// A single statement the executor ran on the pool instead of a pipelined connection, and why.
    func recordPoolFallback(_ reason: PipelineState.PoolReason) {
        state.withLock { $0.poolFallbacks[reason, default: 0] += 1 }
    }

    /// A database error, by SQLSTATE class (the first two characters; "none" for connection failures).
    public func recordDatabaseError(_ error: PostgresError) {
        let sqlStateClass = error.sqlState.map { String($0.prefix(2)) } ?? "none"
        state.withLock { $0.databaseErrors[sqlStateClass, default: 0] += 1 }
    }

    /// The exposition text, with the pool and process gauges read now.
    public func render(pool: PoolStatistics) -> String {
        let snapshot = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        family("lakehook_http_requests_total", "counter", "HTTP requests answered, by method, route and status.")
        for (key, count) in snapshot.requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out += "lakehook_http_requests_total{method=\"\(Self.escape(key.method))\",route=\"\(Self.escape(key.route))\",status=\"\(key.status)\"} \(count)\n"
        }
        family("lakehook_http_request_duration_seconds", "histogram", "Time from a complete request to its answer, by route.")
        for (route, histogram) in snapshot.latency.sorted(by: { $0.key < $1.key }) {
            let label = "route=\"\(Self.escape(route))\""
            for (i, bound) in Self.latencyBuckets.enumerated() {
                out += "lakehook_http_request_duration_seconds_bucket{\(label),le=\"\(bound)\"} \(histogram.buckets[i])\n"
            }
            out += "lakehook_http_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(histogram.count)\n"
            out += "lakehook_http_request_duration_seconds_sum{\(label)} \(histogram.sum)\n"
            out += "lakehook_http_request_duration_seconds_count{\(label)} \(histogram.count)\n"
        }
        family("lakehook_http_refusals_total", "counter", "Requests and connections the HTTP layer refused by itself (timeouts, limits, bad framing, evictions), by reason.")
        for reason in HTTPRefusal.Reason.allCases {
            out += "lakehook_http_refusals_total{reason=\"\(reason.rawValue)\"} \(snapshot.refusals[reason] ?? 0)\n"
        }
        family("lakehook_rows_written_total", "counter", "Rows inserted or updated, by table.")
        for (table, count) in snapshot.rows.sorted(by: { $0.key < $1.key }) {
            out += "lakehook_rows_written_total{table=\"\(Self.escape(table))\"} \(count)\n"
        }
        family("lakehook_db_errors_total", "counter", "Database errors, by SQLSTATE class (none: no connection).")
        for (sqlStateClass, count) in snapshot.databaseErrors.sorted(by: { $0.key < $1.key }) {
            out += "lakehook_db_errors_total{sqlstate_class=\"\(Self.escape(sqlStateClass))\"} \(count)\n"
        }
        family("lakehook_db_writes_total", "counter", "Decoded ingest writes, by way: pipeline (a pipelined connection of the event loop) or pool (a handler thread); one whose pipelined run did nothing and was run again on the pool counts in both.")
        out += "lakehook_db_writes_total{via=\"pipeline\"} \(snapshot.writesViaPipeline)\n"
        out += "lakehook_db_writes_total{via=\"pool\"} \(snapshot.writesViaPool)\n"
        family("lakehook_db_pool_fallbacks_total", "counter", "Single-statement writes run on the pool instead of a pipelined connection, by reason: not_connected, full, lock_timeout (waited past the pipeline's lock timeout), concurrent_write.")
        for reason in PipelineState.PoolReason.allCases {
            out += "lakehook_db_pool_fallbacks_total{reason=\"\(reason.rawValue)\"} \(snapshot.poolFallbacks[reason] ?? 0)\n"
        }
        family("lakehook_journal_events_total", "counter", "Ingest requests journaled, by outcome: applied, stale, duplicate, refused, ignored (a source event with nothing to write); failed: a refusal whose row could not be written.")
        for outcome in ["applied", "stale", "duplicate", "refused", "ignored", "failed"] {
            out += "lakehook_journal_events_total{outcome=\"\(outcome)\"} \(snapshot.journal[outcome] ?? 0)\n"
        }
        family("lakehook_ingest_unauthenticated_total", "counter", "Ingest requests refused before their connection and key were known (not journaled).")
        out += "lakehook_ingest_unauthenticated_total \(snapshot.unauthenticated)\n"
        Self.renderDora(dora.withLock { $0 }, into: &out)
        family("lakehook_db_pool_connections", "gauge", "Database connections of this instance's pool, by state.")
        out += "lakehook_db_pool_connections{state=\"in_use\"} \(pool.inUse)\n"
        out += "lakehook_db_pool_connections{state=\"idle\"} \(pool.idle)\n"
        family("lakehook_db_pool_size", "gauge", "The pool's maximum number of connections.")
        out += "lakehook_db_pool_size \(pool.size)\n"
        family("lakehook_db_pool_waiting", "gauge", "Requests waiting for a database connection.")
        out += "lakehook_db_pool_waiting \(pool.waiting)\n"
        if let rss = ProcessStats.residentMemoryBytes() {
            family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
            out += "process_resident_memory_bytes \(rss)\n"
        }
        if let fds = ProcessStats.openFileDescriptors() {
            family("process_open_fds", "gauge", "Number of open file descriptors.")
            out += "process_open_fds \(fds)\n"
        }
        return out
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
