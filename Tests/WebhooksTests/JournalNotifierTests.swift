import Foundation
import Postgres
import Testing
@testable import Webhooks
import TestSupport

/// The NOTIFY that wakes followers: sent by each instance on its own, at most once per 100 ms,
/// never inside an ingest write (where it would serialise the commits).
@Suite("The journal's NOTIFY")
struct JournalNotifierTests {
    /// A listener on `lakehook_events`, counting the NOTIFYs of one instance (its payload):
    /// every test process's instances notify the same channel.
    final class Listener {
        let connection: PostgresConnection
        let payload: String

        init(payload: String) throws {
            connection = try PostgresConnection(config: TestDatabase.config())
            try connection.listen(JournalNotifier.channel)
            self.payload = payload
        }

        /// This instance's NOTIFYs received within `duration`, or as soon as `enough` have come
        /// (a NOTIFY that is due may come late on a loaded machine, never early: a test waits
        /// generously for one that must come, and briefly for one that must not).
        func count(within duration: Duration, enough: Int = .max) throws -> Int {
            let deadline = ContinuousClock.now + duration
            var count = 0
            while ContinuousClock.now < deadline, count < enough {
                count += try connection.notifications(waitingUpTo: deadline - ContinuousClock.now).filter { $0.payload == payload }.count
            }
            return count
        }
    }

    @Test("an accepted request is followed by one NOTIFY, a refused one too (journaled on its own), an unauthenticated one by none")
    func eachJournaledRequestNotifies() throws {
        let server = try TestServer()
        defer { server.stop() }
        let (connection, key) = try server.newConnection("notify-each")
        let listener = try Listener(payload: server.service.journalNotifier.payload)
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("W-1"), key: key).status == 200)
        #expect(try listener.count(within: .seconds(10), enough: 1) == 1)
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/issues", "{}", key: key).status == 400)
        #expect(try listener.count(within: .seconds(10), enough: 1) == 1)
        #expect(try server.post("/api/plugins/webhook/\(connection.id)/issues", RoutesTests.issue("W-2"), key: "wrong").status == 403)
        #expect(try listener.count(within: .milliseconds(400)) == 0)
    }

    @Test("500 requests in a burst, accepted and refused, bring at most one NOTIFY per 100 ms from their instance, and one after the last",
          .timeLimit(.minutes(2)))
    func burstIsCoalesced() throws {
        let server = try TestServer()
        defer { server.stop() }
        let (connection, key) = try server.newConnection("notify-burst")
        let listener = try Listener(payload: server.service.journalNotifier.payload)
        let clients = 8, each = 63  // 504 requests, half of them refused
        let failures = Shared<[String]>([])
        let group = DispatchGroup()
        let started = ContinuousClock.now
        for client in 0..<clients {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    let socket = try TestClient(port: server.port, timeoutSeconds: 15)
                    for number in 0..<each {
                        let body = number % 2 == 0 ? RoutesTests.issue("B-\(client)-\(number)") : "{}"
                        let bytes = Array(body.utf8)
                        try socket.send(Array("""
                            POST /api/plugins/webhook/\(connection.id)/issues HTTP/1.1\r
                            Host: x\r
                            Authorization: Bearer \(key)\r
                            Content-Length: \(bytes.count)\r
                            \r

                            """.utf8) + bytes)
                        let status = try socket.receive().status
                        if status != (number % 2 == 0 ? 200 : 400) { failures.withLock { $0.append("\(status)") } }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }.start()
        }
        group.wait()
        let elapsed = ContinuousClock.now - started
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(5))")
        // Those sent during the burst are queued on the listener's connection; then the last one.
        let notifies = try listener.count(within: .milliseconds(500))
        let intervals = Int((elapsed / .milliseconds(100)).rounded(.up))
        #expect(notifies >= 1)
        #expect(notifies <= intervals + 2, "\(notifies) NOTIFYs for \(clients * each) requests in \(elapsed)")
        #expect(try LakehookDatabase.count("SELECT count(*) FROM webhook_events WHERE connection_id = $1", [String(connection.id)]) == clients * each)
    }

    @Test("a quiet notifier sends at once; pokes within the interval make one NOTIFY at its end; without a poke, none")
    func interval() throws {
        let pool = PostgresPool(config: TestDatabase.config(), size: 1)
        defer { pool.close() }
        let notifier = JournalNotifier(pool: pool, interval: .seconds(1))
        let listener = try Listener(payload: notifier.payload)
        notifier.poke()
        #expect(try listener.count(within: .seconds(10), enough: 1) == 1)
        notifier.poke()
        notifier.poke()
        #expect(try listener.count(within: .milliseconds(300)) == 0)  // the interval is not over
        #expect(try listener.count(within: .seconds(10), enough: 1) == 1)  // then one for both
        #expect(try listener.count(within: .milliseconds(1_200)) == 0)  // nothing journaled since
    }

    @Test("the NOTIFY is never part of an ingest write: no journal statement notifies, and no trigger on webhook_events does")
    func notInTheWrites() throws {
        let statement = IngestStatement(ctes: nil, body: "SELECT 1").journaled(parameterCount: 0)
        for sql in [statement, JournalEntry.insertSQL, Idempotency.storeSQL] {
            #expect(!sql.lowercased().contains("notify"))
        }
        let triggers = try LakehookDatabase.count("""
            SELECT count(*) FROM pg_trigger
            WHERE NOT tgisinternal AND tgrelid IN (
                SELECT 'webhook_events'::regclass UNION SELECT inhrelid FROM pg_inherits WHERE inhparent = 'webhook_events'::regclass)
            """)
        #expect(triggers == 0)
    }
}
