import Concurrency

/// Per-loop state, wired explicitly: one `Value` for each event loop that asks for it, made on
/// that loop's thread the first time and used only there, so it needs no lock. Its owner (an
/// executor's database pipelines, a log's line buffers) holds the `LoopLocal`; two owners never
/// share a value, even of the same type, and nothing is looked up by type.
public final class LoopLocal<Value: AnyObject>: Sendable {
    /// Unique in the process and never reused, so a loop never hands one owner's value to another.
    let key: Int
    let make: @Sendable (EventLoop) -> Value

    public init(_ make: @escaping @Sendable (EventLoop) -> Value) {
        key = loopLocalKeys.withLock { last in
            last += 1
            return last
        }
        self.make = make
    }

    /// `loop`'s value, made now if it has none; on `loop`'s own thread only.
    public func value(on loop: EventLoop) -> Value {
        loop.value(of: self)
    }
}

/// The last `LoopLocal` key given out.
private let loopLocalKeys = Locked(0)
