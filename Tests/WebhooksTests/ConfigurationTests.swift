import Testing
@testable import Webhooks

@Suite("Configuration from the environment")
struct ConfigurationTests {
    @Test("defaults when nothing is set")
    func defaults() throws {
        let config = try Configuration.fromEnvironment([:])
        #expect(config.listenHost == "127.0.0.1" && config.listenPort == 4000)
        #expect(config.maxBodyBytes == 1_048_576)
        #expect(config.databasePoolSize == Configuration.defaultPoolSize)
        #expect(config.logLevel == .info)
        #expect(config.database.conninfo == "")
        #expect(config.publicURL == "http://127.0.0.1:4000")
    }

    @Test("the connection cap per client and the body budget are read into the server's limits, and checked")
    func resourceBounds() throws {
        let defaults = try Configuration.fromEnvironment([:]).serverLimits
        #expect(defaults.maxConnectionsPerClient == 256 && defaults.maxBufferedBodyBytes == 64 * 1024 * 1024)
        let limits = try Configuration.fromEnvironment([
            "LAKEHOOK_MAX_CONNECTIONS_PER_CLIENT": "32", "LAKEHOOK_MAX_BUFFERED_BODY_BYTES": "8388608",
            "LAKEHOOK_MAX_BODY_BYTES": "4096",
        ]).serverLimits
        #expect(limits.maxConnectionsPerClient == 32 && limits.maxBufferedBodyBytes == 8_388_608 && limits.maxBodyBytes == 4096)
        for bad in [["LAKEHOOK_MAX_CONNECTIONS_PER_CLIENT": "0"], ["LAKEHOOK_MAX_BUFFERED_BODY_BYTES": "1000"]] {
            #expect(throws: ConfigurationError.self) { try Configuration.fromEnvironment(bad) }
        }
    }

    @Test("every variable is read")
    func values() throws {
        let config = try Configuration.fromEnvironment([
            "DATABASE_URL": "postgres://u@db:5433/x", "LAKEHOOK_LISTEN": "[::]:8080", "LAKEHOOK_MAX_BODY_BYTES": "2048",
            "LAKEHOOK_DB_POOL_SIZE": "3", "LAKEHOOK_LOG_LEVEL": "DEBUG", "LAKEHOOK_PUBLIC_URL": "https://hooks.example.com/",
            "LAKEHOOK_SHUTDOWN_SECONDS": "30",
        ])
        #expect(config.database.conninfo == "postgres://u@db:5433/x")
        #expect(config.listenHost == "::" && config.listenPort == 8080)
        #expect(config.maxBodyBytes == 2048 && config.databasePoolSize == 3 && config.logLevel == .debug)
        #expect(config.publicURL == "https://hooks.example.com")
        #expect(config.shutdownDeadline == .seconds(30))
    }

    @Test("bad values stop the start with one message naming each variable")
    func badValues() throws {
        do {
            _ = try Configuration.fromEnvironment([
                "LAKEHOOK_LISTEN": "4000", "LAKEHOOK_MAX_BODY_BYTES": "1MB", "LAKEHOOK_DB_POOL_SIZE": "0",
                "LAKEHOOK_LOG_LEVEL": "loud", "DATABASE_URL": "postgres://host:notaport/db",
            ])
            Issue.record("bad configuration was accepted")
        } catch let error as ConfigurationError {
            #expect(error.problems.count == 5, "\(error.problems)")
            for name in ["LAKEHOOK_LISTEN", "LAKEHOOK_MAX_BODY_BYTES", "LAKEHOOK_DB_POOL_SIZE", "LAKEHOOK_LOG_LEVEL", "DATABASE_URL"] {
                #expect(error.description.contains(name))
            }
        }
    }

    @Test("listen addresses", arguments: [
        ("127.0.0.1:4000", "127.0.0.1", 4000), ("0.0.0.0:80", "0.0.0.0", 80), ("[::1]:4000", "::1", 4000),
        ("localhost:0", "127.0.0.1", 0),
    ])
    func listen(text: String, host: String, port: Int) {
        let parsed = Configuration.parseListenAddress(text)
        #expect(parsed?.0 == host && parsed?.1 == port)
    }

    @Test("bad listen addresses", arguments: ["4000", ":4000", "host:", "host:99999", "::1:4000", "[::1]4000"])
    func badListen(text: String) {
        #expect(Configuration.parseListenAddress(text) == nil)
    }
}

@Suite("Command line")
struct CommandLineTests {
    @Test("commands parse")
    func parse() throws {
        #expect(try LakehookCommand.parse(["serve"]) == .serve)
        #expect(try LakehookCommand.parse(["--help"]) == .help)
        #expect(try LakehookCommand.parse([]) == .help)
        #expect(try LakehookCommand.parse(["connections", "create", "ci", "--json"]) == .connectionsCreate(name: "ci", project: nil, timeZone: nil, json: true))
        #expect(try LakehookCommand.parse(["connections", "create", "ci", "--project", "shop"]) == .connectionsCreate(name: "ci", project: "shop", timeZone: nil, json: false))
        #expect(try LakehookCommand.parse(["connections", "create", "--project=shop", "ci"]) == .connectionsCreate(name: "ci", project: "shop", timeZone: nil, json: false))
        #expect(try LakehookCommand.parse(["connections", "delete", "7", "--purge"]) == .connectionsDelete(.id(7), purge: true))
        #expect(try LakehookCommand.parse(["connections", "rotate-key", "ci"]) == .connectionsRotateKey(.name("ci"), json: false))
    }

    @Test("mistakes are usage errors", arguments: [["frobnicate"], ["connections"], ["connections", "create"], ["serve", "--verbose"]])
    func mistakes(arguments: [String]) {
        #expect(throws: LakehookCommand.UsageError.self) { try LakehookCommand.parse(arguments) }
    }

    @Test("--help lists every variable")
    func usage() {
        for variable in Configuration.variables { #expect(LakehookCommand.usage.contains(variable.name)) }
    }
}
