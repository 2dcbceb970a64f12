import Foundation

/// A value shared between test threads behind an NSLock (a class, so closures can capture it;
/// NSLock, because ThreadSanitizer cannot see `Synchronization.Mutex` on Linux and would report
/// its accesses as races).
public final class Shared<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    public init(_ value: Value) { self.value = value }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
