extension EventStream {
    /// The outcome of draining an event stream as fast as possible.
    public struct ThroughputMeasurement: Sendable, Hashable, CustomStringConvertible {
        public var events: Int64
        public var requests: Int64
        public var elapsed: Duration
        /// Folded from every event so the work cannot be optimised away; equal across runs
        /// with the same inputs.
        public var checksum: UInt64

        public var eventsPerSecond: Double {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            return seconds > 0 ? Double(events) / seconds : 0
        }

        public var description: String {
            let millions = (eventsPerSecond / 1e4).rounded() / 100
            return "\(events) events (\(requests) requests) in \(elapsed): \(millions) M events/s, checksum \(String(checksum, radix: 16))"
        }
    }

    /// Drains a stream over `scenario` (or its first `eventLimit` events) and times it with
    /// the continuous clock. Build in release mode for meaningful numbers.
    public static func measureThroughput(
        scenario: Scenario = .cyberMonday,
        seed: UInt64 = GoCompatibilityCheck.seed,
        mode: GeneratorMode = .goCompatible,
        simultaneousOrder: SimultaneousOrder = .endsFirst,
        eventLimit: Int64? = nil
    ) -> ThroughputMeasurement {
        let clock = ContinuousClock()
        let began = clock.now
        var stream = EventStream(
            generator: LoadGenerator(scenario: scenario, seed: seed, mode: mode), scenario: scenario,
            simultaneousOrder: simultaneousOrder)
        let limit = eventLimit ?? .max
        var events: Int64 = 0
        var starts: Int64 = 0
        var checksum: UInt64 = 0
        while events < limit, let event = stream.next() {
            events &+= 1
            if event.kind == .start { starts &+= 1 }
            checksum = (checksum &* 31) &+ UInt64(bitPattern: event.time ^ event.requestID)
        }
        let elapsed = clock.now - began
        return ThroughputMeasurement(events: events, requests: starts, elapsed: elapsed, checksum: checksum)
    }
}
