// swift-tools-version:6.0
import PackageDescription

// Every target is built for haswell (AVX2 + FMA, present on every x86-64 machine this project runs on):
// without FMA-capable codegen `acc += x * y` on SIMD16 is far slower.
let haswell: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
// Tokenizers keep bounds and overflow checks; they drop only the run-time exclusivity bookkeeping
// (swift_beginAccess was ~10% of encode time), which no input can influence.
let checkedHotPath: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell", "-enforce-exclusivity=unchecked"])]
// Only the hot kernels (ClozeTensor: GEMM glue, SIMD elementwise/row kernels, attention, AdamW) drop
// bounds and overflow checks in release. Tokenizers, loaders, parsers and the CLI read user files and
// keep every check, so a hostile file traps or errors instead of running into undefined behaviour.
let hotKernels: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-target-cpu", "haswell", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    .unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .debug)),
]

let package = Package(
    name: "Cloze",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cloze", targets: ["cloze"]),
        .library(name: "ClozeTensor", targets: ["ClozeTensor"]),
        .library(name: "ClozeTokenizers", targets: ["ClozeTokenizers"]),
        .library(name: "ClozeModels", targets: ["ClozeModels"]),
        .library(name: "ClozePET", targets: ["ClozePET"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-algorithms", from: "1.2.0"),
        .package(url: "https://github.com/google/swift-benchmark", from: "0.1.2"),
    ],
    targets: [
        // OpenBLAS through its cblas.h (pkg-config name `openblas`).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // utf8proc: linked by modulemap only; its .pc adds -DUTF8PROC_EXPORTS which SwiftPM rejects.
        .systemLibrary(name: "CUTF8Proc", path: "Sources/CUTF8Proc",
                       providers: [.apt(["libutf8proc-dev"])]),
        .target(name: "ClozeTensor",
                dependencies: ["CBLAS", .product(name: "Numerics", package: "swift-numerics")],
                swiftSettings: hotKernels),
        .target(name: "ClozeTokenizers",
                dependencies: ["CUTF8Proc", .product(name: "Collections", package: "swift-collections")],
                swiftSettings: checkedHotPath),
        .target(name: "ClozeModels",
                dependencies: ["ClozeTensor", "ClozeTokenizers"],
                swiftSettings: haswell),
        .target(name: "ClozePET",
                dependencies: ["ClozeModels", "ClozeTokenizers", "ClozeTensor",
                               .product(name: "Algorithms", package: "swift-algorithms")],
                swiftSettings: haswell),
        .executableTarget(name: "cloze",
                          dependencies: ["ClozePET", "ClozeModels", "ClozeTokenizers", "ClozeTensor",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: haswell),
        // Fuzz harnesses for every user-file parser (scripts/fuzz.sh); `cloze-fuzz` replays inputs when
        // built normally and is a libFuzzer binary with --sanitize=fuzzer -Xswiftc -DCLOZE_LIBFUZZER.
        .target(name: "ClozeFuzzTargets", dependencies: ["ClozePET", "ClozeModels", "ClozeTokenizers"], swiftSettings: haswell),
        .executableTarget(name: "cloze-fuzz", dependencies: ["ClozeFuzzTargets"], path: "Sources/ClozeFuzz", swiftSettings: haswell),
        .executableTarget(name: "ClozeBenchmarks",
                          dependencies: ["ClozeModels", "ClozeTokenizers", "ClozeTensor",
                                         .product(name: "Benchmark", package: "swift-benchmark")],
                          path: "Benchmarks/ClozeBenchmarks", swiftSettings: haswell),
        .testTarget(name: "ClozeTensorTests", dependencies: ["ClozeTensor"], swiftSettings: haswell),
        .testTarget(name: "ClozeTokenizersTests", dependencies: ["ClozeTokenizers"], swiftSettings: haswell),
        .testTarget(name: "ClozeModelsTests", dependencies: ["ClozeModels"], swiftSettings: haswell),
        .testTarget(name: "ClozeFuzzTests", dependencies: ["ClozeFuzzTargets"], swiftSettings: haswell),
        .testTarget(name: "ClozePETTests", dependencies: ["ClozePET", "ClozeTokenizers"], swiftSettings: haswell),
    ],
    swiftLanguageModes: [.v5]
)
