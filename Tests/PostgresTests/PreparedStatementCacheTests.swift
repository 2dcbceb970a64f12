import Testing
@testable import Postgres

@Suite("PreparedStatementCache and CStringArray")
struct PreparedStatementCacheTests {
    @Test("names are never reused, even after the cache is cleared")
    func freshNames() {
        var cache = PreparedStatementCache(capacity: 2)
        let first = cache.makeName()
        cache.insert(first, for: "SELECT 1")
        let second = cache.makeName()
        cache.insert(second, for: "SELECT 2")
        #expect(cache.isFull)
        cache.removeAll()
        let third = cache.makeName()
        #expect(Set([first, second, third]).count == 3)
        #expect(cache.name(for: "SELECT 1") == nil)
    }

    @Test("a removed statement is looked up as absent")
    func removal() {
        var cache = PreparedStatementCache()
        cache.insert(cache.makeName(), for: "SELECT 1")
        cache.remove("SELECT 1")
        #expect(cache.name(for: "SELECT 1") == nil)
        #expect(cache.count == 0)
    }

    @Test("the C string array carries NULLs, empty strings and multibyte text intact")
    func cStrings() {
        let strings: [String?] = ["a", nil, "", "héllo 🐘"]
        let copied: [String?] = CStringArray.with(strings) { array in
            (0..<strings.count).map { index in array![index].map { String(cString: $0) } }
        }
        #expect(copied == strings)
        #expect(CStringArray.with([]) { $0 == nil })
    }

    @Test("a string with a NUL byte is found before it could be truncated")
    func nulDetection() {
        #expect(CStringArray.firstIndexWithNUL(["ok", nil, "bad\u{0}tail"]) == 2)
        #expect(CStringArray.firstIndexWithNUL(["ok", nil, ""]) == nil)
    }
}
