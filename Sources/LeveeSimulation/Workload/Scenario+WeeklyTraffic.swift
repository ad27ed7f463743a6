extension Scenario {
    /// The Go loadgen's `BenchmarkWeeklyTraffic` workload: a 168-hour week of 21 eight-hour
    /// phases (Low, Mid, High each day).
    ///
    /// Monday runs at 9,375 / 18,750 / 28,125 RPM and every later day adds 20 % of Monday's
    /// levels (Sunday High is 61,875 RPM); 5 % errors throughout; timeout 1,500 ms. Weekday
    /// p50/p99 are 100/500, 150/600 and 200/700 ms; Saturday 110/550, 160/650, 210/750;
    /// Sunday 120/600, 170/700, 220/800. About 302.4 M requests, 604.8 M stream events.
    public static let weeklyTraffic: Scenario = {
        let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let mondayRPM = [9_375, 18_750, 28_125]
        let levels = ["Low", "Mid", "High"]
        let weekdayLatency: [(p50: Double, p99: Double)] = [(100, 500), (150, 600), (200, 700)]
        let saturdayLatency: [(p50: Double, p99: Double)] = [(110, 550), (160, 650), (210, 750)]
        let sundayLatency: [(p50: Double, p99: Double)] = [(120, 600), (170, 700), (220, 800)]

        var phases: [Phase] = []
        for (day, dayName) in days.enumerated() {
            let latency = day == 5 ? saturdayLatency : day == 6 ? sundayLatency : weekdayLatency
            for level in 0..<3 {
                // +20 % of Monday's level per day; exact in integers (all levels divide by 5).
                let rpm = mondayRPM[level] + mondayRPM[level] * day / 5
                do {
                    phases.append(
                        try Phase(
                            label: "\(dayName) \(levels[level])", durationSeconds: 28_800, rpm: rpm,
                            errorRate: 0.05, p50Milliseconds: latency[level].p50,
                            p99Milliseconds: latency[level].p99, timeoutMilliseconds: 1_500))
                } catch {
                    preconditionFailure("weekly traffic phase is invalid: \(error)")
                }
            }
        }
        do {
            return try Scenario(name: "weekly-traffic", phases: phases)
        } catch {
            preconditionFailure("weekly traffic scenario is invalid: \(error)")
        }
    }()
}
