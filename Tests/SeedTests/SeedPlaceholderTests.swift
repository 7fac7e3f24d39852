import XCTest
@testable import Seed

final class SeedPlaceholderTests: XCTestCase {}
