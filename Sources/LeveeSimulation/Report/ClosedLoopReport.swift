public import Levee
import Foundation

/// A self-contained HTML page (inline CSS and SVG, no script, no network) showing one seed of a
/// closed-loop benchmark: the summary table, every candidate over the whole run, and zooms on
/// the scenario's incidents and on the backend's worst overload.
public struct ClosedLoopReport {
    public var result: ClosedLoopResult
    public var series: ClosedLoopSeedSeries
    public var scenario: Scenario
    public var slo: SLO
    public var crashLoad: Double
    /// Seconds shown before and after each incident in its zoom, and either side of the overload peak.
    public var zoomBefore = 120
    public var zoomAfter = 300
    public var overloadMargin = 600

    /// The widest chart has this many bins (about one per 1.5 pixels: finer adds bytes, not detail).
    static let maximumBins = 700

    /// - Throws: `ClosedLoopError` if the configuration does not validate (the scenario charted
    ///   is the scaled one the benchmark ran).
    public init(result: ClosedLoopResult, series: ClosedLoopSeedSeries, configuration: ClosedLoopConfiguration) throws(ClosedLoopError) {
        self.result = result
        self.series = series
        scenario = try configuration.validated()
        slo = configuration.slo
        crashLoad = configuration.backend.crashLoad
    }

    /// Writes `index.html` into `directory` (created if needed) and returns its path.
    @discardableResult
    /// Writes `index.html` and, beside it, the charted series as `series.csv`.
    public func write(toDirectory directory: String) throws -> String {
        let path = try HTMLReport.writeIndex(html(), toDirectory: directory)
        let csv = URL(fileURLWithPath: directory, isDirectory: true).appendingPathComponent("series.csv")
        try Data(series.csv.utf8).write(to: csv, options: .atomic)
        return path
    }

    private var seedResult: ClosedLoopSeedResult? { result.seedResults.first { $0.seed == series.seed } }
    private var runSeconds: Int { Int((scenario.totalDurationNanoseconds + 999_999_999) / 1_000_000_000) }
    private var bucketSeconds: Int { series.candidates.first?.bucketSeconds ?? 1 }
    private var bucketCount: Int { series.candidates.first?.count ?? 1 }

    /// A window of the run to zoom on.
    struct Window {
        var title: String
        var description: String
        var start: Int
        var end: Int
    }

    /// The incidents (phases whose error rate exceeds the SLO's error budget, merged when
    /// adjacent), then the backend's highest smoothed load over all candidates.
    func windows() -> [Window] {
        var windows: [Window] = []
        for (index, incident) in PrescientOracle(scenario: scenario, slo: slo).incidents.enumerated() {
            let start = Int(incident.start / 1_000_000_000)
            let end = Int((incident.end + 999_999_999) / 1_000_000_000)
            let phases = (incident.firstPhase...incident.lastPhase).map { scenario.phases[$0] }
            let text = phases.map {
                "\($0.label.isEmpty ? "phase" : $0.label) (\(SummaryTable.format($0.durationSeconds, decimals: 0)) s, "
                    + "\(SummaryTable.grouped($0.rpm / 60)) RPS, \(SummaryTable.format($0.errorRate * 100, decimals: 0)) % errors)"
            }.joined(separator: " → ")
            windows.append(Window(
                title: "Incident \(index + 1): \(HTMLReport.clock(start, seconds: true)) – \(HTMLReport.clock(end, seconds: true))",
                description: text + ". From \(zoomBefore / 60) min before to \(zoomAfter / 60) min after.",
                start: max(0, start - zoomBefore), end: min(runSeconds, end + zoomAfter)))
        }
        var peak: (load: Float, bucket: Int, name: String)?
        for candidate in series.candidates {
            for (bucket, load) in candidate.load.enumerated() where load > (peak?.load ?? 0) {
                peak = (load, bucket, candidate.name)
            }
        }
        if let peak {
            let center = peak.bucket * bucketSeconds + bucketSeconds / 2
            let overloaded = peak.load >= 1
            windows.append(Window(
                title: (overloaded ? "Largest overload" : "Highest load") + ": \(HTMLReport.clock(center, seconds: true))",
                description: "The backend's smoothed load peaked at \(SummaryTable.format(Double(peak.load), decimals: 2)) "
                    + "(1 = every worker slot busy) behind \(peak.name)"
                    + (overloaded ? "" : "; no candidate overloaded it") + ". \(overloadMargin / 60) min either side.",
                start: max(0, center - overloadMargin), end: min(runSeconds, center + overloadMargin)))
        }
        return windows
    }

