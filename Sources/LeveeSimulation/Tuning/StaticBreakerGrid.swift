/// The search space of ``StaticBreakerTuner``: a value list per parameter of
/// ``StaticWindowBreaker``, searched as their full Cartesian product.
///
/// The default lists step by about ×3 (a log scale), because the right value of each parameter
/// can sit anywhere across two or three orders of magnitude depending on traffic: a threshold of
/// 3 suits tens of calls per second, 1,000 suits thousands.
public struct StaticBreakerGrid: Sendable, Hashable, Codable {
    /// Failures within the window that open the breaker, ascending.
    public private(set) var thresholds: [Int]
    /// Window lengths in nanoseconds, ascending.
    public private(set) var windowsNanoseconds: [Int64]
    /// Open durations in nanoseconds, ascending.
    public private(set) var opensNanoseconds: [Int64]
    /// Probe counts, ascending.
    public private(set) var probes: [Int]

    /// Sorts and de-duplicates each list.
    /// - Throws: ``CandidateSpecError`` for an empty list or a value a breaker would refuse.
    public init(thresholds: [Int], windowsNanoseconds: [Int64], opensNanoseconds: [Int64], probes: [Int]) throws(CandidateSpecError) {
        for (name, isEmpty) in [("threshold", thresholds.isEmpty), ("window", windowsNanoseconds.isEmpty),
                                ("open", opensNanoseconds.isEmpty), ("probes", probes.isEmpty)] where isEmpty {
            throw .invalidValue(parameter: name, "needs at least one value in the grid")
        }
        // Validate every value once through the breaker's own checks.
        for threshold in thresholds {
            _ = try StaticWindowBreaker.Configuration(threshold: threshold, windowNanoseconds: 1, openNanoseconds: 1, probes: 1)
        }
        for window in windowsNanoseconds {
            _ = try StaticWindowBreaker.Configuration(threshold: 1, windowNanoseconds: window, openNanoseconds: 1, probes: 1)
        }
        for open in opensNanoseconds {
            _ = try StaticWindowBreaker.Configuration(threshold: 1, windowNanoseconds: 1, openNanoseconds: open, probes: 1)
        }
        for probe in probes {
            _ = try StaticWindowBreaker.Configuration(threshold: 1, windowNanoseconds: 1, openNanoseconds: 1, probes: probe)
        }
        self.thresholds = Array(Set(thresholds)).sorted()
        self.windowsNanoseconds = Array(Set(windowsNanoseconds)).sorted()
        self.opensNanoseconds = Array(Set(opensNanoseconds)).sorted()
        self.probes = Array(Set(probes)).sorted()
    }

    /// The default coarse grid, 5 × 4 × 4 × 2 = 160 configurations (sized so that a tune on
    /// three Cyber Monday seeds takes minutes on two cores):
    /// - thresholds 3, 10, 30, 100, 300 (at peak a healthy second throws about 250 errors);
    /// - windows 0.3 s, 1 s, 3 s, 10 s;
    /// - open durations 1 s, 3 s, 10 s, 30 s (Static-BAU uses 10 s, Static-Peak 30 s);
    /// - probes 1 and 5 (Static-BAU probes one at a time, Static-Peak closes after 5 successes).
    public static let standard = try! StaticBreakerGrid(
        thresholds: [3, 10, 30, 100, 300],
        windowsNanoseconds: [300_000_000, 1_000_000_000, 3_000_000_000, 10_000_000_000],
        opensNanoseconds: [1_000_000_000, 3_000_000_000, 10_000_000_000, 30_000_000_000],
        probes: [1, 5])

    /// Number of configurations in the product.
    public var count: Int { thresholds.count * windowsNanoseconds.count * opensNanoseconds.count * probes.count }

    /// Every configuration, threshold varying slowest and probes fastest.
    public var configurations: [StaticWindowBreaker.Configuration] {
        var result: [StaticWindowBreaker.Configuration] = []
        result.reserveCapacity(count)
        for threshold in thresholds {
            for window in windowsNanoseconds {
                for open in opensNanoseconds {
                    for probe in probes {
                        // The values were validated when the grid was made.
                        result.append(try! .init(threshold: threshold, windowNanoseconds: window, openNanoseconds: open, probes: probe))
                    }
                }
            }
        }
        return result
    }

