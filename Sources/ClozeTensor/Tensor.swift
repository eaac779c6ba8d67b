import CBLAS

/// A dense, contiguous, row-major Float32 tensor.
///
/// A reference type on purpose: the autodiff tape holds tensors and accumulates gradients into them
/// in place, and model parameters are shared between the model, the optimizer and the tape.
/// Ops never reshape storage: every op takes its dimensions explicitly (llm.c style), so a
/// `[B*T, H]` activation is simply a tensor of shape `[B*T, H]`.
public final class Tensor {
    /// Logical shape, outermost first.
    public let shape: [Int]
    /// `shape.reduce(1, *)` values, row-major.
    public var data: [Float]
    /// Gradient of the loss with respect to `data`; allocated (zeroed) on first accumulation.
    public var grad: [Float]?
    /// Leaf parameters: `true` unless frozen. Op outputs: `true` when recorded on a tape and any
    /// input requires a gradient. Backward passes skip every input whose `requiresGrad` is false,
    /// which is how frozen weights cost no weight-gradient GEMM.
    public var requiresGrad: Bool
    /// Optional name (Hugging Face tensor name for parameters), used in error messages.
    public var name: String?

    public init(shape: [Int], data: [Float], requiresGrad: Bool = false, name: String? = nil) {
        require(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        MemoryTuning.apply()
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
        self.name = name
    }

    public convenience init(zeros shape: [Int], requiresGrad: Bool = false, name: String? = nil) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)),
                  requiresGrad: requiresGrad, name: name)
    }

    /// Number of scalars.
    @inlinable public var count: Int { data.count }

    /// A scalar tensor's value.
    public var item: Float {
        require(data.count == 1, "item: tensor of shape \(shape) is not a scalar")
        return data[0]
    }

    /// Adds `delta` into `grad`, allocating it on first use.
    public func accumulateGrad(_ delta: UnsafeBufferPointer<Float>) {
        ensureGrad()
        grad!.withUnsafeMutableBufferPointer { g in
            Ops.parallelAddInPlace(g.baseAddress!, delta.baseAddress!, count: data.count)
        }
    }

    /// Zeroed gradient buffer, allocated if missing. Backward kernels write into this.
    /// Reuses the buffer released by `zeroGrad()` when there is one (a memset instead of a fresh
    /// allocation: large embedding gradients otherwise cost page faults every step).
    public func ensureGrad() {
        guard grad == nil else { return }
        if var g = spareGrad, g.count == data.count {
            spareGrad = nil
            g.withUnsafeMutableBufferPointer { b in
                Parallel.chunks(b.count, grain: 1 << 18) { r in (b.baseAddress! + r.lowerBound).update(repeating: 0, count: r.count) }
            }
            grad = g
        } else {
            grad = [Float](repeating: 0, count: data.count)
        }
    }

    /// Drops the gradient (`grad == nil`, like PyTorch's zero_grad(set_to_none=True)); the buffer is
    /// kept aside and reused by the next `ensureGrad()`.
    public func zeroGrad() {
        if let g = grad { spareGrad = g }
        grad = nil
    }

    /// Gradient buffer released by `zeroGrad()`, reused by `ensureGrad()`.
    @usableFromInline var spareGrad: [Float]?
}

/// Reverse-mode autodiff: ops append a backward closure while running forward; `backward`
/// runs them newest-first. Passing `tape: nil` to an op runs it in inference mode (nothing recorded).
public final class Tape {
    private var backwards: [() -> Void] = []
    private static let done: () -> Void = {}

    public init() {}

    /// Number of recorded ops (useful in tests).
    public var count: Int { backwards.count }

    public func record(_ backward: @escaping () -> Void) { backwards.append(backward) }

    /// Seeds d(loss)/d(loss) = 1 and runs the recorded backward closures in reverse order.
    /// The tape is empty afterwards (a tape is used for one forward/backward).
    public func backward(_ loss: Tensor) {
        require(loss.count == 1, "backward: loss must be a scalar, got shape \(loss.shape)")
        loss.grad = [1]
        // Each closure is dropped once it has run: it holds the op's inputs and output, and the output's
        // gradient is complete by then (its consumers ran earlier), so activations and their gradients
        // are freed layer by layer instead of all living until the end of the pass.
        for i in backwards.indices.reversed() {
            backwards[i]()
            backwards[i] = Self.done
        }
        backwards.removeAll(keepingCapacity: true)
    }

    /// Drops recorded ops without running them.
    public func reset() { backwards.removeAll(keepingCapacity: true) }
}

/// Deterministic seeded generator (SplitMix64). Every random choice in Cloze takes one of these,
/// so the same seed gives the same numbers on every run.
public struct SeededRNG: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }
}

/// Thread count for Cloze's compute: GEMMs, attention and large elementwise kernels are split over
/// this many workers (see `Parallel`; OpenBLAS itself runs single-threaded unless
/// CLOZE_GEMM_THREADS=openblas). Results are the same for any thread count.
public enum BLASThreads {
    public static func set(_ n: Int) { Parallel.setThreads(n) }
    public static var current: Int { Parallel.threads }
}

/// A shape or index check that stays on in every build. ClozeTensor is built with -Ounchecked, where
/// `precondition` is assumed true and a violation would be undefined behaviour instead of a trap.
@inlinable @inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #file, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