    /// The whole page.
    public func html() -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Levee closed-loop benchmark: \(escapeHTML(result.scenario))</title>
            <style>\(HTMLReport.css)\(Self.css)</style></head><body><main>

            """
        page += header()
        page += summarySection()
        page += legend()
        let windows = windows()
        page += contents(windows)
        page += overviewSection()
        for (index, window) in windows.enumerated() { page += zoomSection(window, anchor: "zoom-\(index + 1)") }
        page += notesSection()
        page += "</main></body></html>\n"
        return page
    }

    // MARK: Sections

    private func header() -> String {
        let hours = SummaryTable.format(result.scenarioSeconds / 3600, decimals: 1)
        let scaled = result.loadScale != 1 || result.errorScale != 1
            ? " · RPM × \(result.loadScale), error rate × \(result.errorScale)" : ""
        return """
            <header><h1>Closed-loop benchmark: \(escapeHTML(result.scenario))</h1>
            <p class="meta">\(result.phaseCount) phases over \(hours) h of simulated time · SLO \(result.successRate) within \
            \(SummaryTable.format(result.sloTimeoutMilliseconds, decimals: 0)) ms · backend model <code>\(escapeHTML(result.model))</code>, \
            queue depth \(result.queueDepthPerReplica) per replica · clients: \(escapeHTML(result.clients)) · \
            \(result.instances) instance(s) per candidate\(escapeHTML(scaled)) · seed \(series.seed) · \
            simulated in \(SummaryTable.format(result.wallSeconds, decimals: 1)) s</p>
            <p class="lede">Each candidate guards its own simulated backend (autoscaled replicas with worker slots and a \
            queue; overload slows it, raises errors and can crash it) against the same exogenous demand. Clients retry \
            failed or rejected attempts, so what a candidate admits feeds back into the load it sees. \
            <b>Goodput</b> counts requests that succeeded within the SLO timeout of their arrival; <b>Delta</b> is the \
            original benchmark's score (higher is better).</p></header>

            """
    }

    private static let summaryColumns: [ClosedLoopColumn] = [
        .delta, .goodputRatio, .sloAttainment, .latencyP50, .latencyP99, .timeouts, .retries, .wastedWork, .blocked,
        .crashes, .downtime,
    ]

    private func summarySection() -> String {
        var html = "<section><h2>Summary</h2>"
        if let seedResult {
            let sorted = seedResult.candidates.sorted { $0.delta > $1.delta }
            html += "<div class=\"table\"><table><caption>Seed \(seedResult.seed), \(SummaryTable.grouped(sorted.first?.offered ?? 0)) "
            html += "exogenous requests, sorted by Delta (higher is better). Goodput% = goodput ÷ exogenous requests; SLOmin% = "
            html += "minutes meeting the SLO; p50/p99 = client-visible latency of admitted attempts.</caption><thead><tr><th>Candidate</th>"
            for column in Self.summaryColumns { html += "<th>\(escapeHTML(column.heading))</th>" }
            html += "</tr></thead><tbody>"
            for (rank, candidate) in sorted.enumerated() {
                html += "<tr class=\"\(rank == 0 ? "best" : "")\"><th>\(escapeHTML(candidate.name))</th>"
                for column in Self.summaryColumns {
                    html += "<td>\(escapeHTML(ClosedLoopTable.cell(column, column.value(in: candidate))))</td>"
                }
                html += "</tr>"
            }
            html += "</tbody></table></div>"
        }
        if result.seedResults.count > 1 {
            html += "<div class=\"table\"><table><caption>Mean over \(result.seedResults.count) seeds ± half-width of the 95 % "
            html += "confidence interval</caption><thead><tr><th>Candidate</th>"
            for column in Self.summaryColumns { html += "<th>\(escapeHTML(column.heading))</th>" }
            html += "</tr></thead><tbody>"
            for aggregate in result.aggregates.sorted(by: { ($0[.delta]?.mean ?? 0) > ($1[.delta]?.mean ?? 0) }) {
                html += "<tr><th>\(escapeHTML(aggregate.name))</th>"
                for column in Self.summaryColumns {
                    let cell = aggregate[column].map { estimate in
                        escapeHTML(ClosedLoopTable.cell(column, estimate.mean))
                            + (estimate.halfWidth.map { "<br><small>± \(escapeHTML(ClosedLoopTable.cell(column, $0)))</small>" } ?? "")
                    } ?? "–"
                    html += "<td>\(cell)</td>"
                }
                html += "</tr>"
            }
            html += "</tbody></table></div>"
        }
        html += "</section>\n"
        return html
    }

    private func legend() -> String {
        """
        <section class="legend"><span><i class="sw demand"></i>exogenous demand</span>\
        <span><i class="sw attempts"></i>attempts offered (demand + retries)</span>\
        <span><i class="sw admitted"></i>admitted</span>\
        <span><i class="sw goodput"></i>goodput</span>\
        <span>state: <i class="sw closed"></i>closed <i class="sw throttled"></i>throttled <i class="sw open"></i>open</span>\
        <span><i class="sw replicas"></i>replicas (left)</span><span><i class="sw load"></i>load (right)</span>\
        <span><i class="sw queued"></i>queued requests</span><span><i class="sw down"></i>backend down</span></section>
        <p class="hint howto">How to read a chart: the top plot is traffic in requests per second. The gap between the grey \
        area and the dashed demand line is retries; the gap between grey and green is what the candidate rejected; the blue \
        line is goodput (by arrival time), which should follow the dashed line when the backend can serve it. The strip \
        below shows the share of the candidate's decisions taken while closed, throttled or open. Under it, the backend: \
        replicas (purple, left axis) and its smoothed load (orange, right axis: busy and queued requests per worker slot, \
        with dotted lines at 1, every slot busy, and at the crash threshold), then its queue. Red shading marks time the \
        backend was down after a crash.</p>

