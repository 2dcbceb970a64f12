/// Percent-decoding (RFC 3986 §2.1), exactly once: of a path segment, where `+` stays `+`, or of
/// a query-string name or value (`plusIsSpace`), where `+` is a space as HTML forms send it.
public enum PercentDecoding {
    public enum Outcome {
        case success(String)
        /// Why not: invalid percent-encoding, not UTF-8 once decoded, or a NUL.
        case failure(String)
    }

    public static func decode(_ segment: Substring, plusIsSpace: Bool = false) -> Outcome {
        let utf8 = segment.utf8
        guard utf8.contains(ASCII.percent) || (plusIsSpace && utf8.contains(ASCII.plus)) else {
            return utf8.contains(0) ? .failure("contains NUL") : .success(String(segment))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            index = utf8.index(after: index)
            guard byte == ASCII.percent else {
                bytes.append(plusIsSpace && byte == ASCII.plus ? ASCII.space : byte)
                continue
            }
            guard index != utf8.endIndex, let high = ASCII.hexValue(utf8[index]) else {
                return .failure("invalid percent-encoding")
            }
            index = utf8.index(after: index)
            guard index != utf8.endIndex, let low = ASCII.hexValue(utf8[index]) else {
                return .failure("invalid percent-encoding")
            }
            index = utf8.index(after: index)
            bytes.append(high << 4 | low)
        }
        // A NUL could never be stored or compared sensibly downstream (PostgreSQL text).
        guard !bytes.contains(0) else { return .failure("contains NUL") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure("percent-encoding is not valid UTF-8")
        }
        return .success(text)
    }
}
