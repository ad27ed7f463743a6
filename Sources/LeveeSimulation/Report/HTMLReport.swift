public import Levee
import Foundation

/// A self-contained HTML page (inline CSS and SVG, no script, no network) showing one seed of a
/// benchmark: the summary table, every candidate over the whole run, and a zoom on each incident
/// at one-second resolution.
public struct HTMLReport {
    public var result: BenchmarkResult
    public var series: SeedSeries
    public var scenario: Scenario
    public var slo: SLO
    /// Seconds shown before and after each incident in its zoom.
    public var zoomBefore = 120
    public var zoomAfter = 300

    public init(result: BenchmarkResult, series: SeedSeries, scenario: Scenario, slo: SLO) {
        self.result = result
        self.series = series
        self.scenario = scenario
        self.slo = slo
    }

    /// Writes `index.html` into `directory` (created if needed) and returns its path.
    @discardableResult
    public func write(toDirectory directory: String) throws -> String {
        try Self.writeIndex(html(), toDirectory: directory)
    }

    /// Writes `page` as `index.html` into `directory` (created if needed) and returns its path.
    static func writeIndex(_ page: String, toDirectory directory: String) throws -> String {
        let url = URL(fileURLWithPath: directory, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let file = url.appendingPathComponent("index.html")
        try Data(page.utf8).write(to: file, options: .atomic)
        return file.path
    }

    private var oracle: PrescientOracle { PrescientOracle(scenario: scenario, slo: slo) }

    private var seedResult: SeedResult? { result.seedResults.first { $0.seed == series.seed } }

    /// The whole page.
    public func html() -> String {
        let oracle = self.oracle
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Levee open-loop benchmark: \(escapeHTML(result.scenario))</title>
            <style>\(Self.css)</style></head><body><main>

            """
        page += header()
        page += summarySection()
        page += legend()
        page += overviewSection(oracle: oracle)
        for (index, incident) in oracle.incidents.enumerated() {
            page += incidentSection(index: index, incident: incident, oracle: oracle)
        }
        page += notesSection()
        page += "</main></body></html>\n"
        return page
    }

    // MARK: Sections

    private func header() -> String {
        let requests = seedResult.map { SummaryTable.grouped($0.requestCount) } ?? "?"
        let hours = SummaryTable.format(result.scenarioSeconds / 3600, decimals: 1)
        return """
            <header><h1>Open-loop benchmark: \(escapeHTML(result.scenario))</h1>
            <p class="meta">\(result.phaseCount) phases over \(hours) h of simulated time · SLO \(result.successRate) \
            (timeout \(SummaryTable.format(result.sloTimeoutMilliseconds, decimals: 0)) ms) · \
            \(result.incidents.count) incident(s) · generator <code>\(escapeHTML(result.generator))</code> · \
            seed \(series.seed) · \(requests) requests · simulated in \(SummaryTable.format(result.wallSeconds, decimals: 1)) s</p>
            <p class="lede">Every candidate saw the same request stream. The Prescient oracle blocks everything during \
            incidents (phases whose error rate exceeds \(SummaryTable.format(100 * slo.errorBudget, decimals: 1)) %) and \
            admits everything otherwise; <b>BadTraffic</b> charges what a candidate admitted during incidents and \
            <b>LostBusiness</b> what it blocked outside them, both as the L2 norm of per-second counts.</p></header>

            """
    }

    private func summarySection() -> String {
        var html = "<section><h2>Summary</h2>"
        if let seedResult {
            html += table(rows: SummaryTable.seedTable(seedResult), caption: "Seed \(seedResult.seed), sorted by TotalPenalty (lower is better)")
        }
        if result.seedResults.count > 1 {
            html += table(rows: SummaryTable.meanTable(result),
                          caption: "Mean over \(result.seedResults.count) seeds ± half-width of the 95 % confidence interval")
        }
        html += "</section>\n"
        return html
    }

    /// Turns the text table's rows back into an HTML table (first row headings, second a rule).
    private func table(rows: [String], caption: String) -> String {
        let lines = rows.enumerated().filter { $0.offset != 1 }.map { $0.element }
        guard let heading = lines.first else { return "" }
        func cells(_ line: String) -> [String] {
            line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmedOfBlanks() }
        }
        let headings = cells(heading)
        let bestName = lines.dropFirst(3).first.map { cells($0)[0] }
        var html = "<div class=\"table\"><table><caption>\(escapeHTML(caption))</caption><thead><tr>"
        for (index, title) in headings.enumerated() {
            html += "<th\(index >= 9 ? " class=\"new\"" : "")>\(escapeHTML(title))</th>"
        }
        html += "</tr></thead><tbody>"
        for line in lines.dropFirst() {
            let values = cells(line)
            let isOracle = values.first?.hasPrefix("Prescient") == true
            let isBest = values.first == bestName
            html += "<tr class=\"\(isOracle ? "oracle" : "")\(isBest ? " best" : "")\">"
            for (index, value) in values.enumerated() {
                guard index > 0 else {
                    html += "<th>\(escapeHTML(value))</th>"
                    continue
                }
                // "mean ± half-width" on two lines keeps the mean table narrow.
                let parts = value.components(separatedBy: " ± ")
                let cell = parts.count == 2
                    ? "\(escapeHTML(parts[0]))<br><small>± \(escapeHTML(parts[1]))</small>" : escapeHTML(value)
                html += "<td\(index >= 9 ? " class=\"new\"" : "")>\(cell)</td>"
            }
            html += "</tr>"
        }
        html += "</tbody></table></div>"
        return html
    }

    private func legend() -> String {
        """
        <section class="legend"><span><i class="sw offered"></i>offered RPS</span>\
        <span><i class="sw admitted"></i>admitted RPS</span>\
        <span><i class="sw line"></i>fraction admitted (right axis)</span>\
        <span><i class="sw incident"></i>incident (oracle OPEN)</span>\
        <span>state: <i class="sw closed"></i>closed <i class="sw throttled"></i>throttled <i class="sw open"></i>open</span></section>

        """
    }

    private func overviewSection(oracle: PrescientOracle) -> String {
        let totalSeconds = Int((Double(oracle.totalDurationNanoseconds) / 1e9).rounded(.up))
        let bins = BinnedSeries(start: 0, end: totalSeconds, binSeconds: max(1, (totalSeconds + 1099) / 1100))
        let offered = bins.mean(series.offeredPerSecond)
        let maximum = AdmissionChart.niceMaximum(offered.max() ?? 1)
        let hours = max(1, totalSeconds / 3600)
        let tick = hours > 48 ? 6 * 3600 : hours > 12 ? 2 * 3600 : hours > 3 ? 3600 : max(60, totalSeconds / 12 / 60 * 60)
        var html = "<section><h2>The whole run</h2><p class=\"hint\">"
        html += bins.binSeconds > 10
            ? "Bins of \(bins.binSeconds) s: the incidents are brief at this scale, so each candidate's reaction is in the zooms below.</p>"
            : "Bins of \(bins.binSeconds) s.</p>"
        for candidate in series.candidates {
            let chart = AdmissionChart(
                data: chartData(candidate: candidate, bins: bins, offered: offered, oracle: oracle),
                maximumRPS: maximum, tickSeconds: tick, tickLabel: { Self.clock($0, seconds: false) })
            html += Self.panel(title: candidate.name, subtitle: subtitle(for: candidate.identifier), chart: chart.svg(label: "\(candidate.name) over the whole run"))
        }
        html += "</section>\n"
        return html
    }

    private func incidentSection(index: Int, incident: PrescientOracle.Incident, oracle: PrescientOracle) -> String {
        let start = Int(incident.start / 1_000_000_000)
        let end = Int((incident.end + 999_999_999) / 1_000_000_000)
        let runEnd = Int((Double(oracle.totalDurationNanoseconds) / 1e9).rounded(.up))
        let bins = BinnedSeries(start: max(0, start - zoomBefore), end: min(runEnd, end + zoomAfter), binSeconds: 1)
        let offered = bins.mean(series.offeredPerSecond)
        let maximum = AdmissionChart.niceMaximum(offered.max() ?? 1)
        let phases = (incident.firstPhase...incident.lastPhase).map { scenario.phases[$0] }
        let description = phases.map { "\($0.label.isEmpty ? "phase" : $0.label) (\(SummaryTable.format($0.durationSeconds, decimals: 0)) s, \(SummaryTable.grouped($0.rpm / 60)) RPS, \(SummaryTable.format($0.errorRate * 100, decimals: 0)) % errors)" }
        var html = "<section class=\"incident-section\"><h2>Incident \(index + 1): \(Self.clock(start, seconds: true)) – \(Self.clock(end, seconds: true))</h2>"
        html += "<p class=\"hint\">\(escapeHTML(description.joined(separator: " → "))). One-second bins from \(zoomBefore / 60) min before to \(zoomAfter / 60) min after (within the run).</p>"
        html += incidentTable(incident: incident, index: index, oracle: oracle, window: (bins.start, bins.end))
        for candidate in series.candidates {
            let chart = AdmissionChart(
                data: chartData(candidate: candidate, bins: bins, offered: offered, oracle: oracle),
                maximumRPS: maximum, tickSeconds: 60, tickLabel: { Self.clock($0, seconds: true) })
            html += Self.panel(title: candidate.name, subtitle: nil, chart: chart.svg(label: "\(candidate.name) around incident \(index + 1)"))
        }
        html += "</section>\n"
        return html
    }

    private func incidentTable(incident: PrescientOracle.Incident, index: Int, oracle: PrescientOracle, window: (Int, Int)) -> String {
        var html = "<div class=\"table\"><table class=\"compact\"><thead><tr><th>Candidate</th><th>Reacted after</th><th>Opened after</th>"
        html += "<th>Closed again after the end</th><th>Admitted during the incident</th><th>BadTraffic here</th><th>LostBusiness in the window</th></tr></thead><tbody>"
        for candidate in series.candidates {
            let response = seedResult?.result(for: candidate.identifier)?.incidents[safe: index]
            let score = WindowScore(admitted: candidate.admittedPerSecond, offered: series.offeredPerSecond, oracle: oracle,
                                    incident: incident, from: window.0, to: window.1)
            let share = score.offeredDuringIncident > 0 ? 100 * Double(score.admittedDuringIncident) / Double(score.offeredDuringIncident) : 0
            html += "<tr><th>\(escapeHTML(candidate.name))</th>"
            html += "<td>\(response?.missed == true ? "<span class=\"missed\">missed</span>" : Self.delay(response?.reactionDelay))</td>"
            html += "<td>\(Self.delay(response?.openingDelay))</td><td>\(Self.delay(response?.recoveryDelay))</td>"
            html += "<td>\(SummaryTable.grouped(score.admittedDuringIncident)) (\(SummaryTable.format(share, decimals: 1)) %)</td>"
            html += "<td>\(SummaryTable.grouped(Int(score.badTraffic.rounded())))</td><td>\(SummaryTable.grouped(Int(score.lostBusiness.rounded())))</td></tr>"
        }
        html += "</tbody></table></div>"
        return html
    }

    private func notesSection() -> String {
        let items = Self.noteItems(SummaryTable.notes(result))
        var html = "<section class=\"notes\"><h2>Notes</h2><ul>"
        for item in items { html += "<li>\(escapeHTML(item))</li>" }
        html += "<li>Times are h:mm:ss of simulated time since the simulation start; the oracle's boundaries are the nominal phase boundaries.</li>"
        html += "</ul></section>\n"
        return html
    }

    // MARK: Pieces

    private func chartData(candidate: SeedSeries.Candidate, bins: BinnedSeries, offered: [Double], oracle: PrescientOracle) -> AdmissionChart.Data {
        AdmissionChart.Data(
            bins: bins, offered: offered, admitted: bins.mean(candidate.admittedPerSecond),
            fraction: bins.ratio(candidate.admittedPerSecond, series.offeredPerSecond),
            states: bins.stateShares(initial: candidate.initialState, transitions: candidate.transitions),
            incidents: oracle.incidents.map { (Double($0.start) / 1e9, Double($0.end) / 1e9) })
    }

    private func subtitle(for identifier: String) -> String? {
        guard let result = seedResult?.result(for: identifier) else { return nil }
        return "TotalPenalty \(SummaryTable.grouped(Int(result.totalPenalty.rounded()))) = BadTraffic \(SummaryTable.grouped(Int(result.badTraffic.rounded()))) + LostBusiness \(SummaryTable.grouped(Int(result.lostBusiness.rounded()))) · blocked \(SummaryTable.grouped(result.blocked))"
    }

    /// The text notes are wrapped for a terminal: rejoin the continuation lines into items.
    static func noteItems(_ lines: [String]) -> [String] {
        var items: [String] = []
        for line in lines {
            if line.hasPrefix("  "), !items.isEmpty {
                items[items.count - 1] += " " + line.trimmedOfBlanks()
            } else {
                items.append(line)
            }
        }
        return items
    }

    /// A chart in a frame with its title and an optional subtitle.
    static func panel(title: String, subtitle: String?, chart: String) -> String {
        var html = "<figure class=\"panel\"><figcaption><b>\(escapeHTML(title))</b>"
        if let subtitle { html += "<span>\(escapeHTML(subtitle))</span>" }
        html += "</figcaption>\(chart)</figure>"
        return html
    }

    /// `h:mm` or `h:mm:ss` of simulated time since the start.
    static func clock(_ seconds: Int, seconds showSeconds: Bool) -> String {
        let hours = seconds / 3600, minutes = (seconds % 3600) / 60, rest = seconds % 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return showSeconds ? "\(hours):\(two(minutes)):\(two(rest))" : "\(hours):\(two(minutes))"
    }

    static func delay(_ nanoseconds: Int64?) -> String {
        guard let nanoseconds else { return "–" }
        let seconds = Double(nanoseconds) / 1e9
        return seconds < 10 ? SummaryTable.format(seconds, decimals: 2) + " s" : SummaryTable.format(seconds, decimals: 0) + " s"
    }

    static let css = """
        :root{--offered:#c7ccd4;--admitted:#4f9d69;--line:#1f4e8c;--incident:rgba(214,69,65,.13);--closed:#e3efe6;--throttled:#f0a830;--open:#d64541;}
        body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2430;background:#f6f7f9;margin:0}
        main{max-width:1200px;margin:0 auto;padding:20px 20px 60px}
        h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde1e7;padding-bottom:4px}
        .meta{color:#5b6573;margin:0 0 8px}.lede{max-width:900px}.hint{color:#5b6573;margin:4px 0 10px}
        code{background:#eceff3;padding:0 4px;border-radius:3px}
        .table{overflow-x:auto;margin:8px 0 14px}table{border-collapse:collapse;font-variant-numeric:tabular-nums;background:#fff;font-size:11.5px}
        caption{text-align:left;color:#5b6573;padding:0 0 4px}
        th,td{padding:4px 6px;border-bottom:1px solid #e6e9ee;text-align:right;white-space:nowrap}
        thead th{background:#eef1f5;font-weight:600}tbody th{text-align:left;font-weight:600}
        th.new,td.new{background:#fafbfd}thead th.new{background:#e6ebf3}
        tr.oracle td,tr.oracle th{color:#6b7480;font-style:italic}td small{color:#6b7480;font-size:10.5px}tr.best th,tr.best td{background:#e9f5ec}
        table.compact td,table.compact th{font-size:12.5px}
        .missed{color:#b3261e;font-weight:600}
        .legend{display:flex;flex-wrap:wrap;gap:18px;margin:18px 0 0;color:#38414d}
        .sw{display:inline-block;width:14px;height:10px;margin:0 4px 0 2px;vertical-align:middle;border-radius:2px}
        .sw.offered{background:var(--offered)}.sw.admitted{background:var(--admitted)}.sw.line{height:3px;background:var(--line)}
        .sw.incident{background:rgba(214,69,65,.3)}.sw.closed{background:var(--closed);border:1px solid #c9dccd}.sw.throttled{background:var(--throttled)}.sw.open{background:var(--open)}
        figure.panel{margin:10px 0 4px;background:#fff;border:1px solid #e1e5ea;border-radius:6px;padding:6px 8px 2px}
        figcaption{display:flex;gap:14px;align-items:baseline;font-size:13px}figcaption span{color:#5b6573;font-size:12px}
        svg.chart{display:block;max-width:100%;height:auto}
        svg .incident{fill:var(--incident)}svg .offered{fill:var(--offered)}svg .admitted{fill:var(--admitted);fill-opacity:.85}
        svg .fraction{fill:none;stroke:var(--line);stroke-width:1.3;stroke-linejoin:round}
        svg .grid{stroke:#e4e7ec;stroke-width:1}svg .tick{stroke:#9aa3ae}
        svg .axis{font-size:10.5px;fill:#5b6573}svg .axis.pct{fill:var(--line)}svg .axis.unit{font-weight:600}svg .axis.strip{font-size:9.5px}
        svg .closed{fill:var(--closed)}svg .throttled{fill:var(--throttled)}svg .open{fill:var(--open)}
        svg .oracle-closed{fill:#eceff3}svg .oracle-open{fill:var(--open)}
        .notes ul{max-width:950px;color:#38414d;padding-left:20px}.notes li{margin:3px 0}
        """
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
