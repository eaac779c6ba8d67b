import ClozeModels
import Foundation

/// Scores of one run (one seed / repetition) on a test set.
public struct RunScore: Codable, Sendable, Equatable {
    public var seed: Int
    public var repetition: Int
    public var accuracy: Double
    public var macroF1: Double
    /// The task's own metric (f1 / mcc / pearson) when it is not accuracy.
    public var metric: Double?
    public init(seed: Int, repetition: Int = 0, accuracy: Double, macroF1: Double, metric: Double? = nil) {
        self.seed = seed; self.repetition = repetition; self.accuracy = accuracy; self.macroF1 = macroF1; self.metric = metric
    }
}

/// Runs plus mean ± std (population std, numpy ddof=0, as LM-BFF reports).
public struct ScoreSummary: Codable, Sendable, Equatable {
    public var runs: [RunScore]
    public var accuracyMean: Double
    public var accuracyStd: Double
    public var macroF1Mean: Double
    public var macroF1Std: Double
    public var metricMean: Double?
    public var metricStd: Double?

    public init(runs: [RunScore]) {
        self.runs = runs
        (accuracyMean, accuracyStd) = Metrics.meanStd(runs.map(\.accuracy))
        (macroF1Mean, macroF1Std) = Metrics.meanStd(runs.map(\.macroF1))
        let m = runs.compactMap(\.metric)
        if m.count == runs.count && !m.isEmpty { (metricMean, metricStd) = Metrics.meanStd(m) }
    }
}

public struct PatternResult: Codable, Sendable, Equatable {
    /// Pattern as written, with its file:line.
    public var pattern: String
    public var source: String
    public var verbalizer: String
    public var scores: ScoreSummary
    public init(pattern: String, source: String, verbalizer: String, scores: ScoreSummary) {
        self.pattern = pattern; self.source = source; self.verbalizer = verbalizer; self.scores = scores
    }
}

public struct PhaseTiming: Codable, Sendable, Equatable {
    public var phase: String
    public var seconds: Double
    public init(phase: String, seconds: Double) { self.phase = phase; self.seconds = seconds }
}

/// One iPET generation's scores (PET is generation 0 alone).
public struct GenerationResult: Codable, Sendable, Equatable {
    public var generation: Int
    public var patterns: [PatternResult]
    public var ensembleMean: ScoreSummary?
    public var ensembleWeighted: ScoreSummary?
    /// Wall time of the generation (pseudo-labelling, training, scoring), summed over seeds.
    public var seconds: Double?
    public init(generation: Int, patterns: [PatternResult], ensembleMean: ScoreSummary?, ensembleWeighted: ScoreSummary?, seconds: Double? = nil) {
        self.generation = generation; self.patterns = patterns; self.ensembleMean = ensembleMean; self.ensembleWeighted = ensembleWeighted
        self.seconds = seconds
    }
}

/// `results.json` of a `cloze train` run.
public struct RunResults: Codable, Sendable, Equatable {
    public var task: String
    public var model: String
    public var k: Int
    public var seeds: [Int]
    /// Name of the task's metric (acc, f1, macro-f1, mcc, pearson).
    public var metric: String
    public var settings: [String: String]
    public var zeroShot: [PatternResult]
    public var patterns: [PatternResult]
    public var fineTuning: ScoreSummary?
    public var ensembleMean: ScoreSummary?
    public var ensembleWeighted: ScoreSummary?
    public var finalClassifier: ScoreSummary?
    /// iPET: every generation's per-pattern and ensemble scores (`patterns` and the ensembles above are the last's).
    public var generations: [GenerationResult]?
    public var timings: [PhaseTiming]

    public init(task: String, model: String, k: Int, seeds: [Int], metric: String, settings: [String: String] = [:],
                zeroShot: [PatternResult] = [], patterns: [PatternResult] = [], fineTuning: ScoreSummary? = nil,
                ensembleMean: ScoreSummary? = nil, ensembleWeighted: ScoreSummary? = nil,
                finalClassifier: ScoreSummary? = nil, timings: [PhaseTiming] = []) {
        self.task = task; self.model = model; self.k = k; self.seeds = seeds; self.metric = metric
        self.settings = settings; self.zeroShot = zeroShot; self.patterns = patterns; self.fineTuning = fineTuning
        self.ensembleMean = ensembleMean; self.ensembleWeighted = ensembleWeighted
        self.finalClassifier = finalClassifier; self.timings = timings
    }

    /// Writes pretty, key-sorted JSON atomically (temp file + rename).
    public func write(to path: String) throws {
        let enc = JSONEncoder.readable
        do {
            try enc.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw PETError(.outputIO, "cannot write results: \(error)", at: SourceLocation(file: path))
        }
    }

    public static func read(from path: String) throws -> RunResults {
        let bytes = try TextFile.readBytes(path: path)
        do { return try JSONDecoder().decode(RunResults.self, from: Data(bytes)) } catch {
            throw PETError(.badJSON, "not a results.json: \(error)", at: SourceLocation(file: path))
        }
    }
}

/// Wall-clock timing of named phases, in order.
public struct PhaseTimer {
    public private(set) var timings: [PhaseTiming] = []
    public init() {}
    public mutating func measure<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { timings.append(PhaseTiming(phase: phase, seconds: Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)) }
        return try body()
    }
}
