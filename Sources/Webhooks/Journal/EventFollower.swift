import Postgres

/// `lakehook events --follow`: the listing, then every event that matches as it is committed, on
/// whichever instance, until stopped.
///
/// It LISTENs on `lakehook_events` on a connection of its own, which every instance's
/// `JournalNotifier` notifies at most every 100 ms after journaling something, and reads on each
/// notification — and every `fallback` anyway, so a missed notification (an instance that could
/// not send it) costs a delay, not an event.
///
/// Rows are not committed in the order of their ids or arrival: across connections and
/// instances a request that came earlier can commit later. So each read takes every event that
/// arrived within `overlap` before the previous read (by the database's clock) and prints those
/// not seen yet (`FollowWindow`): an event is printed once, even when it commits up to `overlap`
/// after it arrived — 30 s covers the longest a write can take by default (5 s waiting for a
/// pool connection, 15 s of statement timeout) and a few seconds of clock skew between an
/// instance and the database. A read is two statements: the keys of the window (ids and arrival
/// only, narrow), then the new events by key.
struct EventFollower {
    var filter: EventFilter
    var bodies: Bool
    var overlap = Duration.seconds(30)
    var fallback = Duration.seconds(2)

    /// Prints the listing, then follows, until `stop` is signalled (returns) or the connection
    /// breaks (throws). `print` gets the events in batches, oldest first.
    func run(config: PostgresConfig, stop: StopSignal, print: ([JournalEvent]) throws -> Void) throws {
        let db = try PostgresConnection(config: config)
        try db.listen(JournalNotifier.channel)
        let started = try EventStore.databaseNow(on: db)
        var window = FollowWindow(now: started, overlap: overlap)
        // The events of the last `overlap` are known: the listing shows the most recent of them,
        // and the others are older than those; only what commits from now on is new.
        _ = window.admit(try EventStore.window(filter, from: window.start, on: db), readAt: started)
        try EventStore.recent(filter, bodies: bodies, on: db) { events in
            window.remember(events.map(\.id))
            try print(events)
        }
        while !stop.isStopped {
            _ = try db.notifications(waitingUpTo: fallback, wake: stop.descriptor)
            if stop.isStopped { break }
            let now = try EventStore.databaseNow(on: db)
            let fresh = window.admit(try EventStore.window(filter, from: window.start, on: db), readAt: now)
            try EventStore.fetch(fresh, bodies: bodies, on: db, each: print)
        }
    }
}

/// Which events a follower has seen, within its window. Pure: `EventFollowerTests` drives it.
///
/// Each read returns every event of the window (arrived from `start` on); those not seen before
/// are new. The seen set is then exactly the window's ids — an id that left the window will not
/// be read again — so it holds one window of events, however long the follower runs.
struct FollowWindow {
    /// The next read takes events arrived from here on.
    private(set) var start: Timestamp
    private(set) var seen: Set<Int64> = []
    private let overlapMicroseconds: Int64

    init(now: Timestamp, overlap: Duration) {
        overlapMicroseconds = Int64((overlap / .microseconds(1)).rounded())
        start = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - overlapMicroseconds)
    }

    /// A read's keys, from `start`, made when the database's clock said `now`: those not seen
    /// before, in the read's order. The next read starts `overlap` before `now`.
    mutating func admit(_ keys: [EventKey], readAt now: Timestamp) -> [EventKey] {
        let fresh = keys.filter { !seen.contains($0.id) }
        seen = Set(keys.map(\.id))
        start = max(start, Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch - overlapMicroseconds))
        return fresh
    }

    /// Events shown otherwise (the listing before following): not new when a read returns them.
    mutating func remember(_ ids: [Int64]) {
        seen.formUnion(ids)
    }
}
