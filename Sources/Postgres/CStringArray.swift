import Glibc

/// Lends libpq a `const char * const *` built from Swift strings (nil → NULL pointer), valid for
/// the duration of `body` only. All strings live in one allocation, freed when `body` returns.
enum CStringArray {
    /// The index of the first string that contains a NUL byte, which C cannot carry.
    static func firstIndexWithNUL(_ strings: [String?]) -> Int? {
        strings.firstIndex { string in
            guard var string else { return false }
            return string.withUTF8 { utf8 in
                guard let base = utf8.baseAddress else { return false }
                return memchr(base, 0, utf8.count) != nil
            }
        }
    }

    /// - Precondition: no string contains a NUL byte (check `firstIndexWithNUL` first).
    static func with<R>(
        _ strings: [String?],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws -> R
    ) rethrows -> R {
        if strings.isEmpty { return try body(nil) }
        let byteCount = strings.reduce(0) { $0 + ($1.map { $0.utf8.count + 1 } ?? 0) }
        let storage = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(byteCount, 1))
        defer { storage.deallocate() }
        var pointers: [UnsafePointer<CChar>?] = []
        pointers.reserveCapacity(strings.count)
        var offset = 0
        for string in strings {
            guard var string else {
                pointers.append(nil)
                continue
            }
            let start = storage.baseAddress! + offset
            string.withUTF8 { utf8 in
                if let base = utf8.baseAddress {
                    UnsafeMutableRawPointer(start).copyMemory(from: base, byteCount: utf8.count)
                }
                start[utf8.count] = 0
                offset += utf8.count + 1
            }
            pointers.append(UnsafePointer(start))
        }
        return try pointers.withUnsafeBufferPointer { try body($0.baseAddress) }
    }
}
