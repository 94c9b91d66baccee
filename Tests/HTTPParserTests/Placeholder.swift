import Testing
@Test func placeholderHTTPParserTests() { #expect(1 + 1 == 2) }
