import Foundation

public enum ProcessEnvironment {
    public static var values: [String: String] { ProcessInfo.processInfo.environment }
}
