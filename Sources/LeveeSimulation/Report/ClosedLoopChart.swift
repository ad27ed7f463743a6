/// A window of a ``ClosedLoopSeries`` resampled into at most a chart's width of bins: whole
/// buckets merged `bucketsPerBin` at a time.
struct ClosedLoopBins {
    let bucketSeconds: Int
    let firstBucket: Int
    let bucketsPerBin: Int
    let count: Int

    /// The buckets overlapping [`from`, `to`) seconds, clipped to the `bucketCount` recorded,
    /// merged so that there are at most `maximumBins`.
    init(bucketSeconds: Int, bucketCount: Int, from: Int, to: Int, maximumBins: Int) {
        self.bucketSeconds = max(1, bucketSeconds)
        firstBucket = min(max(0, from / self.bucketSeconds), max(0, bucketCount - 1))
        let lastBucket = min(bucketCount, max(firstBucket + 1, (to + self.bucketSeconds - 1) / self.bucketSeconds))
        let buckets = lastBucket - firstBucket
        bucketsPerBin = max(1, (buckets + maximumBins - 1) / max(1, maximumBins))
        count = max(1, (buckets + bucketsPerBin - 1) / bucketsPerBin)
    }

    var binSeconds: Int { bucketsPerBin * bucketSeconds }
    var startSecond: Int { firstBucket * bucketSeconds }
    var endSecond: Int { startSecond + count * binSeconds }

    private func buckets(of bin: Int, limit: Int) -> Range<Int> {
        let first = firstBucket + bin * bucketsPerBin
        return min(first, limit)..<min(first + bucketsPerBin, limit)
    }

    private func sum<Value: BinaryInteger>(_ values: [Value], bin: Int) -> Double {
        var total = 0.0
        for bucket in buckets(of: bin, limit: values.count) { total += Double(values[bucket]) }
        return total
    }

    /// Counts per bin divided by the bin's seconds: a mean rate per second.
    func rate(_ values: [Int32]) -> [Double] {
        (0..<count).map { sum(values, bin: $0) / Double(binSeconds) }
    }

    /// The largest value per bin.
    func peak(_ values: [Int32]) -> [Double] {
        (0..<count).map { bin in buckets(of: bin, limit: values.count).reduce(0.0) { max($0, Double(values[$1])) } }
    }

    func peak(_ values: [Float]) -> [Double] {
        (0..<count).map { bin in buckets(of: bin, limit: values.count).reduce(0.0) { max($0, Double(values[$1])) } }
    }

    /// Σ part ÷ Σ whole per bin, 0 where the whole is 0.
    func share(_ part: [Int32], of whole: [Int32]) -> [Double] {
        (0..<count).map { bin in
            let bottom = sum(whole, bin: bin)
            return bottom > 0 ? sum(part, bin: bin) / bottom : 0
        }
    }

    /// The fraction of each bin the backend was down.
    func downShare(_ nanoseconds: [Int64]) -> [Double] {
        (0..<count).map { min(1, sum(nanoseconds, bin: $0) / (Double(binSeconds) * 1e9)) }
    }

    /// The chart's data for one candidate.
    func data(_ series: ClosedLoopSeries) -> ClosedLoopChart.Data {
        let throttled = share(series.throttledDecisions, of: series.attempts)
        let open = share(series.openDecisions, of: series.attempts)
        return ClosedLoopChart.Data(
            bins: self, exogenous: rate(series.exogenous), attempts: rate(series.attempts), admitted: rate(series.admitted),
            goodput: rate(series.goodput), states: Array(zip(throttled, open)).map { (throttled: $0.0, open: $0.1) },
            replicas: peak(series.replicas), load: peak(series.load), queued: peak(series.queued),
            down: downShare(series.downNanoseconds))
    }
}

/// One closed-loop chart of the report: the client side (demand, attempts, admissions, goodput)
/// over the candidate's state, then the backend (replicas, load, queue), with the backend's down
/// time shaded across all of it. Plain inline SVG, no script.
struct ClosedLoopChart {
    struct Data {
        var bins: ClosedLoopBins
        /// Per second, mean over each bin.
        var exogenous: [Double]
        var attempts: [Double]
        var admitted: [Double]
        var goodput: [Double]
        /// Share of the bin's decisions taken while THROTTLED and OPEN.
        var states: [(throttled: Double, open: Double)]
        /// Largest per bin.
        var replicas: [Double]
        var load: [Double]
        var queued: [Double]
        /// Fraction of the bin the backend was down.
        var down: [Double]
    }

