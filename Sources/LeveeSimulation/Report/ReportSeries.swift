import Levee

/// Per-second series resampled into bins for one chart, and the time a candidate spent in each
/// state per bin.
struct BinnedSeries {
    /// Start of the first bin and width of each, in seconds of simulated time.
    let start: Int
    let binSeconds: Int
    let count: Int

    init(start: Int, end: Int, binSeconds: Int) {
        self.start = start
        self.binSeconds = max(1, binSeconds)
        self.count = max(1, (end - start + self.binSeconds - 1) / self.binSeconds)
    }

    var end: Int { start + count * binSeconds }

    /// The mean per second of `values` over each bin (seconds outside the array count as 0).
    func mean(_ values: [Int32]) -> [Double] {
        (0..<count).map { bin in
            var sum = 0.0
            let first = start + bin * binSeconds
            for second in first..<(first + binSeconds) where second >= 0 && second < values.count {
                sum += Double(values[second])
            }
            return sum / Double(binSeconds)
        }
    }

    /// Σ numerator / Σ denominator per bin, `nil` where the denominator is 0.
    func ratio(_ numerator: [Int32], _ denominator: [Int32]) -> [Double?] {
        (0..<count).map { bin in
            var top = 0.0, bottom = 0.0
            let first = start + bin * binSeconds
            for second in first..<(first + binSeconds) where second >= 0 && second < denominator.count {
                top += Double(numerator[second])
                bottom += Double(denominator[second])
            }
            return bottom > 0 ? top / bottom : nil
        }
    }

    /// Per bin, the share of time spent THROTTLED and OPEN (CLOSED is the rest).
    func stateShares(initial: LeveeState.Kind, transitions: [CandidateTransition]) -> [(throttled: Double, open: Double)] {
        var shares = Array(repeating: (throttled: 0.0, open: 0.0), count: count)
        let binNanoseconds = Int64(binSeconds) * 1_000_000_000
        let origin = Int64(start) * 1_000_000_000
        let limit = Int64(end) * 1_000_000_000
        // Walk the segments of constant state and spread each over the bins it covers.
        var segmentStart = origin
        var state = initial
        var index = 0
        while index < transitions.count, transitions[index].time <= origin {
            state = transitions[index].to
            index += 1
        }
        func add(_ from: Int64, _ to: Int64, _ state: LeveeState.Kind) {
            guard state != .closed, to > from else { return }
            var cursor = max(from, origin)
            let stop = min(to, limit)
            while cursor < stop {
                let bin = Int((cursor - origin) / binNanoseconds)
                let binEnd = origin + Int64(bin + 1) * binNanoseconds
                let piece = Double(min(stop, binEnd) - cursor) / Double(binNanoseconds)
                if state == .open { shares[bin].open += piece } else { shares[bin].throttled += piece }
                cursor = min(stop, binEnd)
            }
        }
        while index < transitions.count, transitions[index].time < limit {
            add(segmentStart, transitions[index].time, state)
            segmentStart = transitions[index].time
            state = transitions[index].to
            index += 1
        }
        add(segmentStart, limit, state)
        return shares
    }
}

/// A candidate's score contributions inside a window of the per-second series.
struct WindowScore {
    var badTraffic: Double
    var lostBusiness: Double
    var admittedDuringIncident: Int
    var offeredDuringIncident: Int

    /// BadTraffic over the seconds of `incident`, LostBusiness over the healthy seconds of
    /// [`from`, `to`) (whole seconds; exact when phase boundaries fall on whole seconds).
    init(admitted: [Int32], offered: [Int32], oracle: PrescientOracle, incident: PrescientOracle.Incident, from: Int, to: Int) {
        var bad: [Int32] = []
        var lost: [Int32] = []
        var admittedIn = 0, offeredIn = 0
        for second in max(0, from)..<min(to, offered.count) {
            let instant = Int64(second) * 1_000_000_000
            if oracle.isOpen(at: instant) {
                bad.append(admitted[second])
                if incident.contains(instant) {
                    admittedIn += Int(admitted[second])
                    offeredIn += Int(offered[second])
                }
            } else {
                lost.append(offered[second] - admitted[second])
            }
        }
        badTraffic = PenaltyScore.l2Norm(bad)
        lostBusiness = PenaltyScore.l2Norm(lost)
        admittedDuringIncident = admittedIn
        offeredDuringIncident = offeredIn
    }
}
