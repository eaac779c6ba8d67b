import ArgumentParser
import ClozePET
import ClozeModels
import ClozeTensor
import ClozeTokenizers
import Foundation

/// `cloze fill-mask "The capital of France is [MASK]."`: the model's top fillers for each mask.
struct FillMaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill-mask",
        abstract: "Print the most likely tokens for each [MASK] in a sentence.")

    @Option(help: "Hugging Face model directory (config.json, model.safetensors, tokenizer.json or vocab.txt).")
    var model: String = ClozeHome.defaultModel

    @Option(name: .customLong("top-k"), help: "How many candidates to print per mask.")
    var topK: Int = 5

    @Option(help: "An adapter directory (adapter_config.json + adapter_model.safetensors: PEFT LORA incl. DoRA, IA3, PROMPT_TUNING, P_TUNING, PREFIX_TUNING, or Cloze bottleneck adapters) applied on the model.")
    var adapter: String?

    @Option(help: "BLAS threads.")
    var threads: Int = 1

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: ArgumentHelp(quantizeHelp)) var quantize = "none"

    @Argument(help: "Text with one or more [MASK] (also accepted: <mask>).")
    var text: String

    func validate() throws {
        guard topK > 0 else { throw ValidationError("--top-k must be at least 1") }
        guard threads > 0 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: (model as NSString).appendingPathComponent("config.json")) else {
            throw ValidationError("model directory '\(model)' not found (no config.json); pass --model DIR")
        }
        BLASThreads.set(threads)
        let mlm = try ModelLoader.loadMaskedLM(directory: model, quantization: try weightQuantization(quantize))
        if let adapter { try PEFTAdapterFile.load(from: adapter, into: mlm) }
        let tokenizer = try Tokenizer.load(directory: URL(fileURLWithPath: model))
        let results = try FillMask.predict(model: mlm, tokenizer: tokenizer, text: text, topK: topK)
        // What transformers' pipeline shows as token_str: the decoded single token.
        func display(_ id: Int) -> String { tokenizer.decode([Int32(id)], skipSpecialTokens: false) }
        if json {
            let masks: [[String: Any]] = results.enumerated().map { i, candidates in
                ["mask": i, "candidates": candidates.map {
                    ["token": display($0.tokenId), "id": $0.tokenId, "probability": Double($0.probability)] as [String: Any]
                }]
            }
            let object: [String: Any] = ["text": text, "model": model, "masks": masks]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for (i, candidates) in results.enumerated() {
            if results.count > 1 { print("mask \(i + 1) of \(results.count):") }
            for (rank, c) in candidates.enumerated() {
                let token = display(c.tokenId)
                let padded = token.count < 20 ? token + String(repeating: " ", count: 20 - token.count) : token
                print(String(format: "%3d. ", rank + 1) + padded + String(format: " %.4f", c.probability))
            }
        }
    }
}
