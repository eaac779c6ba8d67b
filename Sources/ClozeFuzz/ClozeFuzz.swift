import ClozeFuzzTargets
import Foundation

// Built with `--sanitize=fuzzer -Xswiftc -DCLOZE_LIBFUZZER` (scripts/fuzz.sh): libFuzzer's own main
// drives `LLVMFuzzerTestOneInput` for the target named by CLOZE_FUZZ_TARGET. Built normally, the same
// harnesses replay files: `cloze-fuzz TARGET FILE...` (how crash inputs are reproduced).
#if CLOZE_LIBFUZZER
nonisolated(unsafe) let selected: ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["CLOZE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all[name] else {
        FileHandle.standardError.write(Data("set CLOZE_FUZZ_TARGET to one of: \(FuzzTargets.names.joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selected(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
@main
struct ClozeFuzzReplay {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let target = FuzzTargets.all[name] else {
            print("usage: cloze-fuzz TARGET FILE...   (targets: \(FuzzTargets.names.joined(separator: ", ")))")
            exit(2)
        }
        for path in args.dropFirst() {
            guard let d = FileManager.default.contents(atPath: path) else { print("cannot read \(path)"); exit(1) }
            target([UInt8](d))
            print("\(name): \(path) ok")
        }
    }
}
#endif
