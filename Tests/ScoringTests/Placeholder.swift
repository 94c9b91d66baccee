import Testing
@Test func placeholderScoringTests() { #expect(1 + 1 == 2) }
