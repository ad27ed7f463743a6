/// One chart of the report: a candidate's admission against the offered load over a time window,
/// with the oracle's incidents shaded, the fraction admitted, and strips for the candidate's
/// state and the oracle's state. Plain inline SVG, no script.
struct AdmissionChart {
    struct Data {
        var bins: BinnedSeries
        /// Mean requests per second offered and admitted, per bin.
        var offered: [Double]
        var admitted: [Double]
        /// Admitted ÷ offered per bin (`nil` where nothing was offered).
        var fraction: [Double?]
        /// Share of each bin spent THROTTLED and OPEN.
        var states: [(throttled: Double, open: Double)]
        /// Incident intervals in seconds.
        var incidents: [(start: Double, end: Double)]
    }

    var data: Data
    /// Top of the RPS axis (shared by the charts of one section so they compare).
    var maximumRPS: Double
    /// Seconds between time ticks, and how to label a tick.
    var tickSeconds: Int
    var tickLabel: (Int) -> String
    var width = 1160
    var plotHeight = 96

    private let left = 58.0
    private let right = 50.0
    private let top = 8.0
    private let stateHeight = 12.0
    private let oracleHeight = 6.0
    private let axisHeight = 20.0

    var height: Double { top + Double(plotHeight) + 4 + stateHeight + 3 + oracleHeight + axisHeight }

    private var plotWidth: Double { Double(width) - left - right }
    private var plotBottom: Double { top + Double(plotHeight) }
    private var stateTop: Double { plotBottom + 4 }
    private var oracleTop: Double { stateTop + stateHeight + 3 }

    private func x(_ second: Double) -> Double {
        let span = Double(data.bins.end - data.bins.start)
        return left + (second - Double(data.bins.start)) / span * plotWidth
    }

    private func x(bin: Int) -> Double { x(Double(data.bins.start + bin * data.bins.binSeconds)) }

    private func yRPS(_ rps: Double) -> Double {
        plotBottom - min(1, max(0, rps / maximumRPS)) * Double(plotHeight)
    }

    private func yFraction(_ fraction: Double) -> Double {
        plotBottom - min(1, max(0, fraction)) * Double(plotHeight)
    }

    func svg(label: String) -> String {
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(width) \(f(height))\" width=\"\(width)\" height=\"\(f(height))\" role=\"img\" aria-label=\"\(escapeHTML(label))\">"
        // Incident bands behind everything.
        for incident in data.incidents where incident.end > Double(data.bins.start) && incident.start < Double(data.bins.end) {
            let x0 = max(left, x(incident.start)), x1 = min(left + plotWidth, x(incident.end))
            svg += "<rect class=\"incident\" x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(max(2, x1 - x0)))\" height=\"\(f(oracleTop + oracleHeight - top))\"/>"
        }
        svg += gridAndAxes()
        svg += "<path class=\"offered\" d=\"\(stepArea(data.offered))\"/>"
        svg += "<path class=\"admitted\" d=\"\(stepArea(data.admitted))\"/>"
        svg += "<path class=\"fraction\" d=\"\(fractionLine())\"/>"
        svg += stateStrip()
        svg += oracleStrip()
        svg += "</svg>"
        return svg
    }

