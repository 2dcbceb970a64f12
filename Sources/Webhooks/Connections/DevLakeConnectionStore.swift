import Postgres

/// Creates, finds, renames, re-keys and deletes webhook connections, with their scope rows
/// (SCHEMA.md: `cicd_scopes` and `boards` rows `webhook:<id>` named after the connection).
public struct DevLakeConnectionStore: Sendable {
    public let pool: PostgresPool

    public init(pool: PostgresPool) { self.pool = pool }

    static let columns = """
        id, name, project_name, api_key_hash, api_key_hint, time_zone, source, signing_secret, previous_signing_secret,
        extract(epoch FROM previous_secret_expires_at)::float8, source_options::text
        """

    /// Checks a connection name: 1–100 characters, no control characters, no surrounding spaces.
    public static func validateName(_ name: String) -> String? {
        if name.isEmpty { return "name: is required" }
        if name.unicodeScalars.count > 100 { return "name: is longer than 100 characters" }
        if name != name.trimmingCharacters(in: .whitespaces) { return "name: must not start or end with a space" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "name: must not contain control characters"
        }
        return nil
    }

    /// Checks a project name: 1–255 characters, no control characters, no surrounding spaces (a
    /// project is found by its exact name: `"shop "` would be a second project that looks like
    /// `shop`, and `"  "` one that looks like none).
    public static func validateProject(_ project: String) -> String? {
        if project.isEmpty { return "project: must not be empty (use null for no project)" }
        if project.unicodeScalars.count > 255 { return "project: is longer than 255 characters" }
        if project != project.trimmingCharacters(in: .whitespaces) { return "project: must not start or end with a space" }
        if project.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "project: must not contain control characters"
        }
        return nil
    }

    /// Creates a connection; returns it with its plaintext key, which is never stored. `timeZone`
    /// (an IANA name PostgreSQL knows, UTC when nil) reads its dates that carry no offset.
    /// A `source` other than `devlake` gets a signing secret (`SourceSecret`), returned in the
    /// connection's `signingSecret`; its API key opens nothing of use and is not shown.
    /// `options`: the source connection's environment names and incident label (a devlake
    /// connection has none: 400).
    public func create(
        name: String, project: String? = nil, timeZone: String? = nil, source: SourceKind = .devlake,
        options: SourceOptionsChange = SourceOptionsChange()
    ) throws -> (DevLakeConnection, APIKey) {
        let problems = [Self.validateName(name), project.flatMap(Self.validateProject)].compactMap { $0 }
            + options.problems(for: source)
        if !problems.isEmpty { throw WebhookError.badRequest("invalid connection", causes: problems) }
        let key = APIKey.generate()
        let secret = source == .devlake ? nil : SourceSecret.generate(for: source)
        let webhook = try pool.transaction { db -> DevLakeConnection in
            let zone = try timeZone.map { try ConnectionTimeZone.resolve($0, db) } ?? .utc
            let result = try db.query(
                """
                INSERT INTO webhook_connections (name, project_name, api_key_hash, api_key_hint, time_zone, source, signing_secret,
                    source_options)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
                ON CONFLICT (name) DO NOTHING RETURNING \(Self.columns)
                """, [name, project, key.hash, key.hint, zone.identifier, source.rawValue, secret,
                      options.isEmpty ? "{}" : SourceOptions().applying(options).json])
            guard let row = result.rows.first else {
                throw WebhookError(status: 409, message: "a connection named \"\(name)\" already exists")
            }
            let webhook = try Self.decode(row)
            try Self.writeScopeRows(webhook, db)
            return webhook
        }
        return (webhook, key)
    }

    /// Renames a connection, changes its project (`.some(nil)` removes the project) and/or its time
    /// zone; its scope rows and project mapping follow. `options` merges into a source
    /// connection's options (a nil environment removes the name); the row is locked meanwhile, so
    /// two changes at once both land.
    public func update(
        _ reference: DevLakeConnectionReference, name: String?, project: String??, timeZone: String? = nil,
        options: SourceOptionsChange = SourceOptionsChange()
    ) throws -> DevLakeConnection {
        let problems = [name.flatMap(Self.validateName), project.flatMap { $0.flatMap(Self.validateProject) }].compactMap { $0 }
        if !problems.isEmpty { throw WebhookError.badRequest("invalid connection", causes: problems) }
        return try pool.transaction { db in
            guard var webhook = try Self.find(reference, db, forUpdate: true) else { throw WebhookError.notFound("unknown \(reference)") }
            let optionProblems = options.problems(for: webhook.source)
            if !optionProblems.isEmpty {
                throw WebhookError.badRequest("invalid options for \(webhook.source.rawValue) connection \(webhook.id)", causes: optionProblems)
            }
            if let name { webhook.name = name }
            if let project { webhook.projectName = project }
            if let timeZone { webhook.timeZone = try ConnectionTimeZone.resolve(timeZone, db) }
            let sourceOptions = options.isEmpty ? nil : webhook.sourceOptions.applying(options).json
            let result = try db.query(
                """
                UPDATE webhook_connections SET name = $2, project_name = $3, time_zone = $4,
                    source_options = COALESCE($5::jsonb, source_options), updated_at = now()
                WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM webhook_connections WHERE name = $2 AND id <> $1)
                RETURNING \(Self.columns)
                """, [String(webhook.id), webhook.name, webhook.projectName, webhook.timeZone.identifier, sourceOptions])
            guard let row = result.rows.first else {
                throw WebhookError(status: 409, message: "a connection named \"\(webhook.name)\" already exists")
            }
            let updated = try Self.decode(row)
            try Self.writeScopeRows(updated, db)
            return updated
        }
    }

    public func list() throws -> [DevLakeConnection] {
        try pool.withConnection { db in
            try db.query("SELECT \(Self.columns) FROM webhook_connections ORDER BY id").rows.map(Self.decode)
        }
    }

    public func find(_ reference: DevLakeConnectionReference) throws -> DevLakeConnection? {
        try pool.withConnection { db in try Self.find(reference, db) }
    }

    /// Gives the connection a new key; the old one stops working.
    public func rotateKey(_ reference: DevLakeConnectionReference) throws -> (DevLakeConnection, APIKey) {
        let key = APIKey.generate()
        let webhook = try pool.transaction { db -> DevLakeConnection in
            guard let found = try Self.find(reference, db) else { throw WebhookError.notFound("unknown \(reference)") }
            let result = try db.query(
                """
                UPDATE webhook_connections SET api_key_hash = $2, api_key_hint = $3, updated_at = now()
                WHERE id = $1 RETURNING \(Self.columns)
                """, [String(found.id), key.hash, key.hint])
            return try Self.decode(result.rows[0])
        }
        return (webhook, key)
    }

    /// Gives a source connection a new signing secret; the old one is still accepted for
    /// `graceSeconds` (0: not at all). Returns the connection with its new `signingSecret`.
    /// `secret`: the one the tool made (PagerDuty shows its own), else a fresh one.
    public func rotateSecret(_ reference: DevLakeConnectionReference, graceSeconds: Int, secret: String? = nil) throws -> DevLakeConnection {
        if let secret, secret.count < 16 || secret.count > 256 || !secret.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
            throw WebhookError.badRequest("invalid secret", causes: ["secret: must be 16 to 256 visible ASCII characters"])
        }
        return try pool.transaction { db -> DevLakeConnection in
            guard let found = try Self.find(reference, db) else { throw WebhookError.notFound("unknown \(reference)") }
            guard found.source != .devlake else {
                throw WebhookError.badRequest("\(reference) is a devlake connection: it has an API key (rotate-key), no signing secret")
            }
            let result = try db.query(
                """
                UPDATE webhook_connections SET signing_secret = $2, previous_signing_secret = signing_secret,
                    previous_secret_expires_at = now() + make_interval(secs => $3::float8), updated_at = now()
                WHERE id = $1 RETURNING \(Self.columns)
                """, [String(found.id), secret ?? SourceSecret.generate(for: found.source), String(max(0, graceSeconds))])
            return try Self.decode(result.rows[0])
        }
    }

    /// Deletes the connection and its scope rows; with `purge`, every row it wrote, in one transaction.
    @discardableResult
    public func delete(_ reference: DevLakeConnectionReference, purge: Bool) throws -> DevLakeConnection {
        try pool.transaction { db in
            guard let found = try Self.find(reference, db) else { throw WebhookError.notFound("unknown \(reference)") }
            try db.query("DELETE FROM webhook_connections WHERE id = $1", [String(found.id)])
            try db.query("DELETE FROM cicd_scopes WHERE id = $1", [found.scopeId])
            try db.query("DELETE FROM boards WHERE id = $1", [found.scopeId])
            try db.query("DELETE FROM repos WHERE id = $1", [found.scopeId])
            try db.query("DELETE FROM project_mapping WHERE row_id = $1", [found.scopeId])
            if purge {
                for table in Self.domainTables {
                    try db.query(
                        "DELETE FROM \(table) WHERE _raw_data_table = 'webhook' AND _raw_data_params = $1",
                        [found.rawDataParams])
                }
            }
            return found
        }
    }

    /// Every table a connection writes rows to, tagged with its id in `_raw_data_params`.
    static let domainTables = [
        "board_issues", "boards", "issues", "incident_assignees", "incidents", "cicd_pipeline_commits",
        "cicd_tasks", "cicd_pipelines", "cicd_deployment_commits", "cicd_deployments", "pull_requests",
    ]

    /// `forUpdate`: lock the row until the transaction ends (a read-modify-write).
    static func find(_ reference: DevLakeConnectionReference, _ db: PostgresConnection, forUpdate: Bool = false) throws -> DevLakeConnection? {
        let result: PostgresResult
        let lock = forUpdate ? " FOR UPDATE" : ""
        switch reference {
        case .id(let id):
            result = try db.query("SELECT \(columns) FROM webhook_connections WHERE id = $1\(lock)", [String(id)])
        case .name(let name):
            result = try db.query("SELECT \(columns) FROM webhook_connections WHERE name = $1\(lock)", [name])
        }
        return try result.rows.first.map(decode)
    }

    /// The connection's `cicd_scopes`, `boards` and `repos` rows (`webhook:<id>`, named after the
    /// connection), and the `project_mapping` rows DevLake's DORA SQL joins on when it has a project.
    static func writeScopeRows(_ webhook: DevLakeConnection, _ db: PostgresConnection) throws {
        let binds: [String?] = [webhook.scopeId, webhook.name, webhook.rawDataParams]
        try db.query(
            """
            INSERT INTO repos (id, name, url, description, owner_id, language, forked_from, created_date, updated_date,
                deleted, _raw_data_table, _raw_data_params)
            VALUES ($1, $2, '', '', '', '', '', now(), now(), false, 'webhook', $3)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_date = now(), updated_at = now()
            """, binds)
        try db.query("DELETE FROM project_mapping WHERE row_id = $1", [webhook.scopeId])
        if let project = webhook.projectName {
            try db.query(
                """
                INSERT INTO project_mapping (project_name, "table", row_id, _raw_data_table, _raw_data_params)
                SELECT $1, t, $2, 'webhook', $3 FROM unnest(ARRAY['cicd_scopes', 'boards', 'repos']) AS t
                """, [project, webhook.scopeId, webhook.rawDataParams])
        }
        try db.query(
            """
            INSERT INTO cicd_scopes (id, name, created_date, updated_date, _raw_data_table, _raw_data_params)
            VALUES ($1, $2, now(), now(), 'webhook', $3)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_date = now(), updated_at = now()
            """, binds)
        try db.query(
            """
            INSERT INTO boards (id, name, type, created_date, _raw_data_table, _raw_data_params)
            VALUES ($1, $2, 'webhook', now(), 'webhook', $3)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
            """, binds)
    }

    static func decode(_ row: PostgresRow) throws -> DevLakeConnection {
        guard let idText = row[0], let id = Int64(idText), let name = row[1], let hash = row[3], let hint = row[4],
            let zoneName = row[5]
        else {
            throw PostgresDecodingError(message: "webhook_connections row has an unexpected shape")
        }
        // Checked when it was set; a name this build has no rules for is a deployment problem.
        guard let zone = ConnectionTimeZone(identifier: zoneName) else {
            throw PostgresDecodingError(message: "connection \(id) has the time zone \"\(zoneName)\", which this Lakehook build does not know")
        }
        var webhook = DevLakeConnection(
            id: id, name: name, projectName: row[2], apiKeyHash: hash, apiKeyHint: hint, timeZone: zone)
        guard let sourceName = row[6], let source = SourceKind(rawValue: sourceName) else {
            throw PostgresDecodingError(message: "connection \(id) has an unknown source")
        }
        webhook.source = source
        webhook.signingSecret = row[7]
        webhook.previousSecret = row[8]
        webhook.previousSecretExpires = row[9].flatMap(Double.init)
        webhook.sourceOptions = SourceOptions(json: row[10] ?? "{}")
        return webhook
    }
}

/// A row that does not have the shape the code expects: a bug or a schema drift, never the client's fault.
struct PostgresDecodingError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
