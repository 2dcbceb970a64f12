import Foundation
import HTTP
import Testing
import TestSupport

/// The container files: the Dockerfile lints clean, builds what `make release` builds, and the
/// proxy's keep-alive agrees with the server's.
@Suite("Production: container and proxy files")
struct ProductionImageTests {
    static let root = PythonTools.projectRoot
    static let dockerfile = root.appendingPathComponent("docker/Dockerfile")

    @Test("docker/Dockerfile passes hadolint with its default threshold")
    func dockerfilePassesHadolint() throws {
        let run = try PythonTools.run(try PythonTools.tool("hadolint"), ["--no-color", Self.dockerfile.path], in: Self.root, timeout: 60)
        #expect(run.status == 0, "hadolint: \(run.output)")
    }

    /// `make release`'s `swift build` line, as words.
    static func makeReleaseCommand() throws -> [String] {
        let makefile = try String(contentsOf: root.appendingPathComponent("Makefile"), encoding: .utf8)
        var inRelease = false
        for line in makefile.components(separatedBy: "\n") {
            if line.hasPrefix("release:") { inRelease = true; continue }
            guard inRelease else { continue }
            guard line.hasPrefix("\t") else { break }
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if words.starts(with: ["swift", "build"]) { return words }
        }
        throw TestFailure("no swift build line in the Makefile's release target")
    }

    /// The build stage's RUN commands (continuation lines joined), split at `&&`.
    static func buildStageCommands() throws -> [String] {
        let text = try String(contentsOf: dockerfile, encoding: .utf8).replacingOccurrences(of: "\\\n", with: " ")
        var inBuild = false
        var commands: [String] = []
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.uppercased().hasPrefix("FROM ") { inBuild = trimmed.lowercased().hasSuffix(" as build") }
            guard inBuild, trimmed.uppercased().hasPrefix("RUN ") else { continue }
            commands += trimmed.dropFirst(4).components(separatedBy: "&&").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return commands
    }

    @Test("the image's build stage runs the same swift build as make release (which CI runs outside the container)")
    func imageBuildsWhatMakeReleaseBuilds() throws {
        let release = try Self.makeReleaseCommand()
        #expect(release.contains("-c") && release.contains("release"))
        let commands = try Self.buildStageCommands()
        let builds = commands.filter { $0.hasPrefix("swift build") }.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
        #expect(builds == [release], "build stage: \(commands)")
        // The binary is copied from the bin path of the same configuration (--product aside).
        let binPath = try #require(commands.lazy.compactMap { command -> [String]? in
            guard let start = command.range(of: "$(swift build"), let end = command[start.upperBound...].firstIndex(of: ")") else { return nil }
            return String(command[command.index(start.lowerBound, offsetBy: 2)..<end]).split(whereSeparator: \.isWhitespace).map(String.init)
        }.first, "no $(swift build --show-bin-path) in \(commands)")
        var withoutProduct = release
        if let product = withoutProduct.firstIndex(of: "--product") { withoutProduct.removeSubrange(product...(product + 1)) }
        #expect(binPath.filter { $0 != "--show-bin-path" } == withoutProduct && binPath.contains("--show-bin-path"), "\(binPath)")
    }

    @Test("nginx drops idle upstream connections before Lakehook does, so a POST never meets a closing socket")
    func nginxKeepaliveShorterThanLakehookIdleTimeout() throws {
        // An upstream connection Lakehook closes as nginx reuses it fails the request, and nginx
        // does not retry a POST elsewhere (proxy_next_upstream without non_idempotent): a 502.
        let conf = try String(contentsOf: NginxProcess.shippedConfig, encoding: .utf8)
        let upstream = try #require(conf.range(of: #"upstream lakehook \{[^}]*\}"#, options: .regularExpression).map { String(conf[$0]) })
        let timeout = try #require(upstream.range(of: #"keepalive_timeout\s+\d+s;"#, options: .regularExpression).map { String(upstream[$0]) },
            "the upstream block sets no keepalive_timeout (nginx's default 60 s equals Lakehook's idle timeout)")
        let seconds = try #require(Int(timeout.filter(\.isNumber)))
        #expect(Duration.seconds(seconds) < ServerLimits().idleTimeout, "\(timeout) vs \(ServerLimits().idleTimeout)")
    }
}
