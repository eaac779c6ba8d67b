import Benchmark
import ClozeModels
import ClozeTensor
import ClozeTokenizers
import Foundation

// Kernel and model micro-benchmarks (google/swift-benchmark). Run in release:
//   swift run -c release ClozeBenchmarks [--filter REGEX] [--format json]
// Threads: CLOZE_BENCH_THREADS (default 1). Whole-model forward/train-step timings side by side with
// PyTorch are `cloze bench` and scripts/bench_torch.py.

@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

let threads = Int(ProcessInfo.processInfo.environment["CLOZE_BENCH_THREADS"] ?? "") ?? 1
BLASThreads.set(threads)

func randomTensor(_ shape: [Int], seed: UInt64, requiresGrad: Bool = false) -> Tensor {
    var rng = SeededRNG(seed: seed)
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, data: (0..<n).map { _ in rng.nextUniform() * 2 - 1 }, requiresGrad: requiresGrad)
}

// MiniLM layer shapes: B*T = 512 rows, hidden 384, FFN 1536, 12 heads.
let rows = 512, hidden = 384, ffn = 1536
let x = randomTensor([rows, hidden], seed: 1, requiresGrad: true)
let w = randomTensor([ffn, hidden], seed: 2, requiresGrad: true)
let b = randomTensor([ffn], seed: 3, requiresGrad: true)
let big = randomTensor([rows, ffn], seed: 4, requiresGrad: true)
let gamma = randomTensor([hidden], seed: 5, requiresGrad: true)
let beta = randomTensor([hidden], seed: 6, requiresGrad: true)
let qkv = randomTensor([rows, hidden], seed: 7, requiresGrad: true)

let kernels = BenchmarkSuite(name: "kernels") { suite in
    // 2*512*384*1536 = 604 MFLOP per forward.
    suite.benchmark("linear 512x384->1536 forward") {
        blackHole(Ops.linear(x, weight: w, bias: b, tape: nil))
    }
    suite.benchmark("linear 512x384->1536 forward+backward") {
        let tape = Tape()
        let y = Ops.linear(x, weight: w, bias: b, tape: tape)
        tape.backward(Ops.sum(y, tape: tape))
        x.zeroGrad(); w.zeroGrad(); b.zeroGrad()
    }
    suite.benchmark("gelu erf 512x1536 forward") {
        blackHole(Ops.gelu(big, kind: .erf, tape: nil))
    }
    suite.benchmark("layerNorm 512x384 forward") {
        blackHole(Ops.layerNorm(x, gamma: gamma, beta: beta, eps: 1e-12, tape: nil))
    }
    suite.benchmark("selfAttention B4 T128 12 heads forward") {
        var rng: SeededRNG? = nil
        blackHole(Ops.selfAttention(q: qkv, k: qkv, v: qkv, batch: 4, seqLen: 128, heads: 12,
                                    keyMask: [Float](repeating: 1, count: rows), dropout: 0, rng: &rng, tape: nil))
    }
    suite.benchmark("softmaxRows 512x1536") {
        blackHole(Ops.softmaxRows(big.data, rows: 512, cols: 1536))
    }
}

let tokenizerSuite = BenchmarkSuite(name: "tokenizer") { suite in
    let modelDir = "../shared/models/minilm-l6-mlm"
    guard let tokenizer = try? Tokenizer.load(directory: URL(fileURLWithPath: modelDir)),
          let text = try? String(contentsOfFile: "../shared/datasets/sst2_glue/dev.tsv", encoding: .utf8) else {
        return
    }
    let lines = text.split(separator: "\n").dropFirst().map { String($0.split(separator: "\t").first ?? "") }
    suite.benchmark("bert-uncased encode SST-2 dev (872 sentences)") {
        for line in lines { blackHole(tokenizer.encode(line)) }
    }
}

BLASKernels.reexecWithFasterKernelsIfNeeded()
Benchmark.main([kernels, tokenizerSuite])
