import XCTest
@testable import ClozeTensor

/// The OpenBLAS kernel choice: only a fallback kernel set on a CPU with AVX-512 / AVX2 is overridden,
/// never a user's own OPENBLAS_CORETYPE.
final class BLASKernelsTests: XCTestCase {
    func testBetterCoreTypeOnlyForFallbacks() {
        let avx512: Set<Substring> = ["fma", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq"]
        let avx2: Set<Substring> = ["fma", "avx2"]
        XCTAssertEqual(BLASKernels.betterCoreType(current: "Prescott", flags: avx512, environment: [:]), "SkylakeX")
        XCTAssertEqual(BLASKernels.betterCoreType(current: "Prescott", flags: avx2, environment: [:]), "Haswell")
        XCTAssertNil(BLASKernels.betterCoreType(current: "Prescott", flags: ["sse3"], environment: [:]))
        XCTAssertNil(BLASKernels.betterCoreType(current: "Zen", flags: avx2, environment: [:]))
        XCTAssertNil(BLASKernels.betterCoreType(current: "SkylakeX", flags: avx512, environment: [:]))
        XCTAssertNil(BLASKernels.betterCoreType(current: "Prescott", flags: avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"]))
    }

    func testCoreNameAndFlagsAreRead() {
        XCTAssertFalse(BLASKernels.coreName.isEmpty)
        XCTAssertTrue(BLASKernels.cpuFlags().contains("sse2"), "x86-64 always has SSE2")
    }
}
