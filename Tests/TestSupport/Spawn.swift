import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts a program with posix_spawn in a process group of its own (so `kill(-pid, …)` reaches
/// its children too), stdin from `stdinPath` (/dev/null unless given), stdout written to
/// `stdoutPath`, stderr to `stderrPath` (nil: with stdout); the child opens the files itself and every other descriptor
/// is closed in it, so no descriptor of the test process is handed down. `environment` nil is
/// this process's. Its pid.
///
/// Not Foundation's `Process`: two instances started at once by `Process` once wrote one log
/// file between them, which points at descriptors crossing between concurrent launches, and its
/// exit monitoring hung on a child that had started a daemon.
public func spawn(
    _ argv: [String], stdoutPath: String, stderrPath: String? = nil, stdinPath: String = "/dev/null",
    environment: [String: String]? = nil
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    // Nothing else of the test process reaches the child: not its sockets (the hostile-client
    // tests hold a thousand), which a server counts against its own descriptor limit.
    // PostgreSQL refused to start: "insufficient file descriptors ... System allows 32".
    closeInheritedDescriptors(&actions)
    posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if let stderrPath {
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)
    var cArgs = argv.map { strdup($0) }
    cArgs.append(nil)
    var cEnvironment = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") }
    cEnvironment.append(nil)
    defer { for pointer in cArgs + cEnvironment { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, &cEnvironment)
    guard spawned == 0 else { throw TestFailure("posix_spawn \(argv[0]): \(spawned)") }
    return pid
}

/// Adds "close every descriptor from 3 up" to `actions`: glibc's
/// `posix_spawn_file_actions_addclosefrom_np` (2.34+, hidden from Swift behind `_GNU_SOURCE`,
/// so looked up by name), else a close action for each descriptor open now (one closed
/// meanwhile is ignored by the child).
private func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        return
    }
    let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for fd in open.compactMap(Int32.init) where fd > 2 {
        posix_spawn_file_actions_addclose(&actions, fd)
    }
}

/// A `waitpid` status as a shell shows it: the exit code, or 128 + the signal that ended it.
public func exitCode(ofWaitStatus status: Int32) -> Int32 {
    status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// Runs a program to completion with stdout and stderr in `outputPath`; its exit status and output.
public func spawnAndWait(_ argv: [String], outputPath: String) throws -> (Int32, String) {
    let pid = try spawn(argv, stdoutPath: outputPath)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return (exitCode(ofWaitStatus: status), output)
}

/// A TCP port nothing uses right now, for a server started a little later (PostgreSQL, lakehook).
///
/// Taken below the kernel's ephemeral range (`ip_local_port_range`), never from it: a port from
/// that range can be handed, before the server binds it, to one of the thousands of client
/// sockets the hostile-client tests open, and then the server cannot start. (It happened:
/// `DatabaseFaultTests.downAtStart` chose its port, then its PostgreSQL failed to start 30 s
/// later while `BodyMemoryTests` held 1,000 client sockets.)
public func freePort() throws -> Int {
    let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
        .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) } ?? []
    let ephemeralLow = range.first ?? 32768
    for _ in 0..<200 {
        let port = Int.random(in: 20_000..<max(20_001, ephemeralLow))
        if let socket = try? boundSocket(listening: false, port: port) {
            close(socket.fd)
            return port
        }
    }
    throw TestFailure("no free port below the ephemeral range (\(ephemeralLow))")
}

/// A TCP socket on 127.0.0.1 with `port` (0: one of the kernel's), listening when `listening`;
/// the caller closes it.
public func boundSocket(listening: Bool, port: Int = 0) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, !listening || listen(fd, 8) == 0 else {
        let error = errno
        close(fd)
        throw TestFailure("bind or listen: \(error)")
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// What a program run to its end printed, and how it ended.
public struct ProgramRun: Sendable {
    /// The exit code, or 128 + the signal that ended it.
    public var status: Int32
    public var out: String
    /// Empty when stderr went with stdout.
    public var err: String
}

/// Runs a program to its end with `spawn`: stdin is `input` (none: /dev/null), stdout and stderr
/// go to files of their own (or stderr with stdout when `mergingErrors`), in `directory` when
/// given, and after `timeout` seconds its process group is killed. Files rather than pipes: a
/// child that starts a daemon would hand it the pipe, and the read would never end.
public func runProgram(
    _ argv: [String], environment: [String: String]? = nil, input: String? = nil, directory: URL? = nil,
    mergingErrors: Bool = false, timeout: Double? = nil
) throws -> ProgramRun {
    let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("lakehook-run-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outPath = folder.appendingPathComponent("out").path
    let errPath = folder.appendingPathComponent("err").path
    var inPath = "/dev/null"
    if let input {
        inPath = folder.appendingPathComponent("in").path
        try input.write(toFile: inPath, atomically: false, encoding: .utf8)
    }
    // posix_spawn has no portable "change directory": a shell does it, then becomes the program.
    let command = directory.map { ["/bin/sh", "-c", #"cd "$0" && exec "$@""#, $0.path] + argv } ?? argv
    let pid = try spawn(
        command, stdoutPath: outPath, stderrPath: mergingErrors ? nil : errPath, stdinPath: inPath, environment: environment)
    let killer = DispatchWorkItem { kill(-pid, SIGKILL) }
    if let timeout { DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    killer.cancel()
    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    return ProgramRun(status: exitCode(ofWaitStatus: status), out: read(outPath), err: mergingErrors ? "" : read(errPath))
}
