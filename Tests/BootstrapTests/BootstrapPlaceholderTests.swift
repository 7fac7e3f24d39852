import XCTest
@testable import Bootstrap

final class BootstrapPlaceholderTests: XCTestCase {}
