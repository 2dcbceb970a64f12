import Concurrency
import Dispatch
@testable import HTTP
import Testing

/// Per-loop state wired explicitly (issue 19): a `LoopLocal` gives each loop its own value, made
/// on that loop's thread, and two owners of values of one type never share one (the per-type
/// `attachment` it replaced gave a second owner the first one's value).
@Suite("LoopLocal: one value per loop and per owner")
struct LoopLocalTests {
    final class Box: Sendable {
        let loopIndex: Int
        let madeOnItsLoop: Bool
        init(_ loop: EventLoop) {
            loopIndex = loop.index
            madeOnItsLoop = loop.inLoop
        }
    }

    /// `local`'s value on `loop`, asked for on the loop's thread.
    func value(_ local: LoopLocal<Box>, on loop: EventLoop) throws -> Box {
        let result = Locked<Box?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            result.withLock { $0 = local.value(on: loop) }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        return try #require(result.withLock { $0 })
    }

    @Test("each loop has its own value, made once on its own thread; another owner of the same type has another")
    func perLoopAndPerOwner() throws {
        let first = try EventLoop(index: 0), second = try EventLoop(index: 1)
        first.start()
        second.start()
        defer {
            first.stop()
            second.stop()
        }
        let local = LoopLocal { loop in Box(loop) }
        let onFirst = try value(local, on: first)
        #expect(onFirst.loopIndex == 0 && onFirst.madeOnItsLoop)
        #expect(try value(local, on: first) === onFirst)
        let onSecond = try value(local, on: second)
        #expect(onSecond.loopIndex == 1 && onSecond.madeOnItsLoop && onSecond !== onFirst)
        let another = LoopLocal { loop in Box(loop) }
        #expect(try value(another, on: first) !== onFirst)
    }
}
