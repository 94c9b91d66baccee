import Foundation

enum ProcessEnvironment {
    static var values: [String: String] { ProcessInfo.processInfo.environment }
}
