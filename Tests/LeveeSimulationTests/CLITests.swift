import ArgumentParser
import Foundation
import LeveeSimulation
import Testing
@testable import LeveeCLI

@Suite("CLI: argument validation and exit statuses")
struct CLITests {
    /// The exit status `levee bench ARGS` would end with if parsing fails, or nil when it parses.
    func benchStatus(_ arguments: [String]) -> Int32? {
        do {
            _ = try BenchCommand.parse(arguments)
            return nil
        } catch {
            return LeveeCommand.exitStatus(for: error)
        }
    }

    func benchMessage(_ arguments: [String]) -> String {
        do {
            _ = try BenchCommand.parse(arguments)
            return ""
        } catch {
            return BenchCommand.message(for: error)
        }
    }

    @Test("Bad values exit with status 2", arguments: [
        ["--slo", "0"], ["--slo", "1"], ["--slo", "1.5"], ["--slo", "-0.1"], ["--slo", "nan"], ["--slo", "abc"],
        ["--seeds", "0"], ["--seeds", ""], ["--seeds", ","], ["--seeds", "a,b"], ["--seeds", "-3"],
        ["--candidates", "semian"], ["--candidates", ""], ["--candidates", "levee,nope"],
        ["--scenario", "/nonexistent/scenario.csv"], ["--scenario", "random:"], ["--scenario", "random:x"],
        ["--scenario", "random:-1"], ["--generator", "slow"], ["--threads", "0"],
        ["--slo-timeout-ms", "0"], ["--slo-timeout-ms", "1e12"], ["--slo-timeout-ms", "1e300"], ["--bogus"], ["extra-argument"],
    ])
    func badValues(arguments: [String]) {
        #expect(benchStatus(arguments) == 2)
    }

    @Test("Good values parse")
    func goodValues() throws {
        let plan = try BenchCommand.parse(["--candidates", "static-peak,static-bau", "--seeds", "20241225", "--generator", "go"]).plan()
        #expect(plan.seeds == [20_241_225])
        #expect(plan.candidates.map(\.identifier) == ["static-peak", "static-bau"])
        #expect(plan.generator == .goCompatible)
        #expect(plan.slo.successRate == 0.90)
        #expect(plan.scenario.phases.count == 122)

        let defaults = try BenchCommand.parse([]).plan()
        #expect(defaults.seeds == [20_241_225])
        #expect(defaults.candidates == CandidateDescriptor.builtIn)

        let several = try BenchCommand.parse(["--seeds", "5", "--slo", "0.95", "--generator", "fast"]).plan()
        #expect(several.seeds == (0..<5).map { 20_241_225 + UInt64($0) })
        #expect(several.slo.successRate == 0.95)
        #expect(several.generator == .fast)

        let random = try BenchCommand.parse(["--scenario", "random:12"]).plan()
        #expect(random.scenario == (try Scenario.random(seed: 12)))

        // Milliseconds are rounded to whole nanoseconds: 8.2 ms is 8,199,999.999… ns in binary.
        for (milliseconds, nanoseconds) in [("8.2", Int64(8_200_000)), ("1.005", 1_005_000), ("1500", 1_500_000_000)] {
            let timed = try BenchCommand.parse(["--slo-timeout-ms", milliseconds]).plan()
            #expect(timed.slo.timeoutNanoseconds == nanoseconds)
        }
    }

    @Test("A random scenario's seed must be a whole number, and the message says so")
    func randomScenarioSeed() {
        #expect(benchMessage(["--scenario", "random:x"]).contains("the seed after 'random:' must be a whole number"))
    }

    @Test("Seed lists: a count, a list, a large single seed, and 'N,' for one small seed")
    func seeds() throws {
        #expect(try SeedSelection.parse("3") == [20_241_225, 20_241_226, 20_241_227])
        #expect(try SeedSelection.parse("7,42, 7") == [7, 42])
        #expect(try SeedSelection.parse("123456") == [123_456])
        #expect(try SeedSelection.parse("5,") == [5])
        #expect(throws: SeedSelection.ParseError.self) { try SeedSelection.parse("0") }
    }

    @Test("A malformed scenario file is a usage error naming its line and column")
    func malformedScenario() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("levee-cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bad.csv").path
        try """
            duration_s,rpm,error_rate,p50_ms,p99_ms,timeout_ms
            60,6000,0.01,50,150,1500
            60,6000,0.01,500,150,1500
            """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(benchStatus(["--scenario", path]) == 2)
        let message = benchMessage(["--scenario", path])
        #expect(message.contains("line 3"), "\(message)")
        #expect(message.contains("p50_ms") || message.contains("p99_ms"), "\(message)")

