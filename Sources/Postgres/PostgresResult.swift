/// The outcome of one command, copied out of libpq: every value in text format.
public struct PostgresResult: Sendable {
    public var columns: [String]
    public var rows: [PostgresRow]
    /// `PQcmdTuples`: rows inserted, updated, deleted, selected…; 0 when the command has none.
    public var affectedRows: Int
    /// `PQcmdStatus`, e.g. "INSERT 0 1", "SELECT 3", "COMMIT".
    public var commandTag: String

    public init(columns: [String], rows: [PostgresRow], affectedRows: Int, commandTag: String) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    /// An empty result with only a command tag.
    static func empty(commandTag: String = "") -> PostgresResult {
        PostgresResult(columns: [], rows: [], affectedRows: 0, commandTag: commandTag)
    }
}

/// One row; values in text format, `nil` for SQL NULL.
public struct PostgresRow: Sendable {
    private let columns: PostgresColumns
    public let values: [String?]

    /// A row for tests and in-memory fakes; `columns` and `values` are matched by position.
    public init(columns: [String], values: [String?]) {
        self.init(columns: PostgresColumns(columns), values: values)
    }

    init(columns: PostgresColumns, values: [String?]) {
        self.columns = columns
        self.values = values
    }

    public var count: Int { values.count }

    /// The value at `index`; nil for SQL NULL. Traps when out of range, like an array.
    public subscript(_ index: Int) -> String? { values[index] }

    /// The value of the first column named `column`; nil for SQL NULL or an unknown column.
    public subscript(_ column: String) -> String? {
        guard let index = columns.index(of: column), index < values.count else { return nil }
        return values[index]
    }

    /// True when the result has a column named `column` (to tell NULL from a typo).
    public func hasColumn(_ column: String) -> Bool { columns.index(of: column) != nil }
}

/// Column names shared by every row of one result, with a name → first position lookup.
final class PostgresColumns: Sendable {
    let names: [String]
    private let positions: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil {
            positions[name] = index
        }
        self.positions = positions
    }

    func index(of name: String) -> Int? { positions[name] }
}
