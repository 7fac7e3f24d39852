import XCTest
@testable import Fetch

final class FetchPlaceholderTests: XCTestCase {}
