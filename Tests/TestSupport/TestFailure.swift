/// What a test's own plumbing throws (a client that cannot connect, a condition never met, a
/// program that would not start), with a message that says what went wrong.
public struct TestFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// The failure is a receive or send timeout (a server that said nothing in time).
    public var isTimeout: Bool

    public init(_ description: String, isTimeout: Bool = false) {
        self.description = description
        self.isTimeout = isTimeout
    }
}
