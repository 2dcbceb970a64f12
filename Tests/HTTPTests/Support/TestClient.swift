import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A response as the test client read it off the wire.
struct TestResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A plain blocking TCP client with a receive timeout, so a server that hangs fails the test
/// instead of hanging it.
final class TestClient {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int, timeoutSeconds: Int = 5, ipv6: Bool = false) throws {
        fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError(description: "socket: errno \(errno)") }
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
            throw TestClientError(description: "connect: errno \(code)")
        }
    }

    deinit {
        close(fd)
    }

    func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw TestClientError(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// Sends each byte in its own write, with a pause so they arrive as separate segments.
    func sendOneByteAtATime(_ text: String, pauseMicroseconds: UInt32 = 200) throws {
        for byte in text.utf8 {
            try send([byte])
            usleep(pauseMicroseconds)
        }
    }

    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// More bytes, or nil at EOF. Throws on timeout or reset.
    func receiveSome() throws -> [UInt8]? {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { return nil }
        guard count > 0 else {
            let code = errno
            let reason = code == EAGAIN || code == EWOULDBLOCK ? "timed out" : "errno \(code)"
            throw TestClientError(description: "recv: \(reason)")
        }
        return Array(buffer[0..<count])
    }

    /// Reads one response: head up to the blank line, then `Content-Length` bytes of body.
    func readResponse() throws -> TestResponse {
        var data: [UInt8] = []
        var headEnd: Int?
        while headEnd == nil {
            guard let more = try receiveSome() else {
                throw TestClientError(description: "connection closed before a complete response head")
            }
            data += more
            headEnd = Self.find([13, 10, 13, 10], in: data)
        }
        let head = String(decoding: data[0..<headEnd!], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
            throw TestClientError(description: "bad status line in \(head)")
        }
        let headers = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? String(parts[1].drop { $0 == " " }) : "")
        }
        var rest = Array(data[(headEnd! + 4)...])
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        let hasBody = !(100..<200).contains(status) && status != 204 && status != 304
        let wanted = hasBody ? length : 0
        while rest.count < wanted {
            guard let more = try receiveSome() else {
                throw TestClientError(description: "connection closed after \(rest.count) of \(wanted) body bytes")
            }
            rest += more
        }
        pending = Array(rest[wanted...])
        return TestResponse(status: status, headers: headers, body: Array(rest[0..<wanted]))
    }

    /// True when the server closes the connection (EOF or reset) with no further bytes.
    func isClosedByServer() -> Bool {
        do {
            guard try receiveSome() != nil else { return true }
            return false
        } catch let error as TestClientError {
            return !error.isTimeout
        } catch {
            return true
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

extension TestClientError {
    var isTimeout: Bool { description.contains("timed out") }
}
