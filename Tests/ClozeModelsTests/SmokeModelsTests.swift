import XCTest
@testable import ClozeModels
final class SmokeModelsTests: XCTestCase { func testModuleLoads() { XCTAssertTrue(true) } }
