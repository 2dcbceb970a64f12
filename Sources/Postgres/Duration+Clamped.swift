extension Duration {
    /// Whole nanoseconds, clamped to `0...Int.max`.
    var clampedNanoseconds: Int {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return Int.max }
        let (total, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? Int.max : Int(clamping: total)
    }

    /// Whole milliseconds rounded up (so 1 µs is 1 ms, not "no timeout"), clamped to
    /// `0...Int32.max` as PostgreSQL's millisecond settings take.
    var roundedUpMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let (millis, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return Int64(Int32.max) }
        let rounded = millis + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return min(rounded, Int64(Int32.max))
    }
}
