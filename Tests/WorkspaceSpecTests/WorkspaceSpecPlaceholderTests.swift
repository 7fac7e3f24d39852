import XCTest
@testable import WorkspaceSpec

final class WorkspaceSpecPlaceholderTests: XCTestCase {}
