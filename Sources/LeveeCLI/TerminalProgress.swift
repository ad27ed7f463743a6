import Foundation

/// A one-line progress bar on standard error, drawn only when it is a terminal.
final class TerminalProgress {
    private let enabled: Bool
    private var label = ""
    private let clock = ContinuousClock()
    private var started: ContinuousClock.Instant
    private var drawn = false

    init(enabled: Bool) {
        self.enabled = enabled
        self.started = clock.now
    }

    static func isTerminal(fileDescriptor: Int32) -> Bool {
        isatty(fileDescriptor) != 0
    }

    func start(label: String) {
        self.label = label
        started = clock.now
        update(0)
    }

    func update(_ fraction: Double) {
        guard enabled else { return }
        let width = 30
        let filled = max(0, min(width, Int((fraction * Double(width)).rounded(.down))))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = started.duration(to: clock.now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let line = "\r\(label) [\(bar)] \(Int((fraction * 100).rounded(.down)))% \(String(format: "%.1f", seconds)) s"
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    /// Erases the bar.
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        drawn = false
    }
}