    /// A finer grid around `center`: in each parameter, the center's value plus the midpoints,
    /// on a log scale, between it and its neighbours in this grid. At an end of a list the step
    /// to the single neighbour is mirrored outwards, so a best value at the edge of the grid is
    /// also tested a half-step beyond it. Counts round to whole numbers and durations to whole
    /// milliseconds; values that round onto existing ones or out of range are dropped.
    ///
    /// The result contains `center` and, having the refined values in its lists, refines further
    /// around its own best with half the step again.
    public func refined(around center: StaticWindowBreaker.Configuration) -> StaticBreakerGrid {
        func around(_ values: [Double], _ value: Double) -> [Double] {
            let all = Array(Set(values + [value])).sorted()
            let index = all.firstIndex(of: value)!
            let lower = index > 0 ? all[index - 1] : nil
            let upper = index + 1 < all.count ? all[index + 1] : nil
            var result = [value]
            switch (lower, upper) {
            case (let lower?, let upper?):
                result += [(lower * value).squareRoot(), (upper * value).squareRoot()]
            case (let lower?, nil):
                result += [(lower * value).squareRoot(), value * (value / lower).squareRoot()]
            case (nil, let upper?):
                result += [(upper * value).squareRoot(), value / (upper / value).squareRoot()]
            case (nil, nil):
                break
            }
            return result
        }
        func counts(_ values: [Int], _ value: Int) -> [Int] {
            around(values.map(Double.init), Double(value)).map { Int($0.rounded()) }.filter { $0 >= 1 && $0 <= StaticWindowBreaker.Configuration.maximumCount }
        }
        func durations(_ values: [Int64], _ value: Int64) -> [Int64] {
            around(values.map(Double.init), Double(value)).map { nanoseconds in
                // Whole milliseconds keep specs short; the center itself is kept exactly.
                nanoseconds == Double(value) ? value : Int64((nanoseconds / 1e6).rounded()) * 1_000_000
            }.filter { $0 > 0 }
        }
        // Each list contains the center's value and only valid values, so this cannot fail.
        return try! StaticBreakerGrid(
            thresholds: counts(thresholds, center.threshold),
            windowsNanoseconds: durations(windowsNanoseconds, center.windowNanoseconds),
            opensNanoseconds: durations(opensNanoseconds, center.openNanoseconds),
            probes: counts(probes, center.probes))
    }
}

extension StaticWindowBreaker.Configuration {
    /// How many of the four parameters differ from `other` (0 to 4).
    func differingParameters(from other: Self) -> Int {
        [threshold != other.threshold, windowNanoseconds != other.windowNanoseconds,
         openNanoseconds != other.openNanoseconds, probes != other.probes].filter { $0 }.count
    }
}

extension StaticBreakerGrid {
    /// The default coarse grid for the closed loop, 4 × 2 × 3 × 2 = 48 configurations. Each is a
    /// full closed-loop run per training seed (about 12 s of CPU for Cyber Monday, against well
    /// under a second per lane in the open loop), so the steps are coarser than ``standard``'s,
    /// about ×5, and the refinement moves one parameter at a time
    /// (``StaticBreakerTuner/Refinement/axes``):
    /// - thresholds 20, 100, 500, 2,500: Cyber Monday's demand peaks at 4,800 requests/s before
    ///   retries; healthy errors (0.5 %) are tens per second, while a backend whose queue is full
    ///   rejects in 1 ms (the realistic model), up to thousands per second, so useful thresholds
    ///   span both;
    /// - windows 0.5 s and 3 s (a burst of fast rejects fills a short window);
    /// - open durations 1 s, 5 s, 25 s (an overload can clear within seconds of the load
    ///   dropping; a crash keeps the backend down for 300 s, long enough for repeated probing);
    /// - probes 2 and 20.
    public static let closedLoop = try! StaticBreakerGrid(
        thresholds: [20, 100, 500, 2_500],
        windowsNanoseconds: [500_000_000, 3_000_000_000],
        opensNanoseconds: [1_000_000_000, 5_000_000_000, 25_000_000_000],
        probes: [2, 20])
}
