/// Why a ``Phase`` or ``Scenario`` could not be built, with the CSV line and column when known.
public struct ScenarioError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The 1-based line of the CSV text (the header is line 1), when the error came from a file.
    public var line: Int?
    /// The CSV column (or phase field, named as its CSV column) the error is about.
    public var column: String?
    /// What is wrong, in words.
    public var message: String

    public init(line: Int? = nil, column: String? = nil, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// For example `line 7, column "p99_ms": p99 (400.0 ms) must be below the timeout (300.0 ms)`.
    public var description: String {
        switch (line, column) {
        case let (line?, column?): "line \(line), column \"\(column)\": \(message)"
        case let (line?, nil): "line \(line): \(message)"
        case let (nil, column?): "column \"\(column)\": \(message)"
        case (nil, nil): message
        }
    }
}
