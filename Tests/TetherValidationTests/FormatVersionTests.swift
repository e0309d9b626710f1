import Testing
@testable import TetherValidation

@Suite struct ModuleTests {
    @Test func formatVersionIsOne() { #expect(TetherValidationModule.formatVersion == 1) }
}
