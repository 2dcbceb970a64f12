import Foundation
import Postgres
import Testing
import TestSupport

/// LISTEN and waiting for notifications (`PostgresConnection+Notifications`), against the real
/// server. Each test listens on a channel of its own.
@Suite("LISTEN and notifications")
struct PostgresNotificationTests {
    static func channel() -> String { TestDatabase.uniqueName("channel") }

    @Test("a NOTIFY committed after LISTEN arrives with its channel, payload and sender; another channel's does not")
    func notificationArrives() throws {
        let listener = try TestDatabase.connect()
        let sender = try TestDatabase.connect()
        let channel = Self.channel()
        try listener.listen(channel)
        try sender.query("SELECT pg_notify($1, $2)", [Self.channel(), "elsewhere"])
        try sender.query("SELECT pg_notify($1, $2)", [channel, "hello"])
        let received = try listener.notifications(waitingUpTo: .seconds(5))
        #expect(received == [PostgresNotification(channel: channel, payload: "hello", senderPID: sender.backendPID)])
    }

    @Test("without a notification the wait lasts its timeout and returns nothing; a zero timeout does not wait")
    func timeout() throws {
        let listener = try TestDatabase.connect()
        try listener.listen(Self.channel())
        let started = ContinuousClock.now
        #expect(try listener.notifications(waitingUpTo: .milliseconds(300)).isEmpty)
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(290) && waited < .seconds(10), "waited \(waited)")
        let immediate = ContinuousClock.now
        #expect(try listener.notifications(waitingUpTo: .zero).isEmpty)
        #expect(ContinuousClock.now - immediate < .seconds(5))  // no wait: a ceiling, far below a real wait
    }

    @Test("a readable wake descriptor ends the wait at once, with nothing")
    func wakeDescriptor() throws {
        let listener = try TestDatabase.connect()
        try listener.listen(Self.channel())
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let writeEnd = ends[1]
        DispatchQueue(label: "wake").asyncAfter(deadline: .now() + .milliseconds(100)) {
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
        }
        let started = ContinuousClock.now
        #expect(try listener.notifications(waitingUpTo: .seconds(60), wake: ends[0]).isEmpty)
        #expect(ContinuousClock.now - started < .seconds(30))  // woken 0.1 s in, long before the 60 s
    }

    @Test("notifications that arrive while the connection runs queries wait for the next call, none lost, in order")
    func notificationsDuringQueries() throws {
        let listener = try TestDatabase.connect()
        let sender = try TestDatabase.connect()
        let channel = Self.channel()
        try listener.listen(channel)
        for number in 1...3 { try sender.query("SELECT pg_notify($1, $2)", [channel, String(number)]) }
        // Queries read the socket, and with it the notifications: libpq keeps them.
        #expect(try listener.query("SELECT pg_sleep(0.1), 1").rows.count == 1)
        try sender.query("SELECT pg_notify($1, '4')", [channel])
        var payloads: [String] = []
        while payloads.count < 4 {
            let received = try listener.notifications(waitingUpTo: .seconds(5))
            if received.isEmpty { break }
            payloads += received.map(\.payload)
        }
        #expect(payloads == ["1", "2", "3", "4"])
    }

    @Test("a listener whose backend is terminated throws connectionLost, not an endless empty wait")
    func brokenConnection() throws {
        let listener = try TestDatabase.connect()
        try listener.listen(Self.channel())
        try TestDatabase.terminate(pid: listener.backendPID)
        #expect {
            for _ in 0..<3 { _ = try listener.notifications(waitingUpTo: .seconds(1)) }
        } throws: { error in
            (error as? PostgresError)?.kind == .connectionLost
        }
    }

    @Test("a channel name is quoted, not spliced: any name can be listened to")
    func quotedChannel() throws {
        let listener = try TestDatabase.connect()
        let sender = try TestDatabase.connect()
        let channel = "Odd \"name\"; DROP TABLE x -- \(UUID().uuidString.prefix(8))"
        try listener.listen(channel)
        try sender.query("SELECT pg_notify($1, 'ok')", [channel])
        #expect(try listener.notifications(waitingUpTo: .seconds(5)).map(\.channel) == [channel])
    }
}
