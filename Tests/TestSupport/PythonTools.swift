import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The Python tools the API tests run: `scripts/python-tools.sh` makes (once) a virtualenv at
/// `.lakehook/venv` with pinned schemathesis and openapi-spec-validator, and prints its bin folder.
public enum PythonTools {
    public static let projectRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let document = projectRoot.appendingPathComponent("Sources/Webhooks/Resources/openapi.json")

    /// The venv's bin folder, or what the script said when it could not make it.
    public static let bin: Result<URL, TestFailure> = {
        let script = projectRoot.appendingPathComponent("scripts/python-tools.sh")
        do {
            let run = try PythonTools.run(URL(fileURLWithPath: "/bin/bash"), [script.path], timeout: 600)
            let path = run.output.split(separator: "\n").last.map(String.init) ?? ""
            guard run.status == 0, FileManager.default.isExecutableFile(atPath: path + "/python") else {
                return .failure(TestFailure("scripts/python-tools.sh failed (\(run.status)):\n\(run.output)"))
            }
            return .success(URL(fileURLWithPath: path))
        } catch {
            return .failure(TestFailure("cannot run scripts/python-tools.sh: \(error)"))
        }
    }()

    /// A tool of the venv; a test that needs one fails (never skips) when the venv cannot be made.
    public static func tool(_ name: String) throws -> URL {
        try bin.get().appendingPathComponent(name)
    }

    /// Runs a program to its end (killed after `timeout` seconds), stdout and stderr together.
    /// Proxy variables are dropped: the tools talk to 127.0.0.1 only.
    public static func run(
        _ executable: URL, _ arguments: [String], in folder: URL? = nil, input: String? = nil, timeout: Int
    ) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        for name in ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
            environment[name] = nil
        }
        environment["NO_PROXY"] = "127.0.0.1,localhost"
        environment["NO_COLOR"] = "1"
        let run = try runProgram(
            [executable.path] + arguments, environment: environment, input: input, directory: folder,
            mergingErrors: true, timeout: Double(timeout))
        return (run.status, run.out)
    }
}
