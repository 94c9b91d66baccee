import ArgumentParser

/// How `bench` and `vote` send requests to the servers they score with.
struct RewardRequestOptions: ParsableArguments {
    @Option(help: "Reward normalisation: likelihood mean, sum or lift (context lift); classifier none or sigmoid.")
    var normalize: String?

    @Option(help: "Context over the model's window: none (error) or middle (keep head and tail).")
    var truncation: String?

    @Option(help: "Requests (bench) or records (vote) in flight at once.")
    var concurrency = 1

    @Option(help: "Seed for the order in which candidates are shown.")
    var seed: UInt64 = 42

    @Option(help: "Only the first N selected items.")
    var limit: Int?

    @Option(help: "Tries per request for 429/503 and connection errors.")
    var retries = 6

    @Option(
        name: .customLong("request-timeout"), help: "Seconds a request may stay silent (long contexts take minutes).")
    var requestTimeout = 3600.0

    func validate() throws {
        if concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }
}
