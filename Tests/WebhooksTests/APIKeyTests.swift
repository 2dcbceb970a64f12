import Foundation
import Testing
@testable import Webhooks

@Suite("API keys")
struct APIKeyTests {
    @Test("SHA-256 matches the FIPS 180-4 test vectors")
    func sha256() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("keys are long, random, and stored only as their hash")
    func keys() {
        let a = APIKey.generate(), b = APIKey.generate()
        #expect(a.plaintext != b.plaintext)
        #expect(a.plaintext.hasPrefix("lhk_") && a.plaintext.count == 4 + 43)
        #expect(a.hash.count == 64 && !a.hash.contains(a.plaintext))
        #expect(a.hint.count == 8 && a.plaintext.hasPrefix(a.hint))
    }

    @Test("credentials from Bearer and Basic headers")
    func credentials() {
        #expect(Credentials.key(fromAuthorization: "Bearer abc") == "abc")
        #expect(Credentials.key(fromAuthorization: "bearer  abc ") == "abc")
        #expect(Credentials.key(fromAuthorization: "Basic " + Data("user:k:ey".utf8).base64EncodedString()) == "k:ey")
        #expect(Credentials.key(fromAuthorization: "Basic " + Data(":key".utf8).base64EncodedString()) == "key")
        #expect(Credentials.key(fromAuthorization: "Basic " + Data("user:".utf8).base64EncodedString()) == nil)
        #expect(Credentials.key(fromAuthorization: "Basic !!!") == nil)
        #expect(Credentials.key(fromAuthorization: "Token abc") == nil)
        #expect(Credentials.key(fromAuthorization: nil) == nil)
        #expect(Credentials.key(fromAuthorization: "Bearer") == nil)
    }

    @Test("hash comparison")
    func compare() {
        #expect(APIKey.constantTimeEquals("abc", "abc"))
        #expect(!APIKey.constantTimeEquals("abc", "abd"))
        #expect(!APIKey.constantTimeEquals("abc", "ab"))
    }
}
