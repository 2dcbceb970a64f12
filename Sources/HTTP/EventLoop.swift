import CEpoll
import Dispatch
import Glibc
import Concurrency

/// Something an `EventLoop` watches: a socket's readiness, and optionally a deadline.
/// Methods run on the loop's thread only.
public protocol EventLoopTarget: AnyObject {
    /// The fd is readable, or at its end, or in error (read to find out which).
    func readable()
    /// The fd is writable (or in error).
    func writable()
    /// The peer closed its side or the fd is in error (EPOLLRDHUP/EPOLLHUP/EPOLLERR); called
    /// before `readable()` for the same event.
    func hungUp()
}

extension EventLoopTarget {
    public func hungUp() {}
}

/// Something with at most one deadline, checked by its loop (`EventLoop.track`).
protocol EventLoopTimed: AnyObject {
    /// Monotonic nanoseconds (`DispatchTime.uptimeNanoseconds`); `.max` for none.
    var deadline: UInt64 { get }
    func deadlinePassed()
}

/// One thread running `epoll_wait`: the sockets registered with it are read, handled and
/// written on that thread, so a request answered without blocking never changes threads.
///
/// Everything but `execute` is confined to the loop's thread, which is what makes the class
/// `@unchecked Sendable`. Deadlines are checked by scanning the tracked targets when the
/// earliest one is due (at most every `timerSlack`): arming a deadline — done several times per
/// request — is a store and a comparison, not a heap operation.
public final class EventLoop: @unchecked Sendable {
    /// Deadlines may fire this much late; scans are never closer together.
    static let timerSlack: UInt64 = 5_000_000

    /// 0..<loops, stable for the server's life.
    public let index: Int
    /// The values of the `LoopLocal`s used on this loop, by their keys.
    private var locals: [Int: AnyObject] = [:]

    private let epollFD: Int32
    private let wakeFD: Int32
    private var targets: [Int32: any EventLoopTarget] = [:]
    private var timed: [ObjectIdentifier: any EventLoopTimed] = [:]
    private var nextScan = UInt64.max
    private var deferred: [() -> Void] = []
    private let tasks = Locked(Tasks())
    private let exited = DispatchSemaphore(value: 0)

    private struct Tasks {
        var queue: [() -> Void] = []
        var stopping = false
        /// The thread has left its loop: tasks are dropped, not queued.
        var exited = false
        /// The loop may be in `epoll_wait`; a new task must write the eventfd.
        var sleeping = true
    }

