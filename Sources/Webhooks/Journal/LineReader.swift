import Foundation

/// The lines of a file, or of standard input (`-`), one at a time (`getline`), without the line
/// break (`\n` or `\r\n`). Owns its `FILE*` and closes it (standard input is left open).
///
/// Thread safety: used by one thread at a time (made on one, then handed to the thread that
/// reads), which is why `@unchecked Sendable` is sound.
final class LineReader: @unchecked Sendable {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    /// Opens `path` (`-`: standard input); throws a message naming the file when it cannot.
    init(path: String) throws {
        if path == "-" {
            // A FILE of its own on descriptor 0 (the global `stdin` is shared mutable state).
            guard let input = fdopen(STDIN_FILENO, "r") else {
                throw JournalCommandError(description: "cannot read standard input: \(String(cString: strerror(errno)))")
            }
            file = input
            ownsFile = false
        } else {
            guard let opened = fopen(path, "r") else {
                throw JournalCommandError(description: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            file = opened
            ownsFile = true
        }
    }

    deinit {
        free(buffer)
        if ownsFile { fclose(file) }
    }

    /// The next line's bytes; nil at the end. A read error ends the input too, and is thrown.
    func next() throws -> [UInt8]? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else {
            if ferror(file) != 0 { throw JournalCommandError(description: "reading the input failed: \(String(cString: strerror(errno)))") }
            return nil
        }
        var count = length
        if count > 0 && buffer[count - 1] == 0x0A { count -= 1 }
        if count > 0 && buffer[count - 1] == 0x0D { count -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// How many lines a regular file has (the progress bar's total); nil for anything else
    /// (standard input, a pipe), which can only be read once.
    static func countLines(path: String) -> Int? {
        guard path != "-", let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var info = stat()
        guard fstat(fileno(file), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var lines = 0
        var last: UInt8 = 0x0A
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let read = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if read == 0 { break }
            for byte in chunk[..<read] where byte == 0x0A { lines += 1 }
            last = chunk[read - 1]
        }
        return last == 0x0A ? lines : lines + 1
    }
}
