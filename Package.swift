// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "lakehook",
    products: [
        .executable(name: "lakehook", targets: ["lakehook"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // What several modules share: the lock.
        .target(name: "Concurrency"),
        .target(name: "Postgres", dependencies: ["CLibPQ", "Concurrency"]),
        // epoll and eventfd for HTTP's event loop (headers only: Glibc's module lacks them).
        .systemLibrary(name: "CEpoll"),
        .target(name: "HTTP", dependencies: ["CEpoll", "Concurrency"]),
        // The numbered SQL migrations in sql/, compiled into the binary.
        .target(
            name: "Migrations",
            path: "sql",
            exclude: ["README.md"],
            resources: [.embedInCode("migrations")]
        ),
        .target(
            name: "Webhooks",
            dependencies: ["Postgres", "HTTP", "Concurrency", "Migrations"],
            // The OpenAPI document, kept in the repository and served as is.
            resources: [.embedInCode("Resources/openapi.json")]
        ),
        .executableTarget(name: "lakehook", dependencies: ["Webhooks", "Postgres", "HTTP"]),
        // What the three test targets share: Shared, waitUntil, the HTTP test client, the test
        // database, spawn and the Python tools.
        .target(name: "TestSupport", dependencies: ["Postgres", "Concurrency"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "Concurrency", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Concurrency", "TestSupport"]),
        // The vendors' payloads are read from the source tree (#filePath), not bundled.
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "Postgres", "HTTP", "Concurrency", "TestSupport"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