        let good = directory.appendingPathComponent("good.csv").path
        try "label,duration_s,rpm,error_rate,p50_ms,p99_ms,timeout_ms,comment\ncalm,60,600,0.01,50,150,1500,x\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let plan = try BenchCommand.parse(["--scenario", good]).plan()
        #expect(plan.scenario.phases.count == 1)
    }

    @Test("loadgen validates its options too")
    func loadgen() {
        func status(_ arguments: [String]) -> Int32? {
            do {
                _ = try LoadgenCommand.parse(arguments)
                return nil
            } catch {
                return LeveeCommand.exitStatus(for: error)
            }
        }
        #expect(status(["--limit", "-1"]) == 2)
        #expect(status(["--seed", "x"]) == 2)
        #expect(status(["--scenario", "/nonexistent.csv"]) == 2)
        #expect(status(["--seed", "3", "--limit", "10", "--generator", "fast"]) == nil)
        #expect(status(["--throughput", "--stats"]) == 2)
        #expect(status(["--throughput", "--limit", "10"]) == 2)
        #expect(status(["--event-order", "go"]) == 2)
        #expect(status(["--throughput", "--event-order", "sideways"]) == 2)
        #expect(status(["--throughput", "--event-order", "go", "--generator", "go"]) == nil)
        #expect(LeveeCommand.exitStatus(for: UsageError(message: "x")) == 2)
    }
}

@Suite("CLI: bench --closed-loop options")
struct ClosedLoopCLITests {
    func status(_ arguments: [String]) -> Int32? { CLITests().benchStatus(arguments) }
    func message(_ arguments: [String]) -> String { CLITests().benchMessage(arguments) }

    @Test("Bad closed-loop values exit with status 2", arguments: [
        ["--closed-loop", "--model", "go"], ["--closed-loop", "--retry", "sometimes"], ["--closed-loop", "--attempts", "0"],
        ["--closed-loop", "--attempts", "101"], ["--closed-loop", "--retry", "none", "--attempts", "3"],
        ["--closed-loop", "--retry-budget", "1.5"], ["--closed-loop", "--retry-budget", "nan"], ["--closed-loop", "--retry-budget", "x"],
        ["--closed-loop", "--instances", "0"], ["--closed-loop", "--instances", "1001"], ["--closed-loop", "--queue-depth", "0"],
        ["--closed-loop", "--load-scale", "0"], ["--closed-loop", "--load-scale", "inf"], ["--closed-loop", "--error-scale", "-1"],
        ["--closed-loop", "--sweep", "latency"], ["--closed-loop", "--sweep", "slo", "--candidates", "levee"],
        ["--closed-loop", "--sweep", "slo", "--candidates", "static-peak,static-bau"],
        ["--closed-loop", "--sweep", "load", "--load-scale", "2"], ["--closed-loop", "--sweep", "queue-depth", "--queue-depth", "10"],
        ["--closed-loop", "--sweep", "slo", "--report", "/tmp/x"], ["--closed-loop", "--slo", "1"],
        ["--model", "original"], ["--retry", "none"], ["--instances", "4"], ["--sweep", "load"],
    ])
    func badValues(arguments: [String]) {
        #expect(status(arguments) == 2)
    }

    @Test("Messages name the option")
    func messages() {
        #expect(message(["--closed-loop", "--instances", "0"]).contains("--instances"))
        #expect(message(["--closed-loop", "--retry-budget", "2"]).contains("--retry-budget"))
        #expect(message(["--retry", "none"]).contains("--closed-loop"))
        #expect(message(["--closed-loop", "--load-scale", "-2"]).contains("--load-scale"))
        #expect(message(["--closed-loop", "--sweep", "load", "--report", "/tmp/x"]).contains("--report"))
    }

    @Test("--report records series for the first seed only, and only when asked")
    func reportSeed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("levee-report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let charted = try BenchCommand.parse(["--closed-loop", "--seeds", "11,12", "--report", directory]).closedLoopPlan()
        #expect(charted.configuration.seriesSeed == 11)
        #expect(try BenchCommand.parse(["--closed-loop"]).closedLoopPlan().configuration.seriesSeed == nil)
    }

