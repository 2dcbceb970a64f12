import Foundation
import Testing
import TestSupport

/// `make run` and `make test` start a throwaway PostgreSQL on a fixed port (54329). When another
/// program holds that port — typically another clone's throwaway server — they stop at once and
/// say which port and what to do, instead of failing further on with an unrelated message.
@Suite("The throwaway PostgreSQL of make run and make test")
struct DevScriptsTests {
    /// A copy of the scripts in a folder of their own: the scripts find the project (and keep the
    /// database) relative to themselves, so the copy cannot touch this project's server.
    static func scriptsCopy() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lakehook-scripts-\(UUID().uuidString.prefix(8))")
        let scripts = folder.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        for name in ["dev-postgres.sh", "run.sh"] {
            try FileManager.default.copyItem(
                at: PythonTools.projectRoot.appendingPathComponent("scripts/\(name)"), to: scripts.appendingPathComponent(name))
        }
        return folder
    }

    /// Runs `scripts/NAME ARGUMENTS` of a fresh copy with LAKEHOOK_DEV_PGPORT set to a port that a
    /// listening socket of this test holds.
    static func runWithPortTaken(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String, port: Int, folder: URL) {
        let folder = try scriptsCopy()
        let holder = try boundSocket(listening: true)
        defer { close(holder.fd) }
        let script = folder.appendingPathComponent("scripts/\(name)").path
        let argv = ["/usr/bin/env", "-u", "DATABASE_URL", "-u", "PGHOST", "LAKEHOOK_DEV_PGPORT=\(holder.port)",
                    "/bin/bash", script] + arguments
        let (status, output) = try spawnAndWait(argv, outputPath: folder.appendingPathComponent("output").path)
        return (status, output, holder.port, folder)
    }

    @Test("a port held by another program: dev-postgres.sh names it and the way out, and creates nothing")
    func takenPortNamed() throws {
        let run = try Self.runWithPortTaken("dev-postgres.sh", ["start"])
        defer { try? FileManager.default.removeItem(at: run.folder) }
        #expect(run.status == 1)
        #expect(run.output.contains("127.0.0.1:\(run.port) is taken by another program"), "\(run.output)")
        #expect(run.output.contains("LAKEHOOK_DEV_PGPORT=\(run.port + 1) make run"), "\(run.output)")
        #expect(!run.output.contains("export DATABASE_URL"), "\(run.output)")
        #expect(!FileManager.default.fileExists(atPath: run.folder.appendingPathComponent(".lakehook").path))
    }

    @Test("make run stops at that message (exit 1), not later at an unset DATABASE_URL")
    func runStopsAtTakenPort() throws {
        let run = try Self.runWithPortTaken("run.sh", [])
        defer { try? FileManager.default.removeItem(at: run.folder) }
        #expect(run.status == 1)
        #expect(run.output.contains("is taken by another program"), "\(run.output)")
        #expect(!run.output.contains("unbound variable"), "\(run.output)")
        #expect(!run.output.contains("using the local PostgreSQL"), "\(run.output)")
    }
}