    /// Axis tops, shared by the charts of one section so that they compare.
    struct Scales {
        var rps: Double
        var replicas: Double
        var load: Double
        var queue: Double
        /// The load at which the backend crashes, drawn as a reference line.
        var crashLoad: Double

        init(_ charts: [Data], crashLoad: Double) {
            func top(_ values: (Data) -> [Double]) -> Double {
                AdmissionChart.niceMaximum(charts.map { values($0).max() ?? 0 }.max() ?? 0)
            }
            rps = top { data in zip(data.attempts, data.exogenous).map { max($0, $1) } }
            replicas = max(1, top(\.replicas))
            // The crash threshold is on the axis when it is a plausible load (not when crashes are ruled out).
            load = AdmissionChart.niceMaximum(max(1.2, min(crashLoad * 1.1, 10), charts.map { $0.load.max() ?? 0 }.max() ?? 0))
            queue = max(1, top(\.queued))
            self.crashLoad = crashLoad
        }
    }

    var data: Data
    var scales: Scales
    var tickSeconds: Int
    var tickLabel: (Int) -> String
    var width = 1160

    private let left = 58.0
    private let right = 52.0
    private let top = 8.0
    private let trafficHeight = 110.0
    private let stateHeight = 12.0
    private let backendHeight = 64.0
    private let queueHeight = 30.0
    private let axisHeight = 20.0

    private var plotWidth: Double { Double(width) - left - right }
    private var trafficBottom: Double { top + trafficHeight }
    private var stateTop: Double { trafficBottom + 4 }
    private var backendTop: Double { stateTop + stateHeight + 10 }
    private var backendBottom: Double { backendTop + backendHeight }
    private var queueTop: Double { backendBottom + 14 }
    private var queueBottom: Double { queueTop + queueHeight }
    var height: Double { queueBottom + axisHeight }

    private func f(_ value: Double) -> String { ChartSVG.number(value) }

    private func x(second: Double) -> Double {
        let span = Double(data.bins.endSecond - data.bins.startSecond)
        return left + (second - Double(data.bins.startSecond)) / span * plotWidth
    }

    private func x(bin: Int) -> Double { x(second: Double(data.bins.startSecond + bin * data.bins.binSeconds)) }

    private func y(_ value: Double, maximum: Double, bottom: Double, height: Double) -> Double {
        bottom - min(1, max(0, value / maximum)) * height
    }

    func svg(label: String) -> String {
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(width) \(f(height))\" width=\"\(width)\" height=\"\(f(height))\" role=\"img\" aria-label=\"\(escapeHTML(label))\">"
        svg += downShading()
        svg += axes()
        let traffic = (maximum: scales.rps, bottom: trafficBottom, height: trafficHeight)
        svg += "<path class=\"attempts\" d=\"\(stepArea(data.attempts, traffic))\"/>"
        svg += "<path class=\"admitted\" d=\"\(stepArea(data.admitted, traffic))\"/>"
        svg += "<path class=\"goodput\" d=\"\(stepLine(data.goodput, traffic))\"/>"
        svg += "<path class=\"demand\" d=\"\(stepLine(data.exogenous, traffic))\"/>"
        svg += ChartSVG.stateStrip(data.states, left: left, top: stateTop, width: plotWidth, height: stateHeight, x: { x(bin: $0) })
        let load = (maximum: scales.load, bottom: backendBottom, height: backendHeight)
        for reference in [1, scales.crashLoad] where reference < scales.load {
            let level = y(reference, maximum: load.maximum, bottom: load.bottom, height: load.height)
            svg += "<line class=\"reference\" x1=\"\(f(left))\" y1=\"\(f(level))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(level))\"/>"
        }
        svg += "<path class=\"replicas\" d=\"\(stepLine(data.replicas, (scales.replicas, backendBottom, backendHeight)))\"/>"
        svg += "<path class=\"load\" d=\"\(stepLine(data.load, load))\"/>"
        svg += "<path class=\"queued\" d=\"\(stepArea(data.queued, (scales.queue, queueBottom, queueHeight)))\"/>"
        svg += "</svg>"
        return svg
    }

    /// The backend's down time: a red band over every plot, as wide as the down share of its bin.
    private func downShading() -> String {
        var svg = ""
        var bin = 0
        while bin < data.down.count {
            guard data.down[bin] > 0 else {
                bin += 1
                continue
            }
            // A run of wholly down bins is one rectangle; a partly down bin is its own, narrowed.
            var next = bin + 1
            if data.down[bin] >= 1 { while next < data.down.count, data.down[next] >= 1 { next += 1 } }
            let x0 = x(bin: bin)
            let width = data.down[bin] >= 1 ? x(bin: next) - x0 : (x(bin: bin + 1) - x0) * data.down[bin]
            svg += "<rect class=\"down\" x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(max(1, width)))\" height=\"\(f(queueBottom - top))\"/>"
            bin = next
        }
        return svg
    }