    private func gridAndAxes() -> String {
        var svg = ""
        for step in 0...2 {
            let fraction = Double(step) / 2
            let y = plotBottom - fraction * Double(plotHeight)
            svg += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y))\"/>"
            svg += "<text class=\"axis rps\" x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(formatRPS(maximumRPS * fraction))</text>"
            svg += "<text class=\"axis pct\" x=\"\(f(left + plotWidth + 6))\" y=\"\(f(y + 4))\">\(Int(fraction * 100))%</text>"
        }
        let middle = top + Double(plotHeight) / 2
        svg += "<text class=\"axis unit\" x=\"12\" y=\"\(f(middle))\" text-anchor=\"middle\" transform=\"rotate(-90 12 \(f(middle)))\">RPS</text>"
        svg += "<text class=\"axis strip\" x=\"\(f(left - 6))\" y=\"\(f(stateTop + stateHeight - 2))\" text-anchor=\"end\">state</text>"
        svg += "<text class=\"axis strip\" x=\"\(f(left - 6))\" y=\"\(f(oracleTop + oracleHeight))\" text-anchor=\"end\">oracle</text>"
        svg += ChartSVG.timeTicks(from: data.bins.start, to: data.bins.end, every: tickSeconds, label: tickLabel,
                                  axisY: oracleTop + oracleHeight, x: { x(Double($0)) })
        return svg
    }

    /// A closed path drawing `values` (RPS per bin) as flat steps down to the axis.
    private func stepArea(_ values: [Double]) -> String {
        var path = "M\(f(left)) \(f(plotBottom))"
        for (bin, value) in values.enumerated() {
            let y = yRPS(value)
            path += "L\(f(x(bin: bin))) \(f(y))L\(f(x(bin: bin + 1))) \(f(y))"
        }
        path += "L\(f(x(bin: values.count))) \(f(plotBottom))Z"
        return path
    }

    /// The fraction admitted through bin centres, broken where nothing was offered.
    private func fractionLine() -> String {
        var path = ""
        var drawing = false
        for (bin, value) in data.fraction.enumerated() {
            guard let value else {
                drawing = false
                continue
            }
            let center = (x(bin: bin) + x(bin: bin + 1)) / 2
            path += (drawing ? "L" : "M") + "\(f(center)) \(f(yFraction(value)))"
            drawing = true
        }
        return path.isEmpty ? "M0 0" : path
    }

    /// Closed background; OPEN (red) and THROTTLED (amber) stacked by their share of each bin.
    /// Runs of equal bins are merged to keep the SVG small.
    private func stateStrip() -> String {
        ChartSVG.stateStrip(data.states, left: left, top: stateTop, width: plotWidth, height: stateHeight, x: { x(bin: $0) })
    }

    private func oracleStrip() -> String {
        var svg = "<rect class=\"oracle-closed\" x=\"\(f(left))\" y=\"\(f(oracleTop))\" width=\"\(f(plotWidth))\" height=\"\(f(oracleHeight))\"/>"
        for incident in data.incidents where incident.end > Double(data.bins.start) && incident.start < Double(data.bins.end) {
            let x0 = max(left, x(incident.start)), x1 = min(left + plotWidth, x(incident.end))
            svg += "<rect class=\"oracle-open\" x=\"\(f(x0))\" y=\"\(f(oracleTop))\" width=\"\(f(max(2, x1 - x0)))\" height=\"\(f(oracleHeight))\"/>"
        }
        return svg
    }

    private func formatRPS(_ value: Double) -> String { ChartSVG.formatRPS(value) }

    /// Coordinates with one decimal.
    private func f(_ value: Double) -> String { SummaryTable.format(value, decimals: 1) }

    /// A round axis maximum at or above `value` (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a
    /// power of ten), so the tallest bar fills most of the plot.
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        while magnitude > value { magnitude /= 10 }
        for factor in [1.0, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }
}

/// SVG pieces shared by the open-loop and the closed-loop charts.
enum ChartSVG {
    /// Coordinates with one decimal.
    static func number(_ value: Double) -> String { SummaryTable.format(value, decimals: 1) }

    /// 0, 750, 1.25k, 2.5k, 10k: thousands with only the decimals needed.
    static func formatRPS(_ value: Double) -> String {
        guard value >= 1000 else { return SummaryTable.format(value, decimals: 0) }
        var text = SummaryTable.format(value / 1000, decimals: 2)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + "k"
    }

    /// Tick marks and labels along a time axis at `axisY`, every `every` seconds in [`from`, `to`].
    static func timeTicks(from start: Int, to end: Int, every tickSeconds: Int, label: (Int) -> String,
                          axisY: Double, x: (Int) -> Double) -> String {
        let f = number
        var svg = ""
        var tick = (start + tickSeconds - 1) / tickSeconds * tickSeconds
        while tick <= end {
            let position = x(tick)
            svg += "<line class=\"tick\" x1=\"\(f(position))\" y1=\"\(f(axisY))\" x2=\"\(f(position))\" y2=\"\(f(axisY + 4))\"/>"
            svg += "<text class=\"axis\" x=\"\(f(position))\" y=\"\(f(axisY + 15))\" text-anchor=\"middle\">\(escapeHTML(label(tick)))</text>"
            tick += tickSeconds
        }
        return svg
    }

    /// A state strip: CLOSED background, OPEN (red) and THROTTLED (amber) stacked by their share
    /// of each bin. Runs of equal bins are merged to keep the SVG small.
    static func stateStrip(_ states: [(throttled: Double, open: Double)], left: Double, top: Double, width: Double,
                           height: Double, x: (Int) -> Double) -> String {
        let f = number
        var svg = "<rect class=\"closed\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width))\" height=\"\(f(height))\"/>"
        func quantised(_ share: Double) -> Int { Int((min(1, max(0, share)) * 12).rounded()) }
        var bin = 0
        while bin < states.count {
            let open = quantised(states[bin].open), throttled = quantised(states[bin].throttled)
            var next = bin + 1
            while next < states.count, quantised(states[next].open) == open, quantised(states[next].throttled) == throttled { next += 1 }
            if open + throttled > 0 {
                let x0 = x(bin), x1 = x(next)
                let openHeight = height * Double(open) / 12
                let throttledHeight = height * Double(throttled) / 12
                if open > 0 {
                    svg += "<rect class=\"open\" x=\"\(f(x0))\" y=\"\(f(top + height - openHeight))\" width=\"\(f(max(0.6, x1 - x0)))\" height=\"\(f(openHeight))\"/>"
                }
                if throttled > 0 {
                    svg += "<rect class=\"throttled\" x=\"\(f(x0))\" y=\"\(f(top + height - openHeight - throttledHeight))\" width=\"\(f(max(0.6, x1 - x0)))\" height=\"\(f(throttledHeight))\"/>"
                }
            }
            bin = next
        }
        return svg
    }
}

/// Escapes text for HTML and SVG.
func escapeHTML(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.count)
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        default: result.append(character)
        }
    }
    return result
}
