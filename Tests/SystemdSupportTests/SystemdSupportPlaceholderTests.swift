import XCTest
@testable import SystemdSupport

final class SystemdSupportPlaceholderTests: XCTestCase {}
