public import Foundation

extension BenchmarkResult {
    /// The results as pretty-printed JSON with sorted keys (series are not included).
    public func jsonData() throws -> Data {
        try ResultJSON.encode(self)
    }

    /// Decodes results written by ``jsonData()``.
    public init(jsonData data: Data) throws {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        self = try decoder.decode(BenchmarkResult.self, from: data)
    }

    /// Writes ``jsonData()`` to `path`, creating or replacing the file.
    public func writeJSON(to path: String) throws {
        try jsonData().write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// The JSON form every benchmark result is written in: pretty-printed, sorted keys, and
/// non-finite numbers as strings.
enum ResultJSON {
    static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(value)
    }

    /// Writes `value` to `path`, creating or replacing the file.
    static func write<Value: Encodable>(_ value: Value, to path: String) throws {
        try encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
