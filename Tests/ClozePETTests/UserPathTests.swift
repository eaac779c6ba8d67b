import ClozeTensor
import XCTest
@testable import ClozePET

/// Issue 13: pools for tasks without one, `--pool` with a task, logs that read well off a terminal,
/// and the shipped files found from anywhere.
final class UserPathTests: XCTestCase {
    /// The tiny task without its `unlabeled` split, as the shipped user-supplied tasks (AG News, ...) are.
    func taskWithoutPool() throws -> (TaskDescriptor, FakeVocab, String) {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        var task = try TaskDescriptor.load(path: root + "/datasets/tiny.json")
        task.splits["unlabeled"] = nil
        return (task, vocab, root)
    }

    func testPoolIsDrawnFromTrainMinusTheKShotExamples() throws {
        let (task, vocab, root) = try taskWithoutPool()
        var o = PETExperimentOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: [1])
        o.dataRoot = root + "/data"; o.k = 2; o.unlabeledCount = 100
        var exp = PETExperiment(task: task, options: o, vocabulary: vocab)
        var lines: [String] = []
        exp.log = { lines.append($0) }
        let data = try exp.loadSeedData(seed: 1)
        XCTAssertEqual(data.train.examples.count, 4)
        XCTAssertEqual(data.pool.count, 4)   // 8 train rows − 4 sampled
        let sampled = Set(data.train.examples.map(\.location))
        XCTAssertTrue(data.pool.allSatisfy { !sampled.contains($0.location) && $0.label == nil })
        XCTAssertTrue(lines.contains { $0.contains("pool is drawn from the train split minus the 4 training examples (4 left)") }, lines.joined(separator: "\n"))
        XCTAssertEqual(ResultsCollector().settings(exp)["unlabeledSource"], "train split minus the training examples")
        // The split as is (no --k): nothing is left, and the error says what to do.
        o.k = nil
        let e = assertPETError(.emptyDataset) { _ = try PETExperiment(task: task, options: o, vocabulary: vocab).loadSeedData(seed: 1) }
        XCTAssertTrue(e?.message.contains("--pool FILE") == true, e?.message ?? "")
    }

    func testPoolFileOverridesTheTasksPool() throws {
        let (root, vocab) = try ExperimentTests.tinyTaskAndVocabulary()
        write("0,only one pool row\n", to: root + "/other-pool.csv")
        let task = try TaskDescriptor.load(path: root + "/datasets/tiny.json").withPool(root + "/other-pool.csv")
        var o = PETExperimentOptions(modelDirectory: packageRoot + "/Tests/Fixtures/models/tiny-bert", seeds: [1])
        o.dataRoot = root + "/data"; o.unlabeledCount = 10
        var exp = PETExperiment(task: task, options: o, vocabulary: vocab)
        exp.log = { _ in }
        let data = try exp.loadSeedData(seed: 1)
        XCTAssertEqual(data.pool.map { $0.fields["text_a"] ?? $0.fields["sentence"] }, ["only one pool row"])
    }

    func testPatternsOrVerbalizerAloneKeepTheTasksOtherHalf() throws {
        var task = try TaskDescriptor.load(path: packageRoot + "/datasets/sst-2.json")
        task.prompts = [.init(patterns: "patterns/a.txt", verbalizer: "verbalizers/a.txt"),
                        .init(patterns: "patterns/b.txt", verbalizer: "verbalizers/b.txt")]
        let cwd = FileManager.default.currentDirectoryPath
        // Only a verbalizer: every pattern file keeps its place, each now with the new words.
        XCTAssertEqual(try task.withPrompt(patterns: nil, verbalizer: "/w/labels.txt").prompts,
                       [.init(patterns: "patterns/a.txt", verbalizer: "/w/labels.txt"), .init(patterns: "patterns/b.txt", verbalizer: "/w/labels.txt")])
        // Only patterns: one set, with the task's first verbalizer; relative paths made absolute.
        XCTAssertEqual(try task.withPrompt(patterns: "mine.txt", verbalizer: nil).prompts,
                       [.init(patterns: cwd + "/mine.txt", verbalizer: "verbalizers/a.txt")])
        XCTAssertEqual(try task.withPrompt(patterns: "/p.txt", verbalizer: "/v.txt").prompts, [.init(patterns: "/p.txt", verbalizer: "/v.txt")])
        XCTAssertEqual(try task.withPrompt(patterns: nil, verbalizer: nil).prompts, task.prompts)
        // A task with no prompts has no half to lend.
        task.prompts = []
        let noVerbalizer = assertPETError(.badTaskDescriptor) { _ = try task.withPrompt(patterns: "mine.txt", verbalizer: nil) }
        XCTAssertTrue(noVerbalizer?.message.contains("add --verbalizer FILE") == true, noVerbalizer?.message ?? "")
        let noPatterns = assertPETError(.badTaskDescriptor) { _ = try task.withPrompt(patterns: nil, verbalizer: "v.txt") }
        XCTAssertTrue(noPatterns?.message.contains("add --patterns FILE") == true, noPatterns?.message ?? "")
    }

    func testProgressOffATerminalIsAFewPlainLines() {
        var out = ""
        let bar = ProgressBar("train p0", total: 250, terminal: false, write: { out += $0 })
        for step in 0...250 { bar.update(step) }
        XCTAssertFalse(out.contains("\r"))
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, 11, out)   // 0%, 10%, ..., 100%
        XCTAssertTrue(lines.last!.hasPrefix("train p0: 250/250 (100%)"), out)
        XCTAssertLessThan(out.utf8.count, 1000)
        var tty = ""
        let terminalBar = ProgressBar("x", total: 3, terminal: true, write: { tty += $0 })
        terminalBar.update(3)
        XCTAssertTrue(tty.hasPrefix("\rx [") && tty.hasSuffix("s)\n"), tty)
    }

    func testHomeIsFoundFromTheEnvironmentOrTheExecutable() throws {
        XCTAssertEqual(ClozeHome.resolve(environment: ["CLOZE_HOME": "/opt/cloze"], executable: "/x/cloze", currentDirectory: "/tmp"), "/opt/cloze")
        // A binary under .build/release of the package (or copied below the repository) finds the package.
        let exe = packageRoot + "/.build/release/cloze"
        XCTAssertEqual(ClozeHome.resolve(environment: [:], executable: exe, currentDirectory: "/tmp"), packageRoot)
        // Anywhere else: the current directory.
        let elsewhere = tempDir()
        XCTAssertEqual(ClozeHome.resolve(environment: [:], executable: elsewhere + "/cloze", currentDirectory: "/cwd"), "/cwd")
    }

    /// `cloze eval --task sst-2` run from another directory with CLOZE_HOME set: the shipped task, its
    /// patterns and verbalizer, the default data and the default model (../shared beside the home) are found.
    func testEvalFromAnotherDirectoryWithClozeHome() throws {
        let exe = packageRoot + "/.build/release/cloze"
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: exe), "\(exe) missing: `swift test -c release` builds it")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.currentDirectoryURL = URL(fileURLWithPath: tempDir())
        p.environment = ["CLOZE_HOME": packageRoot]
        p.arguments = ["eval", "--task", "sst-2", "--seeds", "42", "--test-limit", "8", "--json", "--no-progress", "--threads", "1"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(decoding: stderr, as: UTF8.self))
        let r = try JSONDecoder().decode(RunResults.self, from: stdout)
        XCTAssertEqual(r.task, "SST-2")
        XCTAssertEqual(r.zeroShot.count, 3)
        XCTAssertTrue(r.model.hasSuffix("shared/models/minilm-l6-mlm"), r.model)
        XCTAssertFalse(String(decoding: stderr, as: UTF8.self).contains("\r"))
    }
}
