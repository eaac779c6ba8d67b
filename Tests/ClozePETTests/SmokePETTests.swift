import XCTest
@testable import ClozePET
final class SmokePETTests: XCTestCase { func testModuleLoads() { XCTAssertTrue(true) } }
