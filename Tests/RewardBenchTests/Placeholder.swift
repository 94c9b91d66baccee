import Testing
@Test func placeholderRewardBenchTests() { #expect(1 + 1 == 2) }
