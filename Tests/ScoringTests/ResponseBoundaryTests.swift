import Testing

@testable import Scoring

/// The response boundary of rendered queries (`/get_reward` without `prompts`): pure text work, plus the
/// headers llama.cpp's own template renderer produces (no model needed).
@Suite struct ResponseBoundaryTests {
    /// One multi-turn conversation per family, written out in that family's markup (as its Hugging Face
    /// template renders it with `add_generation_prompt`), then the response. The earlier assistant turn
    /// checks that the last header wins.
    static let conversations: [(family: AssistantHeader.Family, prompt: String, response: String)] = [
        (
            .chatML,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n"
                + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "4<|im_end|>\n"
        ),
        (
            .llama3,
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
                + "Hello.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n", "4<|eot_id|>"
        ),
        (
            .gemma,
            "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
                + "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n", "4<end_of_turn>\n"
        ),
        (.mistral, "<s>[INST] Hi[/INST] Hello.</s>[INST] What is 2+2?[/INST]", " 4</s>"),
        (
            .phi3, "<|user|>\nHi<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n",
            "4<|end|>\n"
        ),
        (
            .phi4,
            "<|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>Hello.<|im_end|>"
                + "<|im_start|>user<|im_sep|>What is 2+2?<|im_end|><|im_start|>assistant<|im_sep|>", "4<|im_end|>"
        ),
        (
            .commandR,
            "<BOS_TOKEN><|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"
                + "Hello.<|END_OF_TURN_TOKEN|><|START_OF_TURN_TOKEN|><|USER_TOKEN|>What is 2+2?<|END_OF_TURN_TOKEN|>"
                + "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", "4<|END_OF_TURN_TOKEN|>"
        ),
        (
            .granite,
            "<|start_of_role|>user<|end_of_role|>Hi<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>Hello.<|end_of_text|>\n"
                + "<|start_of_role|>user<|end_of_role|>What is 2+2?<|end_of_text|>\n<|start_of_role|>assistant<|end_of_role|>",
            "4<|end_of_text|>"
        ),
        (
            .deepSeek,
            "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Hello.<｜end▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>",
            "<think>\nEasy.\n</think>\n\n4<｜end▁of▁sentence｜>"
        ),
        (
            .llama4,
            "<|begin_of_text|><|header_start|>user<|header_end|>\n\nHi<|eot|><|header_start|>assistant<|header_end|>\n\nHello.<|eot|>"
                + "<|header_start|>user<|header_end|>\n\nWhat is 2+2?<|eot|><|header_start|>assistant<|header_end|>\n\n",
            "4<|eot|>"
        ),
    ]