    private func axes() -> String {
        var svg = ""
        func gridLine(_ level: Double) {
            svg += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(level))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(level))\"/>"
        }
        func leftLabel(_ text: String, _ level: Double, _ className: String = "axis") {
            svg += "<text class=\"\(className)\" x=\"\(f(left - 6))\" y=\"\(f(level + 4))\" text-anchor=\"end\">\(escapeHTML(text))</text>"
        }
        func rightLabel(_ text: String, _ level: Double, _ className: String) {
            svg += "<text class=\"\(className)\" x=\"\(f(left + plotWidth + 6))\" y=\"\(f(level + 4))\">\(escapeHTML(text))</text>"
        }
        func unit(_ text: String, middle: Double, x: Double, _ className: String = "axis unit") {
            svg += "<text class=\"\(className)\" x=\"\(f(x))\" y=\"\(f(middle))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(x)) \(f(middle)))\">\(escapeHTML(text))</text>"
        }
        for step in 0...2 {
            let level = trafficBottom - Double(step) / 2 * trafficHeight
            gridLine(level)
            leftLabel(ChartSVG.formatRPS(scales.rps * Double(step) / 2), level)
        }
        unit("RPS", middle: top + trafficHeight / 2, x: 12)
        svg += "<text class=\"axis strip\" x=\"\(f(left - 6))\" y=\"\(f(stateTop + stateHeight - 2))\" text-anchor=\"end\">state</text>"
        for step in 0...1 {
            let level = backendBottom - Double(step) * backendHeight
            gridLine(level)
            leftLabel(SummaryTable.format(scales.replicas * Double(step), decimals: 0), level, "axis replicas-axis")
        }
        // The load axis is labelled at its top and at the reference lines only: a 0 would crowd the 1.
        rightLabel(SummaryTable.format(scales.load, decimals: 0), backendTop, "axis load-axis")
        for reference in [1, scales.crashLoad] where reference < scales.load && reference > 0 {
            let level = y(reference, maximum: scales.load, bottom: backendBottom, height: backendHeight)
            rightLabel(SummaryTable.format(reference, decimals: reference == reference.rounded() ? 0 : 1), level, "axis load-axis")
        }
        unit("replicas", middle: backendTop + backendHeight / 2, x: 12, "axis unit replicas-axis")
        unit("load", middle: backendTop + backendHeight / 2, x: Double(width) - 8, "axis unit load-axis")
        gridLine(queueBottom)
        leftLabel(SummaryTable.grouped(Int(scales.queue)), queueTop)
        leftLabel("0", queueBottom)
        unit("queue", middle: queueTop + queueHeight / 2, x: 12)
        svg += ChartSVG.timeTicks(from: data.bins.startSecond, to: data.bins.endSecond, every: tickSeconds, label: tickLabel,
                                  axisY: queueBottom, x: { x(second: Double($0)) })
        return svg
    }

    private typealias Axis = (maximum: Double, bottom: Double, height: Double)

    /// `values` per bin as flat steps closed down to the axis.
    private func stepArea(_ values: [Double], _ axis: Axis) -> String {
        "M\(f(left)) \(f(axis.bottom))" + steps(values, axis, first: "L") + "L\(f(x(bin: values.count))) \(f(axis.bottom))Z"
    }

    /// `values` per bin as flat steps, not closed.
    private func stepLine(_ values: [Double], _ axis: Axis) -> String {
        values.isEmpty ? "M0 0" : steps(values, axis, first: "M")
    }

    /// The steps' vertices; bins at the same height (to the path's precision) share one step, which
    /// keeps flat stretches (replicas, an idle queue) to a few points.
    private func steps(_ values: [Double], _ axis: Axis, first command: String) -> String {
        var path = ""
        var bin = 0
        while bin < values.count {
            let level = f(y(values[bin], maximum: axis.maximum, bottom: axis.bottom, height: axis.height))
            var next = bin + 1
            while next < values.count, f(y(values[next], maximum: axis.maximum, bottom: axis.bottom, height: axis.height)) == level {
                next += 1
            }
            path += "\(bin == 0 ? command : "L")\(f(x(bin: bin))) \(level)L\(f(x(bin: next))) \(level)"
            bin = next
        }
        return path
    }
}