    @Test("Defaults and explicit values resolve to the configuration")
    func plans() throws {
        let defaults = try BenchCommand.parse(["--closed-loop"]).closedLoopPlan()
        #expect(defaults.configuration.clients == .standard)
        #expect(defaults.configuration.backend == .realistic)
        #expect(defaults.configuration.instances == 1)
        #expect(defaults.configuration.candidates == CandidateDescriptor.closedLoopDefaults)
        #expect(!defaults.configuration.candidates.contains(.blockAll))
        #expect(defaults.configuration.candidates.contains(.allowAll))
        #expect(defaults.sweep == nil)

        let original = try BenchCommand.parse([
            "--closed-loop", "--model", "original", "--retry", "none", "--queue-depth", "25", "--instances", "100",
            "--load-scale", "2", "--error-scale", "0.2", "--candidates", "levee,static-peak", "--sweep", "slo", "--seeds", "3",
        ]).closedLoopPlan()
        var expectedBackend = BackendConfiguration.original
        expectedBackend.queueDepthPerReplica = 25
        #expect(original.configuration.backend == expectedBackend)
        #expect(original.configuration.clients == .original)
        #expect(original.configuration.instances == 100)
        #expect(original.configuration.loadScale == 2)
        #expect(original.configuration.errorScale == 0.2)
        #expect(original.configuration.seeds.count == 3)
        #expect(original.sweep == .slo)

        let immediate = try BenchCommand.parse(["--closed-loop", "--retry", "immediate", "--attempts", "5", "--retry-budget", "none"])
            .closedLoopPlan()
        #expect(immediate.configuration.clients == ClientPolicy(retry: .immediate(maxAttempts: 5)))
        let budget = try BenchCommand.parse(["--closed-loop", "--retry-budget", "0.2"]).closedLoopPlan()
        #expect(budget.configuration.clients.budget?.ratio == 0.2)
    }
}

@Suite("CLI: output paths are checked before a run starts")
struct OutputPathTests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("levee-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    /// The exit status and message `levee bench ARGS` would fail with while parsing, or nil and "".
    func bench(_ arguments: [String]) -> (status: Int32?, message: String) {
        (CLITests().benchStatus(arguments), CLITests().benchMessage(arguments))
    }

    @Test("A --json path that cannot be written is a usage error naming the option and the reason")
    func unwritableJSON() throws {
        let file = path("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let cases: [(String, String)] = [
            (scratch.path, "is a directory"),
            (path("missing/results.json"), "there is no directory"),
            (file + "/results.json", "there is no directory"),
        ]
        for (json, reason) in cases {
            for loop in [[], ["--closed-loop"]] {
                let (status, message) = bench(loop + ["--json", json])
                #expect(status == 2)
                #expect(message.contains("--json") && message.contains(reason), "\(message)")
            }
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    @Test("A --report directory under a file is a usage error; a new one is created before the run")
    func reportDirectory() throws {
        let file = path("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let (status, message) = bench(["--report", file + "/report"])
        #expect(status == 2)
        #expect(message.contains("--report") && message.contains("is a file"), "\(message)")

        let nested = path("a/b/report")
        #expect(bench(["--report", nested]).status == nil)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: nested, isDirectory: &isDirectory) && isDirectory.boolValue)
        try? FileManager.default.removeItem(at: scratch)
    }

    @Test("Checking a new --json file leaves nothing behind, and an existing one unchanged")
    func checkingLeavesNoTrace() throws {
        let fresh = path("fresh.json")
        #expect(bench(["--json", fresh]).status == nil)
        #expect(!FileManager.default.fileExists(atPath: fresh))

        let existing = path("existing.json")
        try Data("kept".utf8).write(to: URL(fileURLWithPath: existing))
        #expect(bench(["--json", existing]).status == nil)
        #expect(try Data(contentsOf: URL(fileURLWithPath: existing)) == Data("kept".utf8))
        try? FileManager.default.removeItem(at: scratch)
    }

    @Test("tune checks --output the same way")
    func tuneOutput() {
        do {
            _ = try TuneCommand.parse(["--output", path("missing/best.json")])
            Issue.record("an --output in a missing directory parsed")
        } catch {
            #expect(LeveeCommand.exitStatus(for: error) == 2)
            #expect(TuneCommand.message(for: error).contains("--output"))
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    @Test("A write that fails after the run names the option, the path and the system's reason")
    func failedWrite() {
        let target = path("missing/results.json")
        do {
            try OutputPath.writing(target, option: "--json") { try Data("{}".utf8).write(to: URL(fileURLWithPath: target)) }
            Issue.record("writing into a missing directory succeeded")
        } catch {
            let message = String(describing: error)
            #expect(error is OutputPath.WriteError)
            #expect(message.contains("--json") && message.contains(target) && message.contains("No such file or directory"), "\(message)")
            #expect(LeveeCommand.exitStatus(for: error) != 2)
        }
        try? FileManager.default.removeItem(at: scratch)
    }
}
