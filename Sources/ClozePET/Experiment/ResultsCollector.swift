/// Gathers the scores of every seed and generation and turns them into `RunResults`.
struct ResultsCollector {
    struct GenerationScores {
        var patternRuns: [Int: [RunScore]] = [:]
        var ensembleMean: [RunScore] = []
        var ensembleWeighted: [RunScore] = []
        var models = 0
    }
    var generations: [GenerationScores] = []
    var distilled: [RunScore] = []
    var fineTuned: [RunScore] = []

    mutating func record(generation g: Int, outputs: [PatternModelOutput], ensembles: (mean: RunScore, weighted: RunScore)?) {
        while generations.count <= g { generations.append(GenerationScores()) }
        for o in outputs { if let s = o.score { generations[g].patternRuns[o.id.pattern, default: []].append(s) } }
        if let e = ensembles { generations[g].ensembleMean.append(e.mean); generations[g].ensembleWeighted.append(e.weighted) }
        generations[g].models += outputs.count
    }

    func results(experiment e: PETExperiment, state: RunState) -> RunResults {
        let order = ["zero-shot", "pattern training", "unlabelled logits", "test evaluation", "pseudo-labelling", "distillation", "fine-tuning"]
        let timings = order.compactMap { p in state.phaseSeconds[p].map { PhaseTiming(phase: p, seconds: $0) } }
        func patterns(_ runs: [Int: [RunScore]]) -> [PatternResult] {
            runs.keys.sorted().map { i in
                let info = state.patternInfo[i]!
                return PatternResult(pattern: info.pattern, source: info.source, verbalizer: info.verbalizer, scores: ScoreSummary(runs: runs[i]!))
            }
        }
        func summary(_ runs: [RunScore]) -> ScoreSummary? { runs.isEmpty ? nil : ScoreSummary(runs: runs) }
        let last = generations.last ?? GenerationScores()
        var r = RunResults(task: e.task.name, model: e.options.modelDirectory, k: e.options.k ?? 0, seeds: e.options.seeds,
                           metric: e.task.metric.rawValue, settings: settings(e, state: state),
                           zeroShot: patterns(state.zeroShotRuns), patterns: patterns(last.patternRuns),
                           fineTuning: summary(fineTuned), ensembleMean: summary(last.ensembleMean),
                           ensembleWeighted: summary(last.ensembleWeighted), finalClassifier: summary(distilled), timings: timings)
        if e.options.method == .ipet {
            r.generations = generations.enumerated().map { g, s in
                GenerationResult(generation: g, patterns: patterns(s.patternRuns), ensembleMean: summary(s.ensembleMean),
                                 ensembleWeighted: summary(s.ensembleWeighted), seconds: state.generationSeconds[g])
            }
        }
        return r
    }

    /// The adapter method of a run, or the base model's trainability when there is none.
    static func tuningName(_ o: PETExperimentOptions) -> String {
        if let l = o.lora { return l.useDoRA ? "dora" : "lora" }
        if o.ia3 != nil { return "ia3" }
        if o.prefix != nil { return "prefix" }
        if o.softPrompt != nil { return o.promptEncoder != nil ? "ptuning" : "prompt" }
        if o.bottleneckAdapters != nil { return "adapter" }
        return o.training.trainability.description
    }

    func settings(_ e: PETExperiment, state: RunState = RunState()) -> [String: String] {
        let o = e.options, t = o.training
        var s: [String: String] = [
            "method": o.method.rawValue, "multiMask": "\(o.multiMask)",
            "steps": "\(t.maxSteps)", "batchSize": "\(t.batchSize)", "learningRate": "\(t.learningRate)",
            "warmupSteps": "\(t.warmupSteps)", "maxLength": "\(e.maxLength)", "repetitions": "\(o.repetitions)",
            "unlabeled": "\(o.unlabeledCount)", "temperature": "\(o.temperature)",
            "distillSteps": "\(o.distillation.maxSteps)", "distillLearningRate": "\(o.distillation.learningRate)",
            "fineTuneSteps": "\(o.fineTuning.maxSteps)", "fineTuneLearningRate": "\(o.fineTuning.learningRate)",
            "k": o.k.map(String.init) ?? "split as is",
        ]
        if let a = t.alpha { s["alpha"] = "\(a)" }
        var pattern = DemonstrationOptions()
        pattern.allPatterns = false
        if let d = o.demonstrations ?? (state.demonstrationPatterns ? pattern : nil) {
            s["demonstrations"] = d.allPatterns ? "all patterns" : "patterns ending in {demo}"
            s["demonstrationSamples"] = "\(d.samples)"
            s["demonstrationMaxLength"] = "\(e.maxLength(with: d))"
            s["inContextDemonstrations"] = d.inContext.map { "\($0) random, before the query (GPT-3 style)" } ?? "none"
            s["demonstrationFilter"] = d.filterEncoder.map { "\($0) (top \(d.filterRate) per class)" } ?? "none"
            s["demonstrationSlotLimit"] = d.limits.demonstrationSlot.map(String.init) ?? "none"
            s["querySlotLimit"] = d.limits.querySlot.map(String.init) ?? "none"
        }
        s["tuning"] = ResultsCollector.tuningName(o)
        s["baseTrainability"] = t.trainability.description
        if let e = o.promptEncoder { s["promptEncoder"] = e.kind.rawValue; s["promptEncoderHidden"] = e.hidden.map(String.init) ?? "hidden size" }
        if let p = o.prefix { s["prefixTokens"] = "\(p.count)"; s["prefixProjection"] = p.projectionHidden.map(String.init) ?? "none" }
        if let a = o.bottleneckAdapters {
            s["adapterPlacement"] = a.placement.rawValue; s["adapterReduction"] = "\(a.reductionFactor)"; s["adapterNonLinearity"] = a.nonLinearity.rawValue
        }
        if let c = o.ia3 { s["ia3Targets"] = (c.targetModules ?? ["architecture default"]).joined(separator: ",") }
        if let p = o.softPrompt { s["promptTokens"] = "\(p.count)"; s["promptInit"] = "\(p.initialization)" }
        if let l = o.lora {
            s["loraRank"] = "\(l.rank)"; s["loraAlpha"] = "\(l.alpha)"; s["loraDropout"] = "\(l.dropout)"
            s["loraTargets"] = (l.targetModules ?? ["architecture default"]).joined(separator: ",")
        }
        if o.distill { s["distillTuning"] = o.distillation.trainability.description }
        if o.fineTune { s["fineTuneTuning"] = o.fineTuning.trainability.description }
        for (stage, count) in state.trainable {
            s["trainableParameters \(stage)"] = "\(count.trainable) of \(count.all)"
        }
        for (stage, t) in state.stepSeconds where t.steps > 0 {
            s["stepMilliseconds \(stage)"] = String(format: "%.1f", 1000 * t.seconds / Double(t.steps))
        }
        if o.unlabeledCount > 0 {
            s["unlabeledSource"] = e.task.splits["unlabeled"] ?? e.task.unlabeled?.path ?? "train split minus the training examples"
        }
        if o.method == .ipet {
            s["ipetGenerations"] = "\(o.ipet.generations)"; s["ipetScaleFactor"] = "\(o.ipet.scaleFactor)"
            s["ipetLogitsPercentage"] = "\(o.ipet.logitsPercentage)"; s["ipetNMostLikely"] = "\(o.ipet.nMostLikely)"
        }
        return s
    }
}
