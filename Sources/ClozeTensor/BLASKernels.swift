import CBLAS
import Foundation

/// Which OpenBLAS kernels run. A DYNAMIC_ARCH OpenBLAS picks them by CPU model when it loads; a model
/// newer than the library (Emerald Rapids, family 6 model 207, under Debian's OpenBLAS 0.3.21) gets the
/// SSE3 "Prescott" fallback, measured 5.2x slower than the AVX-512 SkylakeX kernels on the same machine.
/// The choice can only be made before the library loads (`OPENBLAS_CORETYPE`), so the CLI re-executes
/// itself once with the variable set (`reexecWithFasterKernelsIfNeeded`).
public enum BLASKernels {
    /// The kernel set OpenBLAS chose ("Prescott", "Haswell", "SkylakeX", "Zen", ...).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// Kernel sets that mean OpenBLAS did not recognise a modern CPU.
    static let fallbacks: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "unknown"]

    /// The `OPENBLAS_CORETYPE` this CPU supports when OpenBLAS fell back to an older kernel set and
    /// the user has not chosen one; nil otherwise. `flags`: the CPU's feature flags (/proc/cpuinfo).
    public static func betterCoreType(current: String, flags: Set<Substring>, environment: [String: String]) -> String? {
        guard environment["OPENBLAS_CORETYPE"] == nil, fallbacks.contains(current.lowercased()) else { return nil }
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// Feature flags of the first CPU in /proc/cpuinfo (empty where there is none).
    public static func cpuFlags() -> Set<Substring> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " "))
    }

    /// Re-executes the running program with `OPENBLAS_CORETYPE` set when OpenBLAS fell back (at most
    /// once: the variable is then set). Returns only when nothing needed doing or the exec failed.
    public static func reexecWithFasterKernelsIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        guard let core = betterCoreType(current: coreName, flags: cpuFlags(), environment: env) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        // exec failed: go on with the slower kernels.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