        """
    }

    private func tick(for seconds: Int) -> Int {
        let hours = seconds / 3600
        if hours > 48 { return 6 * 3600 }
        if hours > 12 { return 2 * 3600 }
        if hours > 3 { return 3600 }
        if seconds > 3600 { return 900 }
        if seconds > 1500 { return 300 }
        if seconds > 600 { return 120 }
        return 60
    }

    private func charts(_ bins: ClosedLoopBins, tickSeconds: Int, showSeconds: Bool, label: String) -> [(ClosedLoopSeries, String)] {
        let data = series.candidates.map { bins.data($0) }
        let scales = ClosedLoopChart.Scales(data, crashLoad: crashLoad)
        return zip(series.candidates, data).map { candidate, data in
            let chart = ClosedLoopChart(data: data, scales: scales, tickSeconds: tickSeconds,
                                        tickLabel: { HTMLReport.clock($0, seconds: showSeconds) })
            return (candidate, chart.svg(label: "\(candidate.name) \(label)"))
        }
    }

    private func overviewSection() -> String {
        let bins = ClosedLoopBins(bucketSeconds: bucketSeconds, bucketCount: bucketCount, from: 0, to: runSeconds,
                                  maximumBins: Self.maximumBins)
        var html = "<section id=\"overview\"><h2>The whole run</h2><p class=\"hint\">Every candidate over the whole scenario, in bins of "
        html += "\(bins.binSeconds) s (rates are means over a bin; replicas, load and queue are the largest seen in it). "
        html += "Axes are shared, so the charts compare.</p>"
        for (candidate, svg) in charts(bins, tickSeconds: tick(for: runSeconds), showSeconds: false, label: "over the whole run") {
            html += HTMLReport.panel(title: candidate.name, subtitle: subtitle(for: candidate.identifier), chart: svg)
        }
        html += "</section>\n"
        return html
    }

    /// Links to the sections, so that a reader can jump to an incident.
    private func contents(_ windows: [Window]) -> String {
        var html = "<nav class=\"contents\"><b>Charts:</b> <a href=\"#overview\">the whole run</a>"
        for (index, window) in windows.enumerated() { html += " · <a href=\"#zoom-\(index + 1)\">\(escapeHTML(window.title))</a>" }
        html += "</nav>\n"
        return html
    }

    private func zoomSection(_ window: Window, anchor: String) -> String {
        let bins = ClosedLoopBins(bucketSeconds: bucketSeconds, bucketCount: bucketCount, from: window.start, to: window.end,
                                  maximumBins: Self.maximumBins)
        var html = "<section class=\"zoom\" id=\"\(anchor)\"><h2>\(escapeHTML(window.title))</h2>"
        html += "<p class=\"hint\">\(escapeHTML(window.description)) Bins of \(bins.binSeconds) s.</p>"
        html += windowTable(bins)
        for (candidate, svg) in charts(bins, tickSeconds: tick(for: window.end - window.start), showSeconds: true,
                                       label: window.title) {
            html += HTMLReport.panel(title: candidate.name, subtitle: nil, chart: svg)
        }
        html += "</section>\n"
        return html
    }

    /// Per candidate, what happened inside the window.
    private func windowTable(_ bins: ClosedLoopBins) -> String {
        var html = "<div class=\"table\"><table class=\"compact\"><thead><tr><th>Candidate</th><th>Goodput ÷ demand</th>"
        html += "<th>Attempts per request</th><th>Admitted</th><th>Client-seen failures</th><th>Backend down</th>"
        html += "<th>Peak load</th><th>Peak queue</th></tr></thead><tbody>"
        let range = bins.firstBucket..<min(bucketCount, bins.firstBucket + bins.count * bins.bucketsPerBin)
        for candidate in series.candidates {
            func total(_ values: [Int32]) -> Int { range.reduce(0) { $0 + Int(values[$1]) } }
            let demand = total(candidate.exogenous), attempts = total(candidate.attempts), admitted = total(candidate.admitted)
            let failed = total(candidate.failed), resolved = failed + total(candidate.succeeded)
            let down = Double(range.reduce(Int64(0)) { $0 + candidate.downNanoseconds[$1] }) / 1e9
            let peakLoad = range.reduce(Float(0)) { max($0, candidate.load[$1]) }
            let peakQueue = range.reduce(Int32(0)) { max($0, candidate.queued[$1]) }
            func percent(_ part: Int, _ whole: Int) -> String {
                whole == 0 ? "–" : SummaryTable.format(100 * Double(part) / Double(whole), decimals: 1) + " %"
            }
            html += "<tr><th>\(escapeHTML(candidate.name))</th><td>\(percent(total(candidate.goodput), demand))</td>"
            html += "<td>\(demand == 0 ? "–" : SummaryTable.format(Double(attempts) / Double(demand), decimals: 2))</td>"
            html += "<td>\(percent(admitted, attempts))</td><td>\(percent(failed, resolved))</td>"
            html += "<td>\(SummaryTable.format(down, decimals: 0)) s</td><td>\(SummaryTable.format(Double(peakLoad), decimals: 2))</td>"
            html += "<td>\(SummaryTable.grouped(Int(peakQueue)))</td></tr>"
        }
        html += "</tbody></table></div>"
        return html
    }

    private func notesSection() -> String {
        var items = HTMLReport.noteItems(ClosedLoopTable.notes)
        items.append("The charts show seed \(series.seed) only. The state strip is the share of decisions (attempts offered) "
            + "taken in each state, so it is exact with several instances; with none offered a bin shows closed.")
        items.append("Times are h:mm:ss of simulated time since the start; incidents are the scenario's phases whose error "
            + "rate exceeds the SLO's error budget (\(SummaryTable.format(100 * slo.errorBudget, decimals: 1)) %).")
        var html = "<section class=\"notes\"><h2>Notes</h2><ul>"
        for item in items { html += "<li>\(escapeHTML(item))</li>" }
        html += "</ul></section>\n"
        return html
    }

    private func subtitle(for identifier: String) -> String? {
        guard let result = seedResult?.result(for: identifier) else { return nil }
        return "Delta \(SummaryTable.format(result.delta, decimals: 2)) · goodput \(SummaryTable.format(100 * result.goodputRatio, decimals: 1)) % "
            + "· \(result.backend.crashes) crash(es), down \(SummaryTable.format(Double(result.backend.downtimeNanoseconds) / 1e9, decimals: 0)) s "
            + "· retries \(SummaryTable.grouped(result.retries))"
    }


    static let css = """
        :root{--demand:#1d2430;--attempts:#c7ccd4;--goodput:#1f4e8c;--replicas:#7a4fa0;--load:#e07b1a;--queued:#a08a6a;--down:rgba(214,69,65,.16);}
        .sw.demand{height:0;border-top:2px dashed var(--demand)}.sw.attempts{background:var(--attempts)}.sw.goodput{height:3px;background:var(--goodput)}
        .sw.replicas{height:3px;background:var(--replicas)}.sw.load{height:3px;background:var(--load)}.sw.queued{background:var(--queued)}
        .sw.down{background:rgba(214,69,65,.35)}.howto{max-width:1000px}.contents{margin:14px 0 0;line-height:1.8}.contents a{color:#1f4e8c;white-space:nowrap}
        svg .attempts{fill:var(--attempts)}svg .goodput{fill:none;stroke:var(--goodput);stroke-width:1.4}
        svg .demand{fill:none;stroke:var(--demand);stroke-width:1;stroke-dasharray:4 3}
        svg .replicas{fill:none;stroke:var(--replicas);stroke-width:1.4}svg .load{fill:none;stroke:var(--load);stroke-width:1.3}
        svg .queued{fill:var(--queued);fill-opacity:.7}svg .down{fill:var(--down)}
        svg .reference{stroke:var(--load);stroke-width:.8;stroke-dasharray:1 3}
        svg .axis.replicas-axis{fill:var(--replicas)}svg .axis.load-axis{fill:var(--load)}
        """
}
