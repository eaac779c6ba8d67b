import Foundation

/// A one-line progress bar on stderr with rate and ETA (redrawn at most ~10 times a second).
public final class ProgressBar {
    let label: String
    let total: Int
    let start = Date()
    var last = Date.distantPast
    public var enabled: Bool

    public init(_ label: String, total: Int, enabled: Bool = true) {
        self.label = label; self.total = total; self.enabled = enabled
    }

    public func update(_ done: Int, extra: String = "") {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(last) > 0.1 else { return }
        last = now
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = total > 0 ? min(width, done * width / total) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r%@ [%@] %d/%d %.1f/s ETA %@ %@", label, bar, done, total, rate, Self.clock(eta), extra)
        FileHandle.standardError.write(Data(line.utf8))
        if done >= total { FileHandle.standardError.write(Data(String(format: " (%.1fs)\n", elapsed).utf8)) }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
