/// Why a body is not a JSON document, in words a person understands.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A sentence naming the problem and where it is, e.g. "unexpected character 'x' at byte 17".
    public var message: String
    /// Where the problem is: the offset of the offending byte, counted from 0.
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}
