#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An instant, with the microsecond precision of PostgreSQL's `timestamptz`.
///
/// Values read from payloads (`TimestampParser`) lie in years 0001–9999 UTC. The formatting
/// properties use the proleptic Gregorian calendar and also handle instants outside that range.
public struct Timestamp: Sendable, Hashable, Comparable {
    /// Microseconds since 1970-01-01T00:00:00Z; negative before it.
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    /// The current time from the system's real-time clock.
    public static func now() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Timestamp(
            microsecondsSinceEpoch: Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// Whole minutes from `other` to `self`, truncated toward zero (59.9 minutes is 59, −59.9
    /// is −59), as DevLake's `lead_time_minutes`; exact for any two timestamps.
    public func minutes(since other: Timestamp) -> Int64 {
        let difference = Int128(microsecondsSinceEpoch) - Int128(other.microsecondsSinceEpoch)
        return Int64(clamping: difference / 60_000_000)
    }

    /// Seconds from `other` to `self`, with the fraction (for `duration_sec`).
    public func seconds(since other: Timestamp) -> Double {
        let difference = Int128(microsecondsSinceEpoch) - Int128(other.microsecondsSinceEpoch)
        return Double(difference) / 1_000_000
    }
}
