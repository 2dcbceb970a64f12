import Concurrency
import Foundation
@testable import HTTP
import Testing
import TestSupport

/// Issue 14, 5: a database connection whose send failed was closed by libpq at once (its fd
/// number free again) and deregistered by the loop only later, by number. An HTTP connection
/// accepted meanwhile could get that number and be registered under it: the late
/// deregistration then unwatched it, and its client hung until the idle timeout.
@Suite("EventLoop: registrations are removed by identity")
struct EventLoopRegistrationTests {
    final class Target: EventLoopTarget, @unchecked Sendable {
        let readableCalls = Locked(0)
        func readable() { readableCalls.withLock { $0 += 1 } }
        func writable() {}
    }

    static func socketPair() -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    @Test("a late deregistration of a closed fd's old target leaves the new target registered under the reused number")
    func lateDeregistrationKeepsTheNewTarget() throws {
        let loop = try EventLoop(index: 0)
        loop.start()
        defer { loop.stop() }
        let old = Target(), new = Target()
        let (oldFD, oldPeer) = Self.socketPair()
        defer { close(oldPeer) }
        let reused = DispatchSemaphore(value: 0)
        let newPeer = Locked<Int32>(-1)
        loop.execute {
            try? loop.register(oldFD, old)
            // libpq closes the socket (PQfinish) and an accept gets its number: dup2 does both
            // at once, with no moment in which another thread of the test could take the number.
            let (fd, peer) = Self.socketPair()
            newPeer.withLock { $0 = peer }
            dup2(fd, oldFD)
            close(fd)
            try? loop.register(oldFD, new)
            loop.deregister(oldFD, old)  // the old owner's late deregistration
            reused.signal()
        }
        #expect(reused.wait(timeout: .now() + 5) == .success)
        let peer = newPeer.withLock { $0 }
        defer { close(peer) }
        _ = write(peer, "x", 1)
        try? waitUntil { new.readableCalls.withLock { $0 } > 0 }
        #expect(new.readableCalls.withLock { $0 } > 0, "the new target was unwatched")
        loop.execute { loop.deregister(oldFD, new); close(oldFD) }
    }
}
