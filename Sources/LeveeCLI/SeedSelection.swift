import Foundation
import LeveeSimulation

/// How `--seeds` reads its value.
enum SeedSelection {
    /// Counts above this are read as a single seed.
    static let maximumCount = 1000

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// `"5"` → five consecutive seeds from the original's; `"7,42"` → those seeds; `"20241225"`
    /// (above ``maximumCount``) → that one seed; `"5,"` → the single seed 5.
    static func parse(_ text: String) throws(ParseError) -> [UInt64] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.contains(",") {
            let parts = trimmed.split(separator: ",", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !parts.isEmpty else { throw ParseError(description: "no seed in '\(text)'") }
            var seeds: [UInt64] = []
            for part in parts {
                guard let seed = UInt64(part) else {
                    throw ParseError(description: "'\(part)' is not a seed (a whole number from 0 to \(UInt64.max))")
                }
                if !seeds.contains(seed) { seeds.append(seed) }
            }
            return seeds
        }
        guard let number = UInt64(trimmed) else {
            throw ParseError(description: "'\(text)' is neither a number of seeds nor a comma-separated list of seeds")
        }
        guard number > 0 else { throw ParseError(description: "at least one seed is needed, got 0") }
        if number <= UInt64(maximumCount) {
            return OpenLoopConfiguration.consecutiveSeeds(count: Int(number))
        }
        return [number]
    }
}
