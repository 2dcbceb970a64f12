/// A strict RFC 8259 JSON parser.
///
/// Accepted: exactly one value, surrounded only by JSON whitespace (space, tab, LF, CR), with an
/// optional UTF-8 byte order mark at the very start. Refused, each with a message naming the
/// byte: trailing commas, comments, single quotes, `NaN`/`Infinity`, leading zeros, unescaped
/// control characters in strings, unknown escapes, lone UTF-16 surrogates in `\u` escapes,
/// invalid UTF-8 (overlong forms, encoded surrogates, beyond U+10FFFF), anything after the
/// value, and nesting deeper than `maxDepth`.
///
/// The parser is iterative, so no input can exhaust its stack, whatever `maxDepth` is. The
/// values it returns are as deep as `maxDepth` allows, and comparing, serializing and freeing
/// them recurses: that is what the limit is for (request bodies need far fewer than 64 levels).
/// Numbers are kept as their literal text (`JSONValue.number`), strings are decoded.
public enum JSONParser {
    /// The nesting limit used when none is given: 64 levels of arrays and objects.
    public static let defaultMaxDepth = 64

    /// Parses one JSON document.
    ///
    /// - Parameters:
    ///   - bytes: the document, UTF-8 encoded (a `[UInt8]`, a slice, `String.utf8`, ...).
    ///   - maxDepth: how many arrays and objects may nest; the outermost one is level 1, so
    ///     `[[1]]` needs 2. A scalar document needs 0.
    /// - Throws: `JSONParseError` naming the first problem and its byte offset.
    public static func parse(
        _ bytes: some Collection<UInt8>,
        maxDepth: Int = defaultMaxDepth
    ) throws(JSONParseError) -> JSONValue {
        let outcome = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                var scanner = JSONScanner(buffer, maxDepth: maxDepth)
                return try scanner.document()
            }
        }
        if let outcome {
            return try outcome.get()
        }
        let copy = Array(bytes)
        return try parse(copy, maxDepth: maxDepth)
    }
}
