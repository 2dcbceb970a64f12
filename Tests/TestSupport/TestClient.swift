import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response as the test client read it off the wire.
public struct Reply: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header of that name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A plain blocking HTTP/1.1 client over a POSIX socket, for tests: sends exactly the bytes it
/// is given and reads answers (Content-Length framed). Receive and send timeouts turn a hung
/// server into a failed test instead of a hung one.
public final class TestClient {
    public let fd: Int32
    /// Bytes read past the last answer (a pipelined next one), handed out first.
    private var pending: [UInt8] = []

    public init(port: Int, timeoutSeconds: Int = 15, ipv6: Bool = false) throws {
        // The socket is made and connected before `self` holds it: once `fd` is set, a throw
        // from here would run `deinit` too, and a second `close` of that number closes whatever
        // another thread has opened under it since (a client, a database connection).
        fd = try Self.connectedSocket(port: port, timeoutSeconds: timeoutSeconds, ipv6: ipv6)
    }

    /// A socket connected to `port` on the loopback address; closed again if it cannot connect.
    private static func connectedSocket(port: Int, timeoutSeconds: Int, ipv6: Bool) throws -> Int32 {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            address.sin6_addr = in6addr_loopback
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw TestFailure("connect: errno \(code)")
        }
        return fd
    }

    deinit {
        close(fd)
    }

    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else {
                let code = errno
                throw TestFailure("send: errno \(code)", isTimeout: code == EAGAIN || code == EWOULDBLOCK)
            }
            offset += sent
        }
    }

    /// Sends each byte in its own write, with a pause so they arrive as separate segments.
    public func sendOneByteAtATime(_ text: String, pauseMicroseconds: UInt32 = 200) throws {
        for byte in text.utf8 {
            try send([byte])
            usleep(pauseMicroseconds)
        }
    }

    public func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// More bytes, or nil at EOF. Throws on timeout or reset.
    public func receiveSome() throws -> [UInt8]? {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { return nil }
        guard count > 0 else {
            let code = errno
            let timedOut = code == EAGAIN || code == EWOULDBLOCK
            throw TestFailure("recv: \(timedOut ? "timed out" : "errno \(code)")", isTimeout: timedOut)
        }
        return Array(buffer[0..<count])
    }

    /// Reads the next response, interim ones (100 Continue) included: the head up to the blank
    /// line, then `Content-Length` bytes of body (none for 1xx, 204 and 304).
    public func readResponse() throws -> Reply {
        var data = pending
        pending = []
        var headEnd = Self.find([13, 10, 13, 10], in: data)
        while headEnd == nil {
            guard let more = try receiveSome() else {
                throw TestFailure("connection closed before a complete response head")
            }
            data += more
            headEnd = Self.find([13, 10, 13, 10], in: data)
        }
        let head = String(decoding: data[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
            throw TestFailure("bad status line in \(head)")
        }
        let headers = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        var rest = Array(data[(headEnd! + 4)...])
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        let hasBody = !(100..<200).contains(status) && status != 204 && status != 304
        let wanted = hasBody ? length : 0
        while rest.count < wanted {
            guard let more = try receiveSome() else {
                throw TestFailure("connection closed after \(rest.count) of \(wanted) body bytes")
            }
            rest += more
        }
        pending = Array(rest[wanted...])
        return Reply(status: status, headers: headers, body: Array(rest[0..<wanted]))
    }

    /// Reads the final answer, passing over a 100 Continue.
    public func receive() throws -> Reply {
        while true {
            let reply = try readResponse()
            if reply.status != 100 { return reply }
        }
    }

    /// True when the server closes the connection (EOF or reset) with no further bytes; false
    /// when bytes come, or nothing does within the receive timeout.
    public func isClosedByServer() -> Bool {
        do {
            guard try receiveSome() != nil else { return true }
            return false
        } catch let error as TestFailure {
            return !error.isTimeout
        } catch {
            return true
        }
    }

    public static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

extension TestClient {
    /// One request on a fresh connection, as a plain client sends it: the request line, `Host`,
    /// `Connection: close`, `headers`, and `Content-Length` when there is a body; the final answer.
    public static func request(
        port: Int, _ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = [],
        host: String = "127.0.0.1", timeoutSeconds: Int
    ) throws -> Reply {
        let client = try TestClient(port: port, timeoutSeconds: timeoutSeconds)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((body ?? "").utf8)
        if body != nil { head += "Content-Length: \(bytes.count)\r\n" }
        try client.send(Array((head + "\r\n").utf8) + bytes)
        return try client.receive()
    }
}
