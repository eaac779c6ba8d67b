import XCTest
@testable import ClozeTokenizers
final class SmokeTokenizersTests: XCTestCase { func testModuleLoads() { XCTAssertEqual(utf8procVersion().split(separator: ".").count, 3) } }
