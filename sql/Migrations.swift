// The migrations in `migrations/`, compiled into the binary by SwiftPM's `embedInCode`.
// A new migration is added here too; `MigrationsListTests` fails when a file is missing.

/// One numbered migration: its version, its name and its SQL.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: String

    init(_ version: Int, _ name: String, _ bytes: [UInt8]) {
        self.version = version
        self.name = name
        self.sql = String(decoding: bytes, as: UTF8.self)
    }

    /// Every migration, in the order they are applied.
    public static let all: [Migration] = [
        Migration(1, "domain_tables", PackageResources._001_domain_tables_sql),
        Migration(2, "webhook_connections", PackageResources._002_webhook_connections_sql),
        Migration(3, "dora", PackageResources._003_dora_sql),
        Migration(4, "board_issues_by_issue", PackageResources._004_board_issues_by_issue_sql),
        Migration(5, "dora_windows_in_utc", PackageResources._005_dora_windows_in_utc_sql),
        Migration(6, "replace_children_under_row_lock", PackageResources._006_replace_children_under_row_lock_sql),
        Migration(7, "shared_rows_keep_values", PackageResources._007_shared_rows_keep_values_sql),
        Migration(8, "connection_time_zone", PackageResources._008_connection_time_zone_sql),
        Migration(9, "event_journal", PackageResources._009_event_journal_sql),
        Migration(10, "late_events_and_arrival", PackageResources._010_late_events_and_arrival_sql),
        Migration(11, "source_connections", PackageResources._011_source_connections_sql),
        Migration(12, "dora_first_deployment_and_caused_recovery", PackageResources._012_dora_first_deployment_and_caused_recovery_sql),
        Migration(13, "grafana_reader", PackageResources._013_grafana_reader_sql),
    ]
}
