import Dispatch
import Postgres
import Synchronization
import Concurrency

/// Tells `lakehook events --follow`, on any instance, that requests were journaled: a
/// `NOTIFY lakehook_events` at most once per `interval`, when something was journaled since.
///
/// The NOTIFY is never part of an ingest write. A transaction that notifies takes a lock that is
/// global to the database at commit and holds it through the commit's WAL flush, so NOTIFY in
/// every write would serialise the commits that the pipelined connections make share a flush.
/// Instead the service calls `poke()` once a journaled request is committed, and this sends one
/// NOTIFY of its own, in a transaction of its own, on a pool connection, from a queue of its own
/// (never the event loops, never the global queue): at once after a quiet spell, else when the
/// interval since the last one is over. A follower re-reads a trailing window of the journal on
/// each notification (and every 2 s anyway), so one NOTIFY covers every row committed before it.
///
/// `poke()` is on every journaled request's path: when a NOTIFY is already due, it costs one
/// atomic load.
public final class JournalNotifier: Sendable {
    /// The channel followers LISTEN on.
    public static let channel = "lakehook_events"
    public static let defaultInterval = Duration.milliseconds(100)

    private let pool: PostgresPool
    private let interval: Duration
    /// This instance's tag, the payload of its NOTIFYs (a follower does not need it; tests and a
    /// person watching `LISTEN lakehook_events` in psql can tell instances apart by it).
    public let payload: String
    private let queue = DispatchQueue(label: "lakehook.journal-notifier")
    /// True from a poke until its NOTIFY is about to be sent.
    private let due = Atomic<Bool>(false)
    /// When the last NOTIFY was sent (only the queue touches it).
    private let lastSent = Locked<ContinuousClock.Instant?>(nil)

    public init(pool: PostgresPool, interval: Duration = JournalNotifier.defaultInterval) {
        self.pool = pool
        self.interval = interval
        var generator = SystemRandomNumberGenerator()
        payload = String(generator.next() as UInt64, radix: 16)
    }

    /// Something was journaled (and committed): a NOTIFY will follow within `interval`.
    public func poke() {
        guard !due.load(ordering: .acquiring),
              due.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        queue.async { [self] in
            let now = ContinuousClock.now
            let wait = lastSent.withLock { last in last.map { max(.zero, $0 + interval - now) } ?? .zero }
            queue.asyncAfter(deadline: .now() + .nanoseconds(Int(wait / .nanoseconds(1)))) { [self] in send() }
        }
    }

    /// Sends the NOTIFY (on the queue). `due` is cleared first, so every poke is covered by a
    /// NOTIFY sent after it: one that found `due` set came before this send; one after the
    /// clearing schedules the next.
    private func send() {
        due.store(false, ordering: .sequentiallyConsistent)
        lastSent.withLock { $0 = ContinuousClock.now }
        // A database that is down loses the NOTIFY; followers read every 2 s anyway.
        _ = try? pool.withConnection { db in
            try db.query("SELECT pg_notify($1, $2)", [Self.channel, payload])
        }
    }
}