    @Test func everyCommonFamilyIsSplitAfterItsLastAssistantHeader() throws {
        #expect(
            Set(Self.conversations.map(\.family)) == Set(AssistantHeader.common.map(\.family)),
            "one conversation per family")
        for (family, prompt, response) in Self.conversations {
            let split = try #require(ResponseBoundary.split(prompt + response, own: nil), "\(family)")
            #expect(split == QuerySplit(prompt: prompt, response: response, source: .header(family)), "\(family)")
        }
    }

    @Test func theModelsOwnHeaderWinsOverAnotherFamilyQuotedInTheResponse() throws {
        let prompt = "<|im_start|>user\nHow do Mistral prompts end?<|im_end|>\n<|im_start|>assistant\n"
        let response = "With the closing tag [/INST], after the user's message."
        // Without the model's header the latest header anywhere wins, and the quoted tag is later.
        let anyFamily = try #require(ResponseBoundary.split(prompt + response, own: nil))
        #expect(anyFamily.source == .header(.mistral) && anyFamily.response == ", after the user's message.")
        let own = try #require(ResponseBoundary.ownHeader("<|im_start|>assistant\n"))
        #expect(own.family == .chatML)
        let split = try #require(ResponseBoundary.split(prompt + response, own: own))
        #expect(split == QuerySplit(prompt: prompt, response: response, source: .header(.chatML)))
    }

    @Test func anUnknownOwnHeaderIsTheModelTemplateFamily() throws {
        let own = try #require(ResponseBoundary.ownHeader("ASSISTANT:"))
        #expect(own.family == .modelTemplate)
        let split = try #require(
            ResponseBoundary.split("USER: Hi\nASSISTANT: Hello.</s>\nUSER: 2+2?\nASSISTANT: 4", own: own))
        #expect(split.prompt == "USER: Hi\nASSISTANT: Hello.</s>\nUSER: 2+2?\nASSISTANT:" && split.response == " 4")
        #expect(ResponseBoundary.ownHeader(nil) == nil && ResponseBoundary.ownHeader("") == nil)
        // Without the model's header plain "ASSISTANT:" is not recognised: too common in ordinary text.
        #expect(ResponseBoundary.split("USER: Hi\nASSISTANT: Hello.", own: nil) == nil)
    }

    @Test func noHeaderMeansNoBoundary() {
        for query in [
            "Q: What is 2+2?\nA: 4", "", "<|im_start|>user\nHi<|im_end|>\n", "<start_of_turn>user\nHi", "assistant\n",
        ] {
            #expect(ResponseBoundary.split(query, own: nil) == nil, "\(query)")
        }
    }

    @Test func aQueryEndingAtTheHeaderHasAnEmptyResponse() throws {
        let prompt = "<start_of_turn>user\nSay nothing.<end_of_turn>\n<start_of_turn>model\n"
        let split = try #require(ResponseBoundary.split(prompt, own: nil))
        #expect(split.prompt == prompt && split.response.isEmpty)
    }

    @Test func multiByteTextAroundTheHeaderSurvivesTheSplit() throws {
        let prompt = "<|im_start|>user\n日本の首都は？ 🗼<|im_end|>\n<|im_start|>assistant\n"
        let response = "東京です。🎌 e\u{301}"
        let split = try #require(ResponseBoundary.split(prompt + response, own: nil))
        #expect(split.prompt == prompt && split.response == response)
        #expect(Array(split.prompt.utf8) + Array(split.response.utf8) == Array((prompt + response).utf8))
    }

    @Test func boundaryCodesAreDistinctNumbers() {
        let sources: [BoundarySource] =
            [.prompts, .none, .sharedPrefix] + AssistantHeader.Family.allCases.map { .header($0) }
        #expect(Set(sources.map(\.code)).count == sources.count)
        // The numbers are documented (openapi.json, README): a reorder would silently change trainers' logs.
        let documented: [AssistantHeader.Family: Double] = [
            .modelTemplate: 1, .chatML: 2, .llama3: 3, .gemma: 4, .mistral: 5,
            .phi3: 6, .phi4: 7, .commandR: 8, .granite: 9, .deepSeek: 10, .llama4: 11,
        ]
        for family in AssistantHeader.Family.allCases {
            #expect(BoundarySource.header(family).code == documented[family], "\(family)")
        }
        #expect(
            BoundarySource.prompts.code == 0 && BoundarySource.none.code == -1 && BoundarySource.sharedPrefix.code == -2
        )
    }

    // MARK: the model's own template

    @Test func headerDerivedFromRenderings() {
        #expect(
            AssistantHeader.derived(
                withoutHeader: "<start_of_turn>user\nM<end_of_turn>\n",
                withHeader: "<start_of_turn>user\nM<end_of_turn>\n<start_of_turn>model\n", mark: "M")
                == "<start_of_turn>model\n")
        // Templates that add nothing for the assistant: what follows the user text, trimmed.
        #expect(
            AssistantHeader.derived(withoutHeader: "[INST] M [/INST]", withHeader: "[INST] M [/INST]", mark: "M")
                == "[/INST]")
        #expect(AssistantHeader.derived(withoutHeader: "User: M\n", withHeader: "User: M\n", mark: "M") == nil)
        #expect(AssistantHeader.derived(withoutHeader: "M", withHeader: "M\n\n", mark: "M") == nil)
    }

    /// llama.cpp's built-in renderer (the one the model's template goes through) gives each family's header.
    @Test func llamaCppTemplatesYieldTheCommonHeaders() throws {
        let expected: [(template: String, family: AssistantHeader.Family)] = [
            ("chatml", .chatML), ("llama3", .llama3), ("gemma", .gemma), ("mistral-v1", .mistral),
            ("mistral-v3", .mistral),
            ("mistral-v7", .mistral), ("llama2", .mistral), ("phi3", .phi3), ("zephyr", .phi3), ("falcon3", .phi3),
            ("chatglm4", .phi3), ("phi4", .phi4), ("command-r", .commandR), ("granite", .granite),
            ("deepseek3", .deepSeek),
            ("llama4", .llama4),
        ]
        for (template, family) in expected {
            let header = try #require(AssistantHeader.of(template: template), "\(template)")
            #expect(ResponseBoundary.ownHeader(header)?.family == family, "\(template): \(header.debugDescription)")
        }
        #expect(AssistantHeader.of(template: "vicuna") == "ASSISTANT:")
        #expect(AssistantHeader.of(template: "no such template {{ nonsense }}") == nil)
    }
}

/// Which part of each `/get_reward` query is scored, per method (pure; tokens stubbed).
@Suite struct RewardQueriesTests {
    static let gemmaPrompt = "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n"

