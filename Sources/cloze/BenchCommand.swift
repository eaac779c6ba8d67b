import ArgumentParser
import ClozeModels
import ClozeTensor
import Foundation

/// `cloze bench`: forward throughput and training-step time with random weights of a given shape.
/// scripts/bench_torch.py measures the same with PyTorch for a side-by-side comparison.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time inference and one training step (random weights; build with -c release).")

    enum Shape: String, ExpressibleByArgument, CaseIterable {
        case bertBase = "bert-base", minilm
        /// config.json fields of the shape (BERT, 30,522-token vocabulary).
        var fields: [String: JSONValue] {
            let (h, l, heads, ffn): (Double, Double, Double, Double) = self == .bertBase ? (768, 12, 12, 3072) : (384, 6, 12, 1536)
            return ["model_type": .string("bert"), "vocab_size": .number(30522), "hidden_size": .number(h),
                    "num_hidden_layers": .number(l), "num_attention_heads": .number(heads), "intermediate_size": .number(ffn)]
        }
    }

    @Option(help: "Model shape: \(Shape.allCases.map(\.rawValue).joined(separator: ", ")).")
    var shape: Shape = .minilm
    @Option(help: "Sequences per batch.") var batch: Int = 4
    @Option(help: "Tokens per sequence.") var seq: Int = 128
    @Option(help: "BLAS threads.") var threads: Int = 2
    @Option(help: "Timed runs (the median is reported).") var runs: Int = 5
    @Option(help: "Untimed warm-up runs.") var warmup: Int = 1
    @Flag(name: .customLong("forward-only"), help: "Skip the training-step measurement.") var forwardOnly = false
    @Option(help: ArgumentHelp(quantizeHelp)) var quantize = "none"
    @Flag(help: "Also print the median time of each training-step phase.") var phases = false
    @Flag(help: "Print one JSON object (all timings in seconds) instead of text.") var json = false
    @Option(name: .customLong("mask-fraction"), help: "Fraction of tokens that get MLM logits / loss.") var maskFraction: Double = 0.15

    func validate() throws {
        guard batch > 0, seq > 0, seq <= 512, threads > 0, runs > 0, warmup >= 0 else {
            throw ValidationError("--batch, --seq (<= 512), --threads, --runs must be positive")
        }
        guard maskFraction > 0, maskFraction <= 1 else { throw ValidationError("--mask-fraction must be in (0, 1]") }
    }

    func run() throws {
        BLASThreads.set(threads)
        let config = try ModelConfig(raw: shape.fields, file: "<bench \(shape.rawValue)>")
        let model = ModelLoader.random(config: config, seed: 0, quantization: try weightQuantization(quantize))
        var rng = SeededRNG(seed: 1)
        let n = batch * seq
        let ids = (0..<n).map { _ in Int32.random(in: 1000..<30000, using: &rng) }
        let encoded = try EncodedBatch(inputIds: ids, attentionMask: [Float](repeating: 1, count: n), batch: batch, seqLen: seq)
        let masked = max(1, Int((Double(n) * maskFraction).rounded()))
        let positions = Array(Array(0..<n).shuffled(using: &rng).prefix(masked)).sorted()
        let targets = positions.map { _ in Int.random(in: 0..<config.vocabSize, using: &rng) }

        func median(_ body: () throws -> Void) rethrows -> Double {
            for _ in 0..<warmup { try body() }
            var times: [Double] = []
            for _ in 0..<runs {
                let start = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return times.sorted()[times.count / 2]
        }

        var noRNG: SeededRNG? = nil
        let forward = try median {
            let h = try model.encode(encoded, training: false, rng: &noRNG, tape: nil)
            _ = try model.mlmLogits(hidden: h, positions: positions, vocabularyRows: nil, tape: nil)
        }
        let parameters = model.parameters.map(\.tensor)
        let count = parameters.reduce(0) { $0 + $1.count }
        var report: [String: Any] = ["shape": shape.rawValue, "parameters": count, "batch": batch, "seq": seq,
                                     "maskedPositions": masked, "threads": threads, "runs": runs,
                                     "forwardSeconds": forward, "forwardTokensPerSecond": Double(n) / forward]
        func emitJSON() throws {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if json && forwardOnly { try emitJSON(); return }
        if !json {
        print("cloze bench: \(shape.rawValue) (\(String(format: "%.1f", Double(count) / 1e6))M parameters), batch \(batch) x seq \(seq), \(masked) masked positions, \(threads) BLAS threads (OpenBLAS kernels \(BLASKernels.coreName)), median of \(runs)")
        print(String(format: "forward (encoder + MLM head at masks, no tape): %.1f ms  = %.0f tokens/s", forward * 1000, Double(n) / forward))
        }
        if forwardOnly { return }
        let optimizer = AdamW(parameters: parameters, learningRate: 1e-5)
        var dropoutRNG: SeededRNG? = SeededRNG(seed: 2)
        var phaseTimes: [[Double]] = [[], [], [], []]
        func lap(_ start: inout UInt64, _ phase: Int) {
            let now = DispatchTime.now().uptimeNanoseconds
            phaseTimes[phase].append(Double(now - start) / 1e9)
            start = now
        }
        let train = try median {
            var t = DispatchTime.now().uptimeNanoseconds
            let tape = Tape()
            let h = try model.encode(encoded, training: true, rng: &dropoutRNG, tape: tape)
            lap(&t, 0)
            let logits = try model.mlmLogits(hidden: h, positions: positions, vocabularyRows: nil, tape: tape)
            let loss = Ops.crossEntropy(logits, targets: targets, tape: tape)
            lap(&t, 1)
            tape.backward(loss)
            lap(&t, 2)
            optimizer.step()
            optimizer.zeroGrad()
            lap(&t, 3)
        }
        let names = ["encoder forward", "MLM head + CE forward", "backward", "AdamW + zeroGrad"]
        if json {
            report["trainStepSeconds"] = train
            report["trainStepTokensPerSecond"] = Double(n) / train
            if phases {
                report["phaseSeconds"] = Dictionary(uniqueKeysWithValues: zip(names, phaseTimes.map { $0.sorted()[$0.count / 2] }))
            }
            try emitJSON()
            return
        }
        print(String(format: "train step (forward + CE + backward + AdamW):    %.1f ms  = %.0f tokens/s", train * 1000, Double(n) / train))
        if phases {
            for (name, times) in zip(names, phaseTimes) {
                print("  \(name): " + String(format: "%.1f ms", times.sorted()[times.count / 2] * 1000))
            }
        }
    }
}
