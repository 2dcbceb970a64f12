extension StringProtocol {
    /// Without the spaces and tabs around it (HTTP's optional whitespace). Used per request
    /// instead of Foundation's `trimmingCharacters(in: .whitespaces)`, which bridged through
    /// NSString (10 % of the CPU of an issue upsert in `make bench`).
    var trimmingBlanks: String {
        let text = Substring(self)
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = text.utf8.firstIndex(where: { !isBlank($0) }),
              let last = text.utf8.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return String(text[first...last])
    }
}
