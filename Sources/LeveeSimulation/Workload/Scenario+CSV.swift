#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Scenario {
    /// The columns a scenario CSV must have; `label` is optional and any other column is ignored.
    public static let requiredCSVColumns = ["duration_s", "rpm", "error_rate", "p50_ms", "p99_ms", "timeout_ms"]

    /// Parses a scenario from CSV text with a header row.
    ///
    /// Required columns: `duration_s`, `rpm`, `error_rate`, `p50_ms`, `p99_ms`, `timeout_ms`;
    /// `label` is optional; other columns (such as the Cyber Monday file's `rps` or
    /// `expected_requests`) are ignored. Column order is free. Fields may be double-quoted
    /// (with `""` for a quote); blank lines are skipped; LF, CRLF and CR line endings work.
    /// `rpm` must be a whole number (`6000` or `6000.0`).
    ///
    /// - Throws: ``ScenarioError`` naming the 1-based line and the column of the first problem.
    public init(csv: String, name: String) throws(ScenarioError) {
        var header: [String: Int]? = nil
        var fieldCount = 0
        var phases: [Phase] = []
        var phaseLines: [Int] = []

        for (lineNumber, line) in Self.csvLines(csv) {
            let fields = try Self.csvFields(line, lineNumber: lineNumber)
            guard let columns = header else {
                header = try Self.csvHeader(fields, lineNumber: lineNumber)
                fieldCount = fields.count
                continue
            }
            guard fields.count == fieldCount else {
                throw ScenarioError(
                    line: lineNumber,
                    message: "expected \(fieldCount) fields like the header, found \(fields.count)")
            }
            phases.append(try Self.csvPhase(fields, columns: columns, lineNumber: lineNumber))
            phaseLines.append(lineNumber)
        }
        guard header != nil else {
            throw ScenarioError(message: "scenario \"\(name)\" is empty: no header row")
        }
        guard !phases.isEmpty else {
            throw ScenarioError(line: 2, message: "scenario \"\(name)\" has a header but no phases")
        }
        try self.init(name: name, phases: phases, lines: phaseLines)
    }

    /// Reads and parses a scenario CSV file; the scenario is named after the file.
    ///
    /// - Throws: ``ScenarioError`` when the file cannot be read (with the system's reason) or
    ///   when its contents are not a valid scenario.
    public static func load(path: String) throws(ScenarioError) -> Scenario {
        let text = try readTextFile(path)
        let fileName = path.split(separator: "/").last.map(String.init) ?? path
        let name = fileName.hasSuffix(".csv") ? String(fileName.dropLast(4)) : fileName
        do {
            return try Scenario(csv: text, name: name)
        } catch {
            var located = error
            located.message = "\(path): \(error.message)"
            throw located
        }
    }

    // MARK: - Parsing steps

    private static func csvHeader(_ fields: [String], lineNumber: Int) throws(ScenarioError) -> [String: Int] {
        var columns: [String: Int] = [:]
        for (index, field) in fields.enumerated() {
            let column = trimmed(field)
            if columns[column] != nil {
                throw ScenarioError(line: lineNumber, column: column, message: "the column appears twice in the header")
            }
            columns[column] = index
        }
        for required in requiredCSVColumns where columns[required] == nil {
            throw ScenarioError(
                line: lineNumber, column: required,
                message: "the header lacks this required column (required: \(requiredCSVColumns.joined(separator: ", ")))")
        }
        return columns
    }

    private static func csvPhase(
        _ fields: [String], columns: [String: Int], lineNumber: Int
    ) throws(ScenarioError) -> Phase {
        func text(_ column: String) -> String { trimmed(fields[columns[column]!]) }

        func number(_ column: String) throws(ScenarioError) -> Double {
            let field = text(column)
            guard !field.isEmpty else {
                throw ScenarioError(line: lineNumber, column: column, message: "the value is missing")
            }
            guard let value = Double(field) else {
                throw ScenarioError(line: lineNumber, column: column, message: "expected a number, found \"\(field)\"")
            }
            return value
        }

        func wholeNumber(_ column: String) throws(ScenarioError) -> Int {
            let field = text(column)
            if let value = Int(field) { return value }
            let value = try number(column)
            guard value.isFinite, value == value.rounded(), let exact = Int(exactly: value) else {
                throw ScenarioError(line: lineNumber, column: column, message: "expected a whole number, found \"\(field)\"")
            }
            return exact
        }

        let label = columns["label"] != nil ? text("label") : ""
        do {
            return try Phase(
                label: label,
                durationSeconds: try number("duration_s"),
                rpm: try wholeNumber("rpm"),
                errorRate: try number("error_rate"),
                p50Milliseconds: try number("p50_ms"),
                p99Milliseconds: try number("p99_ms"),
                timeoutMilliseconds: try number("timeout_ms"))
        } catch {
            var located = error
            located.line = located.line ?? lineNumber
            throw located
        }
    }

    /// Splits text into (1-based line number, line) pairs, skipping blank lines.
    private static func csvLines(_ text: String) -> [(Int, Substring)] {
        var lines: [(Int, Substring)] = []
        var lineNumber = 0
        // Splitting on Character treats "\r\n" as one newline; omitting empty subsequences
        // would lose line numbers, so keep them and skip blank lines below.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            lines.append((lineNumber, line))
        }
        return lines
    }

    /// Splits one CSV line into fields, honouring double quotes.
    private static func csvFields(_ line: Substring, lineNumber: Int) throws(ScenarioError) -> [String] {
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        var iterator = line.makeIterator()
        var pending: Character? = iterator.next()
        while let character = pending {
            pending = iterator.next()
            if inQuotes {
                if character == "\"" {
                    if pending == "\"" {
                        current.append("\"")
                        pending = iterator.next()
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                inQuotes = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !inQuotes else {
            throw ScenarioError(line: lineNumber, message: "a quoted field is not closed")
        }
        fields.append(current)
        return fields
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    /// Reads a whole file as UTF-8 without Foundation.
    private static func readTextFile(_ path: String) throws(ScenarioError) -> String {
        guard let file = fopen(path, "rb") else {
            let reason = String(cString: strerror(errno))
            throw ScenarioError(message: "cannot read scenario file \(path): \(reason)")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { bytes.append(contentsOf: chunk[..<count]) }
            if count < chunk.count {
                if ferror(file) != 0 {
                    let reason = String(cString: strerror(errno))
                    throw ScenarioError(message: "cannot read scenario file \(path): \(reason)")
                }
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
