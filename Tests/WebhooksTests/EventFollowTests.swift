import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// The follower in this process, with its fallback read every minute: within the test's seconds
/// only a NOTIFY can wake it, so these show the notification path itself, and the window that
/// prints an event committed late exactly once.
@Suite("Following the journal")
struct EventFollowTests {
    /// A follower of one connection's events, on a thread of its own, printing into `printed`.
    final class Running: @unchecked Sendable {
        let printed = Shared<[JournalEvent]>([])
        let failure = Shared<(any Error)?>(nil)
        let stop: StopSignal
        private let done = DispatchSemaphore(value: 0)

        init(_ connection: DevLakeConnection) throws {
            stop = try StopSignal()
            var filter = EventFilter()
            filter.connectionId = connection.id
            let follower = EventFollower(filter: filter, bodies: false, fallback: .seconds(60))
            Thread { [self] in
                do {
                    try follower.run(config: TestDatabase.config(), stop: stop) { events in printed.withLock { $0 += events } }
                } catch {
                    failure.withLock { $0 = error }
                }
                done.signal()
            }.start()
        }

        var requestIds: [String] { printed.withLock { $0.map(\.requestId) } }

        /// Waits until `requestId` was printed; how long it took, nil after `timeout` seconds.
        func wait(for requestId: String, timeout: Double) -> Double? {
            let started = Date()
            guard (try? waitUntil(timeout: timeout, interval: 0.01) { requestIds.contains(requestId) }) != nil else { return nil }
            return Date().timeIntervalSince(started)
        }

        /// Stops it; true when it returned within 5 s without an error.
        func finish() -> Bool {
            stop.stop()
            return done.wait(timeout: .now() + 5) == .success && failure.withLock { $0 } == nil
        }
    }

    @Test("a NOTIFY from either of two instances wakes the follower: each event is printed within a second, once", .timeLimit(.minutes(2)))
    func notifiedByEachInstance() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("follow-notified")
        let second = try LakehookProcess(databaseURL: TestDatabase.config().conninfo, environment: ["LAKEHOOK_LOG_LEVEL": "warn"])
        let before = try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("N-0"), key: key)
        let running = try Running(connection)
        // The listing shows the event before it: the follower listens.
        let listed = try #require(before.header("X-Request-ID"))
        #expect(running.wait(for: listed, timeout: 15) != nil)
        var expected = [listed]
        let posts: [() throws -> Reply] = [
            { try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("N-1"), key: key) },
            { try second.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("N-2"), key: key) },
            { try second.post("/api/plugins/webhook/\(connection.id)/cicd_tasks", "{}", key: key) },
        ]
        for post in posts {
            let id = try #require(try post().header("X-Request-ID"))
            expected.append(id)
            // Well under the 60 s fallback read: only the NOTIFY can have woken it (generous for a
            // loaded machine; it takes milliseconds here).
            let took = running.wait(for: id, timeout: 15)
            #expect(took != nil && took! < 15, "\(id) printed after \(took.map { "\($0) s" } ?? "never")")
        }
        usleep(300_000)
        #expect(running.finish())
        #expect(running.requestIds == expected)
    }

    @Test("an event committed after later ones were printed (it arrived earlier) is printed once; reads after it print nothing twice")
    func lateCommitPrintedOnce() throws {
        let server = TestServer.shared
        let (connection, key) = try server.newConnection("follow-late")
        let before = try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("L-0"), key: key)
        let running = try Running(connection)
        #expect(running.wait(for: before.header("X-Request-ID") ?? "?", timeout: 15) != nil)

        // A write that arrived 5 s ago and is still in its transaction, as a slow request's would be.
        let slow = try PostgresConnection(config: TestDatabase.config())
        try slow.execute(script: "BEGIN")
        try slow.query("""
            INSERT INTO webhook_events (received_at, connection_id, route, request_id, status, outcome)
            VALUES (now() - interval '5 seconds', $1, 'issues', 'late-commit', 200, 'applied')
            """, [String(connection.id)])
        let later = try #require(try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("L-1"), key: key)
            .header("X-Request-ID"))
        #expect(running.wait(for: later, timeout: 15) != nil)
        try slow.execute(script: "COMMIT")
        let notifier = try PostgresConnection(config: TestDatabase.config())
        try notifier.query("SELECT pg_notify($1, 'test')", [JournalNotifier.channel])
        #expect(running.wait(for: "late-commit", timeout: 15) != nil)
        for _ in 0..<3 {
            try notifier.query("SELECT pg_notify($1, 'test')", [JournalNotifier.channel])
            usleep(150_000)
        }
        #expect(running.finish())
        #expect(running.requestIds == [before.header("X-Request-ID") ?? "?", later, "late-commit"])
    }
}
