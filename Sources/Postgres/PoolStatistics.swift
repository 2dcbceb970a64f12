/// Counts at one instant. `open` includes connections being opened; `open == inUse + idle`.
public struct PoolStatistics: Sendable, Equatable {
    public var size: Int
    public var open: Int
    public var inUse: Int
    public var idle: Int
    public var waiting: Int

    public init(size: Int, open: Int, inUse: Int, idle: Int, waiting: Int) {
        self.size = size
        self.open = open
        self.inUse = inUse
        self.idle = idle
        self.waiting = waiting
    }
}