    func items(
        _ queries: [String], prompts: [String]? = nil, method: ScoringMethod, sharesPrefix: Bool = true,
        keepsTokens: Bool = true
    ) throws(ScoringError) -> [RewardQueries.Item] {
        try RewardQueries.items(
            queries: queries, prompts: prompts, method: method, own: nil, sharesPrefix: sharesPrefix,
            splitKeepsTokens: { _, _ in keepsTokens })
    }

    @Test func likelihoodAndJudgeScoreTheResponseAfterTheHeader() throws {
        for method in [ScoringMethod.likelihood, .judge] {
            let got = try items([Self.gemmaPrompt + "4", Self.gemmaPrompt], method: method)
            #expect(
                got == [
                    RewardQueries.Item(input: .raw(Self.gemmaPrompt), response: "4", source: .header(.gemma)),
                    RewardQueries.Item(input: .raw(Self.gemmaPrompt), response: "", source: .header(.gemma)),
                ], "\(method)")
        }
    }

    @Test func likelihoodWithoutABoundaryIsRefusedNamingPrompts() throws {
        #expect {
            _ = try items([Self.gemmaPrompt + "4", "Q: 2+2?\nA: 4"], method: .likelihood)
        } throws: { error in
            guard case ScoringError.invalidRequest(let field, let reason) = error else { return false }
            return field == FieldPath("query").index(1) && reason.contains("\"prompts\"")
        }
        // With prompts the client's split is used, header or not.
        #expect(
            try items(["Q: 2+2?\nA: 4"], prompts: ["Q: 2+2?\nA:"], method: .likelihood)
                == [RewardQueries.Item(input: .raw("Q: 2+2?\nA:"), response: " 4", source: .prompts)])
        // A prompt that is not a prefix of its query falls back to the header.
        #expect(
            try items([Self.gemmaPrompt + "4"], prompts: ["something else"], method: .likelihood)
                == [RewardQueries.Item(input: .raw(Self.gemmaPrompt), response: "4", source: .header(.gemma))])
    }

    @Test func emptyQueriesAreRefusedBeforeBoundaries() {
        #expect {
            _ = try items(["no header", ""], method: .likelihood)
        } throws: { error in
            error as? ScoringError == .invalidRequest(field: FieldPath("query").index(1), reason: "must not be empty")
        }
    }

    @Test func classifierKeepsTheWholeText() throws {
        let query = Self.gemmaPrompt + "4"
        #expect(
            try items([query], method: .classifier)
                == [RewardQueries.Item(input: .raw(Self.gemmaPrompt), response: "4", source: .header(.gemma))])
        let whole = [RewardQueries.Item(input: .raw(""), response: query, source: .none)]
        #expect(
            try items([query], method: .classifier, keepsTokens: false) == whole,
            "a split that changes the tokens is not used")
        #expect(try items([query], method: .classifier, sharesPrefix: false) == whole, "encoders score the whole text")
        #expect(
            try items(["plain text"], method: .classifier)
                == [RewardQueries.Item(input: .raw(""), response: "plain text", source: .none)])
        #expect(
            try items([Self.gemmaPrompt], method: .classifier)
                == [RewardQueries.Item(input: .raw(""), response: Self.gemmaPrompt, source: .none)],
            "empty answer: the whole text")
        #expect(
            try items([Self.gemmaPrompt], prompts: [Self.gemmaPrompt], method: .classifier)
                == [RewardQueries.Item(input: .raw(""), response: Self.gemmaPrompt, source: .none)],
            "also when prompts says so")
    }

    @Test func classifierQueriesSharingALongPrefixAreGrouped() throws {
        let shared = String(repeating: "A long instruction line that every rollout repeats.\n", count: 8)
        let queries = [shared + "first answer", "unrelated short text", shared + "second answer", shared + "third"]
        let got = try items(queries, method: .classifier)
        for i in [0, 2, 3] {
            #expect(got[i].input == .raw(shared) && got[i].source == .sharedPrefix, "\(i)")
            #expect(shared + got[i].response == queries[i])
        }
        #expect(got[1] == RewardQueries.Item(input: .raw(""), response: "unrelated short text", source: .none))
        // Below the threshold, or when the cut would change the tokens, nothing is grouped.
        let short = try items(["Same start\nA", "Same start\nB"], method: .classifier)
        #expect(short.allSatisfy { $0.source == .none })
        #expect(try items(queries, method: .classifier, keepsTokens: false).allSatisfy { $0.source == .none })
        #expect(
            try items(queries, method: .judge).allSatisfy { $0.source == .none }, "judge: only the classifier groups")
    }
}