    init(index: Int) throws(SocketError) {
        self.index = index
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SocketError(operation: "epoll_create1", errno: errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        // Every stored property is set now, so a throw from here on runs `deinit`, which closes
        // `epollFD`: closing it here as well would close whatever descriptor another thread had
        // opened under that number in between.
        guard wakeFD >= 0 else { throw SocketError(operation: "eventfd", errno: errno) }
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeFD))
        _ = epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event)
    }

    deinit {
        if wakeFD >= 0 { Glibc.close(wakeFD) }
        Glibc.close(epollFD)
    }

    /// Starts the loop's thread.
    func start() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { argument in
            let loop = Unmanaged<EventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }, box.toOpaque())
        precondition(created == 0, "pthread_create failed: \(created)")
        pthread_detach(thread)
    }

    /// Asks the loop to finish after the tasks queued so far, and waits until it has.
    func stop() {
        stopWithoutWaiting()
        exited.wait()
    }

    /// Asks the loop to finish; does not wait (for a deinit, which may run on the loop itself).
    func stopWithoutWaiting() {
        execute { [self] in tasks.withLock { $0.stopping = true } }
    }

    /// True on the loop's own thread.
    public var inLoop: Bool { Self.current === self }

    /// The loop whose thread this is; nil elsewhere.
    public static var current: EventLoop? {
        guard let pointer = pthread_getspecific(currentKey) else { return nil }
        return Unmanaged<EventLoop>.fromOpaque(pointer).takeUnretainedValue()
    }

    private static let currentKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// Stops a debug build (the tests) where loop-confined state is touched from another thread:
    /// that state has no lock, so a call from elsewhere is a data race. Free in release builds.
    /// Owners of loop-confined state outside this module (a `LoopPipeline`) call it too.
    @inline(__always)
    public func assertInLoop(_ function: StaticString = #function) {
        assert(inLoop, "\(function) called off the thread of loop \(index)")
    }

    /// Runs `work` on the loop's thread, after the events being handled (from any thread).
    /// After the loop has stopped, `work` is dropped (released at once, never run).
    public func execute(_ work: @escaping () -> Void) {
        let wake = tasks.withLock { tasks in
            if tasks.exited { return false }
            tasks.queue.append(work)
            return tasks.sleeping && tasks.queue.count == 1
        }
        if wake {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    /// This loop's value of `local`, made on first use (loop thread only).
    func value<Value>(of local: LoopLocal<Value>) -> Value {
        assertInLoop()
        if let existing = locals[local.key] { return unsafeDowncast(existing, to: Value.self) }
        let made = local.make(self)
        locals[local.key] = made
        return made
    }

    /// Runs `work` once the events of this turn are handled, before the loop waits again (loop
    /// thread only): e.g. one flush for everything a turn's requests queued on a socket.
    public func afterEvents(_ work: @escaping () -> Void) {
        assertInLoop()
        deferred.append(work)
    }

    // MARK: - Registration (loop thread)

    /// Watches `fd` for reading and writing. Edge-triggered: the target must read (and write)
    /// until EAGAIN before it waits for the next event; level-triggered otherwise.
    public func register(_ fd: Int32, _ target: any EventLoopTarget, edgeTriggered: Bool = true) throws(SocketError) {
        assertInLoop()
        var flags = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        flags |= edgeTriggered ? EPOLLOUT.rawValue | EPOLLET.rawValue : 0
        var event = epoll_event(events: flags, data: epoll_data_t(fd: fd))
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            throw SocketError(operation: "epoll_ctl ADD", errno: errno)
        }
        targets[fd] = target
    }

    /// For a level-triggered registration: also wait for writability, or stop waiting for it.
    public func watchWritable(_ fd: Int32, _ on: Bool) {
        assertInLoop()
        var flags = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        if on { flags |= EPOLLOUT.rawValue }
        var event = epoll_event(events: flags, data: epoll_data_t(fd: fd))
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Stops watching `fd` for `target` (before it is closed). Only `target`'s registration
    /// goes: once an fd is closed its number can be handed to a socket accepted on another
    /// thread and registered here by another target, which a late deregistration by number
    /// alone would silently unwatch (its client then hung until a timeout).
    public func deregister(_ fd: Int32, _ target: any EventLoopTarget) {
        assertInLoop()
        guard let registered = targets[fd], registered === target else { return }
        targets.removeValue(forKey: fd)
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
    }

    func track(_ target: any EventLoopTimed) {
        assertInLoop()
        timed[ObjectIdentifier(target)] = target
        deadlineChanged(target.deadline)
    }

    func untrack(_ target: any EventLoopTimed) {
        assertInLoop()
        timed.removeValue(forKey: ObjectIdentifier(target))
    }

    /// A tracked target's deadline moved to `deadline`.
    func deadlineChanged(_ deadline: UInt64) {
        assertInLoop()
        if deadline < nextScan { nextScan = deadline }
    }

    // MARK: - The loop

    private func run() {
        // Signals are for the process's own signal handling (Dispatch's signal sources), never
        // for a loop: blocked here, as Dispatch blocks them on its worker threads, a SIGTERM
        // cannot interrupt `epoll_wait` or run a handler on this thread's stack.
        var signals = sigset_t()
        sigfillset(&signals)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(Self.currentKey, nil) }
        let capacity = 128
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let count = epoll_wait(epollFD, events, Int32(capacity), waitMilliseconds())
            tasks.withLock { $0.sleeping = false }
            if count > 0 {
                for i in 0..<Int(count) {
                    let event = events[i]
                    let fd = event.data.fd
                    if fd == wakeFD {
                        var value: UInt64 = 0
                        _ = Glibc.read(wakeFD, &value, 8)
                        continue
                    }
                    let bits = event.events
                    if bits & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                        targets[fd]?.hungUp()
                    }
                    if bits & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                        targets[fd]?.readable()
                    }
                    if bits & (EPOLLOUT.rawValue | EPOLLERR.rawValue) != 0 {
                        targets[fd]?.writable()
                    }
                }
            }
            let stopping = runTasks()
            if nextScan != .max, DispatchTime.now().uptimeNanoseconds >= nextScan { scanDeadlines() }
            while !deferred.isEmpty {
                let batch = deferred
                deferred.removeAll(keepingCapacity: true)
                for work in batch { work() }
            }
            if stopping { break }
        }
        // What is still registered or queued (e.g. the answer of a handler that outlived a
        // forced shutdown) holds this loop, and the loop holds it: drop all of it, or nothing
        // of it is ever freed.
        let dropped = tasks.withLock { tasks in
            tasks.exited = true
            defer { tasks.queue.removeAll() }
            return tasks.queue
        }
        targets.removeAll()
        timed.removeAll()
        locals.removeAll()
        deferred.removeAll()
        _ = dropped  // released here, outside the lock
        exited.signal()
    }

    /// Runs queued tasks; true when the loop was asked to stop.
    private func runTasks() -> Bool {
        while true {
            let (batch, stopping) = tasks.withLock { tasks in
                let batch = tasks.queue
                tasks.queue.removeAll(keepingCapacity: true)
                if batch.isEmpty { tasks.sleeping = true }
                return (batch, tasks.stopping)
            }
            if batch.isEmpty { return stopping }
            for work in batch { work() }
        }
    }

    private func waitMilliseconds() -> Int32 {
        guard nextScan != .max else { return -1 }
        let now = DispatchTime.now().uptimeNanoseconds
        guard nextScan > now else { return 0 }
        return Int32(clamping: (nextScan - now + 999_999) / 1_000_000)
    }

    private func scanDeadlines() {
        let now = DispatchTime.now().uptimeNanoseconds
        nextScan = .max
        var due: [any EventLoopTimed] = []
        var earliest = UInt64.max
        for target in timed.values {
            let deadline = target.deadline
            if deadline <= now {
                due.append(target)
            } else if deadline < earliest {
                earliest = deadline
            }
        }
        for target in due { target.deadlinePassed() }
        // Targets re-armed while firing lowered `nextScan` themselves.
        if earliest != .max { nextScan = min(nextScan, max(earliest, now + Self.timerSlack)) }
    }
}
